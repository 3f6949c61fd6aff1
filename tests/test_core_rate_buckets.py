"""Token buckets by name (L{jim.core.rate_buckets.RateLimits}) on a Clock: a bucket per app,
or per app user, refilled continuously over its window; several units taken at once, or none;
memory kept bounded by dropping the buckets that refilled, and past a cap the oldest."""
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from jim.core.rate_buckets import RateLimits


class RateLimitsTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()

    def test_a_bucket_empties_and_refills(self):
        limits = RateLimits(60, self.clock)
        taken = [limits.take("app")[0] for _ in range(61)]
        self.assertEqual(taken, [True] * 60 + [False])
        self.clock.advance(1.0)  # one a second
        self.assertEqual(limits.take("app")[:2], (True, 0))

    def test_each_user_of_an_app_has_a_bucket_of_its_own(self):
        limits = RateLimits(2, self.clock)
        for _ in range(2):
            self.assertTrue(limits.take(("app", "alice"))[0])
        self.assertFalse(limits.take(("app", "alice"))[0])
        self.assertTrue(limits.take(("app", "bob"))[0])
        self.assertTrue(limits.take("app")[0])

    def test_buckets_that_refilled_are_dropped(self):
        limits = RateLimits(60, self.clock)
        for n in range(100):
            limits.take(("app", f"user{n}"))
        self.assertEqual(len(limits), 100)
        self.clock.advance(1.0)  # each has its one call back: full again
        limits.take("app")
        self.assertEqual(len(limits), 1)

    def test_memory_is_capped_oldest_first(self):
        limits = RateLimits(60, self.clock, max_buckets=10)
        for n in range(25):
            limits.take(("app", f"user{n}"))
        self.assertLessEqual(len(limits), 10)
        # a user whose bucket was dropped starts with a full one: never fewer calls than due
        self.assertEqual(limits.take(("app", "user0"))[:2], (True, 59))

    def test_no_rate_keeps_nothing(self):
        limits = RateLimits(0, self.clock)
        self.assertEqual(limits.take("app"), (True, None, 0.0))
        self.assertEqual(len(limits), 0)

    def test_units_are_taken_all_or_none_over_a_window_of_its_own(self):
        limits = RateLimits(6, self.clock, window=3600.0)  # six an hour
        self.assertEqual(limits.take("alice", count=4), (True, 2, 2400.0))
        self.assertEqual(limits.take("alice", count=3), (False, 2, 600.0))
        self.assertEqual(limits.take("alice", count=2)[:2], (True, 0))
        self.clock.advance(600.0)  # one back every ten minutes
        self.assertEqual(limits.take("alice", count=2)[:2], (False, 1))
        self.assertEqual(limits.take("alice")[:2], (True, 0))
        self.assertEqual(limits.take("alice", count=7)[0], False)  # never, but says so

    def test_units_given_back_are_there_again_up_to_a_full_bucket(self):
        limits = RateLimits(6, self.clock, window=3600.0)
        limits.take("alice", count=5)
        limits.give_back("alice", 3)
        self.assertEqual(limits.take("alice", count=4)[:2], (True, 0))
        limits.give_back("alice", 10)
        self.assertEqual(limits.take("alice", count=6)[:2], (True, 0))
        limits.give_back("nobody", 2)  # none taken: nothing to give back
        self.assertEqual(limits.take("nobody", count=6)[:2], (True, 0))
