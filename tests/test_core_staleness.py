"""Memory never goes back to what the store held before a change, whatever overtakes what:
a read of a group's members that a removal overtook, concurrent adds and joins, a login's
announcements racing a removal, a session's own profile after a change, and gids a J-IM client
could push out of JavaScript's reach."""
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim.config import Limits
from jim.model import (
    BLACKLIST, FIRST_GID, GROUPS_AREA, RELATIONS_AREA, USERS_AREA, Invalidate, Relation,
)
from jim.store.memory import MemoryStore
from tests.support.fakes import APP_KEY, HoldingStore, LateReads, make_core, send


def chats(client):
    return [body["data"]["content"] for cmd, body in client.take() if cmd == 11]


class GroupMembersTests(SynchronousTestCase):
    def test_a_read_overtaken_by_a_removal_here_is_not_kept(self):
        store = HoldingStore(MemoryStore(), "remove_members")
        late = store.groups = LateReads(store.groups, "members")
        fx = make_core(store=store, users=["alice", "bob", "carol"])
        fx.add_group("100", "alice", "bob", "carol")
        groups = fx.core.groups
        alice, _ = fx.login("alice")
        _, bob_client = fx.login("bob")
        removing = defer.ensureDeferred(groups.remove_members(APP_KEY, 100, ["bob"]))
        self.assertFalse(removing.called)  # its write is on its way
        # anything that drops the members from memory meanwhile (a shield, another node)
        self.successResultOf(defer.ensureDeferred(
            fx.core.relations.set_shields(APP_KEY, "carol", [100])))
        late.holding = True  # a read that the removal's write overtakes
        loading = defer.ensureDeferred(groups.members(APP_KEY, 100))
        store.release("remove_members")
        self.successResultOf(removing)
        late.release()
        self.assertIn("bob", self.successResultOf(loading))  # the reader's, from before
        bob_client.take()
        send(alice, 11, {"cmd": 11, "chatType": 1, "groupId": "100", "content": "after"})
        self.assertEqual(chats(bob_client), [])
        self.assertNotIn("bob", groups.cached_members(APP_KEY, 100))

    def test_concurrent_adds_and_joins_never_overfill_a_group(self):
        store = HoldingStore(MemoryStore(), "user_groups")
        fx = make_core(store=store, limits=Limits(group_size=3),
                       users=["alice", "bob", "carol", "dave"])
        fx.add_group("100", "alice")
        dave, dave_client = fx.login("dave")
        store.release()  # the login's own read of its groups
        adding = defer.ensureDeferred(fx.core.groups.add_members(APP_KEY, 100,
                                                                 ["bob", "carol"]))
        send(dave, 7, {"cmd": 7, "groupId": "100"})
        while store.pending:
            store.release()
        # dave's one quota read answers before carol's: his join takes the last place
        self.assertEqual(self.failureResultOf(adding).value.code, "group_full")
        members = self.successResultOf(fx.memory.groups.members(APP_KEY, 100))
        self.assertEqual([m.username for m in members], ["alice", "dave"])
        self.assertNotIn(8, [cmd for cmd, _ in dave_client.take()])  # no refusal: he is in


class PlacesTakenTests(SynchronousTestCase):
    """A user whose add or join is being checked or written has a place in the group, but
    gets none of its messages before it is a member, nor ever when the add fails."""

    def setUp(self):
        self.store = HoldingStore(MemoryStore())
        self.fx = make_core(store=self.store, limits=Limits(user_groups=1),
                            users=["alice", "bob", "dave"])
        self.fx.add_group("100", "alice")
        self.alice, _ = self.fx.login("alice")
        _, self.dave_client = self.fx.login("dave")
        self.dave_client.take()

    def say(self, text):
        send(self.alice, 11, {"cmd": 11, "chatType": 1, "groupId": "100", "content": text})

    def test_no_message_while_the_quota_is_read_nor_after_a_refusal(self):
        self.fx.add_group("200", "dave")  # dave is in as many groups as he may be
        self.store.held.add("user_groups")
        adding = defer.ensureDeferred(self.fx.core.groups.add_members(APP_KEY, 100, ["dave"]))
        self.say("while checking")
        self.store.release()
        self.assertEqual(self.failureResultOf(adding).value.code, "group_quota")
        self.say("after")
        self.assertEqual(chats(self.dave_client), [])

    def test_no_message_while_the_add_is_written_then_every_one(self):
        self.store.held.add("add_members")
        adding = defer.ensureDeferred(self.fx.core.groups.add_members(APP_KEY, 100, ["dave"]))
        self.say("while writing")
        self.store.release()
        self.successResultOf(adding)
        self.say("after")
        self.assertEqual(chats(self.dave_client), ["after"])

    def test_a_failed_write_gives_the_place_back(self):
        store = HoldingStore(MemoryStore())
        self.fx = make_core(store=store, limits=Limits(group_size=2),
                            users=["alice", "bob", "carol"])
        self.fx.add_group("300", "alice")
        self.store = store
        self.store.held.add("add_members")
        failing = defer.ensureDeferred(self.fx.core.groups.add_members(APP_KEY, 300, ["bob"]))
        refused = defer.ensureDeferred(self.fx.core.groups.add_members(APP_KEY, 300, ["carol"]))
        self.assertEqual(self.failureResultOf(refused).value.code, "group_full")
        self.store.pending[0][2].errback(RuntimeError("disk gone"))  # the held write fails
        self.store.pending.clear()
        self.failureResultOf(failing, RuntimeError)
        self.store.held.clear()
        self.successResultOf(defer.ensureDeferred(
            self.fx.core.groups.add_members(APP_KEY, 300, ["carol"])))


class AnnouncementTests(SynchronousTestCase):
    def test_a_group_left_while_the_login_reads_its_groups_is_not_announced(self):
        store = MemoryStore()
        late = store.groups = LateReads(store.groups, "user_groups")
        fx = make_core(store=store, users=["alice", "bob"])
        fx.add_group("100", "bob", "alice")
        _, bob_client = fx.login("bob")
        late.holding = True
        alice, _ = fx.connect()
        send(alice, 5, {"cmd": 5, "userId": "alice", "password": "secret"})
        self.successResultOf(defer.ensureDeferred(
            fx.core.groups.remove_members(APP_KEY, 100, ["alice"])))
        bob_client.take()
        late.release()
        self.assertEqual([cmd for cmd, _ in bob_client.take()], [])  # no cmd 9 for her
        alice.close("bye")
        self.assertEqual([cmd for cmd, _ in bob_client.take()], [])  # nor cmd 10

    def test_a_user_still_online_elsewhere_is_announced_to_every_group(self):
        store = MemoryStore()
        late = store.groups = LateReads(store.groups, "members")
        fx = make_core(store=store, users=["alice", "bob", "carol"])
        fx.add_group("100", "alice", "carol")
        fx.add_group("200", "bob", "carol")
        _, alice_client = fx.login("alice")
        _, bob_client = fx.login("bob")
        fx.bus.publish(Invalidate(GROUPS_AREA, APP_KEY, "100", "another-node"))
        late.holding = True  # group 100's members are read again
        first, _ = fx.connect()
        send(first, 5, {"cmd": 5, "userId": "carol", "password": "secret"})
        second, _ = fx.login("carol")  # her second connection
        first.close("bye")  # the first leaves while her groups are announced
        late.release()
        self.assertIn(9, [cmd for cmd, _ in alice_client.take()])
        self.assertIn(9, [cmd for cmd, _ in bob_client.take()])  # group 200 heard it too
        second.close("bye")
        self.assertIn(10, [cmd for cmd, _ in bob_client.take()])


class OwnProfileTests(SynchronousTestCase):
    def test_a_profile_changed_after_the_login_is_what_the_user_is_shown(self):
        fx = make_core(users=["alice"])
        session, client = fx.login("alice")
        self.successResultOf(defer.ensureDeferred(
            fx.core.users.update(APP_KEY, "alice", {"nickname": "Alice"})))
        client.take()
        send(session, 17, {"cmd": 17, "type": 2})
        [(_, reply)] = [sent for sent in client.take() if sent[0] == 18]
        self.assertEqual(reply["data"]["nick"], "Alice")
        send(session, 5, {"cmd": 5, "userId": "alice", "password": "secret"})  # again
        [(_, login)] = client.take()
        self.assertEqual(login["user"]["nick"], "Alice")


class GidTests(SynchronousTestCase):
    def test_a_jim_client_cannot_choose_the_gids_the_rest_api_hands_out(self):
        fx = make_core(users=["mallory", "alice"])
        session, _ = fx.login("mallory")
        send(session, 7, {"cmd": 7, "groupId": "999999999999999999"})
        send(session, 7, {"cmd": 7, "groupId": "10000009"})  # a gid's number: makes nothing
        made = self.successResultOf(defer.ensureDeferred(
            fx.core.groups.create(APP_KEY, "alice", "team")))
        self.assertLess(made.gid, 2**53)
        self.assertEqual(made.gid, FIRST_GID + 1)  # after the first join's own gid
        self.assertIsNone(self.successResultOf(defer.ensureDeferred(
            fx.core.groups.find_named(APP_KEY, 10000009, "10000009"))))
        joined = self.successResultOf(defer.ensureDeferred(
            fx.core.groups.find_named(APP_KEY, alias="999999999999999999")))
        self.assertEqual(joined.alias, "999999999999999999")
        self.assertLess(joined.gid, 2**53)


class SharedReadTests(SynchronousTestCase):
    """A caller who asks after a change never shares a read that began before it."""

    def test_a_removed_member_misses_a_message_whose_members_read_began_before(self):
        store = MemoryStore()
        late = store.groups = LateReads(store.groups, "members")
        fx = make_core(store=store, users=["alice", "bob", "carol"])
        fx.add_group("100", "alice", "bob", "carol")
        alice, _ = fx.login("alice")
        _, bob_client = fx.login("bob")
        elsewhere = Invalidate(GROUPS_AREA, APP_KEY, "100", "another-node")
        fx.bus.publish(elsewhere)  # memory drops the members
        late.holding = True
        early = defer.ensureDeferred(fx.core.groups.members(APP_KEY, 100))  # bob is in it
        # another node removes bob, and says so
        self.successResultOf(fx.memory.groups.remove_members(APP_KEY, 100, ["bob"]))
        fx.bus.publish(elsewhere)
        bob_client.take()
        send(alice, 11, {"cmd": 11, "chatType": 1, "groupId": "100", "content": "after"})
        late.release()
        self.assertIn("bob", self.successResultOf(early))  # the early caller's, from before
        self.assertEqual(chats(bob_client), [])
        self.assertNotIn("bob", fx.core.groups.cached_members(APP_KEY, 100))

    def test_a_user_forbidden_meanwhile_is_not_answered_from_an_earlier_read(self):
        store = MemoryStore()
        late = store.users = LateReads(store.users, "get_user")
        fx = make_core(store=store, users=["alice"])
        users = fx.core.users
        late.holding = True
        early = defer.ensureDeferred(users.find(APP_KEY, "alice"))
        self.successResultOf(fx.memory.users.update_user(APP_KEY, "alice", {"forbidden": True}))
        fx.bus.publish(Invalidate(USERS_AREA, APP_KEY, "alice", "another-node"))
        after = defer.ensureDeferred(users.find(APP_KEY, "alice"))
        late.release()
        self.assertFalse(self.successResultOf(early).forbidden)
        self.assertTrue(self.successResultOf(after).forbidden)
        self.assertTrue(users.cached(APP_KEY, "alice").forbidden)

    def test_relations_changed_meanwhile_are_not_answered_from_an_earlier_read(self):
        store = MemoryStore()
        late = store.relations = LateReads(store.relations, "relations_of")
        fx = make_core(store=store, users=["alice", "bob"])
        relations = fx.core.relations
        late.holding = True
        early = defer.ensureDeferred(relations.of(APP_KEY, "alice"))
        self.successResultOf(fx.memory.relations.add_relations(
            [Relation(APP_KEY, BLACKLIST, "alice", "bob")]))
        fx.bus.publish(Invalidate(RELATIONS_AREA, APP_KEY, "alice", "another-node"))
        after = defer.ensureDeferred(relations.of(APP_KEY, "alice"))
        late.release()
        self.assertNotIn("bob", self.successResultOf(early).blacklist)
        self.assertIn("bob", self.successResultOf(after).blacklist)
