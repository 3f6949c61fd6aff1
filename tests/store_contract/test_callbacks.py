"""The contract of the callback backlog (ICallbackStore): each app's items in the order
appended, read a batch at a time, deleted by id, counted, trimmed to the newest; the apps that
have items; one lease per app; for every store."""
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor, task
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim.interfaces import ICallbackStore
from tests.store_contract.base import ContractCase, OnMemory, OnRedis, OnSqlite


def texts(items):
    return [(kind, text) for _, kind, text in items]


class CallbacksContract(ContractCase):
    def setUp(self):
        opened = super().setUp()
        opened.addCallback(lambda _: setattr(self, "callbacks", self.store.callbacks))
        return opened

    def test_provides_the_interface(self):
        self.assertTrue(verifyObject(ICallbackStore, self.callbacks))

    async def test_items_come_back_in_the_order_appended(self):
        first = [("message", '{"msgid":1}'), ("status", '{"online":true}')]
        await self.callbacks.append("a", first)
        await self.callbacks.append("a", [("message", '{"text":"你好 \\"q\\" {app}"}')])
        await self.callbacks.append("b", [("message", "b's")])
        await self.callbacks.append("a", [])
        found = await self.callbacks.batch("a", 10)
        self.assertEqual(texts(found), first + [("message", '{"text":"你好 \\"q\\" {app}"}')])
        self.assertEqual(len({item_id for item_id, _, _ in found}), 3)
        self.assertEqual(texts(await self.callbacks.batch("a", 2)), first)
        self.assertEqual(await self.callbacks.batch("a", 0), [])
        self.assertEqual(texts(await self.callbacks.batch("b", 10)), [("message", "b's")])
        self.assertEqual(await self.callbacks.batch("c", 10), [])
        self.assertEqual([await self.callbacks.count(app) for app in "abc"], [3, 1, 0])

    async def test_appends_of_one_turn_keep_their_order(self):
        await self.in_one_turn([(self.callbacks.append, "a", [("message", str(n))])
                                for n in range(20)])
        self.assertEqual([text for _, _, text in await self.callbacks.batch("a", 50)],
                         [str(n) for n in range(20)])

    async def test_delete_by_id(self):
        await self.callbacks.append("a", [("message", str(n)) for n in range(5)])
        await self.callbacks.append("b", [("message", "b")])
        ids = [item_id for item_id, _, _ in await self.callbacks.batch("a", 5)]
        await self.callbacks.delete("a", [ids[0], ids[2]])
        await self.callbacks.delete("a", [ids[0]])  # gone already: nothing
        self.assertEqual([text for _, _, text in await self.callbacks.batch("a", 5)],
                         ["1", "3", "4"])
        self.assertEqual(await self.callbacks.count("b"), 1)
        await self.callbacks.append("a", [("status", "5")])  # after the others still
        self.assertEqual([text for _, _, text in await self.callbacks.batch("a", 5)],
                         ["1", "3", "4", "5"])
        await self.callbacks.delete("a", [])
        self.assertEqual(await self.callbacks.count("a"), 4)

    async def test_trim_drops_the_oldest(self):
        await self.callbacks.append("a", [("message", str(n)) for n in range(6)])
        await self.callbacks.append("b", [("message", "b")])
        self.assertEqual(await self.callbacks.trim("a", 10), 0)
        self.assertEqual(await self.callbacks.trim("a", 4), 2)
        self.assertEqual([text for _, _, text in await self.callbacks.batch("a", 10)],
                         ["2", "3", "4", "5"])
        self.assertEqual(await self.callbacks.trim("a", 4), 0)
        self.assertEqual(await self.callbacks.trim("c", 0), 0)
        self.assertEqual(await self.callbacks.trim("a", 0), 4)
        self.assertEqual(await self.callbacks.count("a"), 0)
        self.assertEqual(await self.callbacks.count("b"), 1)

    async def test_the_apps_with_items(self):
        self.assertEqual(await self.callbacks.pending_apps(), [])
        await self.callbacks.append("a", [("message", "1"), ("message", "2")])
        await self.callbacks.append("b{", [("message", "1")])
        await self.callbacks.append("c", [("message", "1")])
        self.assertEqual(sorted(await self.callbacks.pending_apps()), ["a", "b{", "c"])
        ids = [item_id for item_id, _, _ in await self.callbacks.batch("a", 5)]
        await self.callbacks.delete("a", ids[:1])
        self.assertEqual(sorted(await self.callbacks.pending_apps()), ["a", "b{", "c"])
        await self.callbacks.delete("a", ids[1:])
        await self.callbacks.trim("c", 0)
        self.assertEqual(await self.callbacks.pending_apps(), ["b{"])
        await self.callbacks.append("a", [("status", "3")])
        self.assertEqual(sorted(await self.callbacks.pending_apps()), ["a", "b{"])

    async def test_one_holder_of_a_lease(self):
        self.assertTrue(await self.callbacks.claim("a", "node1", 30))
        self.assertFalse(await self.callbacks.claim("a", "node2", 30))
        self.assertTrue(await self.callbacks.claim("b", "node2", 30))  # another app's
        self.assertTrue(await self.callbacks.claim("a", "node1", 30))  # kept
        await self.callbacks.release("a", "node2")  # not node2's: nothing
        self.assertFalse(await self.callbacks.claim("a", "node2", 30))
        await self.callbacks.release("a", "node1")
        self.assertTrue(await self.callbacks.claim("a", "node2", 30))
        self.assertFalse(await self.callbacks.claim("a", "node1", 30))
        await self.callbacks.release("c", "node1")  # nobody's

    async def test_a_lease_expires(self):
        self.assertTrue(await self.callbacks.claim("a", "node1", 0.05))
        self.assertFalse(await self.callbacks.claim("a", "node2", 0.05))
        await task.deferLater(reactor, 0.2, lambda: None)
        self.assertTrue(await self.callbacks.claim("a", "node2", 30))
        self.assertFalse(await self.callbacks.claim("a", "node1", 30))

    async def test_changes_match_the_model(self):
        """Random appends, deletes of some of a batch and trims: the backlog is what a list
        says, in order."""
        steps = st.lists(st.one_of(
            st.tuples(st.just("append"), st.integers(0, 4)),
            st.tuples(st.just("delete"), st.lists(st.integers(0, 5), max_size=3)),
            st.tuples(st.just("trim"), st.integers(0, 6))), max_size=8)

        @settings(max_examples=self.property_examples, deadline=None, derandomize=True)
        @given(steps)
        def check(plan):
            app, model, made = self.fresh_app(), [], 0
            for kind, arg in plan:
                if kind == "append":
                    new = [("message" if (made + n) % 2 else "status", f"t{made + n}")
                           for n in range(arg)]
                    made += arg
                    self.blocking(self.callbacks.append, app, new)
                    model += new
                elif kind == "delete":
                    batch = self.blocking(self.callbacks.batch, app, 6)
                    chosen = sorted({n for n in arg if n < len(batch)})
                    self.blocking(self.callbacks.delete, app, [batch[n][0] for n in chosen])
                    gone = {batch[n][2] for n in chosen}
                    model = [item for item in model if item[1] not in gone]
                else:
                    dropped = self.blocking(self.callbacks.trim, app, arg)
                    self.assertEqual(dropped, max(0, len(model) - arg))
                    model = model[len(model) - min(arg, len(model)):]
                self.assertEqual(texts(self.blocking(self.callbacks.batch, app, 100)), model)
                self.assertEqual(self.blocking(self.callbacks.count, app), len(model))
                self.assertEqual(app in self.blocking(self.callbacks.pending_apps),
                                 bool(model))

        await self.run_property(check)


class MemoryCallbacksTests(CallbacksContract, OnMemory, unittest.TestCase):
    pass


class RedisCallbacksTests(CallbacksContract, OnRedis, unittest.TestCase):
    pass


class SqliteCallbacksTests(CallbacksContract, OnSqlite, unittest.TestCase):
    pass
