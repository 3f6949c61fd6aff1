"""The Redis bus's record (L{jim.bus.bookkeeping}) of the messages sent on to it lately."""
from twisted.internet import task
from twisted.trial.unittest import SynchronousTestCase

from jim.bus.bookkeeping import RecentlySeen


class RecentlySeenTests(SynchronousTestCase):
    def test_a_key_is_fresh_once_then_again_after_its_time(self):
        clock = task.Clock()
        seen = RecentlySeen(clock, seconds=30, most=100)
        self.assertEqual(seen.first_time(["a", "b", "a"]), ["a", "b"])
        clock.advance(29)
        self.assertEqual(seen.first_time(["a", "c"]), ["c"])
        clock.advance(2)  # a and b are 31 s old, c 2 s
        self.assertEqual(seen.first_time(["a", "b", "c"]), ["a", "b"])

    def test_at_most_so_many_besides_the_latest_call(self):
        seen = RecentlySeen(task.Clock(), seconds=30, most=3)
        seen.first_time(["a", "b", "c"])
        self.assertEqual(seen.first_time(list("defgh")), list("defgh"))
        self.assertEqual(len(seen), 5, "a call's own keys all stay")
        self.assertEqual(seen.first_time(["h", "a"]), ["a"])
        self.assertEqual(len(seen), 3)

    def test_a_large_call_evicts_every_older_key_and_keeps_its_own(self):
        """(Speed is the benchmarks' to measure, not a test's: this checks what eviction
        leaves, at a size where a quadratic eviction would show in the suite's time.)"""
        seen = RecentlySeen(task.Clock(), seconds=30, most=1)
        self.assertEqual(len(seen.first_time(range(40_000))), 40_000)
        self.assertEqual(seen.first_time(range(40_000, 80_000)), list(range(40_000, 80_000)))
        self.assertEqual(len(seen), 40_000)
        self.assertEqual(seen.first_time([0, 79_999]), [0])
