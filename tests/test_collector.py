"""The collector settings a jim process runs with, and that /metrics reports them."""
import gc

from twisted.trial.unittest import SynchronousTestCase

from jim import collector
from jim.metrics import Metrics


class CollectorTests(SynchronousTestCase):
    def setUp(self):
        saved = gc.get_threshold()
        self.addCleanup(gc.set_threshold, *saved)

    def test_tune_sets_the_thresholds(self):
        collector.tune((12345, 7, 3))
        self.assertEqual(gc.get_threshold(), (12345, 7, 3))
        collector.tune()
        self.assertEqual(gc.get_threshold(), collector.THRESHOLDS)
        self.assertGreater(collector.THRESHOLDS[0], 700)  # rarer than CPython's default

    def test_stats_count_passes(self):
        gc.disable()  # no automatic pass may slip in between (gc.collect still runs)
        self.addCleanup(gc.enable)
        before = dict((g, n) for g, n, _ in collector.stats())
        gc.collect(0)
        after = dict((g, n) for g, n, _ in collector.stats())
        self.assertEqual(after[0], before[0] + 1)
        self.assertEqual(sorted(after), [0, 1, 2])

    def test_metrics_report_the_collector(self):
        gc.collect(2)
        text = Metrics().render()
        full = [line for line in text.splitlines()
                if line.startswith('jim_gc_collections_total{generation="2"}')]
        self.assertEqual(len(full), 1)
        self.assertGreaterEqual(float(full[0].split()[-1]), 1)
        self.assertIn("jim_gc_frozen_objects ", text)
