"""The filter of the client ids a store may hold (L{jim.store.client_ids}): never a "no" for an
id it was given, rarely a "maybe" for one it was not, and nothing but "maybe" until loaded."""
import random
import unittest

from hypothesis import given
from hypothesis import strategies as st

from jim.store.client_ids import BITS_PER_KEY, Bits, ClientIdFilter, size_for

_ids = st.one_of(st.text(max_size=12), st.integers())
_keys = st.tuples(st.text(max_size=6), st.text(max_size=6), _ids)


class BitsTests(unittest.TestCase):
    @given(st.lists(_keys, max_size=200), st.sampled_from([64, 1024, 1 << 16]))
    def test_never_a_no_for_a_key_added(self, keys, size):
        bits = Bits(size)
        for key in keys:
            bits.add(key)
        for key in keys:
            self.assertTrue(bits.may_hold(key))

    def test_rarely_a_maybe_for_keys_never_added_at_capacity(self):
        rng = random.Random(7)
        bits = Bits(size_for(0))
        capacity = bits.size // BITS_PER_KEY
        for n in range(capacity):
            bits.add(("app", f"u{n % 1000}", f"id-{n}"))
        tried = 20_000
        wrong = sum(bits.may_hold(("app", f"u{rng.randrange(1000)}", f"other-{n}"))
                    for n in range(tried))
        self.assertLess(wrong / tried, 0.03)
        self.assertGreater(wrong, 0, "a filter full to capacity says maybe now and then")

    def test_sizes_are_powers_of_two_with_room(self):
        for count in (0, 1, 10_000, 1_000_000):
            size = size_for(count)
            self.assertEqual(size & (size - 1), 0)
            self.assertGreaterEqual(size, 2 * count * BITS_PER_KEY)
        self.assertEqual(size_for(0, minimum=10), 128)
        self.assertEqual(size_for(100, minimum=10), 2048)
        with self.assertRaises(ValueError):
            Bits(1000)


class ClientIdFilterTests(unittest.TestCase):
    def test_maybe_for_everything_until_loaded(self):
        ids = ClientIdFilter()
        self.assertFalse(ids.loaded)
        self.assertTrue(ids.may_hold("app", "ann", "never sent"))

    def test_what_was_held_and_what_came_meanwhile(self):
        ids = ClientIdFilter()
        ids.added("app", "ann", "during the load")
        ids.load(ClientIdFilter.bits_for(1, [("app", "ann", "before")]), 1)
        ids.added("app", "ann", "after")
        for client_id in ("before", "during the load", "after"):
            self.assertTrue(ids.may_hold("app", "ann", client_id), client_id)
        self.assertFalse(ids.may_hold("app", "ann", "never sent"))
        self.assertFalse(ids.may_hold("app", "bob", "before"), "another sender's")
        self.assertFalse(ids.may_hold("app2", "ann", "before"), "another app's")
        self.assertEqual(ids.held, 3, "one loaded, one meanwhile, one after")

    def test_an_int_and_its_digits_are_different_ids(self):
        ids = ClientIdFilter()
        ids.load(ClientIdFilter.bits_for(1, [("app", "ann", 7)]), 1)
        self.assertTrue(ids.may_hold("app", "ann", 7))
        self.assertFalse(ids.may_hold("app", "ann", "7"))

    def test_a_first_read_that_failed_keeps_nothing_and_says_maybe(self):
        ids = ClientIdFilter()
        ids.added("app", "ann", "before")
        ids.read_failed()
        for n in range(1000):
            ids.added("app", "ann", f"c{n}")
        self.assertFalse(ids.loaded)
        self.assertTrue(ids.may_hold("app", "ann", "anything"))


class GrowingTests(unittest.TestCase):
    """A filter past its capacity asks once to be read again, bigger, and is right throughout:
    while it is read, after, and when the read fails."""

    def full_filter(self):
        asked = []
        ids = ClientIdFilter(on_full=asked.append)
        ids.load(Bits(1024), 0)  # room for 102 keys
        self.assertEqual(ids.capacity, 102)
        for n in range(102):
            ids.added("app", "ann", f"c{n}")
        self.assertEqual(asked, [], "not past its capacity yet")
        ids.added("app", "ann", "c102")
        self.assertEqual(asked, [103])
        self.assertTrue(ids.reading)
        return ids, asked

    def test_asks_once_and_keeps_what_comes_meanwhile(self):
        ids, asked = self.full_filter()
        for n in range(103, 200):
            ids.added("app", "ann", f"c{n}")
        self.assertEqual(asked, [103], "asked once, however much more comes")
        # what the store reads: what it held when it began (here c0..c101)
        bigger = ClientIdFilter.bits_for(102, [("app", "ann", f"c{n}") for n in range(102)])
        ids.load(bigger, 102)
        self.assertFalse(ids.reading)
        self.assertEqual(ids.capacity, bigger.size // BITS_PER_KEY)
        self.assertEqual(ids.held, 200)
        for n in range(200):
            self.assertTrue(ids.may_hold("app", "ann", f"c{n}"), n)
        wrong = sum(ids.may_hold("app", "ann", f"other{n}") for n in range(2000))
        self.assertLess(wrong, 40, "the bigger filter is about 1% wrong, not the full one's")

    def test_the_key_that_filled_it_is_kept_for_the_bigger_one(self):
        """The store is told it is full before it queues the write of that key's message, so
        the reads may not find it: the filter keeps it aside with those that come after."""
        ids, _ = self.full_filter()
        ids.load(ClientIdFilter.bits_for(102, [("app", "ann", f"c{n}") for n in range(102)]), 102)
        self.assertTrue(ids.may_hold("app", "ann", "c102"))

    def test_the_full_filter_answers_while_it_is_read(self):
        ids, _ = self.full_filter()
        for n in range(103):
            self.assertTrue(ids.may_hold("app", "ann", f"c{n}"))

    def test_a_failed_read_asks_again_at_twice_as_many(self):
        ids, asked = self.full_filter()
        ids.read_failed()
        self.assertFalse(ids.reading)
        for n in range(103, 206):
            ids.added("app", "ann", f"c{n}")
        self.assertEqual(asked, [103], "not before it holds twice as many")
        ids.added("app", "ann", "c206")
        self.assertEqual(asked, [103, 207])
        for n in range(207):
            self.assertTrue(ids.may_hold("app", "ann", f"c{n}"))

    def test_without_on_full_it_never_asks(self):
        ids = ClientIdFilter()
        ids.load(Bits(64), 0)
        for n in range(100):
            ids.added("app", "ann", f"c{n}")
        self.assertFalse(ids.reading)
        self.assertTrue(ids.may_hold("app", "ann", "c99"))
