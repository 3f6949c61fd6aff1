"""A real redis-server for the tests: on a free loopback port, in a temporary directory, AOF on.

L{shared_server} is one server per test process, started on first use and stopped at exit;
L{empty_redis} empties it for a test. A test that stops, kills or restarts Redis makes a
L{RedisServer} of its own.

Without the redis-server program a test is skipped, but fails under C{CI=true}.
"""
import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from unittest import SkipTest

def redis_program():
    """The redis-server executable; skips the test if there is none, but fails it on CI."""
    found = shutil.which("redis-server")
    if found:
        return found
    if os.environ.get("CI") == "true":
        raise AssertionError("redis-server is required on CI for the Redis tests but was not found")
    raise SkipTest("redis-server is not installed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """One redis-server process. C{url(db)} is how jim names it."""

    def __init__(self, directory=None, port=None, appendfsync="always", extra=()):
        self.program = redis_program()
        self.directory = directory or tempfile.mkdtemp(prefix="jim-redis-")
        self.port = port or free_port()
        self.appendfsync = appendfsync
        self.extra = tuple(extra)
        self.process = None

    def url(self, db=0):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout=10.0):
        """Start it (again: same port, same files) and wait until it answers PING."""
        args = [self.program, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.directory, "--appendonly", "yes",
                "--appendfsync", self.appendfsync, "--save", "", "--daemonize", "no", "--logfile", "redis.log", *self.extra]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"redis-server did not start:\n{self.log_tail()}")
            time.sleep(0.01)
        return self

    def answers(self):
        try:
            return self.command("PING") == b"+PONG\r\n"
        except OSError:
            return False

    def command(self, *args):
        """Send one command (text arguments) and return the raw reply: for tests only."""
        request = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(request.encode())
            return s.recv(65536)

    def stop(self):
        """Stop it as an operator would (SIGTERM: it finishes writing its AOF)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def kill(self):
        """Kill it at once (SIGKILL)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def remove(self):
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, chars=2000):
        try:
            with open(os.path.join(self.directory, "redis.log"), errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return "(no log)"


_shared = None


def shared_server():
    """This process's shared L{RedisServer}, started on first use."""
    global _shared
    if _shared is None:
        _shared = RedisServer().start()
        atexit.register(_shared.remove)
    return _shared


def empty_redis():
    """The URL of the shared server's database 0, emptied: tests of one process run one at a
    time, so each starts on a clean Redis."""
    server = shared_server()
    reply = server.command("FLUSHALL")
    assert reply == b"+OK\r\n", reply
    return server.url(0)
