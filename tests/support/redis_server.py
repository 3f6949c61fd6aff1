"""A real redis-server for the tests: on a free loopback port, in a temporary directory, AOF on.

L{shared_server} is one server per test process, started on first use and stopped at exit;
L{empty_redis} empties it for a test. A test that stops, kills or restarts Redis makes a
L{RedisServer} of its own. L{SentinelGroup} is a master, a replica and three Sentinels, for
failover tests; L{RedisServer} takes C{tls=(cert, key, ca)} to listen with TLS only.

Without the redis-server program a test is skipped, but fails under C{CI=true}.
"""
import atexit
import os
import shutil
import socket
import ssl
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

    def __init__(self, directory=None, port=None, appendfsync="always", extra=(),
                 replicaof=None, tls=None):
        """
        @param replicaof: the port of a master on 127.0.0.1 to replicate.
        @param tls: C{(cert, key, ca)} files: listen with TLS only (on C{port}), clients not
            asked for a certificate.
        """
        self.program = redis_program()
        self.directory = directory or tempfile.mkdtemp(prefix="jim-redis-")
        self.port = port or free_port()
        self.appendfsync = appendfsync
        self.extra = tuple(extra)
        self.replicaof = replicaof
        # redis-server runs in its directory: the files' paths must not be relative
        self.tls = tuple(os.path.abspath(path) for path in tls) if tls else None
        self.process = None

    def url(self, db=0):
        if self.tls:  # the name a certificate is usually for, and its CA
            return f"rediss://localhost:{self.port}/{db}?ca={self.tls[2]}"
        return f"redis://127.0.0.1:{self.port}/{db}"

    def arguments(self):
        args = [self.program, "--bind", "127.0.0.1", "--dir", self.directory,
                "--appendonly", "yes", "--appendfsync", self.appendfsync, "--save", "",
                "--daemonize", "no", "--logfile", "redis.log"]
        if self.tls:
            cert, key, ca = self.tls
            args += ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", cert,
                     "--tls-key-file", key, "--tls-ca-cert-file", ca,
                     "--tls-auth-clients", "no"]
        else:
            args += ["--port", str(self.port)]
        if self.replicaof:
            args += ["--replicaof", "127.0.0.1", str(self.replicaof)]
        return args + list(self.extra)

    def start(self, timeout=10.0):
        """Start it (again: same port, same files) and wait until it answers PING."""
        self.process = subprocess.Popen(self.arguments(), stdout=subprocess.DEVNULL,
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

    def _connect(self):
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        if self.tls:  # the server's certificate is trusted, whatever name it is for
            context = ssl.create_default_context(cafile=self.tls[2])
            context.check_hostname = False
            connection = context.wrap_socket(connection)
        return connection

    def command(self, *args):
        """Send one command (text arguments) and return the raw reply: for tests only."""
        request = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
        with self._connect() as s:
            s.sendall(request.encode())
            return s.recv(65536)

    def query(self, *args):
        """Send one command (text arguments) and return its reply parsed: text, a number, a
        list, None, or a RedisReplyError."""
        request = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
        with self._connect() as s:
            s.sendall(request.encode())
            with s.makefile("rb") as replies:
                return _read_reply(replies)

    def info(self, section="replication"):
        """C{INFO section} as a dict of text."""
        lines = self.query("INFO", section).splitlines()
        return dict(line.split(":", 1) for line in lines if ":" in line)

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


class RedisReplyError(Exception):
    """An error reply."""


def _read_reply(replies):
    line = replies.readline()
    if not line.endswith(b"\r\n"):
        raise OSError("the connection closed mid-reply")
    kind, rest = line[:1], line[1:-2].decode()
    if kind == b"+":
        return rest
    if kind == b"-":
        return RedisReplyError(rest)
    if kind == b":":
        return int(rest)
    if kind == b"$":
        if int(rest) < 0:
            return None
        data = replies.read(int(rest) + 2)
        return data[:-2].decode(errors="replace")
    if kind == b"*":
        return None if int(rest) < 0 else [_read_reply(replies) for _ in range(int(rest))]
    raise OSError(f"not a Redis reply: {line!r}")


class Sentinel(RedisServer):
    """A Redis Sentinel (C{redis-server sentinel.conf --sentinel}) watching the master on
    127.0.0.1:C{master} as C{service}, with a quorum of C{quorum}: it takes a master for down
    after C{down_after} ms without an answer."""

    def __init__(self, master, service="mymaster", quorum=2, down_after=1000,
                 failover_timeout=10000, directory=None, port=None):
        super().__init__(directory=directory, port=port)
        self.master = master
        self.service = service
        self.quorum = quorum
        self.down_after = down_after
        self.failover_timeout = failover_timeout
        self.config = os.path.join(self.directory, "sentinel.conf")

    def arguments(self):
        # the Sentinel rewrites its configuration file (what it learns): written once only,
        # so that a restarted Sentinel keeps what it knew
        if not os.path.exists(self.config):
            service = self.service
            with open(self.config, "w") as f:
                f.write(f"port {self.port}\n"
                        "bind 127.0.0.1\n"
                        f"dir {self.directory}\n"
                        "logfile redis.log\n"
                        f"sentinel monitor {service} 127.0.0.1 {self.master} {self.quorum}\n"
                        f"sentinel down-after-milliseconds {service} {self.down_after}\n"
                        f"sentinel failover-timeout {service} {self.failover_timeout}\n"
                        f"sentinel parallel-syncs {service} 1\n")
        return [self.program, self.config, "--sentinel"]

    def master_address(self):
        """C{(host, port)} of the master as this Sentinel names it now."""
        host, port = self.query("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service)
        return host, int(port)

    def master_state(self):
        """C{SENTINEL MASTER service} as a dict of text."""
        reply = self.query("SENTINEL", "MASTER", self.service)
        return dict(zip(reply[::2], reply[1::2]))


class SentinelGroup:
    """A master, its replica and three Sentinels (quorum 2), all on 127.0.0.1, each in a
    temporary directory of its own; C{url(db)} is how jim names the service.

    L{start} returns once the replica is in sync and every Sentinel knows the replica and
    the two other Sentinels, so that a failover can happen from then on.
    """

    def __init__(self, service="mymaster", down_after=1000, failover_timeout=10000,
                 sentinels=3):
        self.service = service
        self.master = RedisServer()
        self.replica = RedisServer(replicaof=self.master.port)
        self.sentinels = [Sentinel(self.master.port, service, down_after=down_after,
                                   failover_timeout=failover_timeout)
                          for _ in range(sentinels)]

    def url(self, db=0):
        hosts = ",".join(f"127.0.0.1:{sentinel.port}" for sentinel in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.service}/{db}"

    def servers(self):
        return [self.master, self.replica, *self.sentinels]

    def start(self, timeout=20.0):
        try:
            for server in self.servers():
                server.start()
            self.wait(self.ready, timeout, "the replica and the Sentinels to find each other")
        except BaseException:
            self.remove()
            raise
        return self

    def ready(self):
        if self.replica.info().get("master_link_status") != "up":
            return False
        for sentinel in self.sentinels:
            state = sentinel.master_state()
            if (state.get("num-slaves") != "1"
                    or state.get("num-other-sentinels") != str(len(self.sentinels) - 1)):
                return False
        return True

    def wait(self, condition, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if condition():
                    return
            except (OSError, AttributeError, TypeError, ValueError):
                pass  # not up yet, or not answering as it will
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n" + self.logs())
            time.sleep(0.05)

    def server_at(self, port):
        return {server.port: server for server in (self.master, self.replica)}[port]

    def current_master(self):
        """The L{RedisServer} every Sentinel names as the master."""
        named = {sentinel.master_address() for sentinel in self.sentinels}
        assert len(named) == 1, named
        (_, port), = named
        return self.server_at(port)

    def logs(self, chars=1500):
        return "\n".join(f"--- {name}:\n{server.log_tail(chars)}" for name, server in
                         [("master", self.master), ("replica", self.replica),
                          *((f"sentinel {n}", s) for n, s in enumerate(self.sentinels))])

    def remove(self):
        for server in self.servers():
            server.remove()


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
