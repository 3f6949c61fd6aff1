"""The Relations service: friends (both ways, with notes), blacklists, no-disturb settings and
group shields; each refusal code, each call all-or-nothing, the events, and what the hot path
does with the relations at once (refuse a blacklisted sender, skip a shielding member)."""
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.core.relations import RelationSet
from jim.errors import JimError
from jim.model import Delivery, Draft, Event, Invalidate, Relation, UserCard
from jim.store.memory import MemoryStore
from tests.support.fakes import APP_KEY, LateReads, ServiceCalls, make_core, offline

EVENT_CMD = 100


def settled(d):
    """The result (or Failure) of a coroutine or Deferred that has already fired."""
    box = []
    defer.ensureDeferred(d).addBoth(box.append)
    assert box, "the call did not complete at once"
    return box[0]


def event_frames(client):
    return [body["data"] for command, body in client.take() if command == EVENT_CMD]


class RelationsCase(ServiceCalls, SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol", "dave"))
        self.fx.add_user("boss", admin=True)
        self.relations = self.fx.core.relations
        self.bus = []
        self.fx.bus.subscribe(self.bus.append)

    def events(self, kind):
        return [(d.item, d.recipients) for d in self.bus
                if type(d) is Delivery and type(d.item) is Event and d.item.kind == kind]

    def mine(self, owner):
        """The owner's relations as the store has them (not the cache)."""
        kept = self.successResultOf(self.fx.memory.relations.relations_of(APP_KEY, owner))
        return RelationSet.of(kept)

    def snapshot(self):
        return {name: self.mine(name) for name in ("alice", "bob", "carol", "dave", "boss")}

    def say(self, sender, target, kind=model.SINGLE):
        return self.fx.core.messages.send(APP_KEY, sender,
                                          Draft(kind, str(target), model.TEXT, {"text": "hi"}))

    def group(self, owner, *members):
        return self.ok(self.fx.core.groups.create(APP_KEY, owner, "g", list(members))).gid


class FriendTests(RelationsCase):
    def test_friends_both_ways(self):
        self.fx.clock.advance(3)
        self.ok(self.relations.add_friends(APP_KEY, "alice", ["bob", "carol"]))
        self.assertEqual(self.ok(self.relations.friend_names(APP_KEY, "alice")), ["bob", "carol"])
        self.assertEqual(self.ok(self.relations.friend_names(APP_KEY, "bob")), ["alice"])
        self.assertEqual(self.ok(self.relations.friend_names(APP_KEY, "carol")), ["alice"])
        self.assertEqual(self.ok(self.relations.friend_names(APP_KEY, "dave")), [])
        self.assertEqual(self.ok(self.relations.friends(APP_KEY, "bob")),
                         [Relation(APP_KEY, model.FRIEND, "bob", "alice", ctime=3000)])
        self.assertEqual(set(self.mine("alice").friends), {"bob", "carol"})

    def test_everyone_concerned_is_told(self):
        clients = {name: self.fx.login(name)[1] for name in ("alice", "bob", "carol", "dave")}
        self.ok(self.relations.add_friends(APP_KEY, "alice", ["bob", "carol"]))
        told = {recipients: event for event, recipients in self.events(model.FRIEND_ADDED)}
        self.assertEqual(set(told), {("alice",), ("bob",), ("carol",)})
        self.assertEqual([u.username for u in told[("alice",)].users], ["bob", "carol"])
        for name in ("bob", "carol"):
            self.assertEqual(told[(name,)].users, (UserCard("alice"),))
        self.assertEqual({e.actor for e in told.values()}, {"alice"})
        [data] = event_frames(clients["bob"])
        self.assertEqual((data["event_type"], data["extra"], data["from_username"],
                          [u["username"] for u in data["to_usernames"]]),
                         (5, 2, "alice", ["alice"]))
        self.assertEqual(clients["dave"].take(), [])

    def test_refusals_change_nothing(self):
        self.ok(self.relations.add_friends(APP_KEY, "alice", ["bob"]))
        before, sent = self.snapshot(), len(self.bus)
        for owner, names, code in [
            ("alice", ["carol", "carol"], errors.BAD_REQUEST),
            ("alice", ["carol", "alice"], errors.BAD_REQUEST),
            ("nobody", ["carol"], errors.NO_SUCH_USER),
            ("alice", ["carol", "nobody"], errors.NO_SUCH_USER),
            ("alice", ["carol", "bob"], errors.ALREADY_FRIEND),
            ("bob", ["carol", "alice"], errors.ALREADY_FRIEND),  # made from the other side
        ]:
            self.refused(self.relations.add_friends(APP_KEY, owner, names), code)
            self.assertEqual(self.snapshot(), before, (owner, names))
        self.assertEqual(len(self.bus), sent)

    def test_missing_names_are_named(self):
        error = self.refused(self.relations.add_friends(APP_KEY, "alice", ["zed", "bob"]),
                             errors.NO_SUCH_USER)
        self.assertIn("zed", error.detail)

    def test_removal_both_ways_and_who_is_told(self):
        self.ok(self.relations.add_friends(APP_KEY, "alice", ["bob", "carol"]))
        self.ok(self.fx.core.users.update(APP_KEY, "alice", {"nickname": "Alice"}))
        del self.bus[:]
        self.ok(self.relations.remove_friends(APP_KEY, "bob", ["alice"]))
        self.assertEqual(self.ok(self.relations.friend_names(APP_KEY, "alice")), ["carol"])
        self.assertEqual(self.ok(self.relations.friend_names(APP_KEY, "bob")), [])
        told = {recipients: event for event, recipients in self.events(model.FRIEND_REMOVED)}
        self.assertEqual(told[("bob",)].users, (UserCard("alice", "Alice"),))
        self.assertEqual(told[("alice",)].users, (UserCard("bob"),))
        self.assertEqual(set(told), {("alice",), ("bob",)})

    def test_removal_refusals_change_nothing(self):
        self.ok(self.relations.add_friends(APP_KEY, "alice", ["bob"]))
        before, sent = self.snapshot(), len(self.bus)
        for owner, names, code in [
            ("alice", ["bob", "bob"], errors.BAD_REQUEST),
            ("alice", ["bob", "carol"], errors.NOT_FRIEND),
            ("alice", ["bob", "nobody"], errors.NOT_FRIEND),
            ("nobody", ["bob"], errors.NO_SUCH_USER),
        ]:
            self.refused(self.relations.remove_friends(APP_KEY, owner, names), code)
            self.assertEqual(self.snapshot(), before, (owner, names))
        self.assertEqual(len(self.bus), sent)

    def test_notes_are_the_owners_own(self):
        self.ok(self.relations.add_friends(APP_KEY, "alice", ["bob", "carol"]))
        self.ok(self.fx.core.users.update(APP_KEY, "bob", {"nickname": "Bob"}))
        _, bob = self.fx.login("bob")
        del self.bus[:]
        self.ok(self.relations.update_friends(APP_KEY, "alice",
                                              [("bob", "Bobby", "met in 中国")]))
        self.assertEqual([(r.target, r.note_name, r.others)
                          for r in self.ok(self.relations.friends(APP_KEY, "alice"))],
                         [("bob", "Bobby", "met in 中国"), ("carol", "", "")])
        self.assertEqual(self.ok(self.relations.friends(APP_KEY, "bob"))[0].note_name, "")
        self.assertEqual(self.relations.cached(APP_KEY, "alice").friends["bob"].note_name,
                         "Bobby")
        [(event, recipients)] = self.events(model.FRIEND_UPDATED)
        self.assertEqual((recipients, event.users), (("alice",), (UserCard("bob", "Bob"),)))
        self.assertEqual(bob.take(), [])

    def test_note_refusals_change_nothing(self):
        self.ok(self.relations.add_friends(APP_KEY, "alice", ["bob", "carol"]))
        self.ok(self.relations.update_friends(APP_KEY, "alice", [("bob", "B", "b")]))
        before, sent = self.snapshot(), len(self.bus)
        for notes, code in [
            ([("carol", "C", ""), ("dave", "D", "")], errors.NOT_FRIEND),
            ([("carol", "C", ""), ("carol", "C", "")], errors.BAD_REQUEST),
            ([("carol", "C", ""), ("bob", "a\nb", "")], errors.BAD_REQUEST),
            ([("carol", "C", ""), ("bob", "x" * 65, "")], errors.BAD_REQUEST),
            ([("carol", "C", ""), ("bob", "", "x" * 251)], errors.BAD_REQUEST),
        ]:
            self.refused(self.relations.update_friends(APP_KEY, "alice", notes), code)
            self.assertEqual(self.snapshot(), before, notes)
        self.assertEqual(len(self.bus), sent)

    def test_a_note_not_given_is_left_as_it_is(self):
        self.ok(self.relations.add_friends(APP_KEY, "alice", ["bob"]))
        self.ok(self.relations.update_friends(APP_KEY, "alice", [("bob", "B", "b")]))
        self.ok(self.relations.update_friends(APP_KEY, "alice", [("bob", None, "new")]))
        [friend] = self.ok(self.relations.friends(APP_KEY, "alice"))
        self.assertEqual((friend.note_name, friend.others), ("B", "new"))
        self.ok(self.relations.update_friends(APP_KEY, "alice", [("bob", "C", None)]))
        [friend] = self.ok(self.relations.friends(APP_KEY, "alice"))
        self.assertEqual((friend.note_name, friend.others), ("C", "new"))


class NoteLimitTests(RelationsCase):
    def setUp(self):
        super().setUp()
        self.ok(self.relations.add_friends(APP_KEY, "alice", ["bob"]))

    @given(st.integers(61, 67).map(lambda n: "中" * (n // 3) + "a" * (n % 3)),
           st.integers(247, 253).map(lambda n: "é" * (n // 2) + "a" * (n % 2)))
    def test_note_limits_count_bytes(self, note_name, others):
        before = self.mine("alice")
        d = self.relations.update_friends(APP_KEY, "alice", [("bob", note_name, others)])
        if len(note_name.encode()) <= 64 and len(others.encode()) <= 250:
            self.ok(d)
            kept = self.mine("alice").friends["bob"]
            self.assertEqual((kept.note_name, kept.others), (note_name, others))
        else:
            self.refused(d, errors.BAD_REQUEST)
            self.assertEqual(self.mine("alice"), before)


class BlacklistTests(RelationsCase):
    def test_a_blacklisted_sender_is_refused_at_once_one_way(self):
        self.ok(self.say("bob", "alice"))  # alice's relations are in memory now
        self.ok(self.relations.add_blacklist(APP_KEY, "alice", ["bob"]))
        self.refused(self.say("bob", "alice"), errors.BLACKLISTED)
        self.ok(self.say("alice", "bob"))
        self.ok(self.say("carol", "alice"))
        self.assertEqual(self.fx.metrics.refusals, {errors.BLACKLISTED: 1})

    def test_the_owner_is_told(self):
        _, alice = self.fx.login("alice")
        _, bob = self.fx.login("bob")
        self.ok(self.relations.add_blacklist(APP_KEY, "alice", ["bob", "carol"]))
        self.assertEqual(self.ok(self.relations.blacklist(APP_KEY, "alice")), ["bob", "carol"])
        [(event, recipients)] = self.events(model.BLACKLIST_CHANGED)
        self.assertEqual((recipients, event.flag, event.actor, [u.username for u in event.users]),
                         (("alice",), True, "alice", ["bob", "carol"]))
        [data] = event_frames(alice)
        self.assertEqual((data["event_type"], data["extra"]), (38, 1))
        self.assertEqual(bob.take(), [])

    def test_refusals_change_nothing(self):
        self.ok(self.relations.add_blacklist(APP_KEY, "alice", ["bob"]))
        before, sent = self.snapshot(), len(self.bus)
        for owner, names, code in [
            ("alice", ["carol", "carol"], errors.BAD_REQUEST),
            ("nobody", ["carol"], errors.NO_SUCH_USER),
            ("alice", ["carol", "nobody"], errors.NO_SUCH_USER),
            ("alice", ["carol", "boss"], errors.ADMIN_NOT_BLACKLISTABLE),
            ("alice", ["carol", "bob"], errors.ALREADY_BLACKLISTED),
        ]:
            self.refused(self.relations.add_blacklist(APP_KEY, owner, names), code)
            self.assertEqual(self.snapshot(), before, (owner, names))
        self.assertEqual(len(self.bus), sent)

    def test_removal_lets_the_sender_in_again(self):
        self.ok(self.relations.add_blacklist(APP_KEY, "alice", ["bob", "carol"]))
        self.refused(self.say("bob", "alice"), errors.BLACKLISTED)
        del self.bus[:]
        self.ok(self.relations.remove_blacklist(APP_KEY, "alice", ["bob"]))
        self.ok(self.say("bob", "alice"))
        self.refused(self.say("carol", "alice"), errors.BLACKLISTED)
        [(event, recipients)] = self.events(model.BLACKLIST_CHANGED)
        self.assertEqual((recipients, event.flag, event.users), (("alice",), False,
                                                                 (UserCard("bob"),)))

    def test_removal_refusals_change_nothing(self):
        self.ok(self.relations.add_blacklist(APP_KEY, "alice", ["bob"]))
        before = self.snapshot()
        for owner, names, code in [("alice", ["bob", "carol"], errors.NOT_BLACKLISTED),
                                   ("alice", ["bob", "bob"], errors.BAD_REQUEST),
                                   ("nobody", ["bob"], errors.NO_SUCH_USER)]:
            self.refused(self.relations.remove_blacklist(APP_KEY, owner, names), code)
            self.assertEqual(self.snapshot(), before)


class NoDisturbTests(RelationsCase):
    def test_users_groups_and_global(self):
        gid = self.group("bob", "alice")
        _, alice = self.fx.login("alice")
        self.ok(self.relations.set_nodisturb(APP_KEY, "alice", add_users=["bob", "carol"],
                                             add_groups=[gid], everything=True))
        mine = self.relations.cached(APP_KEY, "alice")
        self.assertEqual((mine.nodisturb_users, mine.nodisturb_groups, mine.nodisturb_all),
                         ({"bob", "carol"}, {str(gid)}, True))
        self.assertEqual(self.mine("alice"), mine)
        [(event, recipients)] = self.events(model.NODISTURB_CHANGED)
        self.assertEqual((recipients, event.actor), (("alice",), "alice"))
        self.assertEqual([d["event_type"] for d in event_frames(alice)], [37])
        self.ok(self.relations.set_nodisturb(APP_KEY, "alice", remove_users=["bob"],
                                             remove_groups=[gid], everything=False))
        self.assertEqual(self.mine("alice"), RelationSet(nodisturb_users=frozenset({"carol"})))
        self.ok(self.relations.set_nodisturb(APP_KEY, "alice", everything=None))
        self.assertFalse(self.mine("alice").nodisturb_all)

    def test_refusals_change_nothing(self):
        gid = self.group("bob", "alice")
        other = self.group("carol")
        self.ok(self.relations.set_nodisturb(APP_KEY, "alice", add_users=["bob"],
                                             add_groups=[gid], everything=True))
        before = self.snapshot()
        for call, code in [
            (dict(add_users=["carol", "bob"]), errors.NODISTURB_USER_ON),
            (dict(add_users=["dave"], remove_users=["carol"]), errors.NODISTURB_USER_OFF),
            (dict(add_users=["dave", "nobody"]), errors.NO_SUCH_USER),
            (dict(add_users=["dave"], remove_users=["dave"]), errors.BAD_REQUEST),
            (dict(add_users=["dave", "dave"]), errors.BAD_REQUEST),
            (dict(add_users=["dave"], add_groups=[gid]), errors.NODISTURB_GROUP_ON),
            (dict(add_users=["dave"], add_groups=[other]), errors.NOT_MEMBER),
            (dict(add_users=["dave"], add_groups=[99]), errors.NO_SUCH_GROUP),
            (dict(add_users=["dave"], remove_groups=[other]), errors.NODISTURB_GROUP_OFF),
            (dict(add_groups=[gid], remove_groups=[gid]), errors.BAD_REQUEST),
            (dict(add_users=["dave"], everything=True), errors.NODISTURB_ALL_ON),
        ]:
            self.refused(self.relations.set_nodisturb(APP_KEY, "alice", **call), code)
            self.assertEqual(self.snapshot(), before, call)
        self.refused(self.relations.set_nodisturb(APP_KEY, "nobody", everything=True),
                     errors.NO_SUCH_USER)
        self.ok(self.relations.set_nodisturb(APP_KEY, "alice", everything=False))
        self.refused(self.relations.set_nodisturb(APP_KEY, "alice", everything=False),
                     errors.NODISTURB_ALL_OFF)
        self.assertEqual(len(self.events(model.NODISTURB_CHANGED)), 2)

    def test_a_dissolved_group_takes_its_settings_along(self):
        gid = self.group("bob", "alice")
        self.ok(self.relations.set_nodisturb(APP_KEY, "alice", add_groups=[gid]))
        self.ok(self.relations.set_shields(APP_KEY, "bob", add=[gid]))
        self.ok(self.fx.core.groups.dissolve(APP_KEY, gid))
        self.assertEqual(self.relations.cached(APP_KEY, "alice"), RelationSet())
        self.assertEqual(self.mine("bob"), RelationSet())
        self.assertEqual(self.ok(self.relations.shielders(APP_KEY, gid)), [])


class ShieldTests(RelationsCase):
    def setUp(self):
        super().setUp()
        self.gid = self.group("alice", "bob", "carol")
        self.sessions = {name: self.fx.login(name) for name in ("alice", "bob", "carol")}
        self.clients = {name: client for name, (_, client) in self.sessions.items()}

    def received(self, name):
        return [body["data"]["content"] for cmd, body in self.clients[name].take() if cmd == 11]

    def test_a_shielding_member_gets_none_of_the_groups_messages(self):
        self.ok(self.say("alice", self.gid, model.GROUP))
        self.assertEqual(self.received("bob"), ["hi"])
        self.ok(self.relations.set_shields(APP_KEY, "bob", add=[self.gid]))
        self.assertEqual(self.ok(self.relations.shielders(APP_KEY, self.gid)), ["bob"])
        self.ok(self.say("alice", self.gid, model.GROUP))
        self.assertEqual((self.received("bob"), self.received("carol")), ([], ["hi", "hi"]))
        self.ok(self.relations.set_shields(APP_KEY, "bob", remove=[self.gid]))
        self.ok(self.say("alice", self.gid, model.GROUP))
        self.assertEqual(self.received("bob"), ["hi"])

    def test_a_shielding_member_is_kept_no_offline_copy(self):
        self.ok(self.relations.set_shields(APP_KEY, "bob", add=[self.gid]))
        self.sessions["bob"][0].close("gone")
        self.sessions["carol"][0].close("gone")
        self.ok(self.say("alice", self.gid, model.GROUP))
        self.assertEqual(offline(self.fx, "bob"), [])
        [kept] = offline(self.fx, "carol")
        self.assertEqual(kept.target, str(self.gid))

    def test_a_new_user_of_a_deleted_shielders_name_gets_the_messages(self):
        self.ok(self.relations.set_shields(APP_KEY, "bob", add=[self.gid]))
        self.ok(self.say("alice", self.gid, model.GROUP))  # members and shields in memory
        self.ok(self.fx.core.users.delete(APP_KEY, "bob"))
        self.ok(self.fx.core.users.register(APP_KEY, "bob", "pw12"))
        self.assertEqual(self.ok(self.relations.shielders(APP_KEY, self.gid)), [])
        self.ok(self.fx.core.groups.add_members(APP_KEY, self.gid, ["bob"]))
        _, bob = self.fx.login("bob", "pw12")
        self.ok(self.say("alice", self.gid, model.GROUP))
        self.assertEqual([body["data"]["content"] for cmd, body in bob.take() if cmd == 11],
                         ["hi"])

    def test_refusals_change_nothing(self):
        other = self.group("dave")
        self.ok(self.relations.set_shields(APP_KEY, "bob", add=[self.gid]))
        before = self.snapshot()
        for call, code in [
            (dict(add=[self.gid]), errors.SHIELD_ON),
            (dict(add=[other]), errors.NOT_MEMBER),
            (dict(add=[99]), errors.NO_SUCH_GROUP),
            (dict(remove=[self.gid, other]), errors.SHIELD_OFF),
            (dict(remove=[self.gid, 99]), errors.NO_SUCH_GROUP),
            (dict(add=[other], remove=[other]), errors.BAD_REQUEST),
        ]:
            self.refused(self.relations.set_shields(APP_KEY, "bob", **call), code)
            self.assertEqual(self.snapshot(), before, call)
        self.refused(self.relations.set_shields(APP_KEY, "nobody", add=[self.gid]),
                     errors.NO_SUCH_USER)
        self.ok(self.say("alice", self.gid, model.GROUP))
        self.assertEqual(self.received("bob"), [])


class CacheTests(RelationsCase):
    def blacklist_elsewhere(self, owner, target):
        self.successResultOf(self.fx.memory.relations.add_relations(
            [Relation(APP_KEY, model.BLACKLIST, owner, target)]))

    def test_an_invalidate_from_another_node_drops_the_entry(self):
        self.ok(self.say("bob", "alice"))
        self.blacklist_elsewhere("alice", "bob")
        self.fx.bus.publish(Invalidate(model.RELATIONS_AREA, APP_KEY, "alice", "other-node"))
        self.assertIsNone(self.relations.cached(APP_KEY, "alice"))
        self.refused(self.say("bob", "alice"), errors.BLACKLISTED)

    def test_an_invalidate_from_this_node_keeps_the_entry(self):
        self.ok(self.say("bob", "alice"))
        self.blacklist_elsewhere("alice", "bob")
        self.fx.bus.publish(Invalidate(model.RELATIONS_AREA, APP_KEY, "alice",
                                       self.fx.bus.node))
        self.ok(self.say("bob", "alice"))
        self.assertNotIn("bob", self.relations.cached(APP_KEY, "alice").blacklist)

    def test_a_change_checks_what_the_store_holds_not_a_stale_memory(self):
        """Another node changed alice's relations and its invalidation has not come (its
        caller may already call again through this node): a change here is checked against
        the store, not against what memory still says."""
        self.ok(self.say("bob", "alice"))  # alice's relations are in memory: none
        self.blacklist_elsewhere("alice", "bob")
        self.successResultOf(self.fx.memory.relations.add_relations(
            [Relation(APP_KEY, model.NODISTURB_USER, "alice", "carol")]))
        self.ok(self.relations.remove_blacklist(APP_KEY, "alice", ["bob"]))
        self.assertNotIn("bob", self.mine("alice").blacklist)
        self.refused(self.relations.set_nodisturb(APP_KEY, "alice", add_users=["carol"]),
                     errors.NODISTURB_USER_ON)

    def test_every_owner_changed_is_announced(self):
        self.ok(self.relations.add_friends(APP_KEY, "alice", ["bob", "carol"]))
        announced = [v for v in self.bus if type(v) is Invalidate]
        self.assertEqual(announced, [Invalidate(model.RELATIONS_AREA, APP_KEY, name,
                                                self.fx.bus.node)
                                     for name in ("alice", "bob", "carol")])


class OvertakenReadTests(RelationsCase):
    """A read of the store that a change overtook is not kept: the hot path would go on
    deciding on relations older than the change."""

    def setUp(self):
        store = MemoryStore()
        self.late = store.relations = LateReads(store.relations, "relations_of")
        self.fx = make_core(store=store, users=("alice", "bob"))
        self.successResultOf(store.apps.update_app(APP_KEY, {"friend_mode": True}))
        self.relations = self.fx.core.relations
        self.bus = []

    def test_a_read_overtaken_by_a_change_here_does_not_replace_it(self):
        self.late.holding = True
        reading = defer.ensureDeferred(self.relations.of(APP_KEY, "bob"))
        self.late.holding = False
        self.ok(self.relations.add_friends(APP_KEY, "alice", ["bob"]))
        self.late.release()
        self.assertEqual(self.successResultOf(reading).friends, {})  # read before the change
        self.assertIn("alice", self.ok(self.relations.of(APP_KEY, "bob")).friends)
        self.ok(self.say("alice", "bob"))

    def test_a_read_overtaken_by_another_nodes_change_is_not_kept(self):
        self.late.holding = True
        reading = defer.ensureDeferred(self.relations.of(APP_KEY, "bob"))
        self.successResultOf(self.late.add_relations(
            [Relation(APP_KEY, model.FRIEND, "bob", "alice"),
             Relation(APP_KEY, model.FRIEND, "alice", "bob")]))
        for name in ("alice", "bob"):
            self.fx.bus.publish(Invalidate(model.RELATIONS_AREA, APP_KEY, name, "other-node"))
        self.late.release()
        self.successResultOf(reading)
        self.assertIsNone(self.relations.cached(APP_KEY, "bob"))
        self.ok(self.say("alice", "bob"))


# -- the relations against a model --------------------------------------------------------------

NAMES = ("u0", "u1", "u2", "boss", "ghost")  # boss is an admin; ghost does not exist
REAL = NAMES[:4]
names = st.lists(st.sampled_from(NAMES), max_size=3)


class RelationMachine(RuleBasedStateMachine):
    """Friends, blacklists and user no-disturb settings against plain sets: every call either
    does what the model says or fails with one of the reasons the model finds, changing
    nothing; the cache and the store always agree with the model."""

    def __init__(self):
        super().__init__()
        self.fx = make_core(users=REAL[:3])
        self.fx.add_user("boss", admin=True)
        self.relations = self.fx.core.relations
        self.friends = set()  # (owner, target), both ways
        self.blacklist = set()
        self.quiet = set()
        self.quiet_all = set()

    def run(self, d, reasons, apply):
        outcome = settled(d)
        if reasons:
            assert isinstance(outcome, Failure) and outcome.check(JimError), outcome
            assert outcome.value.code in reasons, (outcome.value, reasons)
        else:
            assert not isinstance(outcome, Failure), outcome
            apply()

    def common(self, owner, named):
        reasons = set()
        if len(set(named)) != len(named):
            reasons.add(errors.BAD_REQUEST)
        if owner not in REAL:
            reasons.add(errors.NO_SUCH_USER)
        return reasons

    @rule(owner=st.sampled_from(NAMES), others=names)
    def add_friends(self, owner, others):
        reasons = self.common(owner, others)
        if owner in others:
            reasons.add(errors.BAD_REQUEST)
        if any(t not in REAL for t in others):
            reasons.add(errors.NO_SUCH_USER)
        if any((owner, t) in self.friends for t in others):
            reasons.add(errors.ALREADY_FRIEND)
        self.run(self.relations.add_friends(APP_KEY, owner, others), reasons,
                 lambda: self.friends.update({(owner, t) for t in others}
                                             | {(t, owner) for t in others}))

    @rule(owner=st.sampled_from(NAMES), others=names)
    def remove_friends(self, owner, others):
        reasons = self.common(owner, others)
        if any((owner, t) not in self.friends for t in others):
            reasons.add(errors.NOT_FRIEND)
        self.run(self.relations.remove_friends(APP_KEY, owner, others), reasons,
                 lambda: self.friends.difference_update({(owner, t) for t in others}
                                                        | {(t, owner) for t in others}))

    @rule(owner=st.sampled_from(NAMES), others=names)
    def add_blacklist(self, owner, others):
        reasons = self.common(owner, others)
        if owner in others:
            reasons.add(errors.BAD_REQUEST)
        if any(t not in REAL for t in others):
            reasons.add(errors.NO_SUCH_USER)
        if "boss" in others:
            reasons.add(errors.ADMIN_NOT_BLACKLISTABLE)
        if any((owner, t) in self.blacklist for t in others):
            reasons.add(errors.ALREADY_BLACKLISTED)
        self.run(self.relations.add_blacklist(APP_KEY, owner, others), reasons,
                 lambda: self.blacklist.update({(owner, t) for t in others}))

    @rule(owner=st.sampled_from(NAMES), others=names)
    def remove_blacklist(self, owner, others):
        reasons = self.common(owner, others)
        if any((owner, t) not in self.blacklist for t in others):
            reasons.add(errors.NOT_BLACKLISTED)
        self.run(self.relations.remove_blacklist(APP_KEY, owner, others), reasons,
                 lambda: self.blacklist.difference_update({(owner, t) for t in others}))

    @rule(owner=st.sampled_from(NAMES), add=names, remove=names,
          everything=st.sampled_from([None, True, False]))
    def set_nodisturb(self, owner, add, remove, everything):
        reasons = self.common(owner, add + remove)
        if any(t not in REAL for t in add):
            reasons.add(errors.NO_SUCH_USER)
        if any((owner, t) in self.quiet for t in add):
            reasons.add(errors.NODISTURB_USER_ON)
        if any((owner, t) not in self.quiet for t in remove):
            reasons.add(errors.NODISTURB_USER_OFF)
        if everything is True and owner in self.quiet_all:
            reasons.add(errors.NODISTURB_ALL_ON)
        if everything is False and owner not in self.quiet_all:
            reasons.add(errors.NODISTURB_ALL_OFF)

        def apply():
            self.quiet.update({(owner, t) for t in add})
            self.quiet.difference_update({(owner, t) for t in remove})
            if everything is not None:
                (self.quiet_all.add if everything else self.quiet_all.discard)(owner)

        self.run(self.relations.set_nodisturb(APP_KEY, owner, add_users=add,
                                              remove_users=remove, everything=everything),
                 reasons, apply)

    @precondition(lambda self: self.friends or self.blacklist)
    @rule(node=st.sampled_from(["other-node", None]), owner=st.sampled_from(REAL))
    def invalidate(self, node, owner):
        self.fx.bus.publish(Invalidate(model.RELATIONS_AREA, APP_KEY, owner,
                                       node or self.fx.bus.node))

    @invariant()
    def cache_and_store_agree_with_the_model(self):
        for owner in REAL:
            expected = (
                {t for o, t in self.friends if o == owner},
                {t for o, t in self.blacklist if o == owner},
                {t for o, t in self.quiet if o == owner},
                owner in self.quiet_all,
            )
            kept = settled(self.fx.memory.relations.relations_of(APP_KEY, owner))
            for found in (settled(self.relations.of(APP_KEY, owner)), RelationSet.of(kept)):
                assert (set(found.friends), found.blacklist, found.nodisturb_users,
                        found.nodisturb_all) == expected, (owner, found, expected)


RelationModelTests = RelationMachine.TestCase
RelationModelTests.settings = settings(max_examples=60, stateful_step_count=30)
