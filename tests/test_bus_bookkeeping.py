"""The Redis bus's records (L{jim.bus.bookkeeping}): what its connection has not answered, and
which messages were sent on to it lately."""
import time

from twisted.internet import defer, task
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from jim.bus.bookkeeping import PendingCommands, RecentlySeen


class PendingCommandsTests(SynchronousTestCase):
    def test_settled_once_every_command_is_answered(self):
        pending = PendingCommands()
        self.assertTrue(pending.settled)
        first, second = defer.Deferred(), defer.Deferred()
        self.assertIs(pending.track(first), first)
        pending.track(second)
        first.callback(1)
        self.assertFalse(pending.settled)
        second.callback(1)
        self.assertTrue(pending.settled)
        self.assertEqual(self.successResultOf(first), 1, "its result is untouched")

    def test_a_failed_command_is_in_doubt_until_a_later_one_is_answered(self):
        pending = PendingCommands()
        failed, earlier_answer = defer.Deferred(), defer.Deferred()
        pending.track(failed)
        failed.errback(Failure(defer.TimeoutError()))
        self.assertFalse(pending.settled, "past its deadline it may still run")
        self.failureResultOf(failed, defer.TimeoutError)
        later = defer.Deferred()
        pending.track(later)
        later.callback(1)
        self.assertTrue(pending.settled, "a later answer: it ran, or never will")
        # a command sent before the failed one, answered after it, proves nothing
        pending.track(earlier_answer)
        again = defer.Deferred()
        pending.track(again)
        again.errback(Failure(defer.TimeoutError()))
        self.failureResultOf(again)
        earlier_answer.callback(1)
        self.assertFalse(pending.settled)


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

    def test_eviction_takes_linear_time(self):
        def cost(size):
            seen = RecentlySeen(task.Clock(), seconds=30, most=1)
            seen.first_time(range(size))
            started = time.perf_counter()
            seen.first_time(range(size, 2 * size))  # evicts the first call's keys
            return time.perf_counter() - started

        cost(1000)  # warm up
        self.assertLess(cost(40_000) / cost(10_000), 8)
