"""A real ``twistd jim`` process for integration tests.

Use it from a L{twisted.trial.unittest.TestCase} running on the real reactor::

    server = await JimServer.start(self)
    ...  # talk to 127.0.0.1:server.port
    await server.restart()

The process is spawned with C{reactor.spawnProcess}, is ready once it accepts TCP connections
and C{GET /healthz} answers 200, and is always ended by a cleanup registered on the test case, so
a failing test never leaves a server behind.
"""
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

from twisted.internet import error, task
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.web.client import Agent

from tests.support.process import TailProcess

#: the checkout root: twistd must run here to find the C{twisted/plugins/jim_plugin.py} dropin
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]

#: how long a start, stop or restart may take before the test fails
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
POLL_INTERVAL = 0.05

#: how many characters of log and output a failure message shows
TAIL_CHARS = 4000


def free_port():
    """A TCP port on the loopback interface that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerFiles:
    """What a test reads of a jim child bound to 127.0.0.1:C{port} with its data in
    C{data_dir}: its URL, its log, and its default app's credentials."""

    @property
    def url(self):
        """The base URL of the HTTP side, ending with a slash."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def log_path(self):
        return os.path.join(self.data_dir, "twistd.log")

    def log_text(self):
        """Everything twistd logged so far (an empty string before the log exists)."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log_file:
                return log_file.read()
        except FileNotFoundError:
            return ""

    def _default_app(self):
        with open(os.path.join(self.data_dir, "default-app.json"), encoding="utf-8") as app_file:
            return json.load(app_file)

    @property
    def app_key(self):
        return self._default_app()["appKey"]

    @property
    def master_secret(self):
        return self._default_app()["masterSecret"]


class JimServer(ServerFiles):
    """One C{twistd -n jim} child process bound to 127.0.0.1:C{port}."""

    def __init__(self, testcase, port, data_dir, extra_args, reactor):
        self._testcase = testcase
        self._reactor = reactor
        self._extra_args = tuple(extra_args)
        self._process = None
        self._transport = None
        self.port = port
        self.data_dir = data_dir

    @classmethod
    async def start(cls, testcase, extra_args=(), data_dir=None, reactor=None):
        """Start a server with open registration and cheap password hashing, and wait for it."""
        if reactor is None:
            from twisted.internet import reactor
        if data_dir is None:
            data_dir = os.path.abspath(testcase.mktemp())
        os.makedirs(data_dir, exist_ok=True)
        server = cls(testcase, free_port(), data_dir, extra_args, reactor)
        testcase.addCleanup(server._cleanup)
        await server._spawn_and_wait()
        return server

    # -- what tests use -------------------------------------------------------------------

    @property
    def running(self):
        return self._process is not None and self._process.exit_reason is None

    async def stop(self):
        """SIGTERM: a clean shutdown. Waits for the process to exit; SIGKILL if it will not."""
        await self._end(signal.SIGTERM, STOP_TIMEOUT)

    async def kill(self):
        """SIGKILL: the process gets no chance to clean up (a crash, as far as data goes)."""
        await self._end(signal.SIGKILL, STOP_TIMEOUT)

    async def restart(self):
        """Stop if still running, then start again on the same port with the same data."""
        if self.running:
            await self.stop()
        await self._spawn_and_wait()

    # -- process handling -----------------------------------------------------------------

    def _argv(self):
        return [
            sys.executable,
            "-c",
            "from twisted.scripts.twistd import run; run()",
            "-n",
            "--pidfile=",
            f"--logfile={self.log_path}",
            "jim",
            "--listen",
            f"tcp:{self.port}:interface=127.0.0.1",
            "--data",
            self.data_dir,
            "--open-registration",
            "--scrypt-cost",
            "1024:8:1",
            *self._extra_args,
        ]

    async def _spawn_and_wait(self):
        self._process = TailProcess(TAIL_CHARS)
        self._transport = self._reactor.spawnProcess(
            self._process,
            sys.executable,
            self._argv(),
            env=dict(os.environ),
            path=str(REPOSITORY_ROOT),
        )
        try:
            await self._wait_until_ready()
        except BaseException:
            await self._end(signal.SIGKILL, STOP_TIMEOUT)
            raise

    async def _wait_until_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        last_problem = "no attempt yet"
        while time.monotonic() < deadline:
            if not self.running:
                self._fail(f"twistd exited during start-up ({self._process.exit_reason})")
            problem = await self._readiness_problem()
            if problem is None:
                return
            last_problem = problem
            await task.deferLater(self._reactor, POLL_INTERVAL, lambda: None)
        self._fail(f"twistd was not ready within {START_TIMEOUT:.0f} s ({last_problem})")

    async def _readiness_problem(self):
        """None once the server is ready, else a short reason why not yet."""
        endpoint = TCP4ClientEndpoint(self._reactor, "127.0.0.1", self.port, timeout=1)
        try:
            probe = await endpoint.connect(Factory.forProtocol(Protocol))
        except (error.ConnectError, error.TimeoutError) as refused:
            return f"connect: {refused.__class__.__name__}"
        probe.transport.loseConnection()
        try:
            response = await Agent(self._reactor).request(b"GET", f"{self.url}healthz".encode())
            response.deliverBody(Protocol())  # the body does not matter; let the request finish
        except Exception as failed:  # any HTTP-level failure just means "not yet"
            return f"GET /healthz: {failed!r}"
        if response.code != 200:
            return f"GET /healthz answered {response.code}"
        return None

    async def _end(self, first_signal, timeout):
        if not self.running:
            return
        for signum in (first_signal, signal.SIGKILL):
            try:
                self._transport.signalProcess(signum)
            except error.ProcessExitedAlready:
                pass
            if await self._exited_within(timeout):
                return
        self._fail("twistd did not exit even after SIGKILL")

    async def _exited_within(self, timeout):
        ended = self._process.ended
        deadline = time.monotonic() + timeout
        while not ended.called and time.monotonic() < deadline:
            await task.deferLater(self._reactor, POLL_INTERVAL, lambda: None)
        return ended.called

    async def _cleanup(self):
        await self._end(signal.SIGTERM, STOP_TIMEOUT)

    def _fail(self, what):
        output = bytes(self._process.output).decode("utf-8", "replace") if self._process else ""
        self._testcase.fail(
            f"{what}\n--- twistd.log (tail) ---\n{self.log_text()[-TAIL_CHARS:]}"
            f"\n--- stdout/stderr (tail) ---\n{output[-TAIL_CHARS:]}"
        )
