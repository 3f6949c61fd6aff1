"""A J-IM session: the login gate, unknown commands, ordering around barriers, flow control
(rate limit, in-flight cap), J-IM replies to neutral refusals and the sweeper's timeouts (its
IConnection side is in test_protocols_jim_session_connection)."""
from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from jim import errors
from jim.config import Limits
from jim.errors import JimError
from jim.interfaces import IClient
from jim.store.memory import MemoryStore

from tests.support.fakes import HeldRunner, HoldingStore, RecordingClient, make_core, send

UNKNOWN_REPLY = {"code": 10017, "command": 0, "msg": "cmd failed! 未知的cmd命令!"}
UNKNOWN_COMMANDS = ([0, 2, 4, 6, 8, 9, 10, 12, 15, 16, 18, 20] + list(range(21, 101))
                    + [102, 104, 106, 108, 110, 112, 114] + list(range(116, 256)))
LOGIN = {"cmd": 5, "userId": "alice", "password": "secret"}


def invalid(command):
    return {
        "code": 10020,
        "command": command,
        "msg": "Invalid verification! 不合法校验",
        "detail": "log in first (cmd 5)",
    }


class FakeTests(SynchronousTestCase):
    def test_recording_client(self):
        verifyObject(IClient, RecordingClient())


class GateTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob"))
        self.session, self.client = self.fx.connect()

    def test_needs_login(self):
        for cmd, response, body in [
            (7, 8, {"groupId": "g"}),
            (11, 12, {"chatType": 2, "to": "bob", "content": "hi"}),
            (17, 18, {"type": 2}),
            (19, 20, {"type": 0}),
        ]:
            send(self.session, cmd, body)
            self.assertEqual(self.client.take(), [(response, invalid(response))], cmd)
        groups = self.fx.memory.groups
        self.assertIsNone(self.successResultOf(groups.group_by_alias(self.fx.app_key, "g")))
        self.assertEqual(self.client.closes, [])

    def test_handshake(self):
        self.session.frame_received(1, b"")
        self.assertEqual(self.client.take(), [(2, {"command": 2, "data": {"hbyte": -127}})])

    def test_heartbeat_java_body(self):
        self.session.frame_received(13, b"\x80")
        self.assertEqual(self.client.take(), [(13, {"command": 13, "data": {"hbbyte": -128}})])

    def test_heartbeat_any_body(self):
        for body in [b"", b"{", b'{"cmd":13,"hbbyte":"-127"}']:
            self.session.frame_received(13, body)
        self.assertEqual(self.client.commands(), [13, 13, 13])

    def test_auth_before_login(self):
        """Allowed (not 10020); a bad token is refused with J-IM's auth failure."""
        send(self.session, 3, {"cmd": 3, "token": "校验码"})
        [(command, body)] = self.client.take()
        self.assertEqual((command, body["code"], body["command"]), (4, 10010, 4))

    def test_close_before_login(self):
        send(self.session, 14, {})
        self.assertEqual(
            self.client.take(), [(14, {"code": 10021, "command": 14, "msg": "close ok! 关闭成功"})]
        )
        self.assertEqual(len(self.client.closes), 1)

    def test_login(self):
        send(self.session, 5, LOGIN)
        [(command, body)] = self.client.take()
        self.assertEqual((command, body["code"]), (6, 10007))
        self.assertEqual(self.session.username, "alice")

    def test_unknown_commands(self):
        for cmd in UNKNOWN_COMMANDS:
            send(self.session, cmd, {"cmd": cmd})
        self.assertEqual(self.client.take(), [(0, UNKNOWN_REPLY)] * len(UNKNOWN_COMMANDS))
        send(self.session, 5, LOGIN)
        self.client.take()
        for cmd in UNKNOWN_COMMANDS:
            send(self.session, cmd, {"cmd": cmd})
        self.assertEqual(self.client.take(), [(0, UNKNOWN_REPLY)] * len(UNKNOWN_COMMANDS))
        self.assertEqual(self.client.closes, [])

    def test_bad_body(self):
        send(self.session, 5, LOGIN)
        self.client.take()
        bad_input = self.fx.metrics.bad_input
        cases = [(11, 12, 10002), (7, 8, 10012), (17, 18, 10004), (19, 20, 10015)]
        for cmd, response, code in cases:
            self.session.frame_received(cmd, b"not json")
            [(command, body)] = self.client.take()
            self.assertEqual((command, body["code"], body["command"]), (response, code, response))
        self.assertEqual(self.fx.metrics.bad_input, bad_input + 4)

    def test_after_connection_lost(self):
        self.session.connection_lost()
        self.session.frame_received(13, b"")
        self.session.text_received(b'{"cmd":13}')
        self.assertEqual(self.client.take(), [])
        self.assertNotIn(self.session, self.fx.core.sessions)
        self.session.connection_lost()


class TextTests(SynchronousTestCase):
    """WebSocket messages: the command is the ``cmd`` field of the JSON."""

    def setUp(self):
        self.fx = make_core()
        self.fx.add_user("alice")
        self.session, self.client = self.fx.connect("ws")

    def test_commands(self):
        self.session.text_received(b'{"cmd":13}')
        self.session.text_received(b'{"cmd":"5","userId":"alice","password":"secret"}')
        self.session.text_received(b'{"cmd":17,"type":"0"}')
        self.assertEqual(self.client.commands(), [13, 6, 18])
        self.assertEqual(self.client.sent[2][1]["code"], 10005)
        self.assertEqual(self.client.sent[1][1]["user"]["terminal"], "ws")

    def test_without_cmd(self):
        for payload in [b"{}", b"", b"[13]", b'{"cmd":"x"}', b"\xff", b'{"cmd":null}']:
            self.session.text_received(payload)
            [(command, body)] = self.client.take()
            self.assertEqual((command, body["code"], body["command"]), (0, 10017, 0), payload)

    def test_unknown(self):
        self.session.text_received(b'{"cmd":99}')
        self.assertEqual(self.client.take(), [(0, UNKNOWN_REPLY)])


class BarrierTests(SynchronousTestCase):
    """A login holds later frames of the connection until it is done."""

    def setUp(self):
        self.runner = HeldRunner()
        self.fx = make_core(run=self.runner, users=("alice", "bob"))
        self.bob, self.bob_client = self.fx.connect()
        self.bob.command_received(5, {"userId": "bob", "password": "secret"})
        self.runner.release()
        self.bob_client.take()
        self.session, self.client = self.fx.connect()

    def test_chat_waits_for_login(self):
        # one data chunk: login then chat
        send(self.session, 5, LOGIN)
        send(self.session, 11, {"chatType": 2, "to": "bob", "content": "first"})
        self.session.frame_received(13, b"")
        self.assertEqual(self.client.take(), [])
        self.runner.release()
        sent = self.client.take()
        self.assertEqual(
            [(c, b.get("code")) for c, b in sent], [(6, 10007), (12, 10000), (13, None)]
        )
        [(command, push)] = self.bob_client.take()
        self.assertEqual((command, push["data"]["from"]), (11, "alice"))

    def test_queued_behind_failed_login(self):
        send(self.session, 5, {"userId": "alice", "password": "wrong"})
        send(self.session, 11, {"chatType": 2, "to": "bob", "content": "sneaky"})
        self.runner.release()
        sent = self.client.take()
        self.assertEqual(sent[0][0], 6)
        self.assertEqual(sent[0][1]["code"], 10008)
        self.assertEqual(len(self.client.closes), 1)
        self.assertEqual(self.bob_client.sent, [])
        self.assertIsNone(self.session.username)

    def test_second_login_waits_for_first(self):
        send(self.session, 5, LOGIN)
        send(self.session, 5, {"userId": "bob", "password": "secret"})
        self.runner.release()
        codes = [b["code"] for _, b in self.client.take()]
        self.assertEqual(codes, [10007, 10008])
        self.assertEqual(self.session.username, "alice")

    def test_connection_lost_during_login(self):
        send(self.session, 5, LOGIN)
        self.session.connection_lost()
        self.runner.release()
        self.assertEqual(self.client.take(), [])
        self.assertFalse(self.fx.core.presence.is_online(self.fx.app_key, "alice"))


class RateLimitTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(limits=Limits(rate=2.0))
        self.session, self.client = self.fx.connect()

    def test_pauses_and_resumes(self):
        for _ in range(4):  # the burst: two seconds' worth
            self.session.frame_received(13, b"")
        self.assertEqual(self.client.reading, [])
        self.session.frame_received(13, b"")
        self.assertEqual(self.client.reading, ["pause"])
        self.assertEqual(self.client.commands(), [13] * 5)  # paused, nothing dropped
        self.fx.clock.advance(0.49)
        self.assertEqual(self.client.reading, ["pause"])
        self.fx.clock.advance(0.01)
        self.assertEqual(self.client.reading, ["pause", "resume"])

    def test_steady_rate_never_pauses(self):
        for _ in range(20):
            self.session.frame_received(13, b"")
            self.fx.clock.advance(0.5)
        self.assertEqual(self.client.reading, [])

    def test_off(self):
        fx = make_core(limits=Limits(rate=0))
        session, client = fx.connect()
        for _ in range(1000):
            session.frame_received(13, b"")
        self.assertEqual(client.reading, [])


class InflightTests(SynchronousTestCase):
    def setUp(self):
        self.store = HoldingStore(MemoryStore(), "add_message")
        self.fx = make_core(store=self.store, limits=Limits(max_inflight=3), users=("alice", "bob"))
        self.fx.login("bob")
        self.session, self.client = self.fx.login("alice")

    def chat(self, n):
        send(self.session, 11, {"chatType": 2, "to": "bob", "content": str(n)})

    def test_cap_pauses_reading(self):
        self.chat(1)
        self.chat(2)
        self.assertEqual(self.client.reading, [])
        self.chat(3)
        self.assertEqual(self.client.reading, ["pause"])
        self.assertEqual(self.client.sent, [])
        self.store.release()
        self.assertEqual(self.client.reading, ["pause", "resume"])
        self.assertEqual([b["code"] for _, b in self.client.take()], [10000] * 3)

    def test_reading_resumes_at_half_the_cap(self):
        store = HoldingStore(MemoryStore(), "add_message")
        fx = make_core(store=store, limits=Limits(max_inflight=4), users=("alice", "bob"))
        fx.login("bob")
        session, client = fx.login("alice")
        for n in range(4):
            send(session, 11, {"chatType": 2, "to": "bob", "content": str(n)})
        self.assertEqual(client.reading, ["pause"])
        store.release(count=1)  # 3 in progress: more than half of 4
        self.assertEqual(client.reading, ["pause"])
        store.release(count=1)  # 2: read again
        self.assertEqual(client.reading, ["pause", "resume"])
        send(session, 11, {"chatType": 2, "to": "bob", "content": "4"})
        send(session, 11, {"chatType": 2, "to": "bob", "content": "5"})
        self.assertEqual(client.reading, ["pause", "resume", "pause"])  # at 4 again
        store.release()
        self.assertEqual([b["code"] for _, b in client.take()], [10000] * 6)

    def test_queue_behind_barrier_pauses_reading(self):
        runner = HeldRunner()
        fx = make_core(run=runner, limits=Limits(max_inflight=3))
        fx.add_user("alice")
        session, client = fx.connect()
        send(session, 5, LOGIN)
        for _ in range(3):
            session.frame_received(13, b"")
        self.assertEqual(client.reading, ["pause"])
        runner.release()
        self.assertEqual(client.reading, ["pause", "resume"])
        self.assertEqual(client.commands(), [6, 13, 13, 13])


class InternalErrorTests(SynchronousTestCase):
    def test_reply_and_log(self):
        fx = make_core()
        fx.add_user("alice")
        session, client = fx.login("alice")
        broken = lambda app, name: defer.fail(RuntimeError("disk on fire"))  # noqa: E731
        self.patch(fx.memory.users, "get_user", broken)
        send(session, 17, {"type": 2, "userId": "bob"})
        [(command, body)] = client.take()
        self.assertEqual((command, body["code"], body["detail"]), (18, 10004, "internal error"))
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        send(session, 13, {})
        self.assertEqual(client.commands(), [13])  # the connection carries on


class SweeperTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(
            limits=Limits(login_timeout=10.0, idle_timeout=20.0), users=("alice", "bob")
        )
        self.fx.core.start()
        self.addCleanup(self.fx.core.stop)

    def test_login_timeout(self):
        session, client = self.fx.connect()
        self.fx.clock.advance(5)
        active, active_client = self.fx.connect()
        self.fx.clock.pump([2.5] * 2)  # t = 10: not past the deadline yet
        self.assertEqual(client.closes, [])
        self.fx.clock.advance(2.5)
        self.assertEqual(client.closes, ["login timeout"])
        self.assertEqual(active_client.closes, [])
        send(active, 5, {"userId": "alice", "password": "secret"})
        self.fx.clock.pump([2.5] * 8)
        self.assertEqual(active_client.closes, [])

    def test_idle_timeout(self):
        silent, silent_client = self.fx.login("alice")
        talking, talking_client = self.fx.login("bob")
        for _ in range(12):
            self.fx.clock.advance(2.5)
            talking.frame_received(13, b"")
        self.assertTrue(silent_client.closes)
        self.assertEqual(set(silent_client.closes), {"idle timeout"})
        self.assertEqual(talking_client.closes, [])

    def test_idle_not_yet(self):
        silent, silent_client = self.fx.login("alice")
        self.fx.clock.pump([2.5] * 8)
        self.assertEqual(silent_client.closes, [])
        self.fx.clock.advance(2.5)
        self.assertEqual(silent_client.closes, ["idle timeout"])

    def test_stop(self):
        session, client = self.fx.connect()
        self.fx.core.stop()
        self.fx.clock.advance(100)
        self.assertEqual(client.closes, [])

    def test_closed_sessions_forgotten(self):
        """A lost connection leaves the sessions the sweeper watches (a closed session never
        closes again, so only that set shows whether it would be kept for ever)."""
        session, client = self.fx.connect()
        kept, _ = self.fx.connect()
        self.assertEqual(self.fx.core.sessions, {session, kept})
        session.connection_lost()
        self.assertEqual(self.fx.core.sessions, {kept})
        self.fx.clock.advance(100)
        self.assertEqual(client.closes, [])


class StoreFailureTests(SynchronousTestCase):
    """A store failure (a neutral error J-IM has no code for) still gets a J-IM reply, and
    the chat it failed is over for the session: it holds no in-flight slot (with a cap of one
    chat in flight, a leaked slot would pause reading at the next chat)."""

    def setUp(self):
        self.fx = make_core(limits=Limits(max_inflight=1), users=("alice", "bob"))
        self.session, self.client = self.fx.login("alice")
        self.messages = self.fx.memory.messages

    def chat(self, content):
        send(self.session, 11, {"cmd": 11, "chatType": 2, "to": "bob", "content": content})

    def assert_next_chat_runs_unpaused(self, bob_client=None):
        self.chat("after")
        self.assertEqual([(c, b["code"]) for c, b in self.client.take()],
                         [(12, 10000 if bob_client else 10001)])
        self.assertEqual(self.client.reading, [])
        if bob_client is not None:
            self.assertEqual([b["data"]["content"] for _, b in bob_client.take()], ["after"])

    def test_store_error_becomes_the_commands_failure_code(self):
        def broken(*args, **kwargs):
            return defer.fail(JimError(errors.SERVER_ERROR, "the store is stopped"))

        def broken_then(stored, then, *args):
            broken().addErrback(then, *args)

        patches = [self.patch(self.messages, "add_message", broken),
                   self.patch(self.messages, "append_message_then", broken_then)]
        self.chat("x")
        [(cmd, body)] = self.client.take()
        self.assertEqual((cmd, body["code"], body["detail"]), (12, 10002, "the store is stopped"))
        send(self.session, 13, {"cmd": 13})  # the connection goes on
        self.assertEqual(self.client.take(), [(13, {"command": 13, "data": {"hbbyte": -128}})])
        for patch in patches:
            patch.restore()
        self.assert_next_chat_runs_unpaused()

    def test_store_failure_on_the_fast_path(self):
        # the recipient is online: the chat is pushed at once, and acknowledged after the
        # commit (IMessageStore.append_message_then), which fails here
        _, bob_client = self.fx.login("bob")

        def broken(stored, then, *args):
            then(Failure(JimError(errors.SERVER_ERROR, "the disk is full")), *args)

        patch = self.patch(self.messages, "append_message_then", broken)
        self.chat("x")
        [(cmd, body)] = self.client.take()
        self.assertEqual((cmd, body["code"], body["detail"]), (12, 10002, "the disk is full"))
        # bob had it already: a failed commit cannot take a push back
        self.assertEqual([b["data"]["content"] for _, b in bob_client.take()], ["x"])
        patch.restore()
        self.assert_next_chat_runs_unpaused(bob_client)

    def test_store_failure_when_pushed_after_the_commit(self):
        # the store cannot promise an id before the commit: nothing is pushed before it
        _, bob_client = self.fx.login("bob")

        def broken(message, then, *args):
            then(Failure(JimError(errors.SERVER_ERROR, "the disk is full")), *args)

        patches = [self.patch(self.messages, "reserve_id", lambda: None),
                   self.patch(self.messages, "add_message_then", broken)]
        self.chat("x")
        [(cmd, body)] = self.client.take()
        self.assertEqual((cmd, body["code"], body["detail"]), (12, 10002, "the disk is full"))
        self.assertEqual(bob_client.take(), [])  # nothing pushed that was not stored
        for patch in patches:
            patch.restore()
        # nothing waits for the failed message: the next one is pushed at once
        self.assert_next_chat_runs_unpaused(bob_client)


class UnreadableLoginTests(SynchronousTestCase):
    def test_unreadable_login_body_closes(self):
        fx = make_core()
        session, client = fx.connect()
        session.frame_received(5, b"not json")
        [(cmd, body)] = client.take()
        self.assertEqual((cmd, body["code"]), (6, 10008))
        self.assertEqual(len(client.closes), 1)


class ClosingTests(SynchronousTestCase):
    def test_frames_behind_a_failed_login_are_dropped(self):
        runner = HeldRunner()
        fx = make_core(run=runner)
        fx.add_user("alice")
        session, client = fx.connect()
        send(session, 5, {"cmd": 5, "userId": "alice", "password": "wrong"})
        send(session, 11, {"cmd": 11, "chatType": 2, "to": "alice", "content": "x"})
        send(session, 13, {"cmd": 13})
        runner.release()
        self.assertEqual([cmd for cmd, _ in client.take()], [6])
        self.assertEqual(len(client.closes), 1)

    def test_the_sweeper_closes_once(self):
        fx = make_core()
        session, client = fx.connect()
        fx.clock.advance(fx.limits.login_timeout + 1)
        fx.core.sweep()
        fx.core.sweep()
        self.assertEqual(client.closes, ["login timeout"])
