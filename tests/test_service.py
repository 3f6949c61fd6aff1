"""jim.service: the web chat URL it announces, the private files it writes, and what it changes
in the interpreter when it is the whole process (and only then)."""
import gc
import os
import sys

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from jim import collector, service
from jim.config import Config
from jim.service import GIL_SWITCH_SECONDS, JimService, web_url


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


class WebUrlTests(SynchronousTestCase):
    def test_urls_a_browser_can_open(self):
        self.assertEqual(web_url("0.0.0.0", 8888, False), "http://localhost:8888/")
        self.assertEqual(web_url("::", 8888, True), "https://localhost:8888/")
        self.assertEqual(web_url("fd00::7", 443, True), "https://[fd00::7]:443/")
        self.assertEqual(web_url("10.0.0.7", 80, False), "http://10.0.0.7:80/")


class PrivateFileTests(SynchronousTestCase):
    def test_private_files_are_written_whole_or_not_at_all(self):
        folder = self.mktemp()
        os.makedirs(folder)
        path = os.path.join(folder, "secret")
        service._write_private(path, b"one")
        self.assertRaises(FileExistsError, service._write_private, path, b"two")
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"one")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(os.listdir(folder), ["secret"])  # no draft left behind

    def test_a_draft_left_by_a_crash_is_never_written_through(self):
        folder = self.mktemp()
        os.makedirs(folder)
        path = os.path.join(folder, "default-app.json")
        real_unlink = os.unlink

        def crash(name):  # jim dies between linking the file and removing its draft
            self.patch(os, "unlink", real_unlink)
            raise KeyboardInterrupt("killed")

        self.patch(os, "unlink", crash)
        self.assertRaises(KeyboardInterrupt, service._write_private, path, b"old")
        os.rename(path, path + ".bak")  # the operator moves the file away...
        service._write_private(path, b"new")  # ...and a new one is written
        with open(path + ".bak", "rb") as f:
            self.assertEqual(f.read(), b"old")  # not through the leftover draft's shared inode
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"new")
