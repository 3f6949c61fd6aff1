"""The contract of the groups area (IGroupStore), for every store."""
import attr
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.trial import unittest

from jim import errors, model
from jim.cursors import Cursor
from jim.metrics import Metrics
from jim.model import (ADMIN, FIRST_GID, GROUP, MAX_INT64, MEMBER, OWNER, TEXT, Group, Member,
                       Message)
from jim.store import GROUP_CHANGES
from jim.store.sqlite import SqliteStore
from tests.store_contract.base import ContractCase, OnMemory, OnRedis, OnSqlite

#: a group with every field set to something other than its default
FULL = Group("a", 100, "Friends ✨", "we meet on Fridays", "https://pic/g.png", "ann",
             model.PUBLIC, 200, 1_700_000_000_000, 1_700_000_000_500, "g-friends")


def names(members):
    return [member.username for member in members]


def group_chat(app, gid, text):
    return Message(0, app, "ann", GROUP, str(gid), TEXT, {"text": text}, None, None, 0)


class GroupsContract(ContractCase):
    async def test_create_with_members(self):
        groups = self.store.groups
        members = [Member("ann", OWNER, False, 1000), Member("zed", ADMIN, True, 1001),
                   Member("bob")]
        self.assertEqual(await groups.create_group(FULL, members), FULL)
        self.assertEqual(await groups.get_group("a", 100), FULL)
        self.assertEqual(await groups.members("a", 100), members)
        self.assertIs((await groups.members("a", 100))[1].silenced, True)
        self.assertEqual(await groups.user_groups("a", "zed"), [FULL])
        self.assertIsNone(await groups.get_group("a", 101))
        self.assertIsNone(await groups.get_group("b", 100))
        empty = await groups.create_group(Group("a", 7), [])
        self.assertEqual(empty, Group("a", 7))
        self.assertEqual(await groups.members("a", 7), [])
        self.assertIsNone(empty.alias)

    async def test_members_twice_in_a_new_group_join_once(self):
        await self.store.groups.create_group(Group("a", 5), [Member("ann", OWNER), Member("ann")])
        self.assertEqual(await self.store.groups.members("a", 5), [Member("ann", OWNER)])

    async def test_gids_are_assigned(self):
        groups = self.store.groups
        first = await groups.create_group(Group("a", 0, "first"), [Member("ann")])
        self.assertEqual(first, Group("a", FIRST_GID, "first"))
        self.assertEqual(await groups.get_group("a", FIRST_GID), first)
        self.assertEqual(await groups.members("a", FIRST_GID), [Member("ann")])
        second = await groups.create_group(Group("a", 0, "second"), [])
        self.assertEqual(second.gid, FIRST_GID + 1)
        small = await groups.create_group(Group("a", 100, "small"), [])
        self.assertEqual(small.gid, 100)  # an explicit gid is kept, however small
        await groups.create_group(Group("a", FIRST_GID + 50), [])
        third = await groups.create_group(Group("a", 0, "third"), [])
        self.assertGreater(third.gid, FIRST_GID + 50)  # never one that is taken
        self.assertEqual(await groups.get_group("a", third.gid), third)
        # another app's groups take nothing from this one
        other = await groups.create_group(Group("b", 0), [])
        self.assertGreaterEqual(other.gid, FIRST_GID)
        self.assertEqual((await groups.get_group("a", FIRST_GID)).name, "first")

    async def test_a_deleted_groups_gid_is_not_given_again(self):
        groups, messages = self.store.groups, self.store.messages
        await groups.create_group(Group("a", 0, "old"), [Member("ann")])
        newest = await groups.create_group(Group("a", 0, "newest"), [Member("ann")])
        self.assertEqual(newest.gid, FIRST_GID + 1)
        said = await messages.add_message(group_chat("a", newest.gid, "secret"))
        await groups.delete_group("a", newest.gid)
        made = await groups.create_group(Group("a", 0, "made"), [Member("cid")])
        self.assertEqual(made.gid, FIRST_GID + 2)  # not the deleted group's gid
        # nothing of the deleted group comes with it: no history, nothing in an inbox
        self.assertEqual(await messages.group_history("a", made.gid), [])
        self.assertEqual(await self.store.inbox.read("a", "cid", [made.gid], Cursor()), [])
        self.assertEqual(await messages.group_history("a", newest.gid), [said])
        # even once every group of the app is gone
        for gid in (FIRST_GID, made.gid):
            await groups.delete_group("a", gid)
        self.assertEqual(await groups.list_groups("a", 0, 10), (0, []))
        self.assertEqual((await groups.create_group(Group("a", 0), [])).gid, FIRST_GID + 3)
        # another app's gids are its own
        self.assertEqual((await groups.create_group(Group("b", 0), [])).gid, FIRST_GID)

    async def test_an_explicit_gid_raises_the_mark(self):
        groups = self.store.groups
        await groups.create_group(Group("a", FIRST_GID + 50, "explicit"), [])
        await groups.delete_group("a", FIRST_GID + 50)
        made = await groups.create_group(Group("a", 0), [])
        self.assertEqual(made.gid, FIRST_GID + 51)  # above the explicit gid, gone as it is
        await groups.create_group(Group("a", 100), [])  # a lower explicit gid lowers nothing
        self.assertEqual((await groups.create_group(Group("a", 0), [])).gid, FIRST_GID + 52)
        # a refused group raises nothing
        await groups.create_group(Group("a", 7, alias="seven"), [])
        await self.refused(groups.create_group(Group("a", FIRST_GID + 900, alias="seven"), []),
                           errors.GROUP_EXISTS)
        self.assertEqual((await groups.create_group(Group("a", 0), [])).gid, FIRST_GID + 53)
        # J-IM's numeric groupIds are kept as they are, and gids go on above them
        jim = await groups.create_group(Group("b", 123456789012345678, alias=None), [])
        self.assertEqual(jim.gid, 123456789012345678)
        self.assertEqual((await groups.create_group(Group("b", 0), [])).gid, jim.gid + 1)

    async def test_a_taken_gid_or_alias_is_refused(self):
        groups = self.store.groups
        await groups.create_group(FULL, [Member("ann", OWNER)])
        await self.refused(groups.create_group(Group("a", 100, "again"), [Member("bob")]),
                           errors.GROUP_EXISTS)
        await self.refused(groups.create_group(Group("a", 0, alias="g-friends"), [Member("bob")]),
                           errors.GROUP_EXISTS)
        await self.refused(groups.create_group(Group("a", 101, alias="g-friends"), [Member("bob")]),
                           errors.GROUP_EXISTS)
        # nothing of the refused groups was kept: not their members, not the gid 101
        self.assertEqual(await groups.get_group("a", 100), FULL)
        self.assertEqual(await groups.members("a", 100), [Member("ann", OWNER)])
        self.assertEqual(await groups.user_groups("a", "bob"), [])
        self.assertIsNone(await groups.get_group("a", 101))
        self.assertEqual(await groups.list_groups("a", 0, 10), (1, [FULL]))
        # the same gid and alias in another app are another group
        in_b = attr.evolve(FULL, app="b", name="in b")
        self.assertEqual(await groups.create_group(in_b, []), in_b)

    async def test_group_by_alias(self):
        groups = self.store.groups
        await groups.create_group(FULL, [])
        await groups.create_group(Group("a", 0, "numbered"), [])
        self.assertEqual(await groups.group_by_alias("a", "g-friends"), FULL)
        self.assertIsNone(await groups.group_by_alias("a", "nope"))
        self.assertIsNone(await groups.group_by_alias("a", "100"))  # a gid is not an alias
        self.assertIsNone(await groups.group_by_alias("b", "g-friends"))
        g1 = await groups.create_group(Group("b", 0, alias="g-friends"), [])
        self.assertEqual(await groups.group_by_alias("b", "g-friends"), g1)
        self.assertEqual(await groups.group_by_alias("a", "g-friends"), FULL)

    async def test_update_every_changeable_field(self):
        groups = self.store.groups
        group = Group("a", 100, owner="ann", alias="g")
        await groups.create_group(group, [Member("ann", OWNER)])
        values = attr.asdict(FULL)
        for field in sorted(GROUP_CHANGES):
            group = attr.evolve(group, **{field: values[field]})
            self.assertEqual(await groups.update_group("a", 100, {field: values[field]}), group,
                             field)
            self.assertEqual(await groups.get_group("a", 100), group, field)
        self.assertEqual(group, attr.evolve(FULL, ctime=0, alias="g"))
        several = {"name": "", "desc": "", "flag": model.PRIVATE, "max_members": 3}
        group = attr.evolve(group, **several)
        self.assertEqual(await groups.update_group("a", 100, several), group)
        self.assertEqual(await groups.update_group("a", 100, {}), group)
        self.assertEqual(await groups.group_by_alias("a", "g"), group)
        self.assertEqual(await groups.user_groups("a", "ann"), [group])

    async def test_update_refusals(self):
        groups = self.store.groups
        await groups.create_group(Group("a", 100), [])
        await self.refused(groups.update_group("a", 101, {"name": "x"}), errors.NO_SUCH_GROUP)
        await self.refused(groups.update_group("b", 100, {"name": "x"}), errors.NO_SUCH_GROUP)
        self.assertIsNone(await groups.get_group("a", 101))
        for fixed in ({"gid": 5}, {"owner": "bob"}, {"alias": "x"}, {"app": "b"}, {"ctime": 1}):
            self.assertRaises(ValueError, groups.update_group, "a", 100, fixed)
            self.assertRaises(ValueError, groups.update_group, "a", 101, fixed)
        self.assertEqual(await groups.get_group("a", 100), Group("a", 100))

    async def test_delete_with_its_members(self):
        groups = self.store.groups
        await groups.create_group(FULL, [Member("ann", OWNER), Member("bob")])
        await groups.create_group(Group("a", 200), [Member("bob")])
        await groups.create_group(attr.evolve(FULL, app="b"), [Member("ann")])
        self.assertIsNone(await groups.delete_group("a", 100))
        self.assertIsNone(await groups.get_group("a", 100))
        self.assertIsNone(await groups.group_by_alias("a", "g-friends"))
        self.assertEqual(await groups.members("a", 100), [])
        self.assertEqual(await groups.user_groups("a", "ann"), [])
        self.assertEqual(await groups.user_groups("a", "bob"), [Group("a", 200)])
        self.assertEqual(await groups.list_groups("a", 0, 10), (1, [Group("a", 200)]))
        self.assertEqual(names(await groups.members("b", 100)), ["ann"])  # another app's
        await self.refused(groups.delete_group("a", 100), errors.NO_SUCH_GROUP)
        await self.refused(groups.delete_group("c", 200), errors.NO_SUCH_GROUP)
        await self.refused(groups.add_members("a", 100, [Member("ann")]), errors.NO_SUCH_GROUP)
        # its gid and alias are free again
        again = await groups.create_group(FULL, [Member("cid")])
        self.assertEqual(await groups.group_by_alias("a", "g-friends"), again)
        self.assertEqual(names(await groups.members("a", 100)), ["cid"])

    async def test_list_in_creation_order_with_totals(self):
        groups = self.store.groups
        made = [await groups.create_group(Group("a", gid, str(gid)), [])
                for gid in (500, 100, 0, 7, 0)]
        await groups.create_group(Group("b", 1), [])
        self.assertEqual([g.gid for g in made], [500, 100, FIRST_GID, 7, FIRST_GID + 1])
        self.assertEqual(await groups.list_groups("a", 0, 10), (5, made))
        self.assertEqual(await groups.list_groups("a", 1, 3), (5, made[1:4]))
        self.assertEqual(await groups.list_groups("a", 4, 3), (5, made[4:]))
        self.assertEqual(await groups.list_groups("a", 5, 3), (5, []))
        self.assertEqual(await groups.list_groups("a", 0, 0), (5, []))
        self.assertEqual(await groups.list_groups("a", MAX_INT64, MAX_INT64), (5, []))
        self.assertEqual(await groups.list_groups("c", 0, 10), (0, []))
        await groups.update_group("a", 100, {"name": "changed"})  # an update keeps the place
        self.assertEqual((await groups.list_groups("a", 1, 1))[1][0].name, "changed")

    async def test_bad_pages_are_refused(self):
        for start, count in ((-1, 1), (0, -1), (MAX_INT64 + 1, 0), (0, MAX_INT64 + 1)):
            await self.refused(self.store.groups.list_groups("a", start, count), errors.BAD_REQUEST)

    async def test_add_and_remove_members(self):
        groups = self.store.groups
        await groups.create_group(Group("a", 1), [Member("zed", OWNER)])
        await groups.create_group(Group("a", 2), [])
        added = await groups.add_members("a", 1, [Member("ann", joined=5), Member("zed"),
                                                  Member("mia", silenced=True), Member("ann")])
        self.assertEqual(added, ["ann", "mia"])  # zed was in, ann is added once
        self.assertEqual(await groups.add_members("a", 2, [Member("ann")]), ["ann"])
        self.assertEqual(await groups.add_members("a", 2, []), [])
        self.assertEqual(await groups.members("a", 1),
                         [Member("zed", OWNER), Member("ann", joined=5),
                          Member("mia", silenced=True)])
        self.assertEqual(await groups.user_groups("a", "ann"), [Group("a", 1), Group("a", 2)])
        removed = await groups.remove_members("a", 1, ["bob", "ann", "ann", "zed"])
        self.assertEqual(removed, ["ann", "zed"])
        self.assertEqual(names(await groups.members("a", 1)), ["mia"])
        self.assertEqual(await groups.user_groups("a", "ann"), [Group("a", 2)])
        self.assertEqual(await groups.remove_members("a", 9, ["mia"]), [])
        self.assertEqual(await groups.remove_members("b", 1, ["mia"]), [])
        # back again, a member is the newest
        self.assertEqual(await groups.add_members("a", 1, [Member("zed")]), ["zed"])
        self.assertEqual(names(await groups.members("a", 1)), ["mia", "zed"])
        self.assertEqual(await groups.members("a", 9), [])
        self.assertEqual(await groups.user_groups("a", "nobody"), [])

    async def test_members_of_an_unknown_group_are_refused(self):
        groups = self.store.groups
        await self.refused(groups.add_members("a", 9, [Member("ann")]), errors.NO_SUCH_GROUP)
        await groups.create_group(Group("b", 9), [])
        await self.refused(groups.add_members("a", 9, [Member("ann")]), errors.NO_SUCH_GROUP)
        self.assertEqual(await groups.members("a", 9), [])
        self.assertEqual(await groups.user_groups("a", "ann"), [])

    async def test_update_member(self):
        groups = self.store.groups
        await groups.create_group(Group("a", 1), [Member("ann", joined=3), Member("bob")])
        self.assertEqual(await groups.update_member("a", 1, "ann", {"silenced": True}),
                         Member("ann", MEMBER, True, 3))
        self.assertEqual(await groups.update_member("a", 1, "ann", {"role": ADMIN}),
                         Member("ann", ADMIN, True, 3))
        both = {"role": MEMBER, "silenced": False}
        self.assertEqual(await groups.update_member("a", 1, "ann", both), Member("ann", joined=3))
        await groups.update_member("a", 1, "bob", {"silenced": True})
        self.assertEqual(await groups.update_member("a", 1, "bob", {}),
                         Member("bob", silenced=True))
        self.assertEqual(await groups.members("a", 1), [Member("ann", joined=3),
                                                        Member("bob", silenced=True)])
        for app, gid, username in (("a", 1, "cid"), ("a", 2, "ann"), ("b", 1, "ann")):
            await self.refused(groups.update_member(app, gid, username, {"silenced": True}),
                               errors.NOT_MEMBER)
        for fixed in ({"username": "x"}, {"joined": 9}):
            self.assertRaises(ValueError, groups.update_member, "a", 1, "ann", fixed)
            self.assertRaises(ValueError, groups.update_member, "a", 1, "cid", fixed)

    async def test_set_owner_swaps_the_roles(self):
        groups = self.store.groups
        group = Group("a", 1, "g", owner="ann")
        await groups.create_group(group, [Member("ann", OWNER, joined=1), Member("bob", ADMIN),
                                          Member("cid", silenced=True)])
        moved = await groups.set_owner("a", 1, "cid")
        self.assertEqual(moved, attr.evolve(group, owner="cid"))
        self.assertEqual(await groups.get_group("a", 1), moved)
        self.assertEqual(await groups.members("a", 1), [
            Member("ann", MEMBER, joined=1), Member("bob", ADMIN), Member("cid", OWNER, True)])
        self.assertEqual(await groups.set_owner("a", 1, "cid"), moved)  # already the owner
        self.assertEqual((await groups.members("a", 1))[2].role, OWNER)
        await self.refused(groups.set_owner("a", 1, "zed"), errors.NOT_MEMBER)
        await self.refused(groups.set_owner("a", 2, "ann"), errors.NO_SUCH_GROUP)
        await self.refused(groups.set_owner("b", 1, "ann"), errors.NO_SUCH_GROUP)
        self.assertEqual(await groups.get_group("a", 1), moved)
        # an owner who left: the new one is simply made the owner
        await groups.remove_members("a", 1, ["cid"])
        moved = await groups.set_owner("a", 1, "bob")
        self.assertEqual(moved.owner, "bob")
        self.assertEqual([m.role for m in await groups.members("a", 1)], [MEMBER, OWNER])

    async def test_groups_are_per_app(self):
        groups = self.store.groups
        await groups.create_group(Group("a", 1, "in a"), [Member("ann")])
        await groups.create_group(Group("b", 1, "in b"), [Member("bob")])
        self.assertEqual(names(await groups.members("a", 1)), ["ann"])
        self.assertEqual(await groups.user_groups("b", "ann"), [])
        self.assertEqual([g.name for g in await groups.user_groups("b", "bob")], ["in b"])
        await groups.update_group("b", 1, {"name": "changed in b"})
        await groups.add_members("b", 1, [Member("cid")])
        await groups.update_member("b", 1, "bob", {"silenced": True})
        await groups.set_owner("b", 1, "bob")
        self.assertEqual(await groups.get_group("a", 1), Group("a", 1, "in a"))
        self.assertEqual(await groups.members("a", 1), [Member("ann")])
        self.assertEqual(await groups.remove_members("c", 1, ["ann", "bob"]), [])
        self.assertEqual(await groups.list_groups("a", 0, 5), (1, [Group("a", 1, "in a")]))

    async def test_results_are_values_or_copies(self):
        groups = self.store.groups
        await groups.create_group(Group("a", 1), [Member("ann")])
        (await groups.members("a", 1)).append(Member("intruder"))
        (await groups.user_groups("a", "ann")).clear()
        (await groups.list_groups("a", 0, 5))[1].clear()
        with self.assertRaises(attr.exceptions.FrozenInstanceError):
            (await groups.get_group("a", 1)).name = "changed"
        with self.assertRaises(attr.exceptions.FrozenInstanceError):
            (await groups.members("a", 1))[0].role = OWNER
        self.assertEqual(await groups.members("a", 1), [Member("ann")])
        self.assertEqual(await groups.user_groups("a", "ann"), [Group("a", 1)])
        self.assertEqual(await groups.list_groups("a", 0, 5), (1, [Group("a", 1)]))

    async def test_membership_matches_model(self):
        user = st.sampled_from(("ann", "bob", "cid"))
        gid = st.sampled_from((1, 2))
        operation = st.one_of(
            st.tuples(st.just("create"), gid, st.lists(user, max_size=3)),
            st.tuples(st.just("add"), gid, st.lists(user, max_size=3)),
            st.tuples(st.just("remove"), gid, st.lists(user, max_size=3)),
            st.tuples(st.just("delete"), gid),
            st.tuples(st.just("silence"), gid, user),
        )

        @settings(max_examples=self.property_examples)
        @given(st.lists(operation, max_size=10))
        def check(operations):
            app = self.fresh_app()
            store = self.store.groups
            model_groups = {}  # gid -> {username: Member}, in joining order
            joined = {"ann": [], "bob": [], "cid": []}  # username -> gids, in joining order
            for op in operations:
                kind, number = op[:2]
                exists = number in model_groups
                if kind == "create":
                    if exists:
                        with self.assertRaises(errors.JimError):
                            self.blocking(store.create_group, Group(app, number), [])
                        continue
                    self.blocking(store.create_group, Group(app, number),
                                  [Member(name) for name in op[2]])
                    model_groups[number] = {name: Member(name) for name in op[2]}
                    for name in model_groups[number]:
                        joined[name].append(number)
                elif kind == "add":
                    if not exists:
                        with self.assertRaises(errors.JimError):
                            self.blocking(store.add_members, app, number, [])
                        continue
                    current = model_groups[number]
                    wanted = [n for n in dict.fromkeys(op[2]) if n not in current]
                    current.update((name, Member(name)) for name in wanted)
                    for name in wanted:
                        joined[name].append(number)
                    added = self.blocking(store.add_members, app, number,
                                          [Member(n) for n in op[2]])
                    self.assertEqual(added, wanted)
                elif kind == "remove":
                    current = model_groups.get(number, {})
                    wanted = [n for n in dict.fromkeys(op[2]) if n in current]
                    for name in wanted:
                        del current[name]
                        joined[name].remove(number)
                    removed = self.blocking(store.remove_members, app, number, op[2])
                    self.assertEqual(removed, wanted)
                elif kind == "delete":
                    if exists:
                        for name in model_groups.pop(number):
                            joined[name].remove(number)
                        self.blocking(store.delete_group, app, number)
                else:
                    current = model_groups.get(number, {})
                    if op[2] in current:
                        current[op[2]] = Member(op[2], silenced=True)
                        self.blocking(store.update_member, app, number, op[2], {"silenced": True})
            for number in (1, 2):
                self.assertEqual(self.blocking(store.members, app, number),
                                 list(model_groups.get(number, {}).values()))
            for name in ("ann", "bob", "cid"):
                self.assertEqual([g.gid for g in self.blocking(store.user_groups, app, name)],
                                 joined[name])

        await self.run_property(check)

    async def test_another_apps_user_is_a_member_by_its_qualified_name(self):
        # a cross-app group (jim.core.cross_groups) keeps another app's users so
        groups = self.store.groups
        group = await groups.create_group(Group("a", 0, "mixed"), [Member("ann", OWNER)])
        self.assertEqual(await groups.add_members("a", group.gid, [Member("B:bob")]), ["B:bob"])
        self.assertEqual(names(await groups.members("a", group.gid)), ["ann", "B:bob"])
        self.assertEqual([g.gid for g in await groups.user_groups("a", "B:bob")], [group.gid])
        self.assertEqual(await groups.user_groups("B", "bob"), [])
        self.assertEqual(await groups.remove_members("a", group.gid, ["B:bob"]), ["B:bob"])
        self.assertEqual(await groups.user_groups("a", "B:bob"), [])

    async def test_members_with_a_prefix(self):
        """The memberships of another app's users (C{"<appkey>:"}), whatever else their names
        hold, and only those that are kept."""
        groups = self.store.groups
        one = (await groups.create_group(Group("a", 0), [
            Member("ann", OWNER), Member("K1:bob"), Member("K10:zed"), Member("K1")])).gid
        two = (await groups.create_group(Group("a", 0), [
            Member("K1:eve", OWNER), Member("K1:[x]*?"), Member("K1:bob"), Member("bob")])).gid
        await groups.create_group(Group("b", 0), [Member("K1:amy"), Member("K1:bob")])
        self.assertEqual(await groups.members_with_prefix("a", "K1:"),
                         [(one, "K1:bob"), (two, "K1:[x]*?"), (two, "K1:bob"), (two, "K1:eve")])
        self.assertEqual(await groups.members_with_prefix("a", "K2:"), [])
        await groups.remove_members("a", two, ["K1:bob", "K1:[x]*?"])
        await groups.set_owner("a", two, "bob")
        self.assertEqual(await groups.members_with_prefix("a", "K1:"),
                         [(one, "K1:bob"), (two, "K1:eve")])
        await groups.delete_group("a", one)
        self.assertEqual(await groups.members_with_prefix("a", "K1:"), [(two, "K1:eve")])
        self.assertEqual(await groups.members_with_prefix("b", "K1:"),
                         [(FIRST_GID, "K1:amy"), (FIRST_GID, "K1:bob")])


class MemoryGroupsTests(GroupsContract, OnMemory, unittest.TestCase):
    pass


class SqliteGroupsTests(GroupsContract, OnSqlite, unittest.TestCase):
    async def reopen(self):
        """Stop the store and start another on its file, as a restart would."""
        await self.store.stop()
        self.store = SqliteStore(self.store.path, reactor, metrics=Metrics())
        await self.store.start()
        self.addCleanup(self.store.stop)

    async def test_a_deleted_groups_gid_is_not_given_again_after_a_restart(self):
        newest = await self.store.groups.create_group(Group("a", 0), [Member("ann")])
        explicit = await self.store.groups.create_group(Group("b", FIRST_GID + 50), [])
        said = await self.store.messages.add_message(group_chat("a", newest.gid, "secret"))
        for group in (newest, explicit):
            await self.store.groups.delete_group(group.app, group.gid)
        await self.reopen()
        made = await self.store.groups.create_group(Group("a", 0), [])
        self.assertEqual(made.gid, FIRST_GID + 1)
        self.assertEqual(await self.store.messages.group_history("a", made.gid), [])
        self.assertEqual(await self.store.inbox.read("a", "ann", [made.gid], Cursor()), [])
        self.assertEqual(await self.store.messages.group_history("a", newest.gid), [said])
        made = await self.store.groups.create_group(Group("b", 0), [])
        self.assertEqual(made.gid, FIRST_GID + 51)


class RedisGroupsTests(GroupsContract, OnRedis, unittest.TestCase):
    async def test_writes_racing_for_the_same_keys_all_land(self):
        """Two nodes' stores on one Redis, writing at once: every new group gets a gid of its
        own, and every membership and update is kept."""
        other = await self.open_store()
        self.addCleanup(other.stop)
        both = (self.store.groups, other.groups)
        made = await self.in_one_turn([(both[i % 2].create_group, Group("a", 0, str(i)),
                                        [Member("ann"), Member(f"u{i}")]) for i in range(10)])
        made.sort(key=lambda group: group.gid)
        self.assertEqual([g.gid for g in made], list(range(FIRST_GID, FIRST_GID + 10)))
        joined = await other.groups.user_groups("a", "ann")  # concurrent: in any order
        self.assertEqual(sorted(joined, key=lambda group: group.gid), made)
        gid, mine = made[0].gid, f"u{made[0].name}"  # mine: its second member
        await self.in_one_turn([(both[i % 2].update_member, "a", gid, name, {"silenced": True})
                                for i, name in enumerate(("ann", mine))]
                               + [(self.store.groups.set_owner, "a", gid, mine),
                                  (other.groups.update_group, "a", gid, {"name": "x"})])
        self.assertEqual(await self.store.groups.members("a", gid),
                         [Member("ann", silenced=True), Member(mine, OWNER, True)])
        kept = Group("a", gid, "x", owner=mine)
        self.assertEqual(await other.groups.get_group("a", gid), kept)
        await self.in_one_turn([(both[i % 2].delete_group, "a", g.gid)
                                for i, g in enumerate(made[1:])]
                               + [(other.groups.add_members, "a", gid, [Member("bob")])])
        self.assertEqual(await self.store.groups.user_groups("a", "ann"), [kept])
        self.assertEqual(await self.store.groups.list_groups("a", 0, 10), (1, [kept]))
        self.assertEqual(names(await other.groups.members("a", gid)), ["ann", mine, "bob"])

    async def test_names_are_any_text(self):
        """Apps, usernames and aliases with the characters Redis key names are built with keep
        their groups apart."""
        groups = self.store.groups
        for app, alias, username in (("a:b", "c", "d:e"), ("a", "b:c", "of:d"),
                                     ("{a}", "\u2728\n", "{x}"), ("%7Ba%7D", "c", "d:e")):
            made = await groups.create_group(Group(app, 0, alias=alias, owner=username),
                                             [Member(username, OWNER)])
            self.assertEqual(await groups.group_by_alias(app, alias), made)
            self.assertEqual(await groups.user_groups(app, username), [made])
            self.assertEqual(await groups.members(app, made.gid), [Member(username, OWNER)])
        self.assertEqual(await groups.list_groups("a", 0, 5), (1, [await groups.get_group(
            "a", FIRST_GID)]))
        self.assertEqual(await groups.user_groups("a", "d:e"), [])

    async def test_gids_above_two_to_the_53_are_exact(self):
        groups = self.store.groups
        top = await groups.create_group(Group("a", 2**53 + 1), [Member("ann", joined=2**62)])
        self.assertEqual((await groups.create_group(Group("a", 0), [])).gid, 2**53 + 2)
        self.assertEqual(await groups.user_groups("a", "ann"), [top])
        self.assertEqual(await groups.members("a", 2**53 + 1), [Member("ann", joined=2**62)])
        await groups.create_group(Group("b", model.MAX_INT64 - 1), [])
        self.assertEqual((await groups.create_group(Group("b", 0), [])).gid, model.MAX_INT64)
