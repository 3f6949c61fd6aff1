"""--group-invites (docs/configuration.md, "Limits"): a user's own calls that add others to
groups are counted against what it may add in the hour, all or none, before the change is
made; when the change then fails (the Groups service refuses it: a full group, a user in too
many groups, a user that does not exist, a bad name; or the store fails the write), its count
is given back. Each test spends nothing but a failing call, then shows the whole budget still
there: exactly N more users added, one at a time, and the next one refused until a share of
the hour has passed. Through the core's L{jim.core.own_groups.OwnGroups} and, as a Web SDK
client sees it, cmd 111."""
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.config import Limits
from jim.errors import JimError
from jim.store.memory import MemoryStore
from tests.support.fakes import APP_KEY, HoldingStore, ServiceCalls, make_core, send

INVITES = 3  # users one user may add to groups an hour
REFILL = 3600 / INVITES  # seconds for one of them to come back
NAMES = ("alice", "bob", "carol", "dave", "erin", "fred", "gina", "hank", "ivan")
#: whom the budget is spent on: INVITES of them, then one too many
SPENT_ON = ("carol", "dave", "erin", "gina")


class InviteCase(ServiceCalls, SynchronousTestCase):
    limits = Limits(group_invites=INVITES, group_size=5, user_groups=3)

    def setUp(self):
        self.fx = make_core(store=self.store(), users=NAMES, limits=self.limits)
        self.calls = self.fx.core.own_groups
        # alice's group, made by the app server (nothing counted)
        self.team = self.app_group("alice", "team")

    def store(self):
        return None  # a MemoryStore

    def settle(self):
        """Let the store answer what it was asked."""

    def app_group(self, owner, name, members=()):
        """A group the app server makes (its calls are not counted); its gid."""
        return self.ok(self.fx.core.groups.create(APP_KEY, owner, name, list(members))).gid

    def members(self, gid):
        return list(self.ok(self.fx.core.groups.members(APP_KEY, gid)))

    def add(self, gid, usernames, who="alice"):
        d = defer.ensureDeferred(self.calls.add(APP_KEY, who, gid, list(usernames)))
        self.settle()
        return d

    def create(self, name, usernames, who="alice"):
        d = defer.ensureDeferred(self.calls.create(APP_KEY, who, name, "", list(usernames)))
        self.settle()
        return d

    def assert_whole_budget(self, who="alice"):
        """C{who} adds INVITES users to a group, one call each, and the next one is refused
        as over the hour's worth, until one has come back."""
        gid = self.app_group(who, "roomy")
        *allowed, extra = SPENT_ON
        for name in allowed:
            self.ok(self.add(gid, [name], who))
        error = self.refused(self.add(gid, [extra], who), errors.RATE_LIMITED)
        self.assertIn(f"may add {INVITES} an hour (0 now, 1 asked)", error.detail)
        self.fx.clock.advance(REFILL)
        self.ok(self.add(gid, [extra], who))
        self.assertEqual(self.members(gid), [who, *SPENT_ON])


class RefusedChangeTests(InviteCase):
    """The Groups service refuses a change the count was taken for."""

    def test_an_add_to_a_full_group_gives_its_count_back(self):
        full = self.app_group("alice", "full", ["fred", "gina", "hank", "ivan"])
        self.refused(self.add(full, ["carol", "dave"]), errors.GROUP_FULL)
        self.assertEqual(self.members(full), ["alice", "fred", "gina", "hank", "ivan"])
        self.assert_whole_budget()

    def test_an_add_of_a_user_in_too_many_groups_gives_its_count_back(self):
        for n in range(self.limits.user_groups):
            self.app_group("bob", f"bob's {n}")
        self.refused(self.add(self.team, ["carol", "bob"]), errors.GROUP_QUOTA)
        self.assertEqual(self.members(self.team), ["alice"])
        self.assert_whole_budget()

    def test_an_add_of_a_user_that_does_not_exist_gives_its_count_back(self):
        self.refused(self.add(self.team, ["carol", "ghost"]), errors.NO_SUCH_USER)
        self.assertEqual(self.members(self.team), ["alice"])
        self.assert_whole_budget()

    def test_an_add_of_a_member_gives_its_count_back(self):
        self.ok(self.fx.core.groups.add_members(APP_KEY, self.team, ["bob"]))
        self.refused(self.add(self.team, ["carol", "dave", "bob"]), errors.ALREADY_MEMBER)
        self.assertEqual(self.members(self.team), ["alice", "bob"])
        self.assert_whole_budget()

    def test_a_refused_create_gives_its_count_back(self):
        for n in range(self.limits.user_groups):
            self.app_group("bob", f"bob's {n}")
        for name, members, code in (("t", ["carol", "ghost"], errors.NO_SUCH_USER),
                                    ("", ["carol", "dave"], errors.BAD_REQUEST),
                                    ("t", ["carol", "bob"], errors.GROUP_QUOTA)):
            with self.subTest(code=code):
                self.refused(self.create(name, members), code)
        self.assertEqual([g.gid for g in self.ok(self.fx.core.groups.user_groups(
            APP_KEY, "alice"))], [self.team], "nothing was created")
        self.assert_whole_budget()

    def test_failures_one_after_another_never_spend_the_budget(self):
        """Each failing call counts for a moment only: however many fail, none spends the
        budget, nor does a call past it."""
        full = self.app_group("alice", "full", ["fred", "gina", "hank", "ivan"])
        for _ in range(5):
            self.refused(self.add(full, ["carol", "dave", "erin"]), errors.GROUP_FULL)
            self.refused(self.add(self.team, ["carol", "dave", "ghost"]), errors.NO_SUCH_USER)
        self.assert_whole_budget()

    def test_a_budget_given_back_is_its_users_own(self):
        """alice's failing call gives back to alice: bob, who spent his, is still refused."""
        self.ok(self.fx.core.groups.add_members(APP_KEY, self.team, ["bob"]))
        bobs = self.app_group("bob", "bob's")
        self.ok(self.add(bobs, ["carol", "dave", "erin"], who="bob"))
        self.refused(self.add(self.team, ["carol", "ghost"]), errors.NO_SUCH_USER)
        self.refused(self.add(self.team, ["carol"], who="bob"), errors.RATE_LIMITED)
        self.assert_whole_budget()


class StoreFailureTests(InviteCase):
    """The store fails the write the count was taken for: the add or the create fails, and
    its count is given back. While the write is in flight, its count is taken."""

    def store(self):
        self.holding = HoldingStore(MemoryStore(), "add_members", "create_group")
        return self.holding

    def settle(self):
        self.holding.release()

    def app_group(self, owner, name, members=()):
        d = defer.ensureDeferred(self.fx.core.groups.create(APP_KEY, owner, name,
                                                            list(members)))
        self.holding.release()
        return self.ok(d).gid

    def test_a_failed_write_gives_its_count_back(self):
        for failure in (JimError(errors.SERVER_ERROR, "the disk is full"),
                        RuntimeError("the store broke")):
            with self.subTest(failure=failure):
                adding = defer.ensureDeferred(self.calls.add(APP_KEY, "alice", self.team,
                                                             ["carol", "dave"]))
                # in flight, its count is taken: one call of 2 more is past the hour's worth
                self.refused(self.calls.add(APP_KEY, "alice", self.team, ["erin", "gina"]),
                             errors.RATE_LIMITED)
                _, d = self.holding.take_only()
                d.errback(failure)
                self.assertIs(self.failureResultOf(adding).value, failure)
        self.assertEqual(self.members(self.team), ["alice"])
        self.assert_whole_budget()

    def test_a_failed_create_gives_its_count_back(self):
        creating = defer.ensureDeferred(self.calls.create(APP_KEY, "alice", "t", "",
                                                          ["carol", "dave"]))
        _, d = self.holding.take_only()
        d.errback(JimError(errors.SERVER_ERROR, "the disk is full"))
        self.assertEqual(self.failureResultOf(creating, JimError).value.code,
                         errors.SERVER_ERROR)
        self.assert_whole_budget()

    def test_a_write_that_succeeds_keeps_its_count(self):
        """(What the tests above give back is really taken: the same write, answered, keeps
        it.)"""
        adding = defer.ensureDeferred(self.calls.add(APP_KEY, "alice", self.team,
                                                     ["bob", "hank"]))
        self.holding.release()
        self.ok(adding)
        self.ok(self.add(self.team, ["ivan"]))
        self.refused(self.add(self.team, ["fred"]), errors.RATE_LIMITED)


class WebSdkTests(InviteCase):
    """What a Web SDK client sees: cmd 111 answered by cmd 112."""

    def setUp(self):
        super().setUp()
        self.session, self.client = self.fx.login("alice")

    def call(self, obj):
        send(self.session, 111, {"cmd": 111, **obj})
        [reply] = [body for command, body in self.client.take() if command == 112]
        return reply

    def test_a_refused_add_leaves_the_users_budget_whole(self):
        full = self.app_group("alice", "full", ["fred", "gina", "hank", "ivan"])
        refused = self.call({"op": "add", "gid": full, "usernames": ["carol", "dave"],
                             "seq": 1})
        self.assertEqual((refused["code"], refused["data"]),
                         (10020, {"code": 899012, "op": "add", "seq": 1}))
        refused = self.call({"op": "create", "name": "t", "usernames": ["carol", "ghost"]})
        self.assertEqual(refused["data"]["code"], 899002)
        roomy = self.app_group("alice", "roomy")
        for name in ("carol", "dave", "erin"):
            added = self.call({"op": "add", "gid": roomy, "usernames": [name]})
            self.assertEqual((added["code"], added["data"]), (10000, {"op": "add",
                                                                      "gid": roomy}))
        over = self.call({"op": "add", "gid": roomy, "usernames": ["gina"], "seq": 2})
        self.assertEqual((over["code"], over["data"]),
                         (10020, {"code": 899030, "op": "add", "seq": 2}))
        self.assertIn("(0 now, 1 asked); try again in 20 minutes", over["detail"])
