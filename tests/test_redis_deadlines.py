"""One timer for every Redis command's timeout (L{jim.redis.deadlines}): each command is
cancelled when its own time is up, not before, and never once answered."""
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from jim.redis.deadlines import Deadlines


class DeadlinesTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.deadlines = Deadlines(self.clock, 5.0)
        self.cancelled = []

    def command(self, name):
        pending = defer.Deferred()
        pending.addErrback(lambda f: self.cancelled.append((name, self.clock.seconds()))
                           if f.check(defer.CancelledError) else f)
        self.deadlines.watch(pending)
        return pending

    def test_each_command_is_cancelled_at_its_own_deadline(self):
        self.command("first")
        self.clock.advance(1.5)
        self.command("second")
        self.clock.advance(3.4)
        self.assertEqual(self.cancelled, [], "nothing is late yet")
        self.clock.advance(0.1)
        self.assertEqual(self.cancelled, [("first", 5.0)])
        self.clock.advance(1.4)
        self.assertEqual(self.cancelled, [("first", 5.0)])
        self.clock.advance(0.1)
        self.assertEqual(self.cancelled, [("first", 5.0), ("second", 6.5)])
        self.assertEqual(self.clock.getDelayedCalls(), [], "no timer once nothing waits")

    def test_an_answered_command_is_never_cancelled(self):
        first = self.command("first")
        self.clock.advance(1)
        late = self.command("late")
        first.callback("PONG")
        self.clock.advance(4)
        self.assertEqual(self.cancelled, [])
        self.clock.advance(1)
        self.assertEqual(self.cancelled, [("late", 6.0)])

    def test_what_was_answered_is_forgotten_as_commands_are_sent(self):
        for n in range(100):
            self.command(n).callback(None)
        self.assertEqual(self.deadlines.watched(), 1, "only the last one, answered since")
        self.clock.advance(5)
        self.assertEqual(self.deadlines.watched(), 0)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_a_command_sent_while_one_is_cancelled_gets_its_whole_time(self):
        pending = self.command("first")
        pending.addBoth(lambda _: self.command("again"))  # as a retry of a script would
        self.command("second")  # sent at 0 too: cancelled with the first
        self.clock.advance(5)
        self.assertEqual(self.cancelled, [("first", 5.0), ("second", 5.0)])
        self.assertEqual(len(self.clock.getDelayedCalls()), 1, "one timer, not two")
        self.clock.advance(4.9)
        self.assertEqual(len(self.cancelled), 2)
        self.clock.advance(0.1)
        self.assertEqual(self.cancelled[-1], ("again", 10.0))

    def test_stop_leaves_no_timer_and_nothing_waiting(self):
        self.command("answered").callback(None)
        self.clock.advance(1)
        self.command("waiting for a connection")
        self.deadlines.stop()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(self.cancelled, [("waiting for a connection", 1.0)])
        self.clock.advance(10)
        self.assertEqual(len(self.cancelled), 1)
