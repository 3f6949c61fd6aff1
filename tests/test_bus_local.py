"""The bus and presence of a single node: values reach every subscriber in publishing order
(through their wire form, with C{wire=True}), and presence knows first and last
connections."""
from hypothesis import given
from hypothesis import strategies as st
from twisted.logger import capturedLogs, formatEvent
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from jim import model
from jim.bus.local import LocalBus, LocalPresence
from jim.interfaces import IBus, IPresence
from jim.metrics import Metrics
from jim.model import Delivery, Event, Invalidate, Kick, Message, UserCard

from tests.support.model_strategies import bus_values

MESSAGE = Message(1, "app", "alice", model.SINGLE, "bob", model.TEXT, {"text": "hi"}, created=5)
DELIVERY = Delivery("app", MESSAGE, ("bob",))
EVENT = Event(model.USER_FORBIDDEN, "app", id=3, users=(UserCard("bob"),))
KICK = Kick("app", "bob", "forbidden", EVENT)
INVALIDATE = Invalidate(model.USERS_AREA, "app", "bob", "n1")


class Recorder:
    """A subscriber that notes what it was handed, under its name, in a shared list."""

    def __init__(self, name, log):
        self.name = name
        self.log = log

    def __call__(self, value):
        self.log.append((self.name, value))


class LocalBusTests(SynchronousTestCase):
    def setUp(self):
        self.log = []
        self.bus = LocalBus(node="n1")

    def subscribe(self, *names):
        for name in names:
            self.bus.subscribe(Recorder(name, self.log))

    def test_interface(self):
        verifyObject(IBus, self.bus)
        verifyObject(IBus, LocalBus(wire=True))

    def test_nodes(self):
        self.assertEqual(self.bus.node, "n1")
        self.assertNotEqual(LocalBus().node, LocalBus().node)

    def test_start_and_stop(self):
        self.assertIsNone(self.successResultOf(self.bus.start()))
        self.assertIsNone(self.successResultOf(self.bus.stop()))

    def test_order(self):
        self.subscribe("a")
        for value in (DELIVERY, KICK, INVALIDATE):
            self.bus.publish(value)
        self.assertEqual(self.log, [("a", DELIVERY), ("a", KICK), ("a", INVALIDATE)])

    def test_several_subscribers_each_in_turn(self):
        self.subscribe("a", "b", "c")
        self.bus.publish(DELIVERY)
        self.bus.publish(INVALIDATE)
        self.assertEqual(self.log, [("a", DELIVERY), ("b", DELIVERY), ("c", DELIVERY),
                                    ("a", INVALIDATE), ("b", INVALIDATE), ("c", INVALIDATE)])

    def test_nobody_listening(self):
        self.bus.publish(DELIVERY)
        self.subscribe("late")
        self.assertEqual(self.log, [])

    def test_a_value_published_by_a_subscriber_comes_after_the_one_it_handles(self):
        """The subscribers after one that publishes still see values in publishing order."""

        def publishing(value):
            self.log.append(("publisher", value))
            if value is DELIVERY:
                self.bus.publish(INVALIDATE)

        self.bus.subscribe(publishing)
        self.subscribe("after")
        self.bus.publish(DELIVERY)  # everything is handed out before publish returns
        self.assertEqual(self.log, [("publisher", DELIVERY), ("after", DELIVERY),
                                    ("publisher", INVALIDATE), ("after", INVALIDATE)])

    def test_a_failing_subscriber_does_not_stop_the_others(self):
        def failing(value):
            raise ZeroDivisionError("broken subscriber")

        self.subscribe("a")
        self.bus.subscribe(failing)
        self.subscribe("b")
        with capturedLogs() as events:
            self.bus.publish(KICK)
            self.bus.publish(DELIVERY)
        self.assertEqual(self.log, [("a", KICK), ("b", KICK), ("a", DELIVERY), ("b", DELIVERY)])
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 2)
        texts = [formatEvent(event) for event in events if "log_failure" in event]
        self.assertEqual(texts, ["a bus subscriber failed on Kick",
                                 "a bus subscriber failed on Delivery"])

    def test_counted(self):
        metrics = Metrics()
        bus = LocalBus(metrics=metrics)
        bus.publish(DELIVERY)
        bus.publish(INVALIDATE)
        self.assertEqual(metrics.bus_values, 2)

    def test_without_wire_the_value_itself(self):
        self.subscribe("a")
        self.bus.publish(DELIVERY)
        [(_, value)] = self.log
        self.assertIs(value, DELIVERY)


class WireTests(SynchronousTestCase):
    @given(bus_values)
    def test_equal_but_decoded(self, value):
        received = []
        bus = LocalBus(wire=True)
        bus.subscribe(received.append)
        bus.publish(value)
        [decoded] = received
        self.assertEqual(decoded, value)
        self.assertIsNot(decoded, value)
        self.assertIs(type(decoded), type(value))

    def test_every_subscriber_gets_the_same_decoded_value(self):
        received = []
        bus = LocalBus(wire=True)
        bus.subscribe(received.append)
        bus.subscribe(received.append)
        bus.publish(DELIVERY)
        first, second = received
        self.assertIsNot(first, DELIVERY)
        self.assertIs(first, second)  # decoded once per publish, not per subscriber

    def test_what_cannot_cross_a_bus_is_refused(self):
        """A test bus fails the publisher of a value with no wire form (nothing is handed out)."""
        received = []
        bus = LocalBus(wire=True)
        bus.subscribe(received.append)
        self.assertRaises(TypeError, bus.publish, MESSAGE)
        self.assertEqual(received, [])


class LocalPresenceTests(SynchronousTestCase):
    def setUp(self):
        self.presence = LocalPresence()

    def test_interface(self):
        verifyObject(IPresence, self.presence)

    def test_first_and_last(self):
        p = self.presence
        self.assertFalse(p.is_online("app", "alice"))
        self.assertTrue(p.connect("app", "alice", "n1:1", "tcp"))
        self.assertFalse(p.connect("app", "alice", "n1:2", "ws"))
        self.assertTrue(p.is_online("app", "alice"))
        self.assertEqual(p.connections("app", "alice"), [("n1:1", "tcp"), ("n1:2", "ws")])
        self.assertFalse(p.disconnect("app", "alice", "n1:1"))
        self.assertTrue(p.is_online("app", "alice"))
        self.assertTrue(p.disconnect("app", "alice", "n1:2"))
        self.assertFalse(p.is_online("app", "alice"))
        self.assertEqual(p.connections("app", "alice"), [])
        self.assertTrue(p.connect("app", "alice", "n1:3", "tcp"))  # first again

    def test_unknown_connections_are_not_the_last(self):
        p = self.presence
        self.assertFalse(p.disconnect("app", "alice", "n1:1"))
        p.connect("app", "alice", "n1:1", "tcp")
        self.assertFalse(p.disconnect("app", "alice", "n1:9"))
        self.assertTrue(p.disconnect("app", "alice", "n1:1"))
        self.assertFalse(p.disconnect("app", "alice", "n1:1"))  # gone already

    def test_apps_apart(self):
        p = self.presence
        self.assertTrue(p.connect("app1", "alice", "n1:1", "tcp"))
        self.assertTrue(p.connect("app2", "alice", "n1:2", "tcp"))
        self.assertTrue(p.disconnect("app1", "alice", "n1:1"))
        self.assertFalse(p.is_online("app1", "alice"))
        self.assertTrue(p.is_online("app2", "alice"))

    def test_online_users_counts_users_not_connections(self):
        p = self.presence
        p.connect("app", "alice", "n1:1", "tcp")
        p.connect("app", "alice", "n1:2", "ws")
        p.connect("app", "bob", "n1:3", "tcp")
        p.connect("other", "bob", "n1:4", "tcp")
        self.assertEqual(p.online_users(), 3)
        p.disconnect("app", "alice", "n1:1")
        self.assertEqual(p.online_users(), 3)
        p.disconnect("app", "alice", "n1:2")
        self.assertEqual(p.online_users(), 2)

    def test_connections_is_a_copy(self):
        self.presence.connect("app", "alice", "n1:1", "tcp")
        self.presence.connections("app", "alice").clear()
        self.assertEqual(self.presence.connections("app", "alice"), [("n1:1", "tcp")])

    @given(st.lists(st.tuples(st.booleans(), st.sampled_from(["alice", "bob"]),
                              st.integers(1, 4)), max_size=30))
    def test_first_and_last_agree_with_a_count(self, steps):
        """Against a plain model: connect is True exactly when the user had no connection,
        disconnect exactly when it took the user's last one away."""
        presence = LocalPresence()
        model_ = {"alice": set(), "bob": set()}
        for connecting, user, number in steps:
            connection_id = f"n1:{user}:{number}"
            if connecting:
                first = presence.connect("app", user, connection_id, "tcp")
                self.assertEqual(first, not model_[user])
                model_[user].add(connection_id)
            else:
                held = connection_id in model_[user]
                model_[user].discard(connection_id)
                last = presence.disconnect("app", user, connection_id)
                self.assertEqual(last, held and not model_[user])
            self.assertEqual(presence.is_online("app", user), bool(model_[user]))
        self.assertEqual(presence.online_users(), sum(bool(c) for c in model_.values()))
