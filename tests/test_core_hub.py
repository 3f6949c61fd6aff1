"""The hub: presence, group membership and delivery, including what happens while the store is
still working (a resent message, a recipient leaving, members loading)."""
import attr
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim.config import Limits
from jim.errors import JimError
from jim.store.memory import MemoryStore
from jim.wire import jimjson

from tests.support.fakes import APP_KEY, HoldingStore, codes, make_core, send


def chat(to, content, client_id=None):
    body = {"chatType": 2, "to": to, "content": content}
    if client_id is not None:
        body["id"] = client_id
    return body


class HeldFixture:
    def setUp(self):
        self.store = HoldingStore(MemoryStore())
        self.fx = make_core(store=self.store)
        for name in ("alice", "bob", "carol"):
            self.fx.add_user(name)
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")


class ResendTests(HeldFixture, SynchronousTestCase):
    def test_resend_while_storing(self):
        self.store.held.add("add_message")
        send(self.alice, 11, chat("bob", "once", "c1"))
        send(self.alice, 11, chat("bob", "once", "c1"))
        self.assertEqual(self.alice_client.sent, [])
        self.store.release()
        first, second = self.alice_client.take()
        self.assertEqual(first, second)
        self.assertEqual(first[1]["code"], 10000)
        self.assertEqual(len(self.bob_client.take()), 1)
        history = self.successResultOf(self.fx.memory.private_history(APP_KEY, "alice", "bob"))
        self.assertEqual(len(history), 1)

    def test_resend_while_looking_up(self):
        """Both copies arrive before the store said whether the id was seen before."""
        self.store.held.update({"message_by_client_id", "add_message"})
        send(self.alice, 11, chat("bob", "once", "c2"))
        send(self.alice, 11, chat("bob", "once", "c2"))
        while self.store.pending:
            self.store.release()
        first, second = self.alice_client.take()
        self.assertEqual(first[1]["data"]["id"], second[1]["data"]["id"])
        self.assertEqual(len(self.bob_client.take()), 1)
        history = self.successResultOf(self.fx.memory.private_history(APP_KEY, "alice", "bob"))
        self.assertEqual(len(history), 1)

    def test_resend_after_refusal(self):
        """A refused message is not remembered: its id may be used again."""
        send(self.alice, 11, chat("nobody", "x", "c3"))
        send(self.alice, 11, chat("bob", "x", "c3"))
        self.assertEqual(codes(self.alice_client), [(12, 10002), (12, 10000)])
        self.assertEqual(len(self.bob_client.take()), 1)

    def test_concurrent_resend_of_refused(self):
        self.store.held.add("get_user")
        send(self.alice, 11, chat("nobody", "x", "c4"))
        send(self.alice, 11, chat("nobody", "x", "c4"))
        self.store.release()
        self.assertEqual(codes(self.alice_client), [(12, 10002), (12, 10002)])
        self.assertEqual(self.fx.hub._sending, {})

    def test_resend_of_offline_message_not_stored_twice(self):
        send(self.alice, 11, chat("carol", "later", "c5"))
        send(self.alice, 11, chat("carol", "later", "c5"))
        first, second = self.alice_client.take()
        self.assertEqual(first[1]["data"]["id"], second[1]["data"]["id"])
        offline = self.successResultOf(self.fx.memory.take_offline(APP_KEY, "carol"))
        self.assertEqual([m.content for m in offline], ["later"])


class LeavingWhileStoringTests(HeldFixture, SynchronousTestCase):
    def test_private_recipient_leaves(self):
        self.store.held.add("add_message")
        send(self.alice, 11, chat("bob", "bye"))
        self.bob.connection_lost()
        self.store.release()
        self.assertEqual(codes(self.alice_client), [(12, 10001)])
        bob, bob_client = self.fx.login("bob")
        send(bob, 19, {"type": 0})
        [(_, body)] = bob_client.take()
        self.assertEqual([m["content"] for m in body["data"]["friends"]["alice"]], ["bye"])

    def test_group_member_leaves(self):
        self.fx.add_group("g", "alice", "bob")
        self.store.held.add("add_message")
        send(self.alice, 11, {"chatType": 1, "groupId": "g", "content": "bye"})
        self.bob.connection_lost()
        self.store.release()
        self.assertEqual(codes(self.alice_client), [(11, None), (12, 10000)])
        bob, bob_client = self.fx.login("bob")
        bob_client.take()
        send(bob, 19, {"type": 0, "groupId": "g"})
        [(_, body)] = bob_client.take()
        self.assertEqual([m["content"] for m in body["data"]["groups"]["g"]], ["bye"])

    def test_logout_while_groups_load(self):
        self.fx.add_group("g", "carol", "alice")
        self.store.held.add("user_groups")
        carol, carol_client = self.fx.connect()
        send(carol, 5, {"userId": "carol", "password": "secret"})
        self.assertEqual(codes(carol_client), [(6, 10007)])
        carol.connection_lost()
        self.store.release()
        self.assertEqual(self.alice_client.sent, [])
        self.assertFalse(self.fx.hub.is_online(APP_KEY, "carol"))
        self.assertNotIn((APP_KEY, "carol"), self.fx.hub._user_groups)


class BrokenDeliveryTests(HeldFixture, SynchronousTestCase):
    def test_a_failing_push_fails_that_chat_only(self):
        self.fx.add_user("dave")
        carol, carol_client = self.fx.login("carol")
        dave, dave_client = self.fx.login("dave")

        def broken(command, body):
            raise RuntimeError("a bug in a connection")

        self.bob_client.send = broken
        self.store.held.add("add_message")
        send(self.alice, 11, chat("bob", "to a broken connection"))
        send(carol, 11, chat("dave", "to a working one"))
        self.store.release()
        self.assertEqual(codes(self.alice_client), [(12, 10002)])  # told it failed
        self.assertEqual(codes(carol_client), [(12, 10000)])  # the other chat went through
        self.assertEqual([b["data"]["content"] for _, b in dave_client.take()], ["to a working one"])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


class MembersTests(SynchronousTestCase):
    def setUp(self):
        self.store = HoldingStore(MemoryStore(), "group_members")
        self.fx = make_core(store=self.store)
        self.fx.add_group("g", "alice", "bob")

    def members(self):
        return defer.ensureDeferred(self.fx.hub.members(APP_KEY, "g"))

    def test_loaded_once(self):
        first, second = self.members(), self.members()
        self.assertEqual(len(self.store.pending), 1)
        self.store.release()
        members = self.successResultOf(first)
        self.assertIs(self.successResultOf(second), members)
        self.assertEqual(list(members), ["alice", "bob"])
        self.successResultOf(self.members())
        self.assertEqual(self.store.pending, [])

    def test_failure_reaches_every_waiter(self):
        first, second = self.members(), self.members()
        [(_, d, _, _)] = self.store.pending
        self.store.pending = []
        d.errback(RuntimeError("gone"))
        self.failureResultOf(first, RuntimeError)
        self.failureResultOf(second, RuntimeError)
        third = self.members()  # not cached: asked again
        self.store.release()
        self.assertEqual(list(self.successResultOf(third)), ["alice", "bob"])


class JoinLimitTests(SynchronousTestCase):
    def test_group_full(self):
        fx = make_core(limits=Limits(group_size=2))
        for name in ("alice", "bob", "carol"):
            fx.add_user(name)
        sessions = [fx.login(name) for name in ("alice", "bob", "carol")]
        for session, _ in sessions:
            send(session, 7, {"groupId": "g"})
        [(command, body)] = sessions[2][1].take()
        self.assertEqual(
            (command, body["code"], body["command"], body["result"]), (8, 10012, 8, 3)
        )
        members = self.successResultOf(fx.memory.group_members(APP_KEY, "g"))
        self.assertEqual(members, ["alice", "bob"])


class HubApiTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core()
        for name in ("alice", "bob"):
            self.fx.add_user(name)
        self.alice, self.alice_client = self.fx.login("alice")
        self.alice2, self.alice2_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")

    def test_presence(self):
        hub = self.fx.hub
        self.assertEqual(list(hub.sessions_of(APP_KEY, "alice")), [self.alice, self.alice2])
        self.assertEqual(list(hub.sessions_of(APP_KEY, "carol")), [])
        self.assertFalse(hub.is_online("otherapp", "alice"))
        self.alice.connection_lost()
        self.assertTrue(hub.is_online(APP_KEY, "alice"))
        self.alice2.connection_lost()
        self.assertFalse(hub.is_online(APP_KEY, "alice"))
        hub.unbind(self.alice2)  # twice is harmless

    def test_kick(self):
        self.assertEqual(self.fx.hub.kick(APP_KEY, "alice", "admin"), 2)
        self.assertEqual(self.alice_client.closes, ["admin"])
        self.assertEqual(self.alice2_client.closes, ["admin"])
        self.assertEqual(self.bob_client.closes, [])
        self.assertEqual(self.fx.hub.kick(APP_KEY, "nobody", "admin"), 0)

    def test_chat_without_session(self):
        """The HTTP API sends with no connection of its own: every connection of the sender
        gets a copy."""
        request = jimjson.chat_request({"chatType": 2, "to": "bob", "content": "api"})
        code, stored = self.successResultOf(
            defer.ensureDeferred(self.fx.hub.chat(APP_KEY, "alice", request))
        )
        self.assertEqual((code, stored.sender, stored.target), (10000, "alice", "bob"))
        for client in (self.alice_client, self.alice2_client, self.bob_client):
            [(command, push)] = client.take()
            self.assertEqual((command, push["data"]["id"]), (11, str(stored.id)))
        self.assertEqual(self.fx.metrics.messages_out, 3)

    def test_chat_refusal(self):
        request = jimjson.chat_request({"chatType": 1, "groupId": "g", "content": "x"})
        d = defer.ensureDeferred(self.fx.hub.chat(APP_KEY, "alice", request))
        self.assertEqual(self.failureResultOf(d, JimError).value.code, 10002)

    def test_message_fields(self):
        self.fx.clock.advance(3.25)
        request = attr.evolve(
            jimjson.chat_request({"chatType": 2, "to": "bob", "msgType": 1, "content": "c"}),
            extras='{"k":1}',
        )
        _, stored = self.successResultOf(
            defer.ensureDeferred(self.fx.hub.chat(APP_KEY, "alice", request, self.alice))
        )
        self.assertEqual(
            (stored.msg_type, stored.extras, stored.created, stored.target_type),
            (1, '{"k":1}', 3250, "single"),
        )
        self.assertEqual(self.alice_client.sent, [])  # the sending connection gets no push
        self.assertEqual(len(self.alice2_client.take()), 1)
