"""Which store and bus a configuration names, and whether the store may publish on the bus."""
from twisted.trial.unittest import SynchronousTestCase

from twisted.internet import reactor

from jim.backends import bus_shares_store, make_bus, make_store
from jim.model import SINGLE, TEXT, Delivery, Message
from jim.config import Config


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
        store = "redis://127.0.0.1:6379/0"
        for bus, announces in ((None, True), ("redis://127.0.0.1:6380/0", False)):
            made, _ = make_store(Config(store=store, bus=bus), reactor, None)  # not started
            self.assertIs(made.messages.announces("app"), announces, bus)

    def test_only_a_bus_on_the_stores_redis_may_announce(self):
        """It publishes on the store's connection: only there can a script's parts not
        overtake what it published (tests.test_bus_redis_announce shows they do not)."""
        store = "redis://127.0.0.1:6379/0"
        delivery = Delivery("app", Message(0, "app", "ann", SINGLE, "bob", TEXT, {"text": "hi"}),
                            ("bob",))
        for bus, announces in ((None, True), ("redis://127.0.0.1:6380/0", False)):
            config = Config(store=store, bus=bus)
            made, _ = make_store(config, reactor, None)  # neither is started
            made_bus, _ = make_bus(config, reactor, None, made)
            self.assertIs(made_bus.announcement(delivery) is not None, announces, bus)

    def test_a_store_that_is_not_redis(self):
        for store in ("sqlite", "memory"):
            self.assertFalse(bus_shares_store(Config(store=store, bus="redis://127.0.0.1:6379")))
