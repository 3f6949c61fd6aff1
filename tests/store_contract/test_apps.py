"""The contract of IStore and its apps area (IAppStore), for every store."""
import attr
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim import errors
from jim.interfaces import IAppStore, IGroupStore, IMessageStore, IRelationStore, IStore, IUserStore
from jim.model import MAX_INT64, App, User
from tests.store_contract.base import ContractCase, OnMemory, OnRedis, OnSqlite

AREAS = {"apps": IAppStore, "users": IUserStore, "relations": IRelationStore,
         "groups": IGroupStore, "messages": IMessageStore}


class AppsContract(ContractCase):
    def test_provides_istore_and_every_area(self):
        self.assertTrue(verifyObject(IStore, self.store))
        for name, interface in AREAS.items():
            self.assertTrue(verifyObject(interface, getattr(self.store, name)), name)

    async def test_add_and_get(self):
        apps = self.store.apps
        app = App("k1", "f00d", "first", 5, friend_mode=True)
        self.assertIsNone(await apps.add_app(app))
        self.assertEqual(await apps.get_app("k1"), app)
        self.assertIs((await apps.get_app("k1")).friend_mode, True)
        self.assertIsNone(await apps.get_app("k2"))
        plain = App("k2", "beef")
        await apps.add_app(plain)
        self.assertEqual(await apps.get_app("k2"), plain)
        self.assertIs((await apps.get_app("k2")).friend_mode, False)

    async def test_a_taken_key_is_refused(self):
        app = App("k1", "f00d", "first", 5)
        await self.store.apps.add_app(app)
        await self.refused(self.store.apps.add_app(App("k1", "beef", "second")), errors.APP_EXISTS)
        self.assertEqual(await self.store.apps.get_app("k1"), app)
        self.assertEqual((await self.store.apps.list_apps(0, 10))[0], 1)

    async def test_update_every_changeable_field(self):
        apps = self.store.apps
        app = App("k1", "f00d", "first", 5)
        await apps.add_app(app)
        for changes in ({"secret_hash": "beef"}, {"name": "renamed"}, {"friend_mode": True},
                        {"friend_mode": False, "name": "again", "secret_hash": "cafe"},
                        {"word_filter": True, "sdk_register": False}, {"sdk_register": True},
                        {"sdk_register": None, "word_filter": False},
                        {"callback_url": "https://app.example/jim?x=1"},
                        {"callback_url": None}, {"cross_apps": ("k3", "k2")},
                        {"cross_apps": ()}, {"rest_rate": 1200}, {"rest_rate": 0},
                        {"rest_rate": None}, {"secret_box": "c2VhbGVk"}, {"secret_box": None}):
            app = attr.evolve(app, **changes)
            self.assertEqual(await apps.update_app("k1", changes), app, changes)
            self.assertEqual(await apps.get_app("k1"), app, changes)
            self.assertIs((await apps.get_app("k1")).word_filter, app.word_filter)
        self.assertEqual(await apps.update_app("k1", {}), app)
        self.assertEqual(app, App("k1", "cafe", "again", 5, False))
        added = App("k2", "f00d", word_filter=True, sdk_register=False, rest_rate=30,
                    secret_box="Ym94")
        await apps.add_app(added)
        self.assertEqual(await apps.get_app("k2"), added)

    async def test_cross_apps_are_kept_sorted_once_each(self):
        apps = self.store.apps
        app = App("k1", "f00d", cross_apps=["k3", "k2", "k3"])
        self.assertEqual(app.cross_apps, ("k2", "k3"))
        await apps.add_app(app)
        self.assertEqual((await apps.get_app("k1")).cross_apps, ("k2", "k3"))
        self.assertEqual((await apps.update_app("k1", {"cross_apps": ["k4", "k2", "k4"]}))
                         .cross_apps, ("k2", "k4"))
        self.assertEqual((await apps.get_app("k1")).cross_apps, ("k2", "k4"))
        self.assertEqual((await apps.list_apps(0, 1))[1][0].cross_apps, ("k2", "k4"))
        await apps.add_app(App("k2", "beef"))
        self.assertEqual((await apps.get_app("k2")).cross_apps, (), "none by default")
        self.assertEqual((await apps.update_app("k1", {"name": "x"})).cross_apps, ("k2", "k4"),
                         "another change keeps them")

    async def test_delete_takes_the_record_only(self):
        apps = self.store.apps
        await apps.add_app(App("k1", "f00d", "first", 5))
        await apps.add_app(App("k2", "beef", "second", 6))
        await self.store.users.add_user(User("k1", "ann", "hash"))
        self.assertIsNone(await apps.delete_app("k1"))
        self.assertIsNone(await apps.get_app("k1"))
        self.assertEqual([a.key for a in (await apps.list_apps(0, 10))[1]], ["k2"])
        self.assertIsNotNone(await self.store.users.get_user("k1", "ann"), "data stays")
        self.assertIsNone(await apps.delete_app("k1"), "no error for no app")
        await apps.add_app(App("k1", "cafe", "again", 7))  # the key is free again
        self.assertEqual((await apps.get_app("k1")).name, "again")

    async def test_update_refusals(self):
        await self.store.apps.add_app(App("k1", "f00d"))
        await self.refused(self.store.apps.update_app("k2", {"name": "x"}), errors.NO_SUCH_APP)
        self.assertIsNone(await self.store.apps.get_app("k2"))
        for fixed in ({"key": "k3"}, {"created": 9}):
            self.assertRaises(ValueError, self.store.apps.update_app, "k1", fixed)
            self.assertRaises(ValueError, self.store.apps.update_app, "k2", fixed)
        self.assertEqual(await self.store.apps.get_app("k1"), App("k1", "f00d"))

    async def test_list_in_creation_order_with_totals(self):
        apps = self.store.apps
        created = [App(key, "h", key.upper()) for key in ("m", "b", "z", "a", "q")]
        for app in created:
            await apps.add_app(app)
        self.assertEqual(await apps.list_apps(0, 10), (5, created))
        self.assertEqual(await apps.list_apps(1, 2), (5, created[1:3]))
        self.assertEqual(await apps.list_apps(4, 2), (5, created[4:]))
        self.assertEqual(await apps.list_apps(5, 2), (5, []))
        self.assertEqual(await apps.list_apps(0, 0), (5, []))
        self.assertEqual(await apps.list_apps(MAX_INT64, MAX_INT64), (5, []))
        await apps.update_app("b", {"name": "changed"})  # an update keeps the place
        self.assertEqual((await apps.list_apps(1, 1))[1], [attr.evolve(created[1], name="changed")])

    async def test_bad_pages_are_refused(self):
        for start, count in ((-1, 1), (0, -1), (MAX_INT64 + 1, 1), (0, MAX_INT64 + 1)):
            await self.refused(self.store.apps.list_apps(start, count), errors.BAD_REQUEST)

    async def test_results_are_values_or_copies(self):
        await self.store.apps.add_app(App("k1", "f00d"))
        app = await self.store.apps.get_app("k1")
        with self.assertRaises(attr.exceptions.FrozenInstanceError):
            app.name = "changed"
        _, listed = await self.store.apps.list_apps(0, 10)
        listed.append(App("intruder", "h"))
        self.assertEqual(await self.store.apps.list_apps(0, 10), (1, [App("k1", "f00d")]))


class MemoryAppsTests(AppsContract, OnMemory, unittest.TestCase):
    pass


class SqliteAppsTests(AppsContract, OnSqlite, unittest.TestCase):
    pass


class RedisAppsTests(AppsContract, OnRedis, unittest.TestCase):
    pass
