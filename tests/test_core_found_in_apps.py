"""L{jim.core.cross_apps.found_in_apps}: a user's deletion asks every app, a batch at a time."""
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.core.cross_apps import found_in_apps
from jim.errors import JimError


class FoundInAppsTests(SynchronousTestCase):
    def test_reads_run_a_batch_at_a_time_and_what_they_found_comes_in_order(self):
        waiting = {}

        def read(key):
            waiting[key] = defer.Deferred()
            return waiting[key]

        done = defer.ensureDeferred(found_in_apps(["a", "b", "c", "d", "e"], read, at_once=2))
        self.assertEqual(sorted(waiting), ["a", "b"], "the first batch, together")
        waiting["b"].callback(["g1"])
        self.assertEqual(sorted(waiting), ["a", "b"], "the next batch waits for this one")
        waiting["a"].callback([])
        self.assertEqual(sorted(waiting), ["a", "b", "c", "d"])
        waiting["d"].callback(None)
        waiting["c"].callback(["r7", "r8"])
        waiting["e"].callback(["g2"])
        self.assertEqual(self.successResultOf(done), [("b", ["g1"]), ("c", ["r7", "r8"]),
                                                      ("e", ["g2"])])

    def test_coroutines_are_read_too_and_a_failure_comes_as_it_was(self):
        async def read(key):
            if key == "bad":
                raise JimError(errors.SERVER_ERROR, "the store is away")
            return [key]

        self.assertEqual(self.successResultOf(defer.ensureDeferred(
            found_in_apps(["x", "y"], read))), [("x", ["x"]), ("y", ["y"])])
        failure = self.failureResultOf(defer.ensureDeferred(found_in_apps(["x", "bad"], read)),
                                       JimError)
        self.assertEqual(failure.value.code, errors.SERVER_ERROR)
