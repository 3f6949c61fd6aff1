"""A real `twistd jim` that cannot start says why and exits non-zero."""
import os
import sys

from twisted.internet import reactor, utils
from twisted.trial.unittest import TestCase

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class StartupFailureTests(TestCase):
    timeout = 60

    async def test_missing_certificate_exits_non_zero(self):
        data = self.mktemp()
        out, err, code = await utils.getProcessOutputAndValue(
            sys.executable,
            [
                "-c", "from twisted.scripts.twistd import run; run()",
                "-n", "--pidfile=", "--logfile=-",
                "jim", "--listen", "tcp:0:interface=127.0.0.1", "--data", data,
                "--tls-cert", "no-such-cert.pem", "--tls-key", "no-such-key.pem",
            ],
            path=ROOT,
            env=dict(os.environ),
            reactor=reactor,
        )
        self.assertEqual(code, 1, (out + err).decode(errors="replace")[-2000:])
        self.assertIn(b"jim could not start", out + err)
        self.assertIn(b"no-such-cert.pem", out + err)
