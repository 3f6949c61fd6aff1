"""Faults found in review, each pinned by a test: a closing connection counts as offline at
once; a reused client id to another target is another message; a full --auto-join group does
not shut users out; asking about groups that do not exist caches nothing."""
from twisted.trial.unittest import SynchronousTestCase

from jim.config import Limits
from tests.support.fakes import APP_KEY, codes, make_core, send


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


class AutoJoinFullGroupTests(SynchronousTestCase):
    def test_a_full_auto_join_group_does_not_refuse_the_login(self):
        fx = make_core(auto_join=("lobby",), limits=Limits(group_size=1), users=("alice", "bob"))
        fx.login("alice")
        bob, bob_client = fx.connect()
        send(bob, 5, {"cmd": 5, "userId": "bob", "password": "secret"})
        self.assertEqual(codes(bob_client), [(6, 10007)])
        self.assertEqual(bob_client.closes, [])
        self.assertTrue(fx.hub.is_online(APP_KEY, "bob"))


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
