"""Deliveries a Redis store's write publishes itself (L{jim.interfaces.IPublishingMessageStore}
with L{jim.bus.redis.RedisBus.carry}): the parts for other nodes leave in the script that gives
the message its id, exactly once, and only if it was stored; what the write did not carry
(recipients here, or who came online elsewhere meanwhile) goes from the node afterwards."""
from twisted.internet import defer, reactor, task
from twisted.python.failure import Failure
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim.bus.local import LocalBus
from jim.bus.redis import RedisBus
from jim.interfaces import IPublishingMessageStore
from jim.model import GROUP, SINGLE, TEXT, Delivery, Message
from jim.redis.address import parse
from jim.store.redis import RedisStore
from tests.support.redis_server import empty_redis


def draft(sender="ann", target="bob", kind=SINGLE, text="hi", created=1):
    return Message(0, "app", sender, kind, target, TEXT, {"text": text}, created=created)


async def until(check, timeout=5.0):
    waited = 0.0
    while not check():
        if waited > timeout:
            raise AssertionError(f"still not true after {timeout} s: {check}")
        await task.deferLater(reactor, 0.01, lambda: None)
        waited += 0.01


def written(store, message, publications):
    """The outcome of add_message_publishing_then, as a Deferred."""
    d = defer.Deferred()
    store.messages.add_message_publishing_then(message, publications, d.callback)
    return d


class CarryTests(unittest.TestCase):
    async def cluster(self, count):
        url = empty_redis()
        store = RedisStore(parse(url), reactor)
        await store.start()
        self.addCleanup(store.stop)
        nodes = []
        for _ in range(count):
            bus = RedisBus(parse(url), reactor)
            got = []
            bus.subscribe(got.append, (Delivery,))
            await bus.start()
            self.addCleanup(bus.stop)
            nodes.append((bus, got))
        return store, nodes

    def test_the_redis_store_publishes(self):
        store = RedisStore(parse("redis://127.0.0.1:1/0"), reactor)
        verifyObject(IPublishingMessageStore, store.messages)

    @defer.inlineCallbacks
    def test_the_write_delivers_to_other_nodes_with_the_id_it_gave(self):
        store, [(a, a_got), (b, b_got), (c, c_got)] = yield defer.ensureDeferred(
            self.cluster(3))
        a.presence.connect("app", "ann", "a:1", "tcp")
        b.presence.connect("app", "bob", "b:1", "tcp")
        c.presence.connect("app", "cid", "c:1", "ws")
        yield defer.ensureDeferred(until(lambda: a.presence.online_users() == 3))
        message = draft(kind=GROUP, target="10000000")
        delivery = Delivery("app", message, ("ann", "bob", "cid"), "a:1", "team")
        publications, carried = a.carry(delivery)
        self.assertEqual({node: list(names) for node, names in carried.items()},
                         {b.node: ["bob"], c.node: ["cid"]})
        self.assertEqual(len(publications), 2)
        stored = yield written(store, message, publications)
        self.assertGreater(stored.id, 0)
        yield defer.ensureDeferred(until(lambda: b_got and c_got))
        self.assertEqual(b_got, [Delivery("app", stored, ("bob",), "a:1", "team")])
        self.assertEqual(c_got, [Delivery("app", stored, ("cid",), "a:1", "team")])
        self.assertEqual(a_got, [], "the write publishes nothing to its own node")
        # the node then hands out the rest: its own users, nobody twice
        a.publish_rest(delivery._replace(item=stored), carried)
        self.assertEqual(a_got, [Delivery("app", stored, ("ann",), "a:1", "team")])
        yield task.deferLater(reactor, 0.2, lambda: None)
        self.assertEqual((len(b_got), len(c_got)), (1, 1), "exactly once")

    @defer.inlineCallbacks
    def test_the_messages_of_one_write_arrive_in_id_order(self):
        store, [(a, _), (b, b_got)] = yield defer.ensureDeferred(self.cluster(2))
        b.presence.connect("app", "bob", "b:1", "tcp")
        yield defer.ensureDeferred(until(lambda: a.presence.is_online("app", "bob")))
        answers = []
        for i in range(5):  # one turn: one script, one PUBLISH of five lines
            message = draft(text=f"m{i}")
            publications, _ = a.carry(Delivery("app", message, ("bob",)))
            store.messages.add_message_publishing_then(message, publications, answers.append)
        yield defer.ensureDeferred(until(lambda: len(b_got) == 5))
        self.assertEqual([d.item for d in b_got], answers)
        self.assertEqual([d.item.body["text"] for d in b_got], [f"m{i}" for i in range(5)])
        self.assertEqual(sorted(d.item.id for d in b_got), [d.item.id for d in b_got])

    @defer.inlineCallbacks
    def test_someone_who_came_online_elsewhere_meanwhile_gets_it_from_the_node(self):
        store, [(a, _), (b, b_got), (c, c_got)] = yield defer.ensureDeferred(self.cluster(3))
        b.presence.connect("app", "bob", "b:1", "tcp")
        yield defer.ensureDeferred(until(lambda: a.presence.is_online("app", "bob")))
        message = draft(kind=GROUP, target="10000000")
        publications, carried = a.carry(Delivery("app", message, ("bob",)))
        stored = yield written(store, message, publications)
        c.presence.connect("app", "cid", "c:1", "ws")  # after the carry, before the answer
        yield defer.ensureDeferred(until(lambda: a.presence.is_online("app", "cid")))
        a.publish_rest(Delivery("app", stored, ("bob", "cid")), carried)
        yield defer.ensureDeferred(until(lambda: b_got and c_got))
        yield task.deferLater(reactor, 0.2, lambda: None)
        self.assertEqual([d.recipients for d in b_got], [("bob",)])
        self.assertEqual(c_got, [Delivery("app", stored, ("cid",))])

    @defer.inlineCallbacks
    def test_a_write_refused_publishes_nothing(self):
        store, [(a, _), (b, b_got)] = yield defer.ensureDeferred(self.cluster(2))
        b.presence.connect("app", "bob", "b:1", "tcp")
        yield defer.ensureDeferred(until(lambda: a.presence.is_online("app", "bob")))
        bad = draft(created=2**63)  # no int64: refused before anything is written
        publications, _ = a.carry(Delivery("app", bad, ("bob",)))
        self.assertTrue(publications)
        outcome = []
        store.messages.add_message_publishing_then(bad, publications, outcome.append)
        [failure] = outcome
        self.assertIsInstance(failure, Failure)
        good = draft(text="after")
        stored = yield written(store, good, a.carry(Delivery("app", good, ("bob",)))[0])
        yield defer.ensureDeferred(until(lambda: b_got))
        self.assertEqual([d.item for d in b_got], [stored], "only the message stored")

    @defer.inlineCallbacks
    def test_nothing_to_carry_when_every_recipient_is_here_or_nowhere(self):
        _, [(a, _), _] = yield defer.ensureDeferred(self.cluster(2))
        a.presence.connect("app", "ann", "a:1", "tcp")
        self.assertEqual(a.carry(Delivery("app", draft(), ("ann", "nobody"))), ((), None))
        self.assertEqual(LocalBus().carry(Delivery("app", draft(), ("ann",))), ((), None))

    @defer.inlineCallbacks
    def test_a_message_without_a_wire_form_is_not_carried(self):
        _, [(a, _), (b, _)] = yield defer.ensureDeferred(self.cluster(2))
        b.presence.connect("app", "bob", "b:1", "tcp")
        yield defer.ensureDeferred(until(lambda: a.presence.is_online("app", "bob")))
        self.assertTrue(a.carry(Delivery("app", draft(), ("bob",)))[0])
        unencodable = Delivery("app", draft(created=2**64), ("bob",))
        self.assertEqual(a.carry(unencodable), ((), None))
