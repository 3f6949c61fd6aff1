"""The contract of the users area (IUserStore), for every store."""
import attr
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial import unittest

from jim import errors, model
from jim.model import MAX_INT64, User
from jim.store import USER_CHANGES
from tests.store_contract.base import ContractCase, OnMemory, OnRedis, OnSqlite

#: a user with every field set to something other than its default
FULL = User("a", "ann", "scrypt$hash", "Ann ✨", "https://pic/ann.png", "1990-02-28",
            "hello, 世界", model.GENDER_FEMALE, "Zürich", "1 Rue du Lac", '{"vip":true,"n":[1]}',
            1_700_000_000_000, 1_700_000_000_999, forbidden=True, admin=True)

#: text SQLite can store: anything but lone surrogates (UTF-8 cannot encode them)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
INT64 = st.integers(-(2**63), MAX_INT64)
PROFILES = st.builds(
    User, app=st.just("x"), username=TEXT, password=TEXT, nickname=TEXT, avatar=TEXT,
    birthday=TEXT, signature=TEXT, gender=INT64, region=TEXT, address=TEXT,
    extras=st.one_of(st.none(), TEXT), ctime=INT64, mtime=INT64, forbidden=st.booleans(),
    admin=st.booleans(),
)


class UsersContract(ContractCase):
    async def test_add_and_get_every_field(self):
        users = self.store.users
        self.assertIsNone(await users.add_user(FULL))
        got = await users.get_user("a", "ann")
        self.assertEqual(got, FULL)
        self.assertIs(got.forbidden, True)
        self.assertIs(got.admin, True)
        self.assertIsNone(await users.get_user("a", "bob"))
        plain = User("a", "bob", "h")
        await users.add_user(plain)
        got = await users.get_user("a", "bob")
        self.assertEqual(got, plain)
        self.assertIsNone(got.extras)
        self.assertEqual((got.forbidden, got.admin), (False, False))
        self.assertIs(got.forbidden, False)

    async def test_a_taken_username_is_refused(self):
        ann = User("a", "ann", "hash1", "Ann", "pic", signature="hello", ctime=7)
        await self.store.users.add_user(ann)
        await self.refused(self.store.users.add_user(User("a", "ann", "other")), errors.USER_EXISTS)
        self.assertEqual(await self.store.users.get_user("a", "ann"), ann)

    async def test_get_users(self):
        users = self.store.users
        for name in ("ann", "bob", "cid"):
            await users.add_user(User("a", name, "h"))
        found = await users.get_users("a", ["bob", "zed", "ann", "bob"])
        self.assertEqual(sorted(user.username for user in found), ["ann", "bob"])
        self.assertEqual(await users.get_users("a", []), [])
        many = [f"u{i}" for i in range(1200)] + ["cid"]  # more than one SQL IN list
        self.assertEqual([u.username for u in await users.get_users("a", many)], ["cid"])
        self.assertEqual(await users.get_users("a", iter(["cid"])), [User("a", "cid", "h")])

    async def test_users_are_per_app(self):
        users = self.store.users
        await users.add_user(User("a", "ann", "in-a"))
        await users.add_user(User("b", "ann", "in-b"))  # the same name in another app
        self.assertEqual((await users.get_user("b", "ann")).password, "in-b")
        self.assertIsNone(await users.get_user("c", "ann"))
        self.assertEqual([u.password for u in await users.get_users("a", ["ann"])], ["in-a"])
        await users.update_user("a", "ann", {"nickname": "A"})
        self.assertEqual((await users.get_user("b", "ann")).nickname, "")
        await users.delete_user("b", "ann")
        self.assertIsNotNone(await users.get_user("a", "ann"))
        await self.refused(users.update_user("c", "ann", {"nickname": "x"}), errors.NO_SUCH_USER)
        await self.refused(users.delete_user("c", "ann"), errors.NO_SUCH_USER)

    async def test_update_every_changeable_field(self):
        users = self.store.users
        user = User("a", "ann", "old", ctime=1, mtime=1)
        await users.add_user(user)
        values = attr.asdict(FULL)
        for field in sorted(USER_CHANGES):
            user = attr.evolve(user, **{field: values[field]})
            self.assertEqual(await users.update_user("a", "ann", {field: values[field]}), user,
                             field)
            self.assertEqual(await users.get_user("a", "ann"), user, field)
        self.assertEqual(user, attr.evolve(FULL, ctime=1))  # all but the key fields and ctime
        several = {"nickname": "", "extras": None, "forbidden": False, "gender": 0, "mtime": 5}
        user = attr.evolve(user, **several)
        self.assertEqual(await users.update_user("a", "ann", several), user)
        self.assertEqual(await users.get_user("a", "ann"), user)
        self.assertEqual(await users.update_user("a", "ann", {}), user)

    async def test_update_refusals(self):
        users = self.store.users
        await users.add_user(User("a", "ann", "h"))
        await self.refused(users.update_user("a", "bob", {"password": "x"}), errors.NO_SUCH_USER)
        self.assertIsNone(await users.get_user("a", "bob"))
        for fixed in ({"username": "bob"}, {"app": "b"}, {"ctime": 9}, {"nickname": "x", "no": 1}):
            self.assertRaises(ValueError, users.update_user, "a", "ann", fixed)
            self.assertRaises(ValueError, users.update_user, "a", "bob", fixed)
        self.assertEqual(await users.get_user("a", "ann"), User("a", "ann", "h"))

    async def test_replace_password_only_if_it_is_still_the_one_given(self):
        users = self.store.users
        await users.add_user(User("a", "ann", "old"))
        await users.add_user(User("b", "ann", "old"))
        self.assertIs(await users.replace_password("a", "ann", "old", "new"), True)
        self.assertEqual((await users.get_user("a", "ann")).password, "new")
        # compare and set: a hash that is not the user's any more replaces nothing
        self.assertIs(await users.replace_password("a", "ann", "old", "newer"), False)
        self.assertEqual((await users.get_user("a", "ann")).password, "new")
        self.assertIs(await users.replace_password("a", "nobody", "old", "x"), False)
        self.assertEqual((await users.get_user("b", "ann")).password, "old")  # per app

    async def test_delete(self):
        users = self.store.users
        for name in ("ann", "bob"):
            await users.add_user(User("a", name, "h"))
        self.assertIsNone(await users.delete_user("a", "ann"))
        self.assertIsNone(await users.get_user("a", "ann"))
        self.assertEqual(await users.get_users("a", ["ann", "bob"]), [User("a", "bob", "h")])
        await self.refused(users.delete_user("a", "ann"), errors.NO_SUCH_USER)
        await self.refused(users.update_user("a", "ann", {"nickname": "x"}), errors.NO_SUCH_USER)
        await users.add_user(User("a", "ann", "again"))  # the name is free again...
        self.assertEqual((await users.get_user("a", "ann")).password, "again")
        _, listed = await users.list_users("a", 0, 10)  # ...and registered last
        self.assertEqual([u.username for u in listed], ["bob", "ann"])

    async def test_list_in_registration_order_with_totals(self):
        users = self.store.users
        names = ["mia", "bob", "zed", "ann", "kim"]
        for name in names:
            await users.add_user(User("a", name, "h", ctime=len(name)))
        await users.add_user(User("b", "other", "h"))
        listed = [User("a", name, "h", ctime=len(name)) for name in names]
        self.assertEqual(await users.list_users("a", 0, 10), (5, listed))
        self.assertEqual(await users.list_users("a", 1, 2), (5, listed[1:3]))
        self.assertEqual(await users.list_users("a", 3, 5), (5, listed[3:]))
        self.assertEqual(await users.list_users("a", 5, 1), (5, []))
        self.assertEqual(await users.list_users("a", 0, 0), (5, []))
        self.assertEqual(await users.list_users("a", MAX_INT64, MAX_INT64), (5, []))
        self.assertEqual(await users.list_users("c", 0, 10), (0, []))

    async def test_list_users_or_admins(self):
        users = self.store.users
        for name, admin in (("ann", False), ("root", True), ("bob", False), ("ops", True)):
            await users.add_user(User("a", name, "h", admin=admin))
        await users.add_user(User("b", "boss", "h", admin=True))

        async def names(admin, start=0, count=10):
            total, listed = await users.list_users("a", start, count, admin=admin)
            self.assertTrue(all(user.admin is admin for user in listed))
            return total, [user.username for user in listed]

        self.assertEqual(await names(False), (2, ["ann", "bob"]))
        self.assertEqual(await names(True), (2, ["root", "ops"]))
        self.assertEqual(await names(True, 1, 1), (2, ["ops"]))
        self.assertEqual(await users.list_users("a", 0, 10),
                         await users.list_users("a", 0, 10, False))
        # made an admin, a user moves to the other list in its registration place
        await users.update_user("a", "ann", {"admin": True})
        self.assertEqual(await names(True), (3, ["ann", "root", "ops"]))
        self.assertEqual(await names(False), (1, ["bob"]))

    async def test_bad_pages_are_refused(self):
        for start, count in ((-1, 1), (0, -1), (MAX_INT64 + 1, 0), (0, MAX_INT64 + 1)):
            await self.refused(self.store.users.list_users("a", start, count), errors.BAD_REQUEST)
            await self.refused(self.store.users.list_users("a", start, count, admin=True),
                               errors.BAD_REQUEST)

    async def test_results_are_values_or_copies(self):
        users = self.store.users
        await users.add_user(User("a", "ann", "h"))
        with self.assertRaises(attr.exceptions.FrozenInstanceError):
            (await users.get_user("a", "ann")).password = "stolen"
        (await users.get_users("a", ["ann"])).append(User("a", "intruder", "h"))
        _, listed = await users.list_users("a", 0, 10)
        listed.clear()
        self.assertEqual(await users.get_users("a", ["ann", "intruder"]), [User("a", "ann", "h")])
        self.assertEqual(await users.list_users("a", 0, 10), (1, [User("a", "ann", "h")]))

    async def test_profiles_round_trip(self):
        @settings(max_examples=self.property_examples)
        @given(st.lists(PROFILES, max_size=4, unique_by=lambda user: user.username),
               st.lists(st.tuples(st.integers(0, 3), PROFILES), max_size=4))
        def check(profiles, updates):
            app = self.fresh_app()
            kept = {}
            for profile in profiles:
                user = attr.evolve(profile, app=app)
                self.blocking(self.store.users.add_user, user)
                kept[user.username] = user
            for which, values in updates:
                if not kept:
                    break
                name = sorted(kept)[which % len(kept)]
                changes = {field: getattr(values, field) for field in sorted(USER_CHANGES)
                           if which % 2 or field in model.PROFILE_FIELDS}
                kept[name] = attr.evolve(kept[name], **changes)
                self.assertEqual(self.blocking(self.store.users.update_user, app, name, changes),
                                 kept[name])
            for name, user in kept.items():
                self.assertEqual(self.blocking(self.store.users.get_user, app, name), user)
            for admin in (False, True):  # in registration order: updates keep the places
                wanted = [user for user in kept.values() if user.admin is admin]
                self.assertEqual(self.blocking(self.store.users.list_users, app, 0, 10, admin),
                                 (len(wanted), wanted))

        await self.run_property(check)


class MemoryUsersTests(UsersContract, OnMemory, unittest.TestCase):
    pass


class SqliteUsersTests(UsersContract, OnSqlite, unittest.TestCase):
    pass


class RedisUsersTests(UsersContract, OnRedis, unittest.TestCase):
    pass
