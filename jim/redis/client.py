# -*- test-case-name: tests.test_redis_client -*-
"""A pool of connections to one Redis (txredisapi), shaped for what jim asks of it.

- Every command fails, rather than waits, while Redis is away: a command not answered within
  C{timeout} seconds fails with JimError(SERVER_ERROR), so that a sender is told its message
  could not be stored. txredisapi reconnects by itself, without end; the next command after
  that is answered as usual.
- Replies are text and numbers exactly as Redis sends them: C{convertNumbers} is off, so a
  username "123" comes back as the string it is.
- L{Script}s run by their SHA-1 (EVALSHA), loaded again with EVAL when a restarted Redis has
  forgotten them.
"""
import hashlib

import txredisapi
from twisted.internet import defer, endpoints, ssl
from twisted.logger import Logger

from jim import errors
from jim.errors import JimError

#: seconds a command may wait for its answer (a connection included) before it fails
DEFAULT_TIMEOUT = 5.0


class Script:
    """A Lua script, by name: C{client.run(script, keys, args)}."""

    def __init__(self, name, source):
        self.name = name
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    def __repr__(self):
        return f"Script({self.name!r})"


def _tls_options(address, host):
    trust = None
    if address.ca is not None:
        with open(address.ca, "rb") as f:
            trust = ssl.trustRootFromCertificates(
                [ssl.Certificate.loadPEM(f.read())])
    # service-identity checks the certificate names host; TLS 1.2 at least
    return ssl.optionsForClientTLS(host, trustRoot=trust,
                                   extraCertificateOptions={
                                       "raiseMinimumTo": ssl.TLSVersion.TLSv1_2})


def endpoint_for(address, reactor, timeout=DEFAULT_TIMEOUT):
    """A client endpoint to the one Redis at C{address} (TLS when it says so)."""
    host, port = address.hosts[0]
    endpoint = endpoints.HostnameEndpoint(reactor, host, port, timeout=timeout)
    if address.tls:
        endpoint = endpoints.wrapClientTLS(_tls_options(address, host), endpoint)
    return endpoint


class RedisClient:
    """Commands and scripts over a pool of connections to the Redis at an L{RedisAddress}."""

    log = Logger()

    def __init__(self, address, reactor, timeout=DEFAULT_TIMEOUT, poolsize=4):
        self.address = address
        self._reactor = reactor
        self._timeout = timeout
        self._poolsize = poolsize
        self._handler = None
        self._sentinel = None

    def start(self):
        """Connect, and check that Redis answers: fires when it does, or fails with a clear
        error after C{timeout} seconds."""
        return defer.ensureDeferred(self._start())

    async def _start(self):
        address = self.address
        # database 0 is where a connection starts: no SELECT (one step less to fail when a
        # client is stopped while still connecting)
        options = dict(dbid=address.db or None, password=address.password,
                       username=address.username,
                       charset="utf-8", convertNumbers=False, reconnect=True)
        if address.service is not None:
            self._sentinel = txredisapi.Sentinel(list(address.hosts), password=address.password)
            self._handler = self._sentinel.master_for(address.service, poolsize=self._poolsize,
                                                      **options)
        else:
            host, port = address.hosts[0]
            tls = _tls_options(address, host) if address.tls else False
            self._handler = txredisapi.lazyConnectionPool(
                host, port, poolsize=self._poolsize, ssl_context_factory=tls,
                connectTimeout=self._timeout, **options)
        try:
            await self.call("PING")
        except JimError as e:
            await self.stop()
            raise JimError(errors.SERVER_ERROR,
                           f"Redis at {address.describe()} does not answer: {e.detail}") from None

    def stop(self):
        """Close every connection; fires when they are closed."""
        closing = []
        if self._handler is not None:
            closing.append(self._handler.disconnect())
            self._handler = None
        if self._sentinel is not None:
            closing.append(self._sentinel.disconnect())
            self._sentinel = None
        return defer.gatherResults(closing, consumeErrors=True).addCallback(lambda _: None)

    def call(self, *args):
        """Run one Redis command; a Deferred of its reply. JimError(SERVER_ERROR) when Redis
        cannot be reached or refuses it."""
        if self._handler is None:
            return defer.fail(JimError(errors.SERVER_ERROR, "not connected to Redis"))
        pending = self._handler.execute_command(*args)
        pending.addTimeout(self._timeout, self._reactor)
        pending.addErrback(self._failed, args[0])
        return pending

    def run(self, script, keys, args=()):
        """Run a L{Script} with C{keys} (every key it touches) and C{args}; its reply."""
        pending = self.call("EVALSHA", script.sha, len(keys), *keys, *args)

        def load_again(failure):
            failure.trap(_NoScript)
            return self.call("EVAL", script.source, len(keys), *keys, *args)

        return pending.addErrback(load_again)

    def _failed(self, failure, command):
        if failure.check(JimError):
            return failure
        if failure.check(txredisapi.ResponseError):
            message = str(failure.value)
            if message.startswith("NOSCRIPT"):
                raise _NoScript(message)
            if message.startswith("JIM "):  # a refusal a script raised: "JIM code detail"
                _, code, detail = message.split(" ", 2)
                raise JimError(code, detail)
            self.log.error("Redis refused {command}: {error}", command=command, error=message)
            raise JimError(errors.SERVER_ERROR, f"the store refused {command}: {message}")
        if failure.check(defer.TimeoutError, defer.CancelledError):
            raise JimError(errors.SERVER_ERROR,
                           f"Redis did not answer {command} within {self._timeout:g} s")
        if failure.check(txredisapi.ConnectionError, ConnectionError):
            raise JimError(errors.SERVER_ERROR, f"lost Redis during {command}")
        return failure


class _NoScript(Exception):
    """Redis does not know a script's SHA-1 (it restarted, or SCRIPT FLUSH)."""
