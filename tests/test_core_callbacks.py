"""The Callbacks service on a fake clock and a fake client: what an app with a callback URL
is told (each message it accepts once, its users' first connection up and last down), in
batches of one kind, retried with a doubling delay for as long as it takes, the oldest
dropped (logged and counted) beyond the backlog; nothing for an app without a URL, and chats
never wait for any of it."""
import orjson
from twisted.internet import defer
from twisted.logger import Logger
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from jim import errors
from jim.bus.local import LocalBus, LocalPresence
from jim.core.callbacks import MESSAGE, STATUS, CallbackOptions, backoff
from jim.core.core import build_core
from jim.errors import JimError
from jim.interfaces import ICallbackClient
from jim.store.memory_callbacks import MemoryCallbacks
from tests.support.fakes import APP_KEY, make_core, send

URL = "http://127.0.0.1:9/callback"


@implementer(ICallbackClient)
class FakeClient:
    """Records every POST; answers each with the next of C{answers} (an HTTP status, an
    exception, or a Deferred the test fires), 200 when there is none."""

    timeout = 10.0

    def __init__(self):
        self.posts = []  # (app key, kind, [decoded items], clock time)
        self.answers = []
        self.clock = None

    def message(self, message, from_name, target_name):
        return orjson.dumps({"msgid": message.id, "text": message.body.get("text"),
                             "from_name": from_name, "target_name": target_name}).decode()

    def status(self, app, username, online, time):
        return orjson.dumps({"username": username, "online": online, "time": time}).decode()

    def post(self, app, kind, texts):
        self.posts.append((app.key, kind, [orjson.loads(t) for t in texts],
                           self.clock.seconds()))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, defer.Deferred):
            return answer
        if isinstance(answer, Exception):
            return defer.fail(answer)
        return defer.succeed(answer)

    def texts(self):
        """The text of every message POSTed, in order."""
        return [item["text"] for _, kind, items, _ in self.posts if kind == MESSAGE
                for item in items]


class CallbackCase(SynchronousTestCase):
    options = CallbackOptions(batch=3, backlog=5, first_backoff=1.0, max_backoff=8.0, poll=5.0)
    url = URL

    def setUp(self):
        self.client = FakeClient()
        self.fx = make_core(users=("alice", "bob", "carol"))
        self.clock = self.client.clock = self.fx.clock
        # the leases on the test's clock
        self.fx.memory.callbacks = MemoryCallbacks(now=self.clock.seconds)
        self.fx.bus = LocalBus(node="test", wire=True, metrics=self.fx.metrics)
        self.fx.core = build_core(self.fx.store, self.fx.bus, LocalPresence(),
                                  self.fx.passwords, self.fx.tokens, self.clock,
                                  self.fx.metrics, self.fx.limits, APP_KEY,
                                  callback_client=self.client, callback_options=self.options)
        self.core = self.fx.core
        self.callbacks = self.core.callbacks
        self.backlog = self.fx.memory.callbacks
        self.logged = []
        self.callbacks.log = Logger(observer=self.logged.append)
        if self.url is not None:
            self.ok(self.core.accounts.update_app(APP_KEY, {"callback_url": self.url}))
        self.core.start()
        self.addCleanup(self.core.stop)

    def ok(self, d):
        return self.successResultOf(defer.ensureDeferred(d))

    def chat(self, session, to, text):
        send(session, 11, {"cmd": 11, "chatType": 2, "to": to, "content": text})

    def count(self):
        return self.successResultOf(self.backlog.count(APP_KEY))


class WithoutURLTests(CallbackCase):
    url = None

    def test_an_app_without_a_url_costs_no_work(self):
        alice, alice_client = self.fx.login("alice")
        bob, bob_client = self.fx.login("bob")
        self.chat(alice, "bob", "hi")
        self.assertEqual([c for c, _ in bob_client.take()], [11])
        self.assertEqual(self.callbacks._pending, {})
        self.assertEqual([call for call in self.clock.getDelayedCalls()
                          if call.func == self.callbacks._flush], [])
        self.clock.advance(60)
        self.assertEqual(self.client.posts, [])
        self.assertEqual(self.count(), 0)
        self.assertEqual(self.successResultOf(self.backlog.pending_apps()), [])

    def test_a_url_set_later_is_used_from_then_on(self):
        alice, _ = self.fx.login("alice")
        self.fx.login("bob")
        self.chat(alice, "bob", "before")
        self.clock.advance(1)
        self.ok(self.core.accounts.update_app(APP_KEY, {"callback_url": URL}))
        self.chat(alice, "bob", "after")
        self.clock.advance(0)
        self.assertEqual(self.client.texts(), ["after"])


class CollectingTests(CallbackCase):
    def test_a_message_accepted_is_posted_once(self):
        alice, alice_client = self.fx.login("alice")
        bob, bob_client = self.fx.login("bob")
        self.clock.advance(0)
        del self.client.posts[:]  # their logins
        self.chat(alice, "bob", "hi")
        [ack] = [body for command, body in alice_client.take() if command == 12]
        self.clock.advance(0)
        [(app, kind, [item], _)] = self.client.posts
        self.assertEqual((app, kind), (APP_KEY, MESSAGE))
        self.assertEqual(str(item["msgid"]), ack["data"]["id"])
        self.assertEqual(item["text"], "hi")
        self.assertEqual(self.count(), 0)
        self.clock.advance(60)  # polls find nothing more to send
        self.assertEqual(len(self.client.posts), 1)
        self.assertEqual(self.fx.metrics.callback_posts, {(APP_KEY, "ok"): 2})  # + logins

    def test_the_names_come_from_memory(self):
        self.fx.memory.users.update_user(APP_KEY, "alice", {"nickname": "Alice A"})
        alice, _ = self.fx.login("alice")
        self.chat(alice, "bob", "hi")
        self.clock.advance(0)
        [item] = [i for _, kind, items, _ in self.client.posts if kind == MESSAGE for i in items]
        self.assertEqual((item["from_name"], item["target_name"]), ("Alice A", ""))

    def test_a_users_first_connection_up_and_last_down(self):
        self.clock.advance(10)
        alice, _ = self.fx.login("alice")
        alice2, _ = self.fx.login("alice", terminal="ws")  # not the first: nothing
        self.clock.advance(0)
        alice.close("bye")  # not the last: nothing
        self.clock.advance(5)
        alice2.connection_lost()
        self.clock.advance(0)
        statuses = [(items, kind) for _, kind, items, _ in self.client.posts]
        self.assertEqual(statuses, [
            ([{"username": "alice", "online": True, "time": 10_000}], STATUS),
            ([{"username": "alice", "online": False, "time": 15_000}], STATUS)])

    def test_users_of_a_dead_node_go_offline(self):
        self.core.hub.users_lost([(APP_KEY, "carol")])
        self.clock.advance(0)
        [(_, kind, [item], _)] = self.client.posts
        self.assertEqual((kind, item["username"], item["online"]), (STATUS, "carol", False))

    def test_chats_never_wait_for_the_app_server(self):
        self.client.answers = [defer.Deferred()]  # the first POST is never answered
        alice, alice_client = self.fx.login("alice")
        bob, bob_client = self.fx.login("bob")
        self.clock.advance(0)
        for n in range(3):
            self.chat(alice, "bob", f"m{n}")
            self.assertEqual([c for c, _ in alice_client.take()], [12])
            self.assertEqual([c for c, _ in bob_client.take()], [11])
        self.assertEqual(self.client.texts(), [])

    def test_a_failing_client_encoding_never_fails_the_chat(self):
        def broken(*args):
            raise ValueError("a bug")

        self.client.message = broken
        alice, alice_client = self.fx.login("alice")
        self.fx.login("bob")
        self.chat(alice, "bob", "hi")
        [(_, ack)] = [c for c in alice_client.take() if c[0] == 12]
        self.assertEqual(ack["code"], 10000)
        [failure] = [e["log_failure"] for e in self.logged if "log_failure" in e]
        self.assertTrue(failure.check(ValueError))

    def test_an_app_not_in_memory_is_read_first(self):
        alice, _ = self.fx.login("alice")
        self.fx.login("bob")
        self.clock.advance(0)
        self.core.accounts.known.clear()
        self.chat(alice, "bob", "hi")
        self.clock.advance(0)
        self.assertEqual(self.client.texts(), ["hi"])

    def test_a_url_removed_forgets_the_backlog(self):
        self.client.answers = [500] * 10
        alice, _ = self.fx.login("alice")
        self.fx.login("bob")
        self.chat(alice, "bob", "one")
        self.clock.advance(0)
        self.assertGreater(self.count(), 0)
        self.ok(self.core.accounts.update_app(APP_KEY, {"callback_url": None}))
        self.chat(alice, "bob", "two")  # not kept
        self.clock.advance(30)
        self.assertEqual(self.count(), 0)
        self.assertNotIn("two", self.client.texts())


class BatchingTests(CallbackCase):
    options = CallbackOptions(batch=3)
    def test_items_go_in_batches_of_one_kind_in_order(self):
        held = defer.Deferred()
        self.client.answers = [held]
        self.ok(self.backlog.append(APP_KEY, [(MESSAGE, '{"text":"m0"}')]))
        self.callbacks.poll()  # the first POST, held
        alice, _ = self.fx.login("alice")  # a status
        for n in range(1, 5):
            self.chat(alice, "bob", f"m{n}")
        self.fx.login("bob")  # another status, after the messages
        self.clock.advance(0)
        self.assertEqual(len(self.client.posts), 1)
        held.callback(200)
        runs = [(kind, [i.get("text", i.get("username")) for i in items])
                for _, kind, items, _ in self.client.posts]
        self.assertEqual(runs, [
            (MESSAGE, ["m0"]),
            (STATUS, ["alice"]),
            (MESSAGE, ["m1", "m2", "m3"]),  # batch=3
            (MESSAGE, ["m4"]),
            (STATUS, ["bob"]),
        ])
        self.assertEqual(self.count(), 0)

    def test_the_items_of_a_turn_are_kept_in_one_write(self):
        appends = []
        real = self.backlog.append
        self.backlog.append = lambda app, items: appends.append(len(items)) or real(app, items)
        self.client.answers = [defer.Deferred()]
        alice, _ = self.fx.login("alice")
        self.fx.login("bob")
        for n in range(4):
            self.chat(alice, "bob", f"m{n}")
        self.clock.advance(0)
        self.assertEqual(appends, [6])  # two statuses, four messages


class RetryTests(CallbackCase):
    def test_failures_are_retried_with_a_doubling_delay_never_given_up(self):
        self.client.answers = [500, ConnectionRefusedError("refused")] + [503] * 8
        alice, _ = self.fx.login("alice")
        self.clock.advance(0)
        for _ in range(40):
            self.clock.advance(1)
        times = [t for _, _, _, t in self.client.posts]
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertEqual(gaps, [1, 2, 4, 8, 8, 8, 8, 8, 8, 8][:len(gaps)])
        self.assertEqual(len(self.client.posts), 8)  # at 0, 1, 3, 7, 15, 23, 31 and 39 s
        for _ in range(60):
            self.clock.advance(1)
        self.assertEqual(len(self.client.posts), 11)  # the 11th (63 s) was answered 200
        self.assertEqual(self.count(), 0)
        self.assertEqual(self.fx.metrics.callback_posts, {
            (APP_KEY, "refused"): 9, (APP_KEY, "unreachable"): 1, (APP_KEY, "ok"): 1})
        self.assertEqual({orjson.dumps(post[2]) for post in self.client.posts},
                         {orjson.dumps(self.client.posts[0][2])}, "the same item each time")
        outcomes = [e.get("callback_outcome") for e in self.logged if "callback_outcome" in e]
        self.assertEqual(outcomes.count("refused"), 9)

    def test_backoff(self):
        options = CallbackOptions(first_backoff=0.5, max_backoff=3.0)
        self.assertEqual([backoff(options, n) for n in range(1, 7)],
                         [0.5, 1.0, 2.0, 3.0, 3.0, 3.0])
        self.assertEqual(backoff(options, 10_000), 3.0)

    def test_the_backlog_drops_its_oldest_beyond_its_limit(self):
        self.client.answers = [500] * 100
        alice, _ = self.fx.login("alice")
        self.clock.advance(0)
        for n in range(7):
            self.chat(alice, "bob", f"m{n}")
            self.clock.advance(0)
        self.assertEqual(self.count(), 5)
        self.assertEqual(self.fx.metrics.callback_dropped, {APP_KEY: 3})
        dropped = [e["callback_dropped"] for e in self.logged if "callback_dropped" in e]
        self.assertEqual(sum(dropped), 3)
        self.client.answers = []
        self.clock.advance(10)
        self.assertEqual(self.client.texts()[-3:], ["m4", "m5", "m6"])
        self.assertEqual(self.client.posts[-2][2][0]["text"], "m2")  # the oldest kept
        self.assertEqual(self.count(), 0)

    def test_a_store_that_is_away_loses_nothing(self):
        real = self.backlog.append
        failures = [2]

        def flaky(app, items):
            if failures[0]:
                failures[0] -= 1
                return defer.fail(JimError(errors.SERVER_ERROR, "store away"))
            return real(app, items)

        self.backlog.append = flaky
        alice, _ = self.fx.login("alice")
        self.fx.login("bob")
        self.chat(alice, "bob", "m0")
        self.clock.advance(0)
        self.chat(alice, "bob", "m1")  # waits behind the retried ones
        self.clock.advance(0)
        self.assertEqual(self.client.posts, [])
        self.clock.advance(1)
        self.clock.advance(2)
        self.assertEqual(self.client.texts(), ["m0", "m1"])
        self.assertEqual(failures, [0])

    def test_items_waiting_for_a_store_away_for_long_are_bounded_too(self):
        real = self.backlog.append
        away = [True]

        def flaky(app, items):
            if away[0]:
                return defer.fail(JimError(errors.SERVER_ERROR, "store away"))
            return real(app, items)

        self.backlog.append = flaky
        alice, _ = self.fx.login("alice")
        self.fx.login("bob")
        for n in range(7):
            self.chat(alice, "bob", f"m{n}")
            self.clock.advance(1)
        self.assertEqual(self.fx.metrics.callback_dropped, {APP_KEY: 4})  # 9 items, 5 kept
        away[0] = False
        self.clock.advance(10)
        self.assertEqual(self.client.texts(), ["m2", "m3", "m4", "m5", "m6"])


class LeaseTests(CallbackCase):
    def test_a_backlog_left_from_before_is_sent_at_start(self):
        self.core.stop()
        self.ok(self.backlog.append(APP_KEY, [(MESSAGE, '{"text":"old"}')]))
        self.core.start()
        self.assertEqual(self.client.texts(), ["old"])
        self.assertEqual(self.fx.metrics.callback_backlog, {})

    def test_one_node_sends_an_apps_backlog(self):
        self.core.stop()
        self.assertTrue(self.successResultOf(self.backlog.claim(APP_KEY, "other", 30)))
        self.ok(self.backlog.append(APP_KEY, [(MESSAGE, '{"text":"old"}')]))
        self.core.start()
        self.assertEqual(self.client.posts, [])
        self.assertEqual(self.fx.metrics.callback_backlog, {APP_KEY: 1})
        self.clock.advance(25)
        self.assertEqual(self.client.posts, [])
        self.clock.advance(10)  # the other node's lease expired: a poll takes it over
        self.assertEqual(self.client.texts(), ["old"])
        self.assertEqual(self.count(), 0)
        self.assertTrue(self.successResultOf(self.backlog.claim(APP_KEY, "other", 30)),
                        "this node gave the lease up once the backlog was sent")

    def test_stop_leaves_what_is_not_sent_in_the_backlog(self):
        held = defer.Deferred()
        self.client.answers = [held]
        alice, _ = self.fx.login("alice")
        self.clock.advance(0)
        self.core.stop()
        self.assertTrue(held.called)  # cancelled
        self.flushLoggedErrors(defer.CancelledError)
        self.assertEqual(self.count(), 1)
        self.assertTrue(self.successResultOf(self.backlog.claim(APP_KEY, "other", 1)),
                        "the lease was given up")


class ClientInterfaceTests(SynchronousTestCase):
    def test_the_fake_is_a_client(self):
        self.assertTrue(verifyObject(ICallbackClient, FakeClient()))
