"""A user's own group calls (L{jim.core.own_groups}): who may make each one, that a refusal
changes nothing, that each change is the Groups service's (its events name the user as their
actor), and that another app's groups are no groups."""
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.config import Limits
from jim.model import Delivery, Event, Invalidate
from tests.support.fakes import APP_KEY, ServiceCalls, make_core

NAMES = ("alice", "bob", "carol", "dave", "erin")
OTHER_APP = "otherapp0000000000000000"


class OwnGroupsCase(ServiceCalls, SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=NAMES)
        self.calls = self.fx.core.own_groups
        self.bus = []
        self.fx.bus.subscribe(self.bus.append)
        self.gid = self.ok(self.calls.create(APP_KEY, "alice", "team", "ours",
                                             ["bob", "carol"])).gid

    def events(self, kind):
        return [d.item for d in self.bus
                if type(d) is Delivery and type(d.item) is Event and d.item.kind == kind]

    def state(self, gid=None):
        """What the store keeps of a group, to compare before and after a refusal."""
        gid = self.gid if gid is None else gid
        memory = self.fx.memory.groups
        return (self.successResultOf(memory.get_group(APP_KEY, gid)),
                self.successResultOf(memory.members(APP_KEY, gid)))

    def make_admin(self, username):
        """C{username} becomes an admin of the group (as another node would have made it)."""
        self.fx.memory.groups.update_member(APP_KEY, self.gid, username, {"role": model.ADMIN})
        self.fx.core.groups.on_bus(Invalidate(model.GROUPS_AREA, APP_KEY, str(self.gid),
                                              "another node"))

    def names(self):
        _, members = self.ok(self.calls.info(APP_KEY, "alice", self.gid))
        return [m.username for m in members]

    def refused(self, d, code, unchanged=True):
        before = self.state()
        events = len(self.bus)
        error = super().refused(d, code)
        if unchanged:
            self.assertEqual(self.state(), before)
            self.assertEqual(len(self.bus), events, "a refusal tells nobody anything")
        return error


class CreateTests(OwnGroupsCase):
    def test_anyone_creates_and_owns_it(self):
        group = self.ok(self.calls.create(APP_KEY, "dave", "mine"))
        self.assertEqual((group.owner, group.name, group.desc, group.flag),
                         ("dave", "mine", "", model.PRIVATE))
        _, members = self.ok(self.calls.info(APP_KEY, "dave", group.gid))
        self.assertEqual([(m.username, m.role) for m in members], [("dave", model.OWNER)])

    def test_the_creator_is_the_actor_of_the_event(self):
        [event] = self.events(model.GROUP_CREATED)
        self.assertEqual((event.actor, event.gid, event.group_name), ("alice", self.gid, "team"))
        self.assertEqual([u.username for u in event.users], ["alice", "bob", "carol"])

    def test_refusals_create_nothing(self):
        for args, code in [(("", None, ()), errors.BAD_REQUEST),
                           (("t", "x" * 251, ()), errors.BAD_REQUEST),
                           (("t", None, ("bob", "ghost")), errors.NO_SUCH_USER)]:
            self.refused(self.calls.create(APP_KEY, "dave", *args), code)
        self.assertEqual(self.ok(self.calls.listed(APP_KEY, "dave")), [])


class InfoTests(OwnGroupsCase):
    def test_members_read_it(self):
        for member in ("alice", "bob"):
            group, members = self.ok(self.calls.info(APP_KEY, member, self.gid))
            self.assertEqual((group.gid, group.desc), (self.gid, "ours"))
            self.assertEqual([(m.username, m.role) for m in members],
                             [("alice", model.OWNER), ("bob", model.MEMBER),
                              ("carol", model.MEMBER)])

    def test_others_may_not(self):
        error = self.refused(self.calls.info(APP_KEY, "dave", self.gid), errors.NOT_ALLOWED)
        self.assertIn("only members", error.detail)

    def test_no_such_group_and_another_apps(self):
        self.refused(self.calls.info(APP_KEY, "alice", self.gid + 1), errors.NO_SUCH_GROUP)
        self.fx.add_user("alice", app=OTHER_APP)
        self.refused(self.calls.info(OTHER_APP, "alice", self.gid), errors.NO_SUCH_GROUP)


class UpdateTests(OwnGroupsCase):
    def test_the_owner_changes_it(self):
        group = self.ok(self.calls.update(APP_KEY, "alice", self.gid, name="renamed"))
        self.assertEqual((group.name, group.desc), ("renamed", "ours"))
        group = self.ok(self.calls.update(APP_KEY, "alice", self.gid, desc=""))
        self.assertEqual((group.name, group.desc), ("renamed", ""))
        self.assertEqual([e.actor for e in self.events(model.GROUP_UPDATED)], ["alice", "alice"])

    def test_an_admin_changes_it(self):
        self.make_admin("bob")
        group = self.ok(self.calls.update(APP_KEY, "bob", self.gid, name="by bob"))
        self.assertEqual(group.name, "by bob")

    def test_a_member_or_an_outsider_may_not(self):
        for who in ("carol", "dave"):
            self.refused(self.calls.update(APP_KEY, who, self.gid, name="x"),
                         errors.NOT_ALLOWED)

    def test_bad_values_change_nothing(self):
        self.refused(self.calls.update(APP_KEY, "alice", self.gid), errors.BAD_REQUEST)
        self.refused(self.calls.update(APP_KEY, "alice", self.gid, name=""), errors.BAD_REQUEST)
        self.refused(self.calls.update(APP_KEY, "alice", self.gid, name="n", desc="d" * 251),
                     errors.BAD_REQUEST)


class AddTests(OwnGroupsCase):
    def test_any_member_adds(self):
        self.ok(self.calls.add(APP_KEY, "carol", self.gid, ["dave"]))
        self.assertEqual(self.names(), ["alice", "bob", "carol", "dave"])
        [event] = self.events(model.MEMBERS_ADDED)
        self.assertEqual((event.actor, [u.username for u in event.users]), ("carol", ["dave"]))

    def test_refusals(self):
        self.refused(self.calls.add(APP_KEY, "dave", self.gid, ["erin"]), errors.NOT_ALLOWED)
        self.refused(self.calls.add(APP_KEY, "bob", self.gid, ["ghost"]), errors.NO_SUCH_USER)
        self.refused(self.calls.add(APP_KEY, "bob", self.gid, ["erin", "carol"]),
                     errors.ALREADY_MEMBER)
        self.refused(self.calls.add(APP_KEY, "bob", self.gid + 7, ["erin"]),
                     errors.NO_SUCH_GROUP)


class RemoveTests(OwnGroupsCase):
    def test_the_owner_removes(self):
        self.ok(self.calls.remove(APP_KEY, "alice", self.gid, ["bob"]))
        self.assertEqual(self.names(), ["alice", "carol"])
        [event] = self.events(model.MEMBERS_REMOVED)
        self.assertEqual(event.actor, "alice")

    def test_an_admin_removes_members_but_not_the_owner_or_an_admin(self):
        self.make_admin("bob")
        self.make_admin("carol")
        self.fx.add_user("frank")
        self.ok(self.calls.add(APP_KEY, "alice", self.gid, ["dave", "frank"]))
        self.ok(self.calls.remove(APP_KEY, "bob", self.gid, ["dave"]))
        self.refused(self.calls.remove(APP_KEY, "bob", self.gid, ["frank", "carol"]),
                     errors.NOT_ALLOWED)
        self.refused(self.calls.remove(APP_KEY, "bob", self.gid, ["alice"]), errors.NOT_ALLOWED)
        self.assertEqual(self.names(), ["alice", "bob", "carol", "frank"])

    def test_a_member_or_an_outsider_may_not(self):
        for who in ("carol", "dave"):
            self.refused(self.calls.remove(APP_KEY, who, self.gid, ["bob"]), errors.NOT_ALLOWED)

    def test_the_owner_cannot_remove_itself_nor_non_members(self):
        self.refused(self.calls.remove(APP_KEY, "alice", self.gid, ["alice"]),
                     errors.NOT_ALLOWED)
        self.refused(self.calls.remove(APP_KEY, "alice", self.gid, ["bob", "dave"]),
                     errors.NOT_MEMBER)


class ExitAndListTests(OwnGroupsCase):
    def test_a_member_leaves(self):
        self.ok(self.calls.exit(APP_KEY, "carol", self.gid))
        self.assertEqual(self.names(), ["alice", "bob"])
        self.assertEqual(self.ok(self.calls.listed(APP_KEY, "carol")), [])
        [event] = self.events(model.MEMBER_LEFT)
        self.assertEqual(event.actor, "carol")

    def test_the_owner_leaving_hands_it_over(self):
        self.ok(self.calls.exit(APP_KEY, "alice", self.gid))
        group, members = self.ok(self.calls.info(APP_KEY, "bob", self.gid))
        self.assertEqual(group.owner, "bob")
        self.assertEqual([(m.username, m.role) for m in members],
                         [("bob", model.OWNER), ("carol", model.MEMBER)])

    def test_an_outsider_cannot_leave(self):
        self.refused(self.calls.exit(APP_KEY, "dave", self.gid), errors.NOT_MEMBER)

    def test_list_names_each_groups_members(self):
        other = self.ok(self.calls.create(APP_KEY, "bob", "second", None, ["dave"])).gid
        listed = self.ok(self.calls.listed(APP_KEY, "bob"))
        self.assertEqual([(g.gid, names) for g, names in listed],
                         [(self.gid, ["alice", "bob", "carol"]), (other, ["bob", "dave"])])
        self.assertEqual(self.ok(self.calls.listed(APP_KEY, "erin")), [])


class InviteLimitTests(ServiceCalls, SynchronousTestCase):
    """The users one user adds to groups are counted (--group-invites an hour): it cannot fill
    another's quota of groups by adding it to group after group."""

    def setUp(self):
        self.fx = make_core(users=NAMES, limits=Limits(group_invites=3, user_groups=50))
        self.calls = self.fx.core.own_groups

    def groups_of(self, username):
        return [g.gid for g in self.ok(self.fx.core.groups.user_groups(APP_KEY, username))]

    def test_adding_others_past_the_hours_worth_is_refused_and_changes_nothing(self):
        gid = self.ok(self.calls.create(APP_KEY, "alice", "a", "", ["bob", "carol", "bob"])).gid
        self.ok(self.calls.add(APP_KEY, "alice", gid, ["dave"]))
        error = self.refused(self.calls.add(APP_KEY, "alice", gid, ["erin"]),
                             errors.RATE_LIMITED)
        self.assertIn("alice may add 3 an hour (0 now, 1 asked)", error.detail)
        self.refused(self.calls.create(APP_KEY, "alice", "b", "", ["bob"]), errors.RATE_LIMITED)
        self.assertEqual(self.groups_of("erin"), [])
        self.assertEqual(len(self.groups_of("bob")), 1)
        # a group of one's own alone adds nobody; another user has a count of its own
        self.ok(self.calls.create(APP_KEY, "alice", "mine"))
        self.ok(self.calls.add(APP_KEY, "bob", gid, ["erin"]))
        # one comes back every twenty minutes; more than that are refused whole
        self.fx.clock.advance(1200)
        self.refused(self.calls.create(APP_KEY, "alice", "c", "", ["bob", "carol"]),
                     errors.RATE_LIMITED)
        self.ok(self.calls.create(APP_KEY, "alice", "c", "", ["bob"]))

    def test_the_app_servers_calls_are_not_counted(self):
        gid = self.ok(self.calls.create(APP_KEY, "alice", "a", "", ["bob", "carol", "dave"])).gid
        for n in range(3):
            self.ok(self.fx.core.groups.create(APP_KEY, "alice", f"g{n}", ["bob", "carol"]))
        self.ok(self.fx.core.groups.add_members(APP_KEY, gid, ["erin"]))
        self.refused(self.calls.create(APP_KEY, "alice", "b", "", ["bob"]), errors.RATE_LIMITED)

    def test_a_call_refused_for_another_reason_counts_nothing(self):
        gid = self.ok(self.calls.create(APP_KEY, "alice", "a", "", ["bob"])).gid
        for _ in range(3):
            self.refused(self.calls.add(APP_KEY, "alice", gid, ["bob", "carol"]),
                         errors.ALREADY_MEMBER)
            self.refused(self.calls.add(APP_KEY, "alice", gid, ["ghost"]), errors.NO_SUCH_USER)
        self.ok(self.calls.add(APP_KEY, "alice", gid, ["carol", "dave"]))  # her last two

    def test_more_than_an_hours_worth_at_once_is_refused_for_what_it_is(self):
        error = self.refused(self.calls.create(APP_KEY, "alice", "big", "",
                                               ["bob", "carol", "dave", "erin"]),
                             errors.RATE_LIMITED)
        self.assertEqual(error.detail, "alice may add at most 3 users to groups an hour: 4 are"
                                       " too many for one call")
        self.ok(self.calls.create(APP_KEY, "alice", "big", "", ["bob", "carol", "dave"]))

    def test_no_limit_when_it_is_0(self):
        fx = make_core(users=NAMES, limits=Limits(group_invites=0))
        for n in range(10):
            self.ok(fx.core.own_groups.create(APP_KEY, "alice", f"g{n}", "", ["bob", "carol"]))
