"""The hub: presence, group membership and delivery, including what happens while the store is
still working (a resent message, a recipient leaving, members loading)."""
import attr
from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from jim import errors

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

    def private_offline(self, username):
        """Log C{username} in and fetch their offline private messages: {peer: contents}."""
        session, client = self.fx.login(username)
        send(session, 19, {"type": 0})
        [(_, body)] = client.take()
        return {peer: [m["content"] for m in messages]
                for peer, messages in body["data"]["friends"].items()}

    def group_offline(self, username, gid):
        """Log C{username} in and fetch their offline messages of group C{gid}: the contents."""
        session, client = self.fx.login(username)
        client.take()
        send(session, 19, {"type": 0, "groupId": gid})
        [(_, body)] = client.take()
        return [m["content"] for m in body["data"]["groups"][gid]]


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


class PushedBeforeTheCommitTests(HeldFixture, SynchronousTestCase):
    """Online recipients get a chat as soon as it has its id; its sender hears after the
    commit."""

    def test_private_chat(self):
        self.store.held.add("add_message")
        send(self.alice, 11, chat("bob", "now"))
        [(command, push)] = self.bob_client.take()
        self.assertEqual((command, push["data"]["content"]), (11, "now"))
        self.assertEqual(self.alice_client.sent, [])  # not acknowledged before the commit
        self.assertEqual(self.fx.memory._messages, {})
        self.store.release()
        [(command, ack)] = self.alice_client.take()
        self.assertEqual((command, ack["code"]), (12, 10000))
        self.assertEqual(ack["data"]["id"], push["data"]["id"])  # the id bob saw is final
        history = self.successResultOf(self.fx.memory.private_history(APP_KEY, "alice", "bob"))
        self.assertEqual([str(m.id) for m in history], [push["data"]["id"]])

    def test_recipient_leaving_during_the_commit_had_it_already(self):
        self.store.held.add("add_message")
        send(self.alice, 11, chat("bob", "bye"))
        self.bob.connection_lost()
        self.store.release()
        self.assertEqual(codes(self.alice_client), [(12, 10000)])
        self.assertEqual(self.private_offline("bob"), {})  # pushed, so not offline as well

    def test_group_chat(self):
        self.fx.add_group("g", "alice", "bob", "carol")  # carol is offline
        self.store.held.add("add_message")
        send(self.alice, 11, {"chatType": 1, "groupId": "g", "content": "all"})
        self.assertEqual([b["data"]["content"] for _, b in self.bob_client.take()], ["all"])
        self.assertEqual(codes(self.alice_client), [(11, None)])  # its own copy; no ack yet
        self.store.release()
        self.assertEqual(codes(self.alice_client), [(12, 10000)])
        self.assertEqual(self.group_offline("carol", "g"), ["all"])

    def test_a_failed_commit_fails_the_sender_only(self):
        self.fx.add_group("g", "alice", "bob")
        self.store.held.add("add_message")
        send(self.alice, 11, {"chatType": 1, "groupId": "g", "content": "lost"})
        self.store.store = _RefusingAppends(self.store.store)
        self.store.release()
        self.assertEqual(codes(self.alice_client), [(11, None), (12, 10002)])
        self.assertEqual(codes(self.bob_client), [(11, None)])


class _RefusingAppends:
    """A store whose appends fail, as a failed commit does."""

    def __init__(self, store):
        self.store = store

    def __getattr__(self, name):
        return getattr(self.store, name)

    def append_message_then(self, stored, offline_for, then, *args):
        then(Failure(JimError(errors.SERVER_ERROR, "the disk is full", 500)), *args)


class PushedAfterTheCommitTests(HeldFixture, SynchronousTestCase):
    """When the store cannot promise an id before the commit, the chat is pushed after it."""

    def setUp(self):
        super().setUp()
        self.promise = True
        prepare = self.fx.memory.prepare_message
        self.fx.memory.prepare_message = lambda m: prepare(m) if self.promise else None

    def log_in_during_the_lookup(self, username):
        """Log in while a chat to C{username} waits for the store's lookup of them (held)."""
        session, client = self.fx.connect()
        send(session, 5, {"userId": username, "password": "secret"})
        self.store.pending.insert(0, self.store.pending.pop())  # the login's lookup first
        self.store.release("get_user", count=1)
        self.assertEqual(codes(client)[0], (6, 10007))
        self.assertTrue(self.fx.hub.is_online(APP_KEY, username))
        return session, client

    def test_private_recipient_leaves(self):
        self.promise = False
        self.store.held.add("add_message")
        send(self.alice, 11, chat("bob", "bye"))
        self.assertEqual(self.bob_client.sent, [])
        self.bob.connection_lost()
        self.store.release()
        self.assertEqual(codes(self.alice_client), [(12, 10001)])
        self.assertEqual(self.private_offline("bob"), {"alice": ["bye"]})

    def test_group_member_leaves(self):
        self.promise = False
        self.fx.add_group("g", "alice", "bob")
        self.store.held.add("add_message")
        send(self.alice, 11, {"chatType": 1, "groupId": "g", "content": "bye"})
        self.assertEqual(self.bob_client.sent, [])
        self.bob.connection_lost()
        self.store.release()
        self.assertEqual(codes(self.alice_client), [(11, None), (12, 10000)])
        self.assertEqual(self.group_offline("bob", "g"), ["bye"])

    def test_later_chats_do_not_overtake_one_waiting_for_its_commit(self):
        self.fx.add_group("g", "alice", "bob")
        self.store.held.add("add_message")
        self.promise = False
        send(self.alice, 11, chat("bob", "first"))
        self.promise = True  # the store could promise again, but "first" is not out yet
        send(self.alice, 11, chat("bob", "second"))
        send(self.alice, 11, {"chatType": 1, "groupId": "g", "content": "third"})
        self.assertEqual(self.bob_client.sent, [])
        self.store.release()
        self.assertEqual([b["data"]["content"] for _, b in self.bob_client.take()],
                         ["first", "second", "third"])
        self.assertEqual(list(self.fx.hub._waiting), [])
        send(self.alice, 11, chat("bob", "fourth"))  # nothing waits: pushed at once again
        self.assertEqual([b["data"]["content"] for _, b in self.bob_client.take()], ["fourth"])

    def test_pushes_go_out_as_soon_as_the_chat_ahead_is_out(self):
        """Chats behind one that waits for its commit wait for it, not for their own commits,
        and once it is out the next chat goes at once, even while traffic never stops."""
        self.store.held.add("add_message")
        self.promise = False
        send(self.alice, 11, chat("bob", "first"))
        self.promise = True
        send(self.alice, 11, chat("bob", "second"))
        self.store.release(count=1)  # the commit of "first" only
        self.assertEqual([b["data"]["content"] for _, b in self.bob_client.take()],
                         ["first", "second"])
        self.assertEqual(codes(self.alice_client), [(12, 10000)])  # "second": not committed
        send(self.alice, 11, chat("bob", "third"))
        self.assertEqual([b["data"]["content"] for _, b in self.bob_client.take()], ["third"])
        self.store.release()
        self.assertEqual(codes(self.alice_client), [(12, 10000), (12, 10000)])

    def test_a_chat_that_looked_its_recipient_up_keeps_its_place(self):
        """A chat to someone who was offline is looked up first; one sent after it, once they
        are online, is not pushed before it."""
        self.store.held.update(("get_user", "add_message"))
        send(self.alice, 11, chat("carol", "first"))  # carol: offline, looked up
        carol, carol_client = self.log_in_during_the_lookup("carol")
        self.store.release("get_user")  # carol is online now: "first" gets its id and push
        send(self.alice, 11, chat("carol", "second"))
        pushed = [b["data"] for c, b in carol_client.take() if c == 11]
        self.assertEqual([p["content"] for p in pushed], ["first", "second"])
        self.assertLess(int(pushed[0]["id"]), int(pushed[1]["id"]))
        self.store.release()
        self.assertEqual(codes(self.alice_client), [(12, 10000), (12, 10000)])

    def test_a_late_chat_that_looked_its_recipient_up_keeps_its_place(self):
        self.store.held.update(("get_user", "add_message"))
        send(self.alice, 11, chat("carol", "first"))
        carol, carol_client = self.log_in_during_the_lookup("carol")
        self.promise = False  # "first" must wait for its commit
        self.store.release("get_user")
        self.promise = True
        send(self.alice, 11, chat("carol", "second"))
        self.assertEqual(carol_client.take(), [])
        self.store.release()
        pushed = [b["data"] for c, b in carol_client.take() if c == 11]
        self.assertEqual([p["content"] for p in pushed], ["first", "second"])
        self.assertLess(int(pushed[0]["id"]), int(pushed[1]["id"]))


class LeavingWhileStoringTests(HeldFixture, SynchronousTestCase):
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


class ComingOnlineWhileStoringTests(HeldFixture, SynchronousTestCase):
    def test_a_private_chat_kept_offline_is_not_pushed_too(self):
        self.store.held.update(("add_message", "take_offline"))  # the writer's order, kept
        send(self.alice, 11, chat("carol", "hi"))  # carol is offline: the chat is kept for her
        carol, carol_client = self.fx.login("carol")  # and she logs in during the commit
        send(carol, 19, {"type": 0})  # her fetch is committed after the chat
        self.store.release()
        self.assertEqual(codes(self.alice_client), [(12, 10001)])
        [(command, body)] = carol_client.take()  # the fetch has it; no push besides
        self.assertEqual(command, 20)
        self.assertEqual([m["content"] for m in body["data"]["friends"]["alice"]], ["hi"])
        self.store.held.clear()
        send(carol, 19, {"type": 0})
        [(_, again)] = carol_client.take()
        self.assertEqual(again["data"]["friends"], {})  # and never again

    def test_a_group_chat_kept_offline_is_not_pushed_too(self):
        self.fx.add_group("g", "alice", "carol")
        self.store.held.update(("add_message", "take_offline"))
        send(self.alice, 11, {"chatType": 1, "groupId": "g", "content": "hi"})  # carol offline
        carol, carol_client = self.fx.login("carol")  # she logs in during the commit
        send(carol, 19, {"type": 0, "groupId": "g"})
        self.store.release()
        # alice: her own copy, carol's arrival (cmd 9), the acknowledgement
        self.assertEqual(codes(self.alice_client), [(11, None), (9, 10011), (12, 10000)])
        [(command, body)] = [c for c in carol_client.take() if c[0] != 9]  # no push besides
        self.assertEqual(command, 20)
        self.assertEqual([m["content"] for m in body["data"]["groups"]["g"]], ["hi"])

    def test_going_offline_while_a_login_loads_members_is_the_last_word(self):
        self.fx.add_group("g1", "carol", "dave")  # no member online: members not loaded
        self.fx.add_group("g2", "carol", "bob")
        self.fx.add_user("dave")
        self.successResultOf(defer.ensureDeferred(self.fx.hub.members(APP_KEY, "g2")))
        self.bob_client.take()
        self.store.held.add("group_members")
        carol, _ = self.fx.connect()
        send(carol, 5, {"userId": "carol", "password": "secret"})  # waits on g1's members
        carol.connection_lost()
        self.store.release()
        heard = [(command, body.get("user", body.get("data", {}).get("user"))["status"])
                 for command, body in self.bob_client.take()]
        self.assertEqual(heard, [(10, "offline")])  # not an "online" after it

    def test_going_offline_while_a_join_is_written_announces_nothing(self):
        self.fx.add_group("g", "bob")
        self.bob_client.take()
        self.store.held.add("add_member")
        send(self.alice, 7, {"groupId": "g"})
        self.alice.connection_lost()
        self.store.release()
        self.assertEqual(self.bob_client.take(), [])
        self.assertFalse(self.fx.hub.is_online(APP_KEY, "alice"))
        self.assertEqual(self.successResultOf(self.store.store.group_members(APP_KEY, "g")),
                         ["bob", "alice"])  # the join itself stands


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


class ClosingCountsAsOfflineTests(SynchronousTestCase):
    def test_a_message_to_a_closing_connection_is_kept_offline(self):
        fx = make_core(users=("alice", "bob"))
        alice, alice_client = fx.login("alice")
        bob, bob_client = fx.login("bob")
        fx.hub.kick(APP_KEY, "bob", "kicked")  # closing; the connection is not gone yet
        self.assertFalse(fx.hub.is_online(APP_KEY, "bob"))
        send(alice, 11, {"cmd": 11, "chatType": 2, "to": "bob", "content": "still there?"})
        self.assertEqual(codes(alice_client), [(12, 10001)])
        self.assertEqual(bob_client.take(), [])  # nothing written to the closing connection
        kept = self.successResultOf(fx.memory.take_offline(APP_KEY, "bob"))
        self.assertEqual([m.content for m in kept], ["still there?"])
        bob.connection_lost()  # and losing it later changes nothing
        self.assertNotIn(bob, fx.core.sessions)


class ClientIdTests(SynchronousTestCase):
    def test_the_same_id_to_another_target_is_another_message(self):
        fx = make_core()
        for name in ("alice", "bob", "carol"):
            fx.add_user(name)
        alice, alice_client = fx.login("alice")
        _, bob_client = fx.login("bob")
        _, carol_client = fx.login("carol")
        send(alice, 11, {"cmd": 11, "chatType": 2, "to": "bob", "content": "hi bob", "id": "1"})
        send(alice, 11, {"cmd": 11, "chatType": 2, "to": "carol", "content": "hi carol", "id": "1"})
        acks = [body["data"]["id"] for _, body in alice_client.take()]
        self.assertEqual(len(set(acks)), 2)
        self.assertEqual([b["data"]["content"] for _, b in carol_client.take()], ["hi carol"])
        # while the same id to the same target is still a resend
        send(alice, 11, {"cmd": 11, "chatType": 2, "to": "bob", "content": "hi bob", "id": "1"})
        self.assertEqual([b["data"]["id"] for _, b in alice_client.take()], [acks[0]])
        self.assertEqual(len(bob_client.take()), 1)  # the first push only
        # and so is the same id to the second target: not found behind the first one
        send(alice, 11, {"cmd": 11, "chatType": 2, "to": "carol", "content": "hi carol", "id": "1"})
        self.assertEqual([b["data"]["id"] for _, b in alice_client.take()], [acks[1]])
        self.assertEqual(carol_client.take(), [])


class UnknownGroupsTests(SynchronousTestCase):
    def test_asking_about_groups_that_do_not_exist_caches_nothing(self):
        fx = make_core()
        fx.add_user("alice")
        alice, client = fx.login("alice")
        for i in range(200):
            send(alice, 11, {"cmd": 11, "chatType": 1, "groupId": f"g{i}", "content": "x"})
            send(alice, 19, {"cmd": 19, "type": 1, "groupId": f"h{i}"})
        self.assertEqual(len(fx.hub._members), 0)
        self.assertEqual({code for _, code in codes(client)}, {10002, 10015})
        send(alice, 7, {"cmd": 7, "groupId": "real"})  # a real group is cached once joined
        self.assertEqual(list(fx.hub._members), [(APP_KEY, "real")])


class JoinRaceTests(SynchronousTestCase):
    def test_two_joins_in_flight_cannot_overfill_a_group(self):
        from tests.support.fakes import HoldingStore
        from jim.store.memory import MemoryStore

        store = HoldingStore(MemoryStore(), "add_member")
        fx = make_core(store=store, limits=Limits(group_size=2))
        for name in ("alice", "bob", "carol"):
            fx.add_user(name)
        fx.add_group("g", "alice")
        _, _ = fx.login("alice")
        bob, bob_client = fx.login("bob")
        carol, carol_client = fx.login("carol")
        send(bob, 7, {"cmd": 7, "groupId": "g"})
        send(carol, 7, {"cmd": 7, "groupId": "g"})  # while bob's join is being written
        store.release()
        self.assertEqual(codes(carol_client), [(8, 10012)])
        members = self.successResultOf(fx.memory.group_members(APP_KEY, "g"))
        self.assertEqual(members, ["alice", "bob"])

    def test_a_group_joined_while_the_login_loads_groups_gets_the_exit_notice(self):
        from twisted.internet import defer

        from jim.store.memory import MemoryStore

        class SlowGroupRead(MemoryStore):
            """user_groups answers what was true when it was asked, but only later."""

            held = []

            def user_groups(self, app, username):
                answer = super().user_groups(app, username)
                late = defer.Deferred()
                answer.addCallback(lambda groups: self.held.append((late, groups)))
                return late

        store = SlowGroupRead()
        fx = make_core(store=store, users=("alice", "bob"))
        fx.add_group("g", "bob")
        _, bob_client = fx.login("bob")
        first, _ = fx.connect()
        send(first, 5, {"cmd": 5, "userId": "alice", "password": "secret"})  # groups: none yet
        second, _ = fx.connect()
        send(second, 5, {"cmd": 5, "userId": "alice", "password": "secret"})
        send(second, 7, {"cmd": 7, "groupId": "g"})
        for late, groups in store.held:
            late.callback(groups)
        self.assertIn("g", fx.hub._user_groups[(APP_KEY, "alice")])
        bob_client.take()  # the join notice
        first.connection_lost()
        second.connection_lost()  # alice is gone: bob, in g with her, hears it
        self.assertEqual([cmd for cmd, _ in bob_client.take()], [10])
