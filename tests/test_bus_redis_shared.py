"""A Redis bus on the store's connection (C{client=}, as L{jim.backends.make_bus} makes it),
on a real redis-server: the store goes on when its bus stopped, or could not start, and the
bus then sends nothing more on the store's connection, nor stays with it."""
from twisted.internet import reactor, task
from twisted.trial import unittest

from jim.bus.redis import RedisBus
from jim.bus.redis_presence import NODE_NUMBERS, NoNodeNumber
from jim.model import Delivery, Invalidate, Kick, RateUsage
from jim.redis.address import parse
from jim.redis.client import RedisClient
from jim.store.redis import RedisStore
from jim.wire import busjson
from tests.support.redis_server import empty_redis, shared_server
from tests.support.waiting import until
from tests.test_bus_redis import Node, message


class Client(RedisClient):
    """A store's client that shows the buffers it holds (L{RedisClient.add_buffer})."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.held = []

    def add_buffer(self, flush):
        super().add_buffer(flush)
        self.held.append(flush)

    def remove_buffer(self, flush):
        super().remove_buffer(flush)
        self.held.remove(flush)


class SharedConnectionTests(unittest.TestCase):
    def setUp(self):
        self.url = empty_redis()
        client = Client(parse(self.url), reactor, poolsize=1)
        self.store = RedisStore(parse(self.url), reactor, client=client, announcing=True)
        return self.store.start().addCallback(lambda _: self.addCleanup(self.store.stop))

    async def node(self, **options):
        node = Node(self.url, **options)  # a bus and what it handed out
        await node.bus.start()
        self.addCleanup(node.bus.stop)
        return node

    async def behind(self, value):
        """Publish C{value} on the store's connection as another node's (after what this turn
        left of the bus): a node that got it got whatever was sent on that connection before
        it."""
        await task.deferLater(reactor, 0, lambda: None)
        await self.store.client.call("PUBLISH", "jim:bus", b"elsewhere\nbus "
                                     + busjson.encode(value))

    async def test_a_stopped_bus_sends_nothing_on_the_stores_connection(self):
        """The store goes on after its node's bus stopped (its last appends are answered):
        nothing the bus is asked to publish or announce then leaves, of any kind."""
        a, b = await self.node(client=self.store.client), await self.node()
        b.presence.connect("app", "bob", "b:1", "tcp")
        await until(lambda: a.presence.is_online("app", "bob"))
        await a.bus.stop()
        late = Delivery("app", message(7), ("bob",), None)
        self.assertIsNone(a.bus.announcement(late._replace(item=message(0))))
        for value in (late, Kick("app", "bob", "forbidden"),
                      Invalidate("users", "app", "bob", a.bus.node),
                      RateUsage(a.bus.node, (("user", "app", "ann", 3),))):
            a.bus.publish(value)
        a.bus.publish_announced(late, (-1, {}, ["bob"]))
        self.store.client.flush_buffers()  # as a script would
        mark = Invalidate("users", "app", "mark", "elsewhere")
        await self.behind(mark)
        await until(lambda: b.got)
        self.assertEqual(b.got, [mark])
        self.assertEqual(a.got, [], "nor handed out here")

    async def test_the_stores_connection_lets_go_of_a_stopped_bus(self):
        """It holds the bus's buffer while the bus runs (what a turn gathered leaves before a
        script), and not once the bus stopped."""
        bus = RedisBus(parse(self.url), reactor, client=self.store.client)
        self.assertEqual(self.store.client.held, [], "not before it starts")
        await bus.start()
        self.assertEqual(len(self.store.client.held), 1)
        await bus.stop()
        self.assertEqual(self.store.client.held, [])

    async def test_a_bus_with_no_event_id_number_free_does_not_start(self):
        """Every number held (by nodes that crashed and restarted, say): the bus fails with an
        error that says why (a ValueError: the node says so in one line), and the store's
        connection goes on without it."""
        for number in range(NODE_NUMBERS):
            shared_server().command("SET", f"jim:node-number:{number}", f"node-{number}",
                                    "PX", "60000")
        bus = RedisBus(parse(self.url), reactor, client=self.store.client)
        why = None
        try:
            await bus.start()
        except NoNodeNumber as e:
            why = str(e)
            self.assertIsInstance(e, ValueError)
        self.assertEqual(why, "16 nodes already share this Redis: no event-id number is free"
                              " (a node that died frees its own after the presence expiry)")
        self.assertIsNone(bus.node_number)
        self.assertEqual(self.store.client.held, [], "the store's client holds no buffer of it")
        self.assertEqual(await self.store.client.call("PING"), "PONG")
        await bus.stop()  # (as a node that could not start stops what it made)
        self.assertEqual(self.store.client.held, [])
