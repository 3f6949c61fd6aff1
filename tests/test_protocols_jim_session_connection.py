"""A J-IM session as the core's L{IConnection}: a delivery is encoded once per fan-out, a kick
tells the client why before it closes, and the credentials a kick revokes (a password that
changed, a user who is forbidden) are refused at the next login."""
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from jim import model
from jim.interfaces import IConnection
from jim.model import Delivery, Event, Kick, Message, UserCard
from jim.wire import jim_events, jimjson
from jim.protocols.jim_session import Session

from tests.support.fakes import APP_KEY, RecordingClient, codes, make_core, send

INVALID_TOKEN = "invalid or expired token"


class OrderedClient(RecordingClient):
    """A L{RecordingClient} that also notes sends and closes in one list, in call order."""

    def __init__(self, terminal="tcp"):
        super().__init__(terminal)
        self.log = []

    def send(self, command, body):
        super().send(command, body)
        self.log.append(("send", command))

    def close(self, reason):
        super().close(reason)
        self.log.append(("close", reason))


def run(test, coroutine):
    return test.successResultOf(defer.ensureDeferred(coroutine))


def login(fx, username, password="secret"):
    """A session logged in as C{username} on an L{OrderedClient}; the login reply taken."""
    client = OrderedClient()
    session = Session(fx.core, client)
    send(session, 5, {"cmd": 5, "userId": username, "password": password})
    [(_, reply)] = client.take()
    assert reply["code"] == 10007, reply
    client.log.clear()
    return session, client


class CountingEncodings:
    """Counts the J-IM encodings a session makes (of messages, jimjson.push; of events,
    jim_events.frames, both patched by the test) and keeps what they were asked."""

    def __init__(self, test):
        self.calls = []
        real_push, real_frames = jimjson.push, jim_events.frames

        def push(message, alias=None):
            self.calls.append(message)
            return real_push(message, alias)

        def frames(event, alias=None):
            self.calls.append(event)
            return real_frames(event, alias)

        test.patch(jimjson, "push", push)
        test.patch(jim_events, "frames", frames)


class DeliverTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol"))
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")
        self.bob_phone, self.bob_phone_client = self.fx.login("bob", terminal="ws")
        self.sessions = [self.alice, self.bob, self.bob_phone]
        self.clients = [self.alice_client, self.bob_client, self.bob_phone_client]
        self.message = Message(5, APP_KEY, "carol", model.SINGLE, "bob", model.TEXT,
                               {"text": "hi"}, created=7)
        self.push = (11, {"command": 11, "data": {
            "id": "5", "cmd": 11, "from": "carol", "createTime": 7, "msgType": 0,
            "content": "hi", "chatType": 2, "to": "bob"}})

    def test_is_a_connection(self):
        for session in self.sessions:
            verifyObject(IConnection, session)
        self.assertEqual([s.terminal for s in self.sessions], ["tcp", "tcp", "ws"])
        self.assertEqual(len({s.id for s in self.sessions}), 3)
        self.assertEqual((self.bob.app, self.bob.username), (APP_KEY, "bob"))

    def test_one_encoding_per_fan_out(self):
        encodings = CountingEncodings(self)
        delivery = Delivery(APP_KEY, self.message, ("alice", "bob"))
        cache = {}
        for session in self.sessions:
            session.deliver(delivery, cache)
        self.assertEqual(encodings.calls, [delivery.item])
        for client in self.clients:
            self.assertEqual(client.take(), [self.push])

    def test_each_cache_is_one_fan_out(self):
        encodings = CountingEncodings(self)
        delivery = Delivery(APP_KEY, self.message, ("bob",))
        self.bob.deliver(delivery, {})
        self.bob_phone.deliver(delivery, {})
        self.assertEqual(encodings.calls, [delivery.item, delivery.item])

    def test_the_cached_encoding_is_what_is_sent(self):
        """A session sends what the fan-out's cache holds, whatever key the dialect chose."""
        cache = {}
        self.alice.deliver(Delivery(APP_KEY, self.message, ("alice",)), cache)
        self.assertTrue(cache)
        for key in cache:  # the J-IM frames, and the transport's encoding of them
            cache[key] = ((11, b'{"cached":true}'),)
        self.bob.deliver(Delivery(APP_KEY, self.message, ("bob",)), cache)
        self.assertEqual(self.bob_client.take(), [(11, {"cached": True})])

    def test_an_event_is_encoded_once_too(self):
        encodings = CountingEncodings(self)
        event = Event(model.MEMBERS_ADDED, APP_KEY, id=9, actor="carol", gid=100,
                      users=[UserCard("dave", "Dave")], created=3, group_name="team")
        delivery = Delivery(APP_KEY, event, ("alice", "bob"), alias="g1")
        cache = {}
        for session in self.sessions:
            session.deliver(delivery, cache)
        self.assertEqual(len(encodings.calls), 1)
        for client in self.clients:
            sent = client.take()
            self.assertEqual([command for command, _ in sent], [9, 100])
            self.assertEqual((sent[0][1]["group"], sent[0][1]["user"]["userId"]), ("g1", "dave"))
            self.assertEqual(sent[1][1]["data"]["event_type"], 10)

    def test_a_group_message_names_its_group_by_alias(self):
        message = self.message._replace(target_type=model.GROUP, target="10000000")
        self.alice.deliver(Delivery(APP_KEY, message, ("alice",), alias="g1"), {})
        [(_, push)] = self.alice_client.take()
        self.assertEqual((push["data"]["chatType"], push["data"]["groupId"]), (1, "g1"))

    def test_through_the_bus_one_encoding_for_every_connection(self):
        encodings = CountingEncodings(self)
        self.fx.bus.publish(Delivery(APP_KEY, self.message, ("alice", "bob"),
                                     exclude=self.bob_phone.id))
        self.assertEqual(len(encodings.calls), 1)
        self.assertEqual([c.take() for c in self.clients], [[self.push], [self.push], []])


class KickTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob"))
        self.alice, self.alice_client = login(self.fx, "alice")
        self.alice_phone, self.alice_phone_client = login(self.fx, "alice")
        self.bob, self.bob_client = login(self.fx, "bob")

    def event_frames(self, client):
        """The data of the cmd 100 frames C{client} was sent, event ids left out."""
        frames = []
        for command, body in client.take():
            self.assertEqual((command, body["command"]), (100, 100))
            data = dict(body["data"])
            self.assertIsInstance(data.pop("event_id"), int)
            frames.append(data)
        return frames

    def assert_told_then_closed(self, kind, event_type, reason):
        for client in (self.alice_client, self.alice_phone_client):
            self.assertEqual(client.log, [("send", 100), ("close", reason)])
            self.assertEqual(self.event_frames(client), [{
                "event_type": event_type, "kind": kind, "from_username": "",
                "from_appkey": APP_KEY, "ctime_ms": 0,
                "to_usernames": [{"username": "alice", "appkey": APP_KEY, "nickname": ""}]}])
        self.assertEqual(self.bob_client.log, [])
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))
        self.assertTrue(self.fx.core.presence.is_online(APP_KEY, "bob"))

    def test_forbidden(self):
        run(self, self.fx.core.users.forbid(APP_KEY, "alice", True))
        self.assert_told_then_closed(model.USER_FORBIDDEN, 1, "forbidden")

    def test_password_changed(self):
        run(self, self.fx.core.users.set_password(APP_KEY, "alice", "new secret"))
        self.assert_told_then_closed(model.PASSWORD_CHANGED, 2, "password changed")

    def test_without_an_event_only_closes(self):
        self.fx.hub.kick(APP_KEY, "alice", "user deleted")
        self.assertEqual(self.alice_client.log, [("close", "user deleted")])
        self.assertEqual(self.alice_phone_client.log, [("close", "user deleted")])

    def test_a_kick_of_the_session_itself(self):
        event = Event(model.USER_FORBIDDEN, APP_KEY, id=1, users=[UserCard("alice")])
        self.alice.kick(Kick(APP_KEY, "alice", "forbidden", event))
        self.assertEqual(self.alice_client.log, [("send", 100), ("close", "forbidden")])
        self.assertTrue(self.alice.closed)
        self.assertEqual(self.alice_phone_client.log, [])  # its other connection stays
        self.assertTrue(self.fx.core.presence.is_online(APP_KEY, "alice"))


class RevokedCredentialsTests(SynchronousTestCase):
    """A login (cmd 5) and an auth (cmd 3) with credentials that no longer hold."""

    def setUp(self):
        self.fx = make_core(users=("alice",))
        self.token = self.login_token("alice", "secret")

    def login_token(self, username, password):
        session, client = self.fx.connect()
        send(session, 5, {"cmd": 5, "userId": username, "password": password})
        [(_, reply)] = client.take()
        return reply["token"]

    def login_by_token(self, token):
        session, client = self.fx.connect()
        send(session, 5, {"cmd": 5, "token": token})
        return client.take(), client.closes

    def auth(self, token):
        session, client = self.fx.connect()
        send(session, 3, {"cmd": 3, "token": token})
        return codes(client), client.closes

    def change_password(self):
        run(self, self.fx.core.users.set_password(APP_KEY, "alice", "new secret"))

    def test_a_token_works_until_the_password_changes(self):
        [(_, reply)], closes = self.login_by_token(self.token)
        self.assertEqual((reply["code"], closes), (10007, []))
        self.assertEqual(self.auth(self.token), ([(4, 10009)], []))
        self.change_password()
        [(command, reply)], closes = self.login_by_token(self.token)
        self.assertEqual((command, reply["code"], reply["detail"]), (6, 10008, INVALID_TOKEN))
        self.assertEqual(len(closes), 1)
        self.assertEqual(self.auth(self.token), ([(4, 10010)], []))

    def test_a_token_earned_with_the_new_password_works(self):
        self.change_password()
        token = self.login_token("alice", "new secret")
        self.assertEqual(self.auth(token), ([(4, 10009)], []))
        [(_, reply)], closes = self.login_by_token(token)
        self.assertEqual((reply["code"], closes), (10007, []))

    def test_a_profile_change_leaves_tokens_alone(self):
        run(self, self.fx.core.users.update(APP_KEY, "alice", {"nickname": "Alice"}))
        self.assertEqual(self.auth(self.token), ([(4, 10009)], []))

    def test_a_forbidden_user_cannot_log_in(self):
        self.fx.add_user("mallory", forbidden=True)
        session, client = self.fx.connect()
        send(session, 5, {"cmd": 5, "userId": "mallory", "password": "secret"})
        [(command, reply)] = client.take()
        self.assertEqual((command, reply["code"], reply["msg"]),
                         (6, 10008, "login failed ! 登录失败!"))
        self.assertEqual(reply["detail"], "'mallory' is forbidden")
        self.assertEqual(len(client.closes), 1)
        self.assertIsNone(session.username)
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "mallory"))

    def test_a_forbidden_users_wrong_password_says_nothing_more(self):
        self.fx.add_user("mallory", forbidden=True)
        session, client = self.fx.connect()
        send(session, 5, {"cmd": 5, "userId": "mallory", "password": "guess"})
        [(_, reply)] = client.take()
        self.assertEqual((reply["code"], reply["detail"]), (10008, "wrong userId or password"))

    def test_forbidding_ends_token_logins_and_allowing_restores_them(self):
        run(self, self.fx.core.users.forbid(APP_KEY, "alice", True))
        [(_, reply)], closes = self.login_by_token(self.token)
        self.assertEqual((reply["code"], reply["detail"]), (10008, "'alice' is forbidden"))
        self.assertEqual(len(closes), 1)
        run(self, self.fx.core.users.forbid(APP_KEY, "alice", False))
        [(_, reply)], closes = self.login_by_token(self.token)
        self.assertEqual((reply["code"], closes), (10007, []))
