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

    def __init__(self, filtering, store=None, limits=None):
        # (a text of "too long" * 40 is over max_message: the policy refuses it)
        fx = self.fx = make_core(store=store, limits=limits or Limits(max_message=200),
                                 users=USERS)
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
    @settings(max_examples=120, deadline=None)
    @example([frame(private("bob", "hi")), frame(private("bob", "too long" * 40)),
              frame(private("bob", "hi"))], False, False, True)
    @given(st.lists(FRAMES, min_size=2, max_size=12), st.booleans(), st.booleans(),
           st.booleans())
    def test_a_read_of_frames_answers_as_its_frames_one_by_one(self, frames, filtering, held,
                                                               reserving):
        """(C{held}: the store answers writes only once every frame was handled; not
        C{reserving}: it gives ids with its commits, as a Redis store does.)"""
        rooms = [Room(filtering, HoldingStore(MemoryStore(), "add_message",
                                              reserves_ids=reserving) if held else None)
                 for _ in range(2)]
        together, alone = rooms
        together.alice.frames_received(frames)
        for cmd, _, body in frames:
            alone.alice.frame_received(cmd, body)
        for room in rooms:
            if held:
                room.fx.store.release()
        self.assertEqual(together.everything(), alone.everything())
        # every chat was answered (the other commands answer at once too)
        self.assertEqual(together.alice._inflight, 0)


class RunTests(SynchronousTestCase):
    def setUp(self):
        self.store = HoldingStore(MemoryStore(), "add_message")
        self.room = Room(False, store=self.store, limits=Limits(max_inflight=4, max_message=200))

    def test_a_run_is_delivered_at_once_and_acknowledged_after_its_commit(self):
        room = self.room
        room.alice.frames_received([frame(private("bob", str(i))) for i in range(6)])
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
        [(_, _, d, (run,), _)] = self.store.pending
        self.store.pending = []
        d.callback([run[0], Failure(JimError(errors.SERVER_ERROR, "the disk is full")), run[2]])
        self.assertEqual(codes(room.alice_client),
                         [(12, 10000), (12, status.SEND_FAILED), (12, 10000)])
        self.assertEqual(room.alice_client.writes_of_all, [1, 1])
        self.assertEqual(room.fx.metrics.messages_in, 2 + 2)

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

