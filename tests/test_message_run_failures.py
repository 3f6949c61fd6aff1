"""Runs of messages (the chats of one read, docs/architecture.md "How a chat travels", 7) when
some of their messages fail, or are no run at all:

- L{jim.store.redis_messages.RedisMessages.add_announced_run_then}: a list of messages that is
  no run is appended message by message, and a message that cannot be encoded fails alone;
  each message gets its own answer, and only what was stored is kept and announced (a real
  redis-server, buses in one process standing for nodes, as tests/test_bus_redis_announce.py);
- L{jim.store.sqlite.SqliteStore}: a run some of whose rows the database refuses (an error
  that is no JimError, inside the run's job) answers each refused message with a JimError,
  and the store goes on;
- L{jim.core.message_runs.RunSends._deliver_run_late}: a run stored before it is delivered
  (a store that gives ids with its commit) whose store answered some messages with an error:
  its sender hears per chat, its recipients get exactly the stored ones, in order;
- L{jim.bus.redis.RedisBus} receiving a payload of several parts: consecutive parts for the
  same connections are handed out as one run, any difference (app, recipients, exclude,
  alias, the nodes that hand out their own part) starts another.
"""
import sqlite3

import orjson
from twisted.internet import defer, reactor
from twisted.python.failure import Failure
from twisted.trial import unittest
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.errors import JimError
from jim.metrics import Metrics
from jim.model import GROUP, MAX_INT64, SINGLE, TEXT, Delivery, Message, User
from jim.store.memory import MemoryStore
from jim.store.sqlite import SqliteStore
from jim.wire import busjson, status
from tests.support.fakes import HoldingStore, with_reserved_id
from tests.support.redis_server import empty_redis, shared_server
from tests.support.waiting import until
from tests.test_bus_redis import Node
from tests.test_bus_redis_announce import OnAnnouncingStore
from tests.test_protocols_jim_chat_runs import Room, frame, private

CREATED = 1_700_000_000_000


def messages_of(deliveries):
    """The messages of C{deliveries}, a run's (a tuple item) one by one."""
    return [m for d in deliveries for m in (d.item if type(d.item) is tuple else (d.item,))]


def texts(messages):
    return [m.body["text"] for m in messages]


def unstorable():
    """A body no JSON encoder takes (a client's bug, or the core's: never a refusal)."""
    return {"text": "bad", "what": object()}


# -- 1. RedisMessages.add_announced_run_then ---------------------------------------------------


def draft(text="hi", sender="ann", target="bob", created=CREATED, client_id=None,
          target_type=SINGLE, body=None):
    """A message not stored yet (its id 0): of ann to bob by default."""
    return Message(0, "app", sender, target_type, target, TEXT,
                   {"text": text} if body is None else body, client_id=client_id,
                   created=created)


class RedisRunFailureTests(OnAnnouncingStore, unittest.TestCase):
    """A store announcing on its Redis (node a's), and node b where bob is connected."""

    async def opened(self):
        self.messages = self.store.messages
        self.b = await self.node()
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        await until(lambda: self.a.presence.is_online("app", "bob"))
        self.parts = self.a.bus.announcement(Delivery("app", draft(), ("bob",), "a:1"))[0]
        self.assertEqual(len(self.parts), 1, "one part: b's")

    async def run_answers(self, run, parts=None):
        """C{add_announced_run_then(run, parts)} (b's part by default): the one list it
        answered, once every append made so far was answered."""
        calls = []
        self.messages.add_announced_run_then(run, self.parts if parts is None else parts,
                                             lambda results, tag: calls.append((results, tag)),
                                             "tag")
        await self.messages.settled()
        self.assertEqual(len(calls), 1, "answered once")
        [(results, tag)] = calls
        self.assertEqual(tag, "tag")
        self.assertEqual(len(results), len(run), "an answer a message")
        return results

    async def announced(self):
        """Every message b was handed, once a fence (a message announced after everything
        before it, on the same connection) reached it: nothing announced earlier is still on
        its way. The fence left out."""
        fence = defer.Deferred()
        self.messages.add_announced_then(draft("fence", target="bob"), self.parts, False,
                                         fence.callback)
        fenced = await fence
        await until(lambda: fenced in messages_of(self.b.got))
        got = messages_of(self.b.got)
        self.assertEqual(got[-1], fenced)
        return got[:-1]

    def assertRefused(self, result, code):
        self.assertIsInstance(result, Failure)
        self.assertTrue(result.check(JimError), result)
        self.assertEqual(result.value.code, code, result.value.detail)

    async def test_a_list_that_is_no_run_is_appended_message_by_message(self):
        """Another target, another time, another sender, a group: no run. Each message is
        stored as itself (in its own conversation, at its own time), given its own id in
        order, and announced with it."""
        run = [draft("0"), draft("1", target="cid"), draft("2", created=CREATED + 5),
               draft("3", sender="dan"), draft("4", target_type=GROUP, target="10000000"),
               draft("5")]
        results = await self.run_answers(run)
        for result in results:
            self.assertIsInstance(result, Message)
        self.assertEqual([r._replace(id=0) for r in results], run)
        ids = [r.id for r in results]
        self.assertEqual(ids, list(range(ids[0], ids[0] + len(run))))
        for stored in results:
            self.assertEqual(await self.messages.get_message("app", stored.id), stored)
        self.assertIsNone(await self.messages.get_message("app", ids[-1] + 1))
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "bob")),
                         ["0", "5", "2"])  # by (created, id)
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "cid")), ["1"])
        self.assertEqual(texts(await self.messages.private_history("app", "dan", "bob")), ["3"])
        self.assertEqual(texts(await self.messages.group_history("app", 10000000)), ["4"])
        self.assertEqual(await self.announced(), results)

    async def test_a_list_with_a_client_id_a_retracted_message_or_another_app_is_no_run(self):
        """(add_run_then, which announces nothing.) A client id is kept and found, a retracted
        message is in no history, another app's message is in its own app's log, with ids of
        its own."""
        other_app = draft("other app")._replace(app="app2")
        run = [draft("0"), draft("1", client_id="c-1"), draft("2")._replace(retracted=True),
               other_app, draft("4")]
        calls = []
        self.messages.add_run_then(run, lambda results: calls.append(results))
        await self.messages.settled()
        [results] = calls
        self.assertEqual([r._replace(id=0) for r in results], run)
        mine = [r.id for r in results if r.app == "app"]
        self.assertEqual(mine, list(range(mine[0], mine[0] + 4)))
        self.assertEqual(results[3].id, 1, "the first id of app2")
        self.assertEqual(await self.messages.get_message("app2", 1), results[3])
        self.assertEqual(await self.messages.get_message("app", results[2].id), results[2])
        self.assertEqual(await self.messages.message_by_client_id("app", "ann", "c-1", SINGLE,
                                                                  "bob"), results[1])
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "bob")),
                         ["0", "1", "4"])
        self.assertEqual(texts(await self.messages.private_history("app2", "ann", "bob")),
                         ["other app"])
        self.assertEqual(await self.announced(), [])

    async def added_run(self, run):
        """C{add_run_then(run)} (which announces nothing): its one answer, every message of
        it stored."""
        calls = []
        self.messages.add_run_then(run, calls.append)
        await self.messages.settled()
        [results] = calls
        self.assertEqual([r._replace(id=0) for r in results], run)
        return results

    # Each of these lists differs from a run in one way only: each message must still be
    # stored as itself.

    async def test_a_client_id_makes_a_list_no_run(self):
        results = await self.added_run([draft("0"), draft("1", client_id="c-1")])
        self.assertEqual(await self.messages.message_by_client_id("app", "ann", "c-1", SINGLE,
                                                                  "bob"), results[1])

    async def test_a_retracted_message_makes_a_list_no_run(self):
        results = await self.added_run([draft("0"), draft("1")._replace(retracted=True)])
        self.assertEqual(await self.messages.get_message("app", results[1].id), results[1])
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "bob")), ["0"])

    async def test_another_app_makes_a_list_no_run(self):
        results = await self.added_run([draft("0"), draft("1")._replace(app="app2")])
        self.assertEqual(await self.messages.get_message("app2", results[1].id), results[1])
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "bob")), ["0"])
        self.assertEqual(texts(await self.messages.private_history("app2", "ann", "bob")),
                         ["1"])

    async def test_another_sender_makes_a_list_no_run(self):
        await self.added_run([draft("0"), draft("1", sender="dan")])
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "bob")), ["0"])
        self.assertEqual(texts(await self.messages.private_history("app", "dan", "bob")), ["1"])

    async def test_another_target_makes_a_list_no_run(self):
        await self.added_run([draft("0"), draft("1", target="cid")])
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "bob")), ["0"])
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "cid")), ["1"])

    async def test_another_kind_of_target_makes_a_list_no_run(self):
        """A private message to user "7", then one to group 7."""
        await self.added_run([draft("0", target="7"),
                              draft("1", target="7", target_type=GROUP)])
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "7")), ["0"])
        self.assertEqual(texts(await self.messages.group_history("app", 7)), ["1"])

    async def test_another_time_makes_a_list_no_run(self):
        await self.added_run([draft("late", created=CREATED + 5), draft("early")])
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "bob")),
                         ["early", "late"])
        self.assertEqual(texts(await self.messages.private_history(
            "app", "ann", "bob", end=CREATED + 1)), ["early"])

    async def test_a_time_that_is_no_int64_makes_a_list_no_run(self):
        """The same time for each, but none a store can keep: each is refused."""
        for created in (MAX_INT64 + 1, -2**63 - 1):
            results = await self.run_answers([draft("0", created=created),
                                              draft("1", created=created)], parts=())
            for result in results:
                self.assertRefused(result, errors.BAD_REQUEST)
        self.assertEqual(await self.messages.private_history("app", "ann", "bob"), [])
        self.assertEqual((await self.add(draft("after"))).id, 1, "no id was taken")

    async def test_a_message_of_a_run_that_cannot_be_encoded_fails_alone(self):
        """A run (one sender, target and time) whose second and fourth bodies are no JSON:
        those two are refused (BAD_REQUEST), the others stored with consecutive ids, in
        order, and only they are announced."""
        run = [draft("0"), draft(body=unstorable()), draft("2"), draft(body=unstorable()),
               draft("4")]
        results = await self.run_answers(run)
        self.assertRefused(results[1], errors.BAD_REQUEST)
        self.assertRefused(results[3], errors.BAD_REQUEST)
        stored = [results[0], results[2], results[4]]
        self.assertEqual([m._replace(id=0) for m in stored], [run[0], run[2], run[4]])
        ids = [m.id for m in stored]
        self.assertEqual(ids, [ids[0], ids[0] + 1, ids[0] + 2], "no id for a refused one")
        for message in stored:
            self.assertEqual(await self.messages.get_message("app", message.id), message)
        self.assertIsNone(await self.messages.get_message("app", ids[-1] + 1))
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "bob")),
                         ["0", "2", "4"])
        self.assertEqual(await self.announced(), stored)

    async def test_messages_of_a_list_that_is_no_run_fail_alone(self):
        """Message by message, a body that is no JSON and a time that is no int64 fail each
        their own message; the others are stored and announced."""
        run = [draft("0", created=MAX_INT64 + 1), draft("1"), draft(body=unstorable()),
               draft("3", target="cid")]
        results = await self.run_answers(run)
        self.assertRefused(results[0], errors.BAD_REQUEST)
        self.assertRefused(results[2], errors.BAD_REQUEST)
        stored = [results[1], results[3]]
        self.assertEqual([m._replace(id=0) for m in stored], [run[1], run[3]])
        self.assertEqual(stored[1].id, stored[0].id + 1)
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "bob")), ["1"])
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "cid")), ["3"])
        self.assertEqual(await self.announced(), stored)

    async def test_a_run_none_of_which_can_be_encoded_stores_and_announces_nothing(self):
        """Every message refused; nothing is left waiting in the store (it settles: a stop
        would wait for it) and the next message takes the next id."""
        before = await self.add(draft("before"))
        await self.messages.settled()
        calls = []
        self.messages.add_announced_run_then([draft(body=unstorable()) for _ in range(3)],
                                             self.parts, calls.append)
        idle = self.messages.settled()
        await until(lambda: calls and idle.called, timeout=5)
        [results] = calls
        self.assertEqual(len(results), 3)
        for result in results:
            self.assertRefused(result, errors.BAD_REQUEST)
        after = await self.add(draft("after"))
        self.assertEqual(after.id, before.id + 1)
        self.assertEqual(texts(await self.messages.private_history("app", "ann", "bob")),
                         ["before", "after"])
        self.assertEqual(await self.announced(), [])

    async def add(self, message):
        d = defer.Deferred()
        self.messages.add_message_then(message, d.callback)
        return await d


# -- 2. SqliteStore: a run's rows refused --------------------------------------------------


def chat(text="hi", body=None):
    return Message(0, "a", "ann", SINGLE, "bob", TEXT, {"text": text} if body is None else body,
                   None, None, 0)


class SqliteRunFailureTests(unittest.TestCase):
    async def open(self):
        store = SqliteStore(self.mktemp() + "/jim.db", reactor, metrics=Metrics(),
                            checkpoint_every=3600)
        await store.start()
        self.addCleanup(store.stop)
        return store

    def answered(self, method, run):
        """C{method(run, then, "tag")}: a Deferred of its one answer (checked to be once)."""
        done = defer.Deferred()

        def then(results, tag):
            self.assertEqual(tag, "tag")
            self.assertFalse(done.called, "answered once")
            done.callback(results)

        method(run, then, "tag")
        return done

    def assertServerErrors(self, results, count):
        self.assertEqual(len(results), count)
        for result in results:
            self.assertIsInstance(result, Failure)
            self.assertTrue(result.check(JimError), result)
            self.assertEqual(result.value.code, errors.SERVER_ERROR)

    async def test_a_run_whose_every_row_is_refused_answers_each_with_a_jim_error(self):
        """A run without ids (add_run_then) whose bodies the database cannot take (a TypeError
        in the run's job, message after message): each message is answered SERVER_ERROR, the
        cause logged; the next writes, a message and a run, are stored."""
        store = await self.open()
        first = await store.messages.add_message(chat("first"))
        results = await self.answered(store.messages.add_run_then,
                                      [chat(body=unstorable()) for _ in range(3)])
        self.assertServerErrors(results, 3)
        self.assertEqual(len(self.flushLoggedErrors(TypeError)), 3, "each cause logged")
        after = await store.messages.add_message(chat("after"))
        self.assertGreater(after.id, first.id)
        run = await self.answered(store.messages.add_run_then, [chat("r1"), chat("r2")])
        self.assertEqual([m._replace(id=0) for m in run], [chat("r1"), chat("r2")])
        self.assertEqual(await store.messages.get_message("a", after.id), after)
        self.assertEqual(texts(await store.messages.private_history("a", "ann", "bob")),
                         ["first", "after", "r1", "r2"])

    async def test_a_run_of_ids_taken_already_beside_other_writes_fails_each_message(self):
        """A run appended with the ids of stored messages (an IntegrityError: no JimError), in
        the batch of a user's write and of a good run: each of its messages is answered
        SERVER_ERROR, the stored ones stay as they were, the other writes are done."""
        store = await self.open()
        kept = [await store.messages.add_message(chat(f"kept {i}")) for i in range(2)]
        clashing = [m._replace(body={"text": "clash"}) for m in kept]
        good = [with_reserved_id(store.messages, chat(f"good {i}")) for i in range(2)]
        refused = self.answered(store.messages.append_run_then, clashing)
        user = store.users.add_user(User("a", "cid", "h"))  # a job of another kind
        stored = self.answered(store.messages.append_run_then, good)
        self.assertServerErrors(await refused, 2)
        self.assertEqual(await stored, good)
        await user
        self.assertEqual(len(self.flushLoggedErrors(sqlite3.IntegrityError)), 2)
        for message in kept:
            self.assertEqual(await store.messages.get_message("a", message.id), message)
        self.assertEqual((await store.users.get_user("a", "cid")).username, "cid")
        after = await store.messages.add_message(chat("after"))
        self.assertEqual(texts(await store.messages.private_history("a", "ann", "bob")),
                         ["kept 0", "kept 1", "good 0", "good 1", "after"])
        self.assertGreater(after.id, good[-1].id)


# -- 3. Messages._deliver_run_late with some messages failed ---------------------------------


class LateRunFailureTests(SynchronousTestCase):
    """A core whose store gives ids with its commit (as Redis does) and holds its writes: a
    run of alice's is stored before it is delivered, and the test answers its store write."""

    def setUp(self):
        self.store = HoldingStore(MemoryStore(), "add_message", reserves_ids=False)
        self.room = Room(False, store=self.store)
        self.deliveries = []  # what the bus carried since
        self.room.fx.bus.subscribe(self.deliveries.append, (Delivery,))

    def send(self, to, count):
        """alice's run of C{count} chats to C{to} in one read: the run the store was given
        (its messages with their ids) and the Deferred of its answer."""
        room = self.room
        room.alice.frames_received([frame(private(to, str(i))) for i in range(count)])
        self.assertEqual(room.bob_client.take(), [], "nothing before the commit")
        (run,), d = self.store.take_only()
        self.assertEqual(len(run), count, "one store write for the run")
        return run, d

    def acks(self):
        """alice's acknowledgements: (code, id or None) each."""
        return [(body["code"], (body.get("data") or {}).get("id"))
                for command, body in self.room.alice_client.take() if command == status.CHAT_RESP]

    def pushes(self, client):
        return [(body["data"]["id"], body["data"]["content"]) for command, body in client.take()
                if command == status.CHAT_REQ]

    def failed(self):
        return Failure(JimError(errors.SERVER_ERROR, "the store could not perform this write"))

    def test_only_the_stored_messages_of_a_late_run_are_delivered_in_order(self):
        run, d = self.send("bob", 5)
        messages_in = self.room.fx.metrics.messages_in
        d.callback([run[0], self.failed(), run[2], run[3], self.failed()])
        self.assertEqual(self.pushes(self.room.bob_client),
                         [(str(run[i].id), str(i)) for i in (0, 2, 3)])
        self.assertEqual(self.acks(), [(10000, str(run[0].id)), (status.SEND_FAILED, None),
                                       (10000, str(run[2].id)), (10000, str(run[3].id)),
                                       (status.SEND_FAILED, None)])
        [delivery] = self.deliveries
        self.assertEqual(delivery.item, (run[0], run[2], run[3]))
        self.assertEqual(set(delivery.recipients), {"bob", "alice"})
        self.assertEqual(self.room.fx.metrics.messages_in - messages_in, 3)

    def test_a_late_run_with_one_message_stored_delivers_it_alone(self):
        run, d = self.send("bob", 3)
        d.callback([self.failed(), run[1], self.failed()])
        self.assertEqual(self.pushes(self.room.bob_client), [(str(run[1].id), "1")])
        self.assertEqual(self.acks(), [(status.SEND_FAILED, None), (10000, str(run[1].id)),
                                       (status.SEND_FAILED, None)])
        self.assertEqual([d.item for d in self.deliveries], [run[1]])

    def test_a_late_run_to_an_offline_user_is_acknowledged_per_chat(self):
        run, d = self.send("dave", 3)
        d.callback([run[0], self.failed(), run[2]])
        self.assertEqual(self.acks(), [(10001, str(run[0].id)), (status.SEND_FAILED, None),
                                       (10001, str(run[2].id))])
        self.assertEqual(messages_of(self.deliveries), [run[0], run[2]])

    def test_a_late_run_none_of_which_was_stored_delivers_nothing_and_holds_up_nothing(self):
        run, d = self.send("bob", 3)
        messages_in = self.room.fx.metrics.messages_in
        d.callback([self.failed() for _ in run])
        self.assertEqual(self.acks(), [(status.SEND_FAILED, None)] * 3)
        self.assertEqual(self.pushes(self.room.bob_client), [])
        self.assertEqual(self.deliveries, [])
        self.assertEqual(self.room.fx.metrics.messages_in, messages_in)
        # the next run is not kept waiting behind it
        later, d = self.send("bob", 2)
        d.callback(later)
        self.assertEqual(self.pushes(self.room.bob_client),
                         [(str(later[0].id), "0"), (str(later[1].id), "1")])
        self.assertEqual(self.acks(), [(10000, str(m.id)) for m in later])


# -- 4. RedisBus: which received parts make one run ------------------------------------------


def message(mid, app="app", target="bob"):
    return Message(mid, app, "ann", SINGLE, target, TEXT, {"text": str(mid)}, created=1)


def part(mid, recipients=("bob",), exclude="x:1", alias=None, app="app"):
    """The line of a message's part, as a node publishes it after its commit."""
    return busjson.encode(Delivery(app, message(mid, app), tuple(recipients), exclude, alias))


def run_part(mids, recipients=("bob",), exclude="x:1", alias=None, app="app"):
    """The line of a run's part (a tuple of messages)."""
    return busjson.encode(Delivery(app, tuple(message(m, app) for m in mids),
                                   tuple(recipients), exclude, alias))


def stored_part(mid, origin, told, recipients=("bob",), exclude="x:1", alias=None, app="app"):
    """The line of a message's part as a store's script publishes it with its commit."""
    item = message(mid, app)
    return (b"stored [" + b"%d" % mid + b"," + orjson.dumps(item[2:]) + b","
            + busjson.stored_delivery_tail(app, list(recipients), exclude, alias, origin,
                                           list(told)) + b"]")


class ReceivedRunTests(unittest.TestCase):
    """Node b, with bob and carol connected in app "app" and bob in "app2", is sent one
    payload of parts (one PUBLISH, as a node or a script sends them): what its hub gets."""

    def setUp(self):
        return defer.ensureDeferred(self._open())

    async def _open(self):
        self.b = Node(empty_redis())
        await self.b.bus.start()
        self.addCleanup(self.b.bus.stop)
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        self.b.presence.connect("app", "carol", "b:2", "tcp")
        self.b.presence.connect("app2", "bob", "b:3", "tcp")
        await until(lambda: self.b.presence.online_users() == 3)

    async def received(self, lines):
        """The deliveries b's hub got of one payload of C{lines}: (app, the messages' ids,
        recipients, exclude, alias) each."""
        shared_server().command("PUBLISH", f"jim:bus:{self.b.bus.node}",
                                b"\n".join(lines).decode())
        await until(lambda: self.b.got)  # one payload is handed out at once, whole
        return [(d.app, tuple(m.id for m in messages_of([d])), d.recipients, d.exclude, d.alias,
                 type(d.item)) for d in self.b.got]

    def one(self, mid, recipients=("bob",), exclude="x:1", alias=None, app="app"):
        return (app, (mid,), recipients, exclude, alias, Message)

    def several(self, mids, recipients=("bob",), exclude="x:1", alias=None, app="app"):
        return (app, tuple(mids), recipients, exclude, alias, tuple)

    async def test_identical_consecutive_parts_are_one_run_whatever_their_form(self):
        got = await self.received([part(1), part(2), run_part([3, 4]), part(5)])
        self.assertEqual(got, [self.several([1, 2, 3, 4, 5])])

    async def test_parts_for_other_recipients_are_other_runs(self):
        got = await self.received([part(1), part(2), part(3, ("bob", "carol")),
                                   part(4, ("bob", "carol")), part(5, ("carol",))])
        self.assertEqual(got, [self.several([1, 2]), self.several([3, 4], ("bob", "carol")),
                               self.one(5, ("carol",))])

    async def test_parts_with_another_excluded_connection_are_other_runs(self):
        got = await self.received([part(1), part(2), part(3, exclude="x:2"),
                                   part(4, exclude="x:2"), part(5, exclude=None)])
        self.assertEqual(got, [self.several([1, 2]), self.several([3, 4], exclude="x:2"),
                               self.one(5, exclude=None)])

    async def test_parts_with_another_alias_are_other_runs(self):
        got = await self.received([part(1), part(2), part(3, alias="g1"), part(4, alias="g1"),
                                   part(5, alias="g2"), part(6)])
        self.assertEqual(got, [self.several([1, 2]), self.several([3, 4], alias="g1"),
                               self.one(5, alias="g2"), self.one(6)])

    async def test_parts_of_another_app_are_other_runs(self):
        got = await self.received([part(1), part(2, app="app2"), part(3, app="app2"),
                                   part(4)])
        self.assertEqual(got, [self.one(1), self.several([2, 3], app="app2"), self.one(4)])

    async def test_stored_parts_that_other_nodes_hand_out_differently_are_other_runs(self):
        """Parts a script published: the same connections but other nodes that had a part of
        their own (another origin, or told) are another run; a plain part (no such nodes)
        another still."""
        got = await self.received([
            stored_part(1, "n1", []), stored_part(2, "n1", []),
            stored_part(3, "n1", ["n2"]), stored_part(4, "n1", ["n2"]),
            stored_part(5, "n3", ["n2"]),
            part(6), part(7),
        ])
        self.assertEqual(got, [self.several([1, 2]), self.several([3, 4]), self.one(5),
                               self.several([6, 7])])
