"""The contract of the sensitive-word area (IWordStore): each app's words in the order added,
added all or none under the app's most, replaced in place, removed; for every store."""
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim import errors
from jim.interfaces import IWordStore
from tests.store_contract.base import ContractCase, OnMemory, OnRedis, OnSqlite


class WordsContract(ContractCase):
    def setUp(self):
        opened = super().setUp()
        opened.addCallback(lambda _: setattr(self, "words", self.store.words))
        return opened

    def test_provides_the_interface(self):
        self.assertTrue(verifyObject(IWordStore, self.words))

    async def test_words_are_listed_in_the_order_added_with_their_time(self):
        self.assertEqual(await self.words.add_words("a", ["fool", "坏蛋", "fool"], 100, 10), 2)
        self.assertEqual(await self.words.add_words("a", ["idiot", "fool"], 200, 10), 1)
        self.assertEqual(await self.words.list_words("a", 0, 10),
                         (3, [("fool", 100), ("坏蛋", 100), ("idiot", 200)]))
        self.assertEqual(await self.words.list_words("a", 1, 1), (3, [("坏蛋", 100)]))
        self.assertEqual(await self.words.list_words("a", 5, 10), (3, []))
        self.assertEqual(await self.words.all_words("a"), ["fool", "坏蛋", "idiot"])
        self.assertEqual(await self.words.all_words("b"), [])
        self.assertEqual(await self.words.list_words("b", 0, 10), (0, []))

    async def test_adding_past_the_most_adds_nothing(self):
        await self.words.add_words("a", ["one", "two"], 100, 3)
        await self.refused(self.words.add_words("a", ["three", "four"], 200, 3), errors.TOO_MANY)
        self.assertEqual(await self.words.all_words("a"), ["one", "two"])
        # words it has already do not count
        self.assertEqual(await self.words.add_words("a", ["two", "three", "one"], 300, 3), 1)
        self.assertEqual(await self.words.add_words("b", ["one", "two", "three"], 300, 3), 3)

    async def test_a_word_replaced_keeps_its_place(self):
        await self.words.add_words("a", ["one", "two", "three"], 100, 10)
        await self.words.replace_word("a", "two", "deux", 500)
        self.assertEqual(await self.words.list_words("a", 0, 10),
                         (3, [("one", 100), ("deux", 500), ("three", 100)]))
        await self.words.replace_word("a", "deux", "deux", 600)  # the same: a new time
        self.assertEqual((await self.words.list_words("a", 0, 10))[1][1], ("deux", 600))
        await self.words.replace_word("a", "one", "three", 700)  # there already: one goes
        self.assertEqual(await self.words.list_words("a", 0, 10),
                         (2, [("deux", 600), ("three", 100)]))
        await self.refused(self.words.replace_word("a", "one", "uno", 800), errors.NO_SUCH_WORD)
        await self.refused(self.words.replace_word("b", "three", "x", 800), errors.NO_SUCH_WORD)

    async def test_remove(self):
        await self.words.add_words("a", ["one", "two"], 100, 10)
        await self.words.remove_word("a", "one")
        self.assertEqual(await self.words.all_words("a"), ["two"])
        await self.refused(self.words.remove_word("a", "one"), errors.NO_SUCH_WORD)
        await self.refused(self.words.remove_word("b", "two"), errors.NO_SUCH_WORD)
        await self.words.add_words("a", ["one"], 200, 10)  # added again: last
        self.assertEqual(await self.words.all_words("a"), ["two", "one"])

    async def test_words_of_any_text(self):
        odd = ["a b", "x\x00y", "{app}", "'quote'", "ü"]
        await self.words.add_words("a{", odd, 1, 10)
        self.assertEqual(await self.words.all_words("a{"), odd)

    async def test_bad_pages_are_refused(self):
        for start, count in ((-1, 1), (0, -1), (0, 2**63)):
            await self.refused(self.words.list_words("a", start, count), errors.BAD_REQUEST)

    async def test_changes_match_the_model(self):
        """Random adds, replaces and removes: the list is what a dict in order says."""
        vocabulary = st.sampled_from(["a", "b", "c", "d", "e"])
        steps = st.lists(st.one_of(
            st.tuples(st.just("add"), st.lists(vocabulary, max_size=3)),
            st.tuples(st.just("replace"), vocabulary, vocabulary),
            st.tuples(st.just("remove"), vocabulary)), max_size=10)

        @settings(max_examples=self.property_examples, deadline=None, derandomize=True)
        @given(steps)
        def check(plan):
            app, model = self.fresh_app(), {}
            for n, (kind, *args) in enumerate(plan):
                method = getattr(self.words, f"{kind}_word" if kind != "add" else "add_words")
                if kind == "add":
                    new = [w for w in dict.fromkeys(args[0]) if w not in model]
                    expected = None if len(model) + len(new) > 4 else len(new)
                    if expected is not None:
                        model.update((w, n) for w in new)
                    call = (app, args[0], n, 4)
                elif kind == "replace":
                    old, new = args
                    expected = None if old not in model else ()
                    if old in model:
                        if new != old and new in model:
                            del model[old]
                        else:
                            model = {(new if w == old else w): (n if w == old else t)
                                     for w, t in model.items()}
                    call = (app, old, new, n)
                else:
                    expected = None if args[0] not in model else ()
                    model.pop(args[0], None)
                    call = (app, args[0])
                try:
                    self.blocking(method, *call)
                except errors.JimError:
                    self.assertIsNone(expected, (kind, args))
                else:
                    self.assertIsNotNone(expected, (kind, args))
                self.assertEqual(self.blocking(self.words.list_words, app, 0, 10),
                                 (len(model), list(model.items())))

        await self.run_property(check)


class MemoryWordsTests(WordsContract, OnMemory, unittest.TestCase):
    pass


class RedisWordsTests(WordsContract, OnRedis, unittest.TestCase):
    pass


class SqliteWordsTests(WordsContract, OnSqlite, unittest.TestCase):
    pass
