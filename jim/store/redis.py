# -*- test-case-name: tests.store_contract -*-
"""The cluster's L{IStore}: every area kept in one Redis, shared by every node.

L{RedisStore} is the engine its areas share (C{store.apps}, C{.users}, C{.relations},
C{.groups}, C{.messages}, C{.media}, C{.inbox}, C{.events}, C{.words}, C{.rooms},
C{.callbacks}, C{.reports}, C{.nonces}, C{.silences}, each in its own C{redis_<area>.py}). A
write that changes several keys is one Lua script (L{jim.redis.client.Script}), so that Redis applies it
whole or not at all and no node ever sees half of it. A write is acknowledged once Redis answered it: what
that means on disk is Redis's persistence setting (docs/operations.md).

Keys are named, and values written, by L{jim.store.redis_keys}. See docs/storage.md.
"""
from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from jim.interfaces import IStore
from jim.redis.client import RedisClient
from jim.store.redis_keys import key
from jim.store import redis_forget, redis_report_backfill
from jim.store.redis_apps import RedisApps
from jim.store.redis_events import RedisEvents
from jim.store.redis_groups import RedisGroups
from jim.store.redis_inbox import RedisInbox
from jim.store.redis_media import RedisMedia
from jim.store.redis_messages import RedisMessages
from jim.store.redis_nonces import RedisNonces
from jim.store.redis_silences import RedisSilences
from jim.store.redis_relations import RedisRelations
from jim.store.redis_reports import SWEPT_MARK, RedisReports
from jim.store.redis_rooms import RedisRooms
from jim.store.redis_users import RedisUsers
from jim.store.redis_words import RedisWords
from jim.store.redis_callbacks import RedisCallbacks

@implementer(IStore)
class RedisStore:
    """The L{IStore} kept in the Redis at C{address} (an L{jim.redis.address.RedisAddress}).

    @param timeout: seconds a command may wait for Redis before it fails with
        JimError(SERVER_ERROR) (while Redis is unreachable, every write fails this way).
    @param announcing: the bus is on this Redis: a message's append may publish its
        deliveries (L{jim.store.redis_messages.RedisMessages.announces}); see
        L{bus_publishes_here}.
    """

    log = Logger()

    def __init__(self, address, reactor, metrics=None, timeout=5.0, client=None,
                 announcing=False):
        self.address = address
        self._reactor = reactor
        self._timeout = timeout
        # one connection, pipelined: writes reach Redis in the order they were made, as the
        # other stores apply them (a batch register lists its users in its order)
        self.client = client or RedisClient(address, reactor, timeout=timeout, poolsize=1)
        self.apps = RedisApps(self.client)
        self.users = RedisUsers(self.client)
        self.relations = RedisRelations(self.client)
        self.groups = RedisGroups(self.client)
        self.messages = RedisMessages(self.client, reactor, metrics, announcing)
        self.media = RedisMedia(self.client)
        self.inbox = RedisInbox(self.client)
        self.events = RedisEvents(self.client)
        self.words = RedisWords(self.client)
        self.rooms = RedisRooms(self.client)
        self.callbacks = RedisCallbacks(self.client)
        self.reports = RedisReports(self.client)
        self.nonces = RedisNonces(self.client, reactor)
        self.silences = RedisSilences(self.client)
        self._backfill = None
        self._media_index = None
        self._stopping = False

    async def _start(self):
        await self.client.start()
        self.log.info("store: Redis at {address}", address=self.address.describe())
        # once a Redis: the report data of messages an older jim stored (in the background)
        self._backfill = defer.ensureDeferred(redis_report_backfill.run(self.client,
                                                                       SWEPT_MARK))
        self._backfill.addErrback(self._backfill_failed)
        # once a Redis too: the media usage of uploads an older jim kept (in the background)
        self._media_index = defer.ensureDeferred(self.media.index_older())
        self._media_index.addErrback(self._media_index_failed)

    def bus_publishes_here(self):
        """The bus publishes on this store's connection (L{jim.backends.make_bus} gave it
        C{self.client}): from now on a message's append may publish its deliveries with its
        commit, on that same connection (docs/architecture.md, "Announced with the commit")."""
        self.messages.announcing = True

    def _media_index_failed(self, failure):
        if not self._stopping:
            self.log.failure("media: the uploads kept before the media usage could not be"
                             " counted (the next start or sweep tries again)", failure)

    def _backfill_failed(self, failure):
        if not self._stopping:  # (a stop cancels it: its command then fails)
            self.log.failure("reports: the report data of older messages could not be added"
                             " (the next start tries again)", failure)

    def backfilled(self):
        """A Deferred that fires once the start's report backfill and its count of older
        uploads are over (done, found done before, or failed and logged)."""
        pending = [work for work in (self._backfill, self._media_index) if work is not None]
        over = defer.Deferred()
        if not pending:
            over.callback(None)
            return over

        def settle(result):
            pending.pop()
            if not pending:
                over.callback(None)
            return result

        for work in list(pending):
            work.addBoth(settle)
        return over

    def start(self):
        return defer.ensureDeferred(self._start())

    def stop(self):
        """Wait for the message appends in flight to be answered (at most twice the command
        timeout: each one is answered or failed by then), then close."""
        return defer.ensureDeferred(self._stop())

    async def _stop(self):
        self._stopping = True
        for pending in (self._backfill, self._media_index):
            if pending is not None and not pending.called:
                pending.cancel()
        settled = self.messages.settled()
        settled.addTimeout(2 * self._timeout + 1, self._reactor)
        try:
            await settled
        except defer.TimeoutError:
            self.log.warn("store: stopping with message writes still unanswered by Redis")
        await self.client.stop()

    def forget_app(self, key):
        """Every key of the app's hash tag, found with SCAN, what an area with a C{forget_app}
        forgets, then its record (L{jim.store.redis_forget}); the indexes of every app's
        cursors and events keep its members, which their sweeps drop."""
        areas = [area for name, area in vars(self).items()
                 if not name.startswith("_") and area is not self.client]
        return defer.ensureDeferred(redis_forget.forget_app(self.client, key, areas))

    @staticmethod
    def shared_key(name):
        """The Redis key of L{shared_value}'s C{name} (for logs that tell an operator)."""
        return key(None, "shared", name)

    async def shared_value(self, name, proposed):
        """The text kept under C{name} for every node: C{proposed} if no node set one before
        (the first node to ask sets it), else the one set first."""
        await self.client.call("SET", self.shared_key(name), proposed, "NX")
        return await self.client.call("GET", self.shared_key(name))
