"""The harness of the store contract suites: each suite's cases run against every store.

A suite is a mixin of cases over C{self.store}; each test module makes it a TestCase once per
store, e.g. C{class SqliteUsersTests(UsersContract, OnSqlite, unittest.TestCase)}. Every case
gets a store of its own: a L{MemoryStore}, a L{SqliteStore} on a real file in a temporary
folder with its real threads (hence trial's real-reactor TestCase), or a L{RedisStore} on a
real, emptied redis-server.

The Hypothesis properties run in a worker thread and drive the store through
C{blockingCallFromThread}, so the reactor keeps turning while an example waits for its commit.
Their examples share the case's store: each example works in an app of its own (L{fresh_app}),
and per-app isolation makes that a clean store.
"""
import itertools

from twisted.internet import defer, reactor, threads

from jim.errors import JimError
from jim.metrics import Metrics
from jim.store.memory import MemoryStore
from jim.redis.address import parse as parse_redis
from jim.store.redis import RedisStore
from jim.store.sqlite import SqliteStore
from tests.support.redis_server import empty_redis

#: app keys no other case or example uses
_app_keys = itertools.count(1)


class ContractCase:
    """What every suite's cases use; a store mixin (L{OnMemory}, L{OnSqlite}) provides
    C{open_store()} and C{property_examples}."""

    def setUp(self):
        return defer.ensureDeferred(self._open())

    async def _open(self):
        self.store = await self.open_store()
        self.addCleanup(self.store.stop)

    async def refused(self, pending, code):
        """Await C{pending}, which must fail with a JimError of C{code}; the error."""
        with self.assertRaises(JimError) as caught:
            await pending
        self.assertEqual(caught.exception.code, code, caught.exception.detail)
        return caught.exception

    def fresh_app(self):
        """An app key no earlier case or example used."""
        return f"app{next(_app_keys)}"

    def blocking(self, method, *args, **kwargs):
        """From a worker thread: call a store method in the reactor and wait for its result."""
        return threads.blockingCallFromThread(reactor, method, *args, **kwargs)

    def in_one_turn(self, calls):
        """Make every call (a store method and its arguments) in this reactor turn, so that a
        SQLite store commits their writes together; a Deferred of their results, in order."""
        return defer.gatherResults([method(*args) for method, *args in calls],
                                   consumeErrors=True)

    def run_property(self, check):
        """Run a Hypothesis test function in a worker thread; a Deferred of its end."""
        return threads.deferToThread(check)


class OnMemory:
    """Runs a suite against L{MemoryStore}."""

    property_examples = 50

    async def open_store(self):
        store = MemoryStore()
        await store.start()
        return store


class OnSqlite:
    """Runs a suite against L{SqliteStore}: a real file, real threads."""

    property_examples = 12
    #: SqliteStore's index_every (None: its default)
    index_every = None

    async def open_store(self):
        options = {} if self.index_every is None else {"index_every": self.index_every}
        self.metrics = Metrics()  # the store's: its commits are counted here
        store = SqliteStore(self.mktemp() + "/jim.db", reactor, metrics=self.metrics, **options)
        await store.start()
        return store


class OnSqliteIndexTail(OnSqlite):
    """L{OnSqlite} with the conversation index brought up to date every three messages, so
    that histories mix indexed messages with the tail not indexed yet."""

    index_every = 3


class OnRedis:
    """Runs a suite against L{RedisStore}: a real redis-server (one per test process, emptied
    for each case; see L{tests.support.redis_server})."""

    property_examples = 20

    async def open_store(self):
        store = RedisStore(parse_redis(empty_redis()), reactor, metrics=Metrics())
        await store.start()
        return store
