"""The sensitive-word filter: masks the union of all (overlapping, nested, case-folded)
occurrences, as a naive search over every word and every position would, in one pass."""
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim.core.word_filter import WordFilter, fold


def naive_mask(words, text):
    """The reference: for each word and each start, compare the folded slices; mask the
    positions of every match."""
    folded = [fold(c) for c in text]
    masked = [False] * len(text)
    for word in words:
        key = [fold(c) for c in word]
        for start in range(len(text) - len(word) + 1):
            if folded[start:start + len(word)] == key:
                masked[start:start + len(word)] = [True] * len(word)
    return "".join("*" if m else c for c, m in zip(text, masked))


#: few characters, so that matches and overlaps are frequent; "İ".lower() is two characters
#: (compared as itself), "ẞ".lower() is "ß", "K" (Kelvin) lowers to "k"
ALPHABET = "abAB ü中文ßİiẞK"
texts = st.text(alphabet=ALPHABET, max_size=60)
word_lists = st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=5), max_size=8)


class FoldTests(SynchronousTestCase):
    def test_fold(self):
        self.assertEqual("".join(map(fold, "aA中ßẞİK")), "aa中ßßİk")


class PropertyTests(SynchronousTestCase):
    @settings(max_examples=500)
    @given(word_lists, texts)
    def test_as_the_naive_search(self, words, text):
        masked = WordFilter(words).mask(text)
        self.assertEqual(masked, naive_mask(words, text))
        self.assertEqual(len(masked), len(text))

    @settings(max_examples=200)
    @given(word_lists, st.lists(texts, min_size=1, max_size=4))
    def test_built_once_for_many_texts(self, words, many):
        """One filter masks text after text (no state is kept between them)."""
        word_filter = WordFilter(words)
        self.assertEqual([word_filter.mask(t) for t in many], [naive_mask(words, t) for t in many])

    @settings(max_examples=200)
    @given(word_lists, texts, st.randoms(use_true_random=False))
    def test_order_and_repeats_do_not_matter(self, words, text, rnd):
        shuffled = words * 2
        rnd.shuffle(shuffled)
        self.assertEqual(WordFilter(shuffled).mask(text), WordFilter(words).mask(text))

    @settings(max_examples=200)
    @given(word_lists, texts)
    def test_no_match_is_the_same_object(self, words, text):
        if naive_mask(words, text) == text:
            self.assertIs(WordFilter(words).mask(text), text)

    @settings(max_examples=100)
    @given(word_lists, st.lists(st.sampled_from(range(8)), max_size=8), texts)
    def test_words_of_a_text_are_masked(self, words, picks, padding):
        """Words embedded in a text are masked whatever surrounds them."""
        if not words:
            return
        text = padding.join(words[i % len(words)].swapcase() for i in picks)
        self.assertEqual(WordFilter(words).mask(text), naive_mask(words, text))


class ExampleTests(SynchronousTestCase):
    def test_overlapping(self):
        self.assertEqual(WordFilter(["ab", "bc"]).mask("abcd"), "***d")

    def test_nested(self):
        self.assertEqual(WordFilter(["abcde", "bcd"]).mask("xabcdex bcd"), "x*****x ***")
        self.assertEqual(WordFilter(["bcd", "abcde"]).mask("abcdx"), "a***x")
        self.assertEqual(WordFilter(["she", "he", "hers"]).mask("ushers"), "u*****")

    def test_adjacent(self):
        self.assertEqual(WordFilter(["ab"]).mask("ababxab"), "****x**")

    def test_case_insensitive(self):
        self.assertEqual(WordFilter(["Bad"]).mask("bad BAD bAd Bed"), "*** *** *** Bed")
        self.assertEqual(WordFilter(["straße"]).mask("STRAẞE strasse"), "****** strasse")

    def test_two_character_lowercase_is_compared_as_itself(self):
        word_filter = WordFilter(["İz"])
        self.assertEqual(word_filter.mask("İZ iz i̇z"), "** iz i̇z")
        self.assertEqual(WordFilter(["iz"]).mask("İz"), "İz")

    def test_chinese(self):
        word_filter = WordFilter(["敏感", "敏感词", "词汇"])
        self.assertEqual(word_filter.mask("这是敏感词汇吗"), "这是****吗")
        self.assertEqual(word_filter.mask("敏 感"), "敏 感")

    def test_no_words(self):
        word_filter = WordFilter([])
        self.assertFalse(word_filter)
        self.assertEqual(word_filter.words, ())
        text = "anything at all"
        self.assertIs(word_filter.mask(text), text)
        self.assertEqual(word_filter.mask(""), "")

    def test_whole_text(self):
        self.assertEqual(WordFilter(["secret"]).mask("SeCrEt"), "******")

    def test_repeated_words(self):
        word_filter = WordFilter(["b", "a", "b", "A", "a"])
        self.assertTrue(word_filter)
        self.assertEqual(word_filter.words, ("b", "a", "A"))
        self.assertEqual(word_filter.mask("abc"), "**c")

    def test_words_is_read_only(self):
        word_filter = WordFilter(iter(["x", "y"]))  # any iterable, read once
        self.assertEqual(word_filter.words, ("x", "y"))
        with self.assertRaises(AttributeError):
            word_filter.words = ("z",)

    def test_no_match_is_the_same_object(self):
        text = "a perfectly clean message"
        self.assertIs(WordFilter(["bad", "worse"]).mask(text), text)

    def test_bad_words(self):
        self.assertRaises(ValueError, WordFilter, ["ok", ""])
        self.assertRaises(TypeError, WordFilter, ["ok", None])
        self.assertRaises(TypeError, WordFilter, "word")  # a str, not a list of words

    def test_long_texts(self):
        """200k characters against many words: each is checked against an expectation built
        without searching (no clock: a quadratic filter would simply never finish)."""
        words = [f"w{i:04d}" for i in range(2000)] + ["abc"]
        text = ("abc" + "x" * 7) * 20000
        self.assertEqual(len(text), 200000)
        self.assertEqual(WordFilter(words).mask(text), ("***" + "x" * 7) * 20000)

        # every position ends many occurrences, nested in each other
        runs = WordFilter(["a" * n for n in range(1, 11)] + ["a" * 9 + "b"])
        self.assertEqual(runs.mask("A" * 200000), "*" * 200000)

        # long partial matches that never complete: fail links all the way
        near = WordFilter(["a" * 10 + "b", "a" * 5 + "c"] + words)
        clean = "a" * 200000
        self.assertIs(near.mask(clean), clean)
        self.assertEqual(near.mask(clean + "b"), "a" * 199990 + "*" * 11)
