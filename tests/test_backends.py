"""Which store and bus a configuration names, and whether the store may publish on the bus."""
from twisted.trial.unittest import SynchronousTestCase

from twisted.internet import reactor

from jim.backends import bus_shares_store, make_bus, make_store
from jim.model import SINGLE, TEXT, Delivery, Message
from jim.config import Config

#: a message's delivery, not stored yet
DELIVERY = Delivery("app", Message(0, "app", "ann", SINGLE, "bob", TEXT, {"text": "hi"}),
                    ("bob",))


class BusSharesStoreTests(SynchronousTestCase):
    def test_a_redis_store_with_its_default_bus(self):
        self.assertTrue(bus_shares_store(Config(store="redis://127.0.0.1:6379/0")))

    def test_the_same_redis_named_twice(self):
        self.assertTrue(bus_shares_store(Config(store="redis://127.0.0.1:6379/0",
                                                bus="redis://127.0.0.1:6379")))

    def test_a_bus_on_another_redis_or_database(self):
        for bus in ("redis://127.0.0.1:6380/0", "redis://127.0.0.1:6379/1", "local"):
            self.assertFalse(bus_shares_store(Config(store="redis://127.0.0.1:6379/0", bus=bus)),
                             bus)

    def test_the_redis_store_announces_only_where_the_bus_listens(self):
        """Once the bus is made: on the store's connection, or on one of its own."""
        store = "redis://127.0.0.1:6379/0"
        for bus, announces in ((None, True), ("redis://127.0.0.1:6380/0", False)):
            config = Config(store=store, bus=bus)
            made, _ = make_store(config, reactor, None)  # neither is started
            self.assertFalse(made.messages.announces("app"), "no bus yet")
            make_bus(config, reactor, None, made)
            self.assertIs(made.messages.announces("app"), announces, bus)

    def test_a_bus_made_without_the_store_is_not_announced_for(self):
        """Made without the store, the bus publishes on a connection of its own: the store's
        script, on its connection, could overtake what it published, so neither announces."""
        config = Config(store="redis://127.0.0.1:6379/0")
        made, _ = make_store(config, reactor, None)
        made_bus, _ = make_bus(config, reactor, None)
        self.assertIsNone(made_bus.announcement(DELIVERY))
        self.assertFalse(made.messages.announces("app"))

    def test_only_a_bus_on_the_stores_redis_may_announce(self):
        """It publishes on the store's connection: only there can a script's parts not
        overtake what it published (tests.test_bus_redis_announce shows they do not)."""
        store = "redis://127.0.0.1:6379/0"
        for bus, announces in ((None, True), ("redis://127.0.0.1:6380/0", False)):
            config = Config(store=store, bus=bus)
            made, _ = make_store(config, reactor, None)  # neither is started
            made_bus, _ = make_bus(config, reactor, None, made)
            self.assertIs(made_bus.announcement(DELIVERY) is not None, announces, bus)

    def test_a_store_that_is_not_redis(self):
        for store in ("sqlite", "memory"):
            self.assertFalse(bus_shares_store(Config(store=store, bus="redis://127.0.0.1:6379")))
