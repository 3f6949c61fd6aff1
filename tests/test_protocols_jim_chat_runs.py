"""The chats of one TCP read go through the core as runs (jim.protocols.jim_commands.chat_run,
jim.core.messages.Messages.send_run_then): whatever frames a read holds, every client gets
exactly what it would get if each frame had come alone, and the store keeps the same."""
import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.config import Limits
from jim.errors import JimError
from jim.model import SINGLE, TEXT, Delivery, Message
from jim.store.memory import MemoryStore
from jim.wire import status

from tests.support.fakes import APP_KEY, HoldingStore, codes, make_core

USERS = ("alice", "bob", "carol", "dave")  # dave stays offline; carol blacklists alice


def private(to, content, **extra):
    return dict({"cmd": 11, "chatType": 2, "to": to, "msgType": 0, "content": content}, **extra)


def frame(obj):
    return (status.CHAT_REQ, None, orjson.dumps(obj))


#: private chats: to users online, offline, unknown, oneself, one who refuses the sender;
#: texts masked, and one the policy refuses (over Room's max_message)
PRIVATE = st.builds(lambda to, text: frame(private(to, text)),
                    st.sampled_from(["bob", "bob", "bob", "carol", "dave", "nobody", "alice"]),
                    st.sampled_from(["hi", "you fool", "", "x" * 40, "too long" * 40]))
#: frames a read may hold: chats of every kind, refusals of every kind, other commands
FRAMES = st.one_of(
    PRIVATE, PRIVATE, PRIVATE, PRIVATE,
    st.builds(lambda n: frame(private("bob", "again", id=f"c{n}")), st.integers(0, 2)),
    st.just(frame({"cmd": 11, "chatType": 1, "groupId": "g1", "content": "to the group"})),
    st.just(frame({"cmd": 11, "chatType": 1, "groupId": "nosuchgroup", "content": "lost"})),
    st.just(frame({"cmd": 11, "chatType": 3, "to": "12345", "content": "no such room"})),
    st.just(frame({"cmd": 11, "chatType": 9, "to": "bob", "content": "bad type"})),
    st.just(frame({"cmd": 11, "chatType": 2, "to": "bob", "content": "m",
                   "msgBody": {"text": "a JMessage body"}, "msgType": "text"})),
    st.just((status.CHAT_REQ, None, b"{not json")),
    st.just((status.HEARTBEAT, None, b'{"cmd":13,"hbbyte":-127}')),
    st.just((99, None, b"{}")),
)


class Room:
    """A core with alice, bob and carol connected, a group g1 of alice and bob, and maybe
    the word filter on."""

    def __init__(self, filtering, store=None, limits=None, user_rate=0):
        # (a text of "too long" * 40 is over max_message: the policy refuses it; with a
        # user_rate, the chat rates refuse what comes past their burst)
        limits = limits or Limits(max_message=200, user_rate=user_rate)
        fx = self.fx = make_core(store=store, limits=limits, users=USERS)
        self.fx.add_group("g1", "alice", "bob")
        relations = fx.core.relations
        defer.ensureDeferred(relations.add_blacklist(APP_KEY, "carol", ["alice"]))
        if filtering:
            words = fx.core.words
            defer.ensureDeferred(words.add(APP_KEY, ["fool"]))
            defer.ensureDeferred(words.set_filter(APP_KEY, True))
        self.alice, self.alice_client = fx.login("alice")
        self.bob, self.bob_client = fx.login("bob")
        self.carol, self.carol_client = fx.login("carol")
        for to in ("bob", "carol", "dave"):  # what the sends need is in memory from now on
            self.alice.frame_received(*frame(private(to, "first"))[::2])
        if isinstance(store, HoldingStore):
            store.release()
        for client in (self.alice_client, self.bob_client, self.carol_client):
            client.take()  # the notices of the logins, the first chats

    def everything(self):
        """What each client was sent, and what the store keeps."""
        history = [defer.ensureDeferred(self.fx.core.messages.history(APP_KEY, "alice", peer))
                   for peer in ("bob", "carol", "dave")]
        group = self.fx.core.messages.history(APP_KEY, "alice", gid=self.group_gid())
        kept = [d.result for d in history] + [defer.ensureDeferred(group).result]
        return (self.alice_client.take(), self.bob_client.take(), self.carol_client.take(),
                kept, self.fx.metrics.messages_in, self.fx.metrics.messages_out)

    def group_gid(self):
        groups = self.fx.memory.groups
        return defer.ensureDeferred(groups.group_by_alias(APP_KEY, "g1")).result.gid


class RunsAreLikeSingleFramesTests(SynchronousTestCase):
    @settings(max_examples=150, deadline=None)
    @example([frame(private("bob", "hi")), frame(private("bob", "too long" * 40)),
              frame(private("bob", "hi"))], False, False, True, 0)
    @example([frame(private("alice", str(i))) for i in range(5)], False, False, True, 2)
    @given(st.lists(FRAMES, min_size=2, max_size=12), st.booleans(), st.booleans(),
           st.booleans(), st.sampled_from([0, 0, 2, 4]))
    def test_a_read_of_frames_answers_as_its_frames_one_by_one(self, frames, filtering, held,
                                                               reserving, user_rate):
        """(C{held}: the store answers writes only once every frame was handled; not
        C{reserving}: it gives ids with its commits, as a Redis store does; C{user_rate}:
        the chat rates refuse chats past a burst of twice as many.)"""
        rooms = [Room(filtering, HoldingStore(MemoryStore(), "add_message",
                                              reserves_ids=reserving) if held else None,
                      user_rate=user_rate)
                 for _ in range(2)]
        together, alone = rooms
        together.alice.frames_received(frames)
        for cmd, _, body in frames:
            alone.alice.frame_received(cmd, body)
        for room in rooms:
            if held:
                room.fx.store.release()
        everything = together.everything()
        self.assertEqual(everything, alone.everything())
        # every chat was answered, once
        self.assertEqual(len([c for c, _ in everything[0] if c == status.CHAT_RESP]),
                         len([cmd for cmd, _, _ in frames if cmd == status.CHAT_REQ]))


class RunTests(SynchronousTestCase):
    def setUp(self):
        self.store = HoldingStore(MemoryStore(), "add_message")
        self.room = Room(False, store=self.store, limits=Limits(max_inflight=4, max_message=200))

    def test_a_run_is_delivered_at_once_and_acknowledged_after_its_commit(self):
        room = self.room
        before = room.fx.metrics.deliveries
        room.alice.frames_received([frame(private("bob", str(i))) for i in range(6)])
        self.assertEqual(room.fx.metrics.deliveries - before, 6)  # a message a connection
        pushes = room.bob_client.take()
        self.assertEqual([(c, p["data"]["content"]) for c, p in pushes],
                         [(11, str(i)) for i in range(6)])
        ids = [int(p["data"]["id"]) for _, p in pushes]
        self.assertEqual(ids, list(range(ids[0], ids[0] + 6)))
        self.assertEqual(room.alice_client.take(), [])  # no acknowledgement before the commit
        self.assertEqual(room.alice_client.reading, ["pause"])  # 6 in progress, 4 allowed
        self.assertEqual(len(self.store.pending), 1, "one store write for the run")
        self.store.release()
        acks = room.alice_client.take()
        self.assertEqual([(c, a["code"], int(a["data"]["id"])) for c, a in acks],
                         [(12, 10000, i) for i in ids])
        self.assertEqual(room.alice_client.writes_of_all, [6])  # in one write
        self.assertEqual(room.alice_client.reading, ["pause", "resume"])
        self.assertEqual(room.fx.metrics.messages_in, 2 + 6)  # (with the first ones Room sent)

    def test_answers_of_a_run_keep_their_order_when_one_fails(self):
        room = self.room
        room.alice.frames_received([frame(private("bob", str(i))) for i in range(3)])
        (run,), d = self.store.take_only()
        d.callback([run[0], Failure(JimError(errors.SERVER_ERROR, "the disk is full")), run[2]])
        self.assertEqual(codes(room.alice_client),
                         [(12, 10000), (12, status.SEND_FAILED), (12, 10000)])
        self.assertEqual(room.alice_client.writes_of_all, [1, 1])
        self.assertEqual(room.fx.metrics.messages_in, 2 + 2)

    def test_a_run_to_a_user_not_in_memory_goes_chat_by_chat_in_order(self):
        """What a run needs is not all in memory (erin was never read): each chat goes on its
        own (RunSends._send_each), answered in order, stored in order."""
        room = self.room
        room.fx.add_user("erin")
        self.assertIsNone(room.fx.core.users.known.get((APP_KEY, "erin")))
        room.alice.frames_received([frame(private("erin", str(i))) for i in range(3)])
        self.assertEqual(len(self.store.pending), 3, "a store write a chat")
        self.store.release()
        acks = room.alice_client.take()
        self.assertEqual([(c, a["code"]) for c, a in acks], [(12, 10001)] * 3)
        history = defer.ensureDeferred(room.fx.core.messages.history(APP_KEY, "alice", "erin"))
        self.assertEqual([m.body["text"] for m in self.successResultOf(history)],
                         ["0", "1", "2"])
        self.assertEqual([int(a["data"]["id"]) for _, a in acks],
                         [m.id for m in self.successResultOf(defer.ensureDeferred(
                             room.fx.core.messages.history(APP_KEY, "alice", "erin")))])

    def test_a_run_to_an_offline_user_is_acknowledged_as_offline(self):
        room = self.room
        room.alice.frames_received([frame(private("dave", "a")), frame(private("dave", "b"))])
        self.store.release()
        self.assertEqual(codes(room.alice_client), [(12, 10001), (12, 10001)])

    def test_a_run_the_store_gives_ids_to_goes_out_after_its_commit(self):
        store = HoldingStore(MemoryStore(), "add_message", reserves_ids=False)
        room = Room(False, store=store)
        room.alice.frames_received([frame(private("bob", str(i))) for i in range(3)])
        self.assertEqual(room.bob_client.take(), [], "nothing before the commit gives ids")
        self.assertEqual(len(store.pending), 1, "one store write for the run")
        store.release()
        pushes = room.bob_client.take()
        self.assertEqual([p["data"]["content"] for _, p in pushes], ["0", "1", "2"])
        acks = room.alice_client.take()
        self.assertEqual([(a["code"], a["data"]["id"]) for _, a in acks],
                         [(10000, p["data"]["id"]) for _, p in pushes])
        self.assertEqual(room.alice_client.writes_of_all, [3])
        self.assertEqual((room.fx.metrics.messages_in, room.fx.metrics.messages_out),
                         (2 + 3, 1 + 3))  # (with what Room sent first)


    def test_a_run_behind_a_waiting_delivery_goes_as_its_chats_would(self):
        """A delivery waits for its commit (an event the inbox keeps): a run the store gives
        ids to at once queues behind it, its receiver's presence taken when it was sent, as
        each of its chats would be; dave, offline then, is not pushed them when he comes."""
        seen = []
        for together in (True, False):
            store = HoldingStore(MemoryStore(), "add_message")
            room = Room(False, store=store)
            order = []  # what the bus carries, in order: the waiting delivery first
            room.fx.bus.subscribe(lambda d: order.extend(
                [m.id for m in (d.item if type(d.item) is tuple else (d.item,))]), (Delivery,))
            pending = defer.Deferred()
            room.fx.core.messages.publish_in_order(pending, lambda value: order.append("first"))
            frames = [frame(private("dave", "a")), frame(private("dave", "b"))]
            if together:
                room.alice.frames_received(frames)
            else:
                for cmd, _, body in frames:
                    room.alice.frame_received(cmd, body)
            _, dave_client = room.fx.login("dave")
            pending.callback(None)
            store.release()
            seen.append((room.alice_client.take(), dave_client.take(), order))
        self.assertEqual(seen[0], seen[1])
        acks, pushes, order = seen[0]
        self.assertEqual(order[0], "first")
        self.assertEqual([a["code"] for _, a in acks], [10001, 10001])
        self.assertEqual(pushes, [])

    def test_a_run_whose_send_fails_midway_answers_each_chat_once(self):
        room = self.room
        messages = room.fx.core.messages
        real = messages.send_run_then

        def broken(app, sender, drafts, connection_id, then, *args):
            real(app, sender, drafts[:1], connection_id, then, *args)  # the first is sent
            raise RuntimeError("a bug after the first draft")

        self.patch(messages, "send_run_then", broken)
        room.alice.frames_received([frame(private("bob", str(i))) for i in range(3)])
        # none was answered when it raised: each fails, once; the first one's commit, later,
        # answers nothing more
        self.assertEqual(codes(room.alice_client), [(12, status.SEND_FAILED)] * 3)
        self.store.release()
        self.assertEqual(codes(room.alice_client), [])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 3)

    def test_a_connection_notes_the_highest_id_of_a_run_whatever_its_order(self):
        """(A node may hand out consecutive parts of several runs as one.)"""
        bob = self.room.bob
        high = bob.seen_upto + 10
        run = tuple(Message(i, APP_KEY, "alice", SINGLE, "bob", TEXT, {"text": str(i)}, None,
                            None, 0) for i in (high, high - 5))
        bob.deliver(Delivery(APP_KEY, run, ("bob",)), {})
        self.assertEqual(bob.seen_upto, high)
        self.assertEqual([p["data"]["id"] for _, p in self.room.bob_client.take()],
                         [str(high), str(high - 5)])
