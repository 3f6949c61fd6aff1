"""Memory never goes back to what the store held before a change, whatever overtakes what:
a read of a group's members that a removal overtook, concurrent adds and joins, a login's
announcements racing a removal, a session's own profile after a change, and gids a J-IM client
could push out of JavaScript's reach."""
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim.config import Limits
from jim.model import FIRST_GID
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
        self.successResultOf(adding)
        members = self.successResultOf(fx.memory.groups.members(APP_KEY, 100))
        self.assertEqual([m.username for m in members], ["alice", "bob", "carol"])
        refused = [body for cmd, body in dave_client.take() if cmd == 8]
        self.assertEqual([(r["code"], r.get("result")) for r in refused], [(10012, 3)])


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
        send(session, 7, {"cmd": 7, "groupId": "10000009"})
        made = self.successResultOf(defer.ensureDeferred(
            fx.core.groups.create(APP_KEY, "alice", "team")))
        self.assertLess(made.gid, 2**53)
        self.assertEqual(made.gid, FIRST_GID + 2)  # after the two joins' own gids
        joined = self.successResultOf(defer.ensureDeferred(
            fx.core.groups.find_named(APP_KEY, alias="999999999999999999")))
        self.assertEqual(joined.alias, "999999999999999999")
        self.assertLess(joined.gid, 2**53)
