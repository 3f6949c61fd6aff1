# -*- test-case-name: tests.test_bus_redis,tests.integration.test_cluster_sentinel -*-
"""A Redis subscriber connection that stays subscribed.

L{Listener} keeps one connection in subscribe mode (txredisapi's subscriber protocol): it
subscribes to its channels again after every reconnect and then tells its owner (who may have
missed messages meanwhile), PINGs every C{ping_every} seconds, and drops a connection whose PING
is not answered within that time, so that a half-open connection is found out and made again.
txredisapi reconnects without end, backing off up to L{RECONNECT_AT_MOST} seconds (one
behind Sentinels).
"""
import txredisapi
from twisted.internet import defer
from twisted.logger import Logger

from jim.redis.client import (
    RECONNECT_AT_MOST, MasterFactory, NoDelay, RedisUnavailable, Sentinel, disconnect,
    endpoint_for,
)
from jim.redis.resp import FastReplies


class _Subscriber(NoDelay, FastReplies, txredisapi.SubscriberProtocol):
    """Hands every message to the factory's listener."""

    def messageReceived(self, pattern, channel, message):
        self.factory.listener.received(channel, message)


class _SentinelSubscriber(NoDelay, FastReplies, txredisapi.SubscriberProtocol,
                          txredisapi.SentinelRedisProtocol):
    """L{_Subscriber} on the master a Sentinel names (it checks the role first)."""

    def messageReceived(self, pattern, channel, message):
        self.factory.listener.received(channel, message)

    def role(self):
        # txredisapi compares the first word of ROLE with the text "master", but replies on
        # this connection are bytes (charset=None): every master was taken for a replica
        return super().role().addCallback(
            lambda reply: [reply[0].decode() if isinstance(reply[0], bytes) else reply[0],
                           *reply[1:]])


class _Factory(txredisapi.RedisFactory):
    protocol = _Subscriber
    maxDelay = RECONNECT_AT_MOST

    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.whenConnected().addCallback(self.listener.connected)
        return protocol


class _SentinelFactory(MasterFactory):
    protocol = _SentinelSubscriber

    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.whenConnected().addCallback(self.listener.connected)
        return protocol


class Listener:
    """Subscribed to C{channels} (bytes) of the Redis at C{address}: C{on_message(channel,
    payload)} for each message (bytes), C{on_subscribed()} after each (re)subscription."""

    log = Logger()

    def __init__(self, address, reactor, channels, on_message, on_subscribed, ping_every=5.0,
                 start_timeout=10.0):
        self.address = address
        self._reactor = reactor
        self._channels = list(channels)
        self._on_message = on_message
        self._on_subscribed = on_subscribed
        self._ping_every = ping_every
        self._start_timeout = start_timeout
        self._problem = None  # why the last subscription failed
        self._handler = None
        self._sentinel = None
        self._protocol = None
        self._pinging = None
        self._first = defer.Deferred()

    def start(self):
        """Connect and subscribe; fires once subscribed (txredisapi retries until then), or
        fails with L{RedisUnavailable}, the listener stopped: at once if Redis refuses the
        subscription, else after C{start_timeout} seconds."""
        address = self.address
        options = dict(charset=None, password=address.password, username=address.username,
                       convertNumbers=False)
        if address.service is not None:
            self._sentinel = Sentinel(list(address.hosts), self._reactor,
                                      password=address.password)
            factory = type("Factory", (_SentinelFactory,), {"listener": self})
            self._handler = self._sentinel.master_for(address.service, factory_class=factory,
                                                      dbid=None, poolsize=1, isLazy=True,
                                                      **options)
        else:
            factory = type("Factory", (_Factory,), {"listener": self})(
                None, None, 1, isLazy=True, **options)
            factory.startConnecting(endpoint_for(address, self._reactor))
            self._handler = factory.handler
        return defer.ensureDeferred(self._subscribed_first())

    async def _subscribed_first(self):
        try:
            await self._first.addTimeout(self._start_timeout, self._reactor)
        except txredisapi.ResponseError as e:
            await self.stop()
            raise RedisUnavailable(f"Redis at {self.address.describe()} refused to subscribe"
                                   f" this node to its channels: {e}") from None
        except defer.TimeoutError:
            await self.stop()
            raise RedisUnavailable(
                f"could not subscribe to Redis at {self.address.describe()} within"
                f" {self._start_timeout:g} s"
                + (f" (last attempt: {self._problem})" if self._problem else "")) from None

    def stop(self):
        if self._pinging is not None and self._pinging.active():
            self._pinging.cancel()
        self._pinging = None
        closing = disconnect(self._handler, self._sentinel)
        self._handler = self._sentinel = None
        return closing

    def connected(self, protocol):
        """A (new) connection is ready: subscribe on it."""
        self._protocol = protocol
        subscribing = protocol.subscribe(self._channels)
        subscribing.addCallbacks(self._subscribed, self._subscribe_failed,
                                 callbackArgs=(protocol,), errbackArgs=(protocol,))
        return protocol

    def _subscribed(self, _, protocol):
        if protocol is not self._protocol:
            return
        self.log.info("bus: subscribed to Redis at {address}", address=self.address.describe())
        self._schedule_ping(protocol)
        try:
            self._on_subscribed()
        except Exception:
            self.log.failure("bus: catching up after a subscription failed")
        if not self._first.called:
            self._first.callback(None)

    def _subscribe_failed(self, failure, protocol):
        self._problem = failure.getErrorMessage()
        if not self._first.called and failure.check(txredisapi.ResponseError):
            # refused (an ACL user without the channels, say): trying again will not help
            self._first.errback(failure)
            return
        self.log.failure("bus: could not subscribe; reconnecting", failure)
        protocol.transport.abortConnection()

    def _schedule_ping(self, protocol):
        if self._handler is None or protocol is not self._protocol:
            return
        # one PING timer: a new connection's replaces one a lost connection left behind
        if self._pinging is not None and self._pinging.active():
            self._pinging.cancel()
        self._pinging = self._reactor.callLater(self._ping_every, self._ping, protocol)

    def _ping(self, protocol):
        if protocol is not self._protocol or self._handler is None:
            return
        answered = defer.maybeDeferred(protocol.ping)
        answered.addTimeout(self._ping_every, self._reactor)
        answered.addCallbacks(lambda _: self._schedule_ping(protocol),
                              self._ping_failed, errbackArgs=(protocol,))

    def _ping_failed(self, failure, protocol):
        if self._handler is None:
            return
        if failure.check(defer.TimeoutError, defer.CancelledError):
            self.log.warn("bus: Redis did not answer a PING within {seconds} s; reconnecting",
                          seconds=self._ping_every)
        else:
            self.log.warn("bus: the subscription's connection to Redis failed ({why});"
                          " reconnecting", why=failure.getErrorMessage())
        if protocol.transport is not None:
            protocol.transport.abortConnection()

    def received(self, channel, payload):
        try:
            self._on_message(channel, payload)
        except Exception:
            self.log.failure("bus: a message from Redis could not be handled")
