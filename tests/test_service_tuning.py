"""What JimService changes in the interpreter when it is the whole process, and only then."""
import gc
import sys

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from jim import collector
from jim.config import Config
from jim.service import GIL_SWITCH_SECONDS, JimService


class ProcessTuningTests(SynchronousTestCase):
    def setUp(self):
        interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
        self.addCleanup(sys.setswitchinterval, interval)
        self.addCleanup(gc.set_threshold, *thresholds)
        sys.setswitchinterval(0.005)
        gc.set_threshold(700, 10, 10)

    def test_own_process_shortens_the_switch_interval_and_tunes_the_collector(self):
        JimService(Config(data=self.mktemp()), Clock(), own_process=True)
        self.assertAlmostEqual(sys.getswitchinterval(), GIL_SWITCH_SECONDS, places=6)
        self.assertEqual(gc.get_threshold(), collector.THRESHOLDS)

    def test_embedded_leaves_the_interpreter_alone(self):
        JimService(Config(data=self.mktemp()), Clock(), own_process=False)
        self.assertAlmostEqual(sys.getswitchinterval(), 0.005, places=6)
        self.assertEqual(gc.get_threshold(), (700, 10, 10))
