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

    async def test_unreachable_redis_exits_non_zero_within_seconds(self):
        """Nothing listens at the Redis address: jim exits, for its supervisor to start it
        again, rather than waiting for Redis."""
        from tests.support.redis_server import free_port

        url = f"redis://127.0.0.1:{free_port()}/0"
        started = reactor.seconds()
        out, err, code = await utils.getProcessOutputAndValue(
            sys.executable,
            [
                "-c", "from twisted.scripts.twistd import run; run()",
                "-n", "--pidfile=", "--logfile=-",
                "jim", "--listen", "tcp:0:interface=127.0.0.1", "--data", self.mktemp(),
                "--store", url,
            ],
            path=ROOT,
            env=dict(os.environ),
            reactor=reactor,
        )
        said = (out + err).decode(errors="replace")
        self.assertEqual(code, 1, said[-2000:])
        self.assertIn(f"jim could not start: Redis at {url} does not answer", said)
        self.assertIn("Connection refused", said)
        self.assertNotIn("Traceback", said)
        self.assertLess(reactor.seconds() - started, 15)


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


class ClearStartFailureTests(TestCase):
    """What an operator may get wrong about the data directory stops jim with one clear line."""

    timeout = 30

    async def start(self, **config):
        from twisted.internet.testing import EventLoggingObserver
        from twisted.logger import LogLevel, globalLogPublisher

        from jim.config import Config
        from jim.service import JimService

        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        settings = dict(listen=("tcp:0:interface=127.0.0.1",), scrypt_cost=(2, 1, 1))
        settings.update(config)
        service = JimService(Config(**settings), reactor, exit_on_failure=False, own_process=False)
        service.startService()
        self.addCleanup(service.stopService)
        with self.assertRaises(ValueError) as caught:
            await service.when_ready()
        critical = [e for e in events if e["log_level"] == LogLevel.critical]
        self.assertEqual(len(critical), 1, [e.get("log_format") for e in events])
        self.assertNotIn("log_failure", critical[0])  # a sentence, not a traceback
        return str(caught.exception)

    async def test_the_data_directory_is_a_file(self):
        data = self.mktemp()
        with open(data, "w") as f:
            f.write("not a folder")
        self.assertIn(f"the data directory {data} is not a directory", await self.start(data=data))

    async def test_a_damaged_default_app_file(self):
        data = self.mktemp()
        os.makedirs(data)
        for damaged in ("", "{}", '{"appKey": "k"}', '{"appKey": [], "masterSecret": "s"}'):
            with open(os.path.join(data, "default-app.json"), "w") as f:
                f.write(damaged)
            said = await self.start(data=data)
            self.assertIn("default-app.json is damaged", said)
            self.assertIn("move it away", said)

    async def test_a_damaged_admin_secret_file(self):
        data = self.mktemp()
        os.makedirs(data)
        with open(os.path.join(data, "admin-secret"), "w") as f:
            f.write("short\n")
        said = await self.start(data=data)
        self.assertIn("admin-secret is damaged", said)
        self.assertIn("move it away", said)

    async def test_a_store_that_cannot_be_opened(self):
        data = self.mktemp()
        folder = os.path.join(data, "in-the-way")
        os.makedirs(folder)
        said = await self.start(data=data, store=f"sqlite:{folder}")
        self.assertIn(f"could not open the store {folder}", said)


class RedisStartFailureTests(TestCase):
    """A node whose Redis cannot be used does not start, and does not wait: it stops within
    seconds with one line that names the address and says why (its supervisor starts it again,
    and the operator reads what to fix)."""

    timeout = 60

    async def start(self, store):
        """Start a node on C{store}, which must fail: what it said, in its one critical line."""
        from twisted.internet.testing import EventLoggingObserver
        from twisted.logger import LogLevel, globalLogPublisher

        from jim.config import Config
        from jim.service import JimService

        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        config = Config(listen=("tcp:0:interface=127.0.0.1",), data=self.mktemp(), store=store,
                        scrypt_cost=(2, 1, 1))
        service = JimService(config, reactor, exit_on_failure=False, own_process=False)
        started = reactor.seconds()
        service.startService()
        self.addCleanup(service.stopService)
        with self.assertRaises(ConnectionError):
            await service.when_ready()
        self.assertLess(reactor.seconds() - started, 8, "it fails within seconds")
        critical = [e for e in events if e["log_level"] == LogLevel.critical
                    and e.get("log_format", "").startswith("jim could not start")]
        self.assertEqual(len(critical), 1, [e.get("log_format") for e in events])
        self.assertNotIn("log_failure", critical[0])  # a sentence, not a traceback
        self.service = service
        return critical[0]["log_format"].format(**critical[0])

    async def test_nothing_listens_at_the_redis_address(self):
        from tests.support.redis_server import free_port

        url = f"redis://127.0.0.1:{free_port()}/0"
        said = await self.start(url)
        self.assertIn(f"jim could not start: Redis at {url} does not answer", said)
        self.assertIn("Connection refused", said)

    async def test_no_sentinel_answers(self):
        from tests.support.redis_server import free_port

        url = f"redis+sentinel://127.0.0.1:{free_port()},127.0.0.1:{free_port()}/mymaster/0"
        said = await self.start(url)
        self.assertIn(f"jim could not start: Redis at {url} does not answer", said)
        self.assertIn("no Sentinel named a master of mymaster", said)

    async def test_a_wrong_redis_password(self):
        from tests.support.redis_server import RedisServer

        server = RedisServer().start()
        self.addCleanup(server.remove)
        self.assertEqual(server.query("CONFIG", "SET", "requirepass", "the-right-one"), "OK")
        said = await self.start(f"redis://:a-wrong-one@127.0.0.1:{server.port}/0")
        self.assertIn(f"jim could not start: Redis at redis://127.0.0.1:{server.port}/0", said)
        self.assertIn("could not auth: WRONGPASS", said)
        self.assertNotIn("a-wrong-one", said)

    async def test_redis_refuses_the_bus_its_channels(self):
        """An ACL user without pub/sub channels (Redis 7's default for a new user): the store
        works, but the bus cannot subscribe; the node says so at once."""
        from jim.errors import JimError
        from tests.support.redis_server import RedisServer

        server = RedisServer().start()
        self.addCleanup(server.remove)
        self.assertEqual(server.query("ACL", "SETUSER", "jim", "on", ">secret1", "~*",
                                      "+@all", "resetchannels"), "OK")
        said = await self.start(f"redis://jim:secret1@127.0.0.1:{server.port}/0")
        self.assertIn(f"Redis at redis://127.0.0.1:{server.port}/0 refused to subscribe", said)
        self.assertIn("NOPERM", said)
        # stopped, the bus cannot tell the cluster it leaves either (no PUBLISH on the channel)
        await self.service.stopService()
        self.flushLoggedErrors(JimError)
