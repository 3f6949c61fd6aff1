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


class AnnouncementTests(TestCase):
    """The start-up log names every listening port as a URL a browser can open."""

    timeout = 30

    async def test_unix_sockets_and_tls_endpoints_are_announced(self):
        from twisted.internet.testing import EventLoggingObserver
        from twisted.logger import globalLogPublisher

        from tests.support.certs import write_pair
        from tests.support.inprocess import start_jim

        folder = self.mktemp()
        os.makedirs(folder)
        cert, key = write_pair(folder)
        sock = os.path.join(folder, "jim.sock")
        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        jim = await start_jim(self, listen=(
            "tcp:0:interface=127.0.0.1",
            f"unix:{sock}",
            f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}",
        ))
        said = [e["log_format"].format(**e) for e in events
                if e.get("log_format", "").startswith("jim listening")]
        tls_port = jim.ports[2].getHost().port
        self.assertEqual(len(said), 3, said)
        self.assertIn(f"web chat at http://localhost:{jim.port}/", said[0])
        self.assertIn(f"jim listening on unix:{sock} ", said[1])
        self.assertIn(f"web chat at https://localhost:{tls_port}/", said[2])
