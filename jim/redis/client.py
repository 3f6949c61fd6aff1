# -*- test-case-name: tests.test_bus_redis,tests.integration.test_startup,tests.integration.test_cluster_tls -*-
"""A pool of connections to one Redis (txredisapi), shaped for what jim asks of it.

- Every command fails, rather than waits, while Redis is away: a command not answered within
  C{timeout} seconds fails with JimError(SERVER_ERROR), so that a sender is told its message
  could not be stored. txredisapi reconnects by itself, without end; the next command after
  that is answered as usual.
- Replies are text and numbers exactly as Redis sends them: C{convertNumbers} is off, so a
  username "123" comes back as the string it is.
- L{Script}s run by their SHA-1 (EVALSHA). Every connection loads them all (SCRIPT LOAD) as
  it is made, before the commands that waited for it (L{LoadsScripts}): a restarted Redis, or
  a replica promoted by a failover, has them before the first EVALSHA. One that still misses
  one (its script cache flushed) is sent it again with EVAL; one that refuses to load them
  (an ACL without SCRIPT) is sent each with EVAL the first time.
- Behind Sentinels, the master is asked for again before every (re)connection; see L{Sentinel}
  for what jim changes in txredisapi's so that a failover is followed within seconds.
"""
import hashlib

import txredisapi
from OpenSSL import SSL
from service_identity import VerificationError
from twisted.internet import defer, endpoints, error, ssl
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from jim import errors
from jim.errors import JimError
from jim.redis.deadlines import Deadlines
from jim.redis.resp import FastCommands, FastReplies

#: seconds a command may wait for its answer (a connection included) before it fails
DEFAULT_TIMEOUT = 5.0


class RedisUnavailable(JimError, ConnectionError):
    """A client or subscriber could not start: Redis could not be reached, or refused it. A
    JimError(SERVER_ERROR) that is also a ConnectionError, so that a node that cannot start
    for it says so in one line, which names the address."""

    def __init__(self, detail):
        super().__init__(errors.SERVER_ERROR, detail)

    def __str__(self):
        return self.detail


class Sentinel(txredisapi.Sentinel):
    """txredisapi's Sentinel manager, with a master lookup that does not stall a failover.

    txredisapi asks every Sentinel for the master and waits up to ten seconds for one that
    names a master that is up. In a failover none does for a second or two (the old master is
    down, the new one not promoted yet), so a lookup made then waited the ten seconds, and a
    client was cut off from Redis for about fifteen. Here a lookup fails as soon as every
    Sentinel has answered without naming one (or after C{discovery_timeout} seconds, for a
    Sentinel that does not answer), and the connection is tried again within a second
    (L{MasterFactory}).
    """

    discovery_timeout = 2.0
    #: why the last lookup failed
    problem = None

    def __init__(self, addresses, reactor, **connection_kwargs):
        super().__init__(addresses, **connection_kwargs)
        self._reactor = reactor

    def discover_master(self, service_name):
        result = defer.Deferred()
        unanswered = [len(self.sentinels)]

        def none_named(_=None):
            unanswered[0] -= 1
            if unanswered[0] == 0 and not result.called:
                result.errback(txredisapi.MasterNotFoundError(
                    f"no Sentinel names a master of {service_name} that is up"))

        def answered(response):
            state = response.get(service_name)
            if state and self.check_master_state(state):
                if not result.called:
                    result.callback((state["ip"], int(state["port"])))
            else:
                none_named()

        def too_late():
            if not result.called:
                result.errback(txredisapi.MasterNotFoundError(
                    f"no Sentinel named a master of {service_name} within"
                    f" {self.discovery_timeout:g} s"))

        def noted(outcome):
            if timer.active():
                timer.cancel()
            if isinstance(outcome, Failure):
                self.problem = outcome.getErrorMessage()
            return outcome

        timer = self._reactor.callLater(self.discovery_timeout, too_late)
        result.addBoth(noted)
        for sentinel in self.sentinels:
            sentinel.sentinel_masters().addCallbacks(answered, none_named)
        return result


class NoDelay:
    """A Redis connection whose commands leave at once. Twisted leaves Nagle's algorithm on
    for the connections it makes: a command written while the one before is not yet
    acknowledged waits for the server's delayed ACK, up to 40 ms on Linux, which every chat
    that crosses Redis then waits too."""

    def connectionMade(self):
        try:
            self.transport.setTcpNoDelay(True)
        except AttributeError:
            pass  # not a TCP transport (a test's)
        return super().connectionMade()


#: how Redis's refusals of SCRIPT LOAD that the next connection would meet too begin: a
#: user whose ACL does not allow it, a SCRIPT command renamed away (C{rename-command})
REFUSED_FOR_GOOD = ("NOPERM", "ERR unknown command")


class LoadsScripts:
    """A command connection that loads every L{Script} (SCRIPT LOAD) as soon as it is ready,
    ahead of the commands that waited for it: after a restart or a failover, Redis has
    forgotten them, and a script run by its SHA-1 would fail (NOSCRIPT) and be sent again
    with its source after the scripts sent behind it had run, out of order (two appends of
    one app in flight would then take their ids the other way round).

    A script Redis refuses to load for good (an ACL without the SCRIPT command, a SCRIPT command
    renamed away) goes with its source (EVAL) the first time this connection runs it, which leaves
    it in Redis's cache for the EVALSHAs behind it: in order, as a loaded one. Only what was
    sent before the refusal came back still fails and goes again (L{RedisClient.run}). Any
    other failure to load (a Redis still loading its data after a restart, a connection that
    dropped) leaves the connection as it was: a script it misses goes again with its source
    once (L{RedisClient.run}), and the next connection loads them all."""

    log = Logger()

    _sources = None  # SHA-1 -> source of the scripts not loaded and not sent with it yet
    _told_not_loaded = False  # the log said once that a script did not load

    def connectionMade(self):
        ready = super().connectionMade()
        # (it has fired by the time the connection is handed out: the pool takes it a turn
        # later, so these come first on it)
        return ready.addCallback(self._load_scripts)

    def _load_scripts(self, result):
        if self.connected:
            for script in SCRIPTS:
                loaded = self.execute_command("SCRIPT", "LOAD", script.source)
                loaded.addErrback(self._not_loaded, script)
        return result

    def _not_loaded(self, failure, script):
        why = failure.getErrorMessage()
        if not why.startswith(REFUSED_FOR_GOOD):
            if not self._told_not_loaded:  # (once a connection)
                self._told_not_loaded = True
                self.log.warn("Redis did not load the scripts ({why}): one it misses goes"
                              " again with its source", why=why)
            return
        if self._sources is None:
            self.log.warn("Redis did not load the scripts ({why}): each goes with its source"
                          " the first time it runs", why=why)
            self._sources = {}
            # (this connection's only: a connection that loaded them pays nothing a command)
            self.execute_command = self._with_source
        self._sources[script.sha] = script.source

    def _with_source(self, *args, **kwargs):
        """C{execute_command}, but a script not loaded goes by EVAL, the first time."""
        if args[0] == "EVALSHA":
            source = self._sources.pop(args[1], None)
            if source is not None:
                args = ("EVAL", source, *args[2:])
        return super().execute_command(*args, **kwargs)


class _SentinelProtocol(NoDelay, LoadsScripts, FastReplies, FastCommands,
                        txredisapi.SentinelRedisProtocol):
    pass


class MasterFactory(txredisapi.SentinelConnectionFactory):
    """Connections to a Sentinel's master: between failed attempts (a failover in progress)
    at most a second goes by, not txredisapi's C{maxDelay} of ten, which behind Sentinels is
    also the connect timeout (here the one of a command)."""

    maxDelay = DEFAULT_TIMEOUT
    protocol = _SentinelProtocol

    def retryDelay(self, attempt):
        return min(super().retryDelay(attempt), 1.0)


#: seconds between two attempts to reconnect to a Redis, at most (txredisapi's are ten):
#: every connection of every node finds a restarted Redis within this, so the nodes come
#: back together. Ten seconds apart, one node stored the chats it held while the other was
#: not yet listening for their pushes, then a burst; an attempt to a Redis on the network
#: costs it one accept every two seconds a connection.
RECONNECT_AT_MOST = 2.0

#: every L{Script} made, which each command connection loads (L{LoadsScripts})
SCRIPTS = []


class Script:
    """A Lua script, by name: C{client.run(script, keys, args)}. Made once, at import."""

    def __init__(self, name, source):
        self.name = name
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()
        SCRIPTS.append(self)

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


def _explain(failure):
    """Why a connection failed, in words."""
    if failure.check(SSL.Error):
        found = failure.value.args[0] if failure.value.args else None
        reasons = [entry[-1] for entry in found if isinstance(entry, tuple) and entry[-1]] \
            if isinstance(found, list) else []
        return "TLS handshake failed: " + (", ".join(reasons) or failure.getErrorMessage())
    if failure.check(VerificationError):
        return f"TLS: the server's certificate is for another name ({failure.getErrorMessage()})"
    return failure.getErrorMessage()


class Handler(txredisapi.ConnectionHandler):
    """txredisapi's connection handler, but a command goes straight to the pool's first
    connection while it is up: the one txredisapi's own handler picks, without the generator,
    closures and Deferreds that handler spends picking it (more than the command's own
    writing and reading: a node under load sends thousands a second). While no connection
    is up, a command takes txredisapi's way, which waits for one; commands keep their order
    either way, since a connection that comes up first serves those that waited."""

    def __init__(self, factory):
        super().__init__(factory)
        self.factory = factory

    def execute_command(self, *args, **kwargs):
        pool = self.factory.pool
        if pool:
            connection = pool[0]
            if connection.connected:
                return connection.execute_command(*args, **kwargs)
        return self.__getattr__("execute_command")(*args, **kwargs)


class _Protocol(NoDelay, LoadsScripts, FastReplies, FastCommands, txredisapi.RedisProtocol):
    def connectionLost(self, why):
        if not why.check(error.ConnectionDone):  # a failed TLS handshake, say
            self.factory.note(why)
        super().connectionLost(why)


class _Factory(txredisapi.RedisFactory):
    """txredisapi's pool, noting why its last connection failed or was lost (C{problem}), so
    that a client that cannot start says why: connection refused, a certificate refused..."""

    protocol = _Protocol
    problem = None
    maxDelay = RECONNECT_AT_MOST

    def note(self, failure):
        self.problem = _explain(failure)


@implementer(IStreamClientEndpoint)
class _Noting:
    """An endpoint that notes on C{factory} why its last connection attempt failed; Twisted's
    logs of its retries name it by C{label}."""

    def __init__(self, endpoint, factory, label="Redis"):
        self._endpoint = endpoint
        self._factory = factory
        self._label = label

    def __repr__(self):
        return f"<{self._label}>"

    def connect(self, protocol_factory):
        def failed(failure):
            self._factory.note(failure)
            return failure

        return self._endpoint.connect(protocol_factory).addErrback(failed)


def disconnect(handler, sentinel):
    """Close a txredisapi connection handler and the Sentinel it came from (either may be
    None); fires when both are closed."""
    closing = [part.disconnect() for part in (handler, sentinel) if part is not None]
    return defer.gatherResults(closing, consumeErrors=True).addCallback(lambda _: None)


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
        self._deadlines = Deadlines(reactor, timeout)
        self._buffers = []  # see add_buffer

    def add_buffer(self, flush):
        """Register a user of this client that gathers its commands within a reactor turn (the
        bus, its deliveries): C{flush()} sends what it gathered. See L{flush_buffers}."""
        self._buffers.append(flush)

    def remove_buffer(self, flush):
        """Forget a buffer L{add_buffer} registered (its user stopped)."""
        self._buffers.remove(flush)

    def flush_buffers(self):
        """Send what every buffer (L{add_buffer}) gathered so far: a command sent next, on a
        client of one connection, comes after those in Redis, which runs one connection's
        commands in the order they came (a script that publishes what must follow them)."""
        for flush in self._buffers:
            flush()

    def start(self):
        """Connect, and check that Redis answers: fires when it does, or fails with a clear
        error after C{timeout} seconds."""
        return defer.ensureDeferred(self._start())

    async def _start(self):
        address = self.address
        # database 0 is where a connection starts: no SELECT (one step less to fail when a
        # client is stopped while still connecting)
        options = dict(dbid=address.db or None, password=address.password,
                       username=address.username, handler=Handler,
                       charset="utf-8", convertNumbers=False)
        if address.service is not None:
            # a Sentinel's factory always reconnects (and takes no "reconnect")
            self._sentinel = Sentinel(list(address.hosts), self._reactor,
                                      password=address.password)
            self._handler = self._sentinel.master_for(address.service, poolsize=self._poolsize,
                                                      factory_class=MasterFactory, **options)
        else:
            factory = _Factory(None, options.pop("dbid"), self._poolsize, isLazy=True,
                               **options)
            # a password refused: txredisapi stops trying, and says why only here
            factory.deferred.addErrback(factory.note)
            factory.startConnecting(_Noting(endpoint_for(address, self._reactor,
                                                         self._timeout), factory,
                                            f"Redis at {address.describe()}"))
            self._handler = factory.handler
        try:
            await self.call("PING")
        except JimError as e:
            why = self._sentinel.problem if self._sentinel else factory.problem
            await self.stop()
            raise RedisUnavailable(
                f"Redis at {address.describe()} does not answer: {e.detail}"
                + (f" (last connection: {why})" if why else "")) from None

    def stop(self):
        """Close every connection; fires when they are closed."""
        closing = disconnect(self._handler, self._sentinel)
        self._handler = self._sentinel = None
        # once closed: what was sent has failed by then, what waited for a connection is
        # cancelled
        return closing.addBoth(self._closed)

    def _closed(self, result):
        self._deadlines.stop()
        return result

    def call(self, *args):
        """Run one Redis command; a Deferred of its reply. JimError(SERVER_ERROR) when Redis
        cannot be reached or refuses it."""
        if self._handler is None:
            return defer.fail(JimError(errors.SERVER_ERROR, "not connected to Redis"))
        pending = self._handler.execute_command(*args)
        self._deadlines.watch(pending)
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
