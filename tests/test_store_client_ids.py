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

    def test_merge_holds_both(self):
        a, b = Bits(1024), Bits(1024)
        a.add(("app", "ann", "1"))
        b.add(("app", "bob", 2))
        a.merge(b)
        self.assertTrue(a.may_hold(("app", "ann", "1")))
        self.assertTrue(a.may_hold(("app", "bob", 2)))
        with self.assertRaises(ValueError):
            a.merge(Bits(2048))

    def test_sizes_are_powers_of_two_with_room(self):
        for count in (0, 1, 10_000, 1_000_000):
            size = size_for(count)
            self.assertEqual(size & (size - 1), 0)
            self.assertGreaterEqual(size, 2 * count * BITS_PER_KEY)
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
        ids.load(ClientIdFilter.bits_for(1, [("app", "ann", "before")]))
        ids.added("app", "ann", "after")
        for client_id in ("before", "during the load", "after"):
            self.assertTrue(ids.may_hold("app", "ann", client_id), client_id)
        self.assertFalse(ids.may_hold("app", "ann", "never sent"))
        self.assertFalse(ids.may_hold("app", "bob", "before"), "another sender's")
        self.assertFalse(ids.may_hold("app2", "ann", "before"), "another app's")
        self.assertEqual(ids.added_since_load, 1)

    def test_an_int_and_its_digits_are_different_ids(self):
        ids = ClientIdFilter()
        ids.load(ClientIdFilter.bits_for(1, [("app", "ann", 7)]))
        self.assertTrue(ids.may_hold("app", "ann", 7))
        self.assertFalse(ids.may_hold("app", "ann", "7"))

    def test_abandoned_it_keeps_nothing_and_says_maybe(self):
        ids = ClientIdFilter()
        ids.added("app", "ann", "before")
        ids.abandon()
        for n in range(1000):
            ids.added("app", "ann", f"c{n}")
        self.assertFalse(ids.loaded)
        self.assertTrue(ids.may_hold("app", "ann", "anything"))
