"""The Words service: each app's words and switches, a node's cached filter kept current by
the bus, and texts masked on the way in (whether the app's words were in memory or not)."""
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.config import Limits
from jim.core.word_filter import WordFilter
from jim.core.words import check_word, masked
from jim.errors import JimError
from jim.model import Draft, Invalidate
from jim.store.memory import MemoryStore
from tests.support.fakes import APP_KEY, HoldingStore, make_core, send


def text(body, to="bob"):
    return Draft(model.SINGLE, to, model.TEXT, {"text": body})


class MaskedTests(SynchronousTestCase):
    def test_only_texts_are_masked(self):
        words = WordFilter(["fool"])
        self.assertEqual(masked(words, text("a fool")).body, {"text": "a ****"})
        custom = Draft(model.SINGLE, "bob", model.CUSTOM, {"text": "a fool"})
        self.assertIs(masked(words, custom), custom)
        odd = Draft(model.SINGLE, "bob", model.TEXT, {"text": 7})
        self.assertIs(masked(words, odd), odd)
        clean = text("nice")
        self.assertIs(masked(words, clean), clean)
        self.assertIs(masked(WordFilter([]), text("a fool")).body["text"], "a fool")

    def test_the_rest_of_a_text_body_is_kept(self):
        draft = Draft(model.SINGLE, "bob", model.TEXT, {"text": "fool", "extra": 1},
                      extras='{"x":"fool"}')
        self.assertEqual(masked(WordFilter(["fool"]), draft),
                         draft._replace(body={"text": "****", "extra": 1}))

    def test_check_word(self):
        for good in ("a", "坏蛋", "ten chars!", " x "):
            self.assertEqual(check_word(good), good)
        for bad in ("", "   ", "elevenchars", "a\tb", "\x00", 7, None, "\ud800"):
            with self.assertRaises(JimError):
                check_word(bad)


class WordsTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob"))
        self.words = self.fx.core.words
        self.published = []
        self.fx.bus.subscribe(self.published.append, (Invalidate,))

    def done(self, coroutine):
        return self.successResultOf(defer.ensureDeferred(coroutine))

    def refused(self, coroutine, code):
        failure = self.failureResultOf(defer.ensureDeferred(coroutine), JimError)
        self.assertEqual(failure.value.code, code)

    def chat(self, content):
        """alice says C{content} to bob (both connected): what bob gets."""
        send(self.alice, 11, {"chatType": 2, "to": "bob", "content": content})
        [(_, push)] = [c for c in self.bob_client.take() if c[0] == 11]
        return push["data"]["content"]

    def test_a_change_is_told_to_the_other_nodes(self):
        self.done(self.words.add(APP_KEY, ["fool"]))
        self.assertIn(Invalidate(model.WORDS_AREA, APP_KEY, APP_KEY, self.fx.bus.node),
                      self.published)
        self.done(self.words.set_filter(APP_KEY, True))
        self.assertIn(Invalidate(model.APPS_AREA, APP_KEY, APP_KEY, self.fx.bus.node),
                      self.published)

    def test_texts_are_masked_whether_the_words_were_in_memory_or_not(self):
        self.alice, _ = self.fx.login("alice")
        _, self.bob_client = self.fx.login("bob")
        self.done(self.words.add(APP_KEY, ["fool"]))
        self.done(self.words.set_filter(APP_KEY, True))
        self.assertIsNone(self.words.cached(APP_KEY))
        self.assertEqual(self.chat("fool"), "****", "read from the store first")
        self.assertIsNotNone(self.words.cached(APP_KEY))
        self.assertEqual(self.chat("you fool"), "you ****", "from memory")
        # another node changed the list: this one reads it again
        self.fx.core.words.on_bus(Invalidate(model.WORDS_AREA, APP_KEY, APP_KEY, "other"))
        self.successResultOf(self.fx.store.words.add_words(APP_KEY, ["you"], 0, 100))
        self.assertEqual(self.chat("you fool"), "*** ****")

    def test_a_read_that_a_change_overtook_is_not_kept(self):
        store = HoldingStore(MemoryStore(), "all_words")
        fx = make_core(store=store, users=("alice",))
        words = fx.core.words
        reading = defer.ensureDeferred(words.filter_of(APP_KEY))
        words.on_bus(Invalidate(model.WORDS_AREA, APP_KEY, APP_KEY, "other"))
        store.release()
        self.assertEqual(self.successResultOf(reading).words, ())
        self.assertIsNone(words.cached(APP_KEY), "it may be stale: read again next time")

    def test_the_most_words_and_bad_words(self):
        fx = make_core(limits=Limits(sensitive_words=2))
        words = fx.core.words
        self.done(words.add(APP_KEY, ["a", "b"]))
        self.refused(words.add(APP_KEY, ["c"]), errors.TOO_MANY)
        self.refused(words.add(APP_KEY, ["a", "b", "c"]), errors.TOO_MANY)
        self.refused(words.add(APP_KEY, ["x" * 11]), errors.BAD_REQUEST)
        self.refused(words.add(APP_KEY, "ab"), errors.BAD_REQUEST)
        self.refused(words.replace(APP_KEY, "zz", "y"), errors.NO_SUCH_WORD)
        self.refused(words.remove(APP_KEY, "zz"), errors.NO_SUCH_WORD)
        self.assertEqual(self.done(words.list(APP_KEY, 0, 10))[0], 2)

    def test_registration_follows_the_server_until_the_app_sets_it(self):
        self.assertFalse(self.done(self.words.registration_open(APP_KEY)))
        self.fx.core.accounts.open_registration = True
        self.assertTrue(self.done(self.words.registration_open(APP_KEY)))
        self.done(self.words.set_registration(APP_KEY, False))
        self.assertFalse(self.done(self.words.registration_open(APP_KEY)))
        self.refused(self.words.set_registration("nosuchapp", True), errors.NO_SUCH_APP)


class OrderTests(SynchronousTestCase):
    def test_a_message_waiting_for_the_words_is_not_overtaken(self):
        store = HoldingStore(MemoryStore(), "all_words")
        fx = make_core(store=store, users=("alice", "bob", "carol"))
        self.successResultOf(defer.ensureDeferred(fx.core.words.set_filter(APP_KEY, True)))
        carol, _ = fx.login("carol")
        alice, alice_client = fx.login("alice")
        _, bob_client = fx.login("bob")
        send(carol, 11, {"chatType": 2, "to": "bob", "content": "from carol"})
        send(alice, 11, {"chatType": 2, "to": "bob", "content": "one"})
        store.release(count=1)  # the first read of the words answers
        send(alice, 11, {"chatType": 2, "to": "bob", "content": "two"})
        store.release()
        pushed = [body["data"]["content"] for command, body in bob_client.take()
                  if command == 11]
        self.assertEqual(pushed, ["from carol", "one", "two"])
