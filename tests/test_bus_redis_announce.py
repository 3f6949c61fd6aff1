"""A message's parts for other nodes published by the Redis store's append script, with the
message's commit (L{jim.bus.redis.RedisBus.announcement}, L{jim.store.redis_messages.
RedisMessages.add_announced_then}), on a real redis-server: buses in one process stand for
nodes, one store for the sending node's."""
from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim.interfaces import IAnnouncingMessageStore
from jim.metrics import Metrics
from jim.model import SINGLE, TEXT, Delivery, Message, Resent
from jim.redis.address import parse
from jim.store.redis import RedisStore
from jim.store.redis_messages import ANNOUNCE_BELOW, RedisMessages
from tests.support.redis_server import empty_redis
from tests.support.slow_link import SlowLink
from tests.support.waiting import until
from tests.test_bus_redis import Node


def messages_of(deliveries):
    """The messages of C{deliveries}, a run's (a tuple item) one by one."""
    return [m for d in deliveries for m in (d.item if type(d.item) is tuple else (d.item,))]


def draft(client_id=None, text="hi"):
    """A message of ann to bob, not stored yet (its id 0)."""
    return Message(0, "app", "ann", SINGLE, "bob", TEXT, {"text": text}, client_id=client_id,
                   created=1_700_000_000_000)


class OnAnnouncingStore:
    """A test case's Redis store whose append script announces, and node a's bus on its Redis
    publishing on the store's connection (as jim.backends makes it); L{opened} adds more."""

    def setUp(self):
        self.url = empty_redis()
        return defer.ensureDeferred(self._open())

    async def _open(self):
        self.store = RedisStore(parse(self.url), reactor, metrics=Metrics(), announcing=True)
        await self.store.start()
        self.addCleanup(self.store.stop)
        self.a = await self.node(client=self.store.client)
        await self.opened()

    async def opened(self):
        """What the test case needs besides the store and node a."""

    async def node(self, url=None, **options):
        node = Node(url or self.url, **options)  # a bus and what it handed out
        await node.bus.start()
        self.addCleanup(node.bus.stop)
        return node


class AnnounceTests(OnAnnouncingStore, unittest.TestCase):
    async def opened(self):
        self.b, self.c = [await self.node() for _ in range(2)]

    async def online(self, count):
        await until(lambda: all(n.presence.online_users() == count
                                for n in (self.a, self.b, self.c)))

    async def append(self, message, recipients, exclude="a:1", once=False):
        """Announce and store C{message} from node a: its stored form and what
        L{jim.bus.redis.RedisBus.announcement} gave."""
        delivery = Delivery("app", message, recipients, exclude)
        parts, announced = self.a.bus.announcement(delivery)
        d = defer.Deferred()
        self.store.messages.add_announced_then(message, parts, once, lambda r: d.callback(r))
        return await d, announced

    async def quiet(self):
        await task.deferLater(reactor, 0.1, lambda: None)

    def test_interface(self):
        verifyObject(IAnnouncingMessageStore, self.store.messages)

    async def test_the_script_publishes_the_part_with_the_id_it_gave(self):
        self.a.presence.connect("app", "ann", "a:1", "tcp")
        self.a.presence.connect("app", "ann", "a:2", "ws")
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        await self.online(2)
        stored, announced = await self.append(draft(), ("bob", "ann"))
        self.assertGreater(stored.id, 0)
        await until(lambda: self.b.got)
        self.assertEqual(self.b.got, [Delivery("app", stored, ("bob",), "a:1")])
        self.assertEqual(self.a.got, [], "this node's part waits for the commit")
        self.a.bus.publish_announced(Delivery("app", stored, ("bob", "ann"), "a:1"), announced)
        self.assertEqual(self.a.got, [Delivery("app", stored, ("ann",), "a:1")])
        await self.quiet()
        self.assertEqual(len(self.b.got), 1, "not published again after the commit")

    async def test_parts_of_one_script_arrive_in_id_order(self):
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        await self.online(1)
        parts = self.a.bus.announcement(Delivery("app", draft(), ("bob",), "a:1"))[0]
        answers = []
        for n in range(5):
            self.store.messages.add_announced_then(draft(text=str(n)), parts, False,
                                                   answers.append)
        await until(lambda: len(messages_of(self.b.got)) == 5)
        self.assertEqual(messages_of(self.b.got), answers)
        self.assertEqual([m.body["text"] for m in messages_of(self.b.got)], list("01234"))
        # parts for the same connections, one after the other: handed out as one run
        self.assertEqual([(d.recipients, d.exclude) for d in self.b.got], [(("bob",), "a:1")])

    async def test_a_run_is_announced_message_by_message_and_handed_out_as_one(self):
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        await self.online(1)
        parts = self.a.bus.announcement(Delivery("app", draft(), ("bob",), "a:1"))[0]
        answers = []
        self.store.messages.add_announced_run_then([draft(text=str(n)) for n in range(4)],
                                                   parts, answers.append)
        await until(lambda: answers)
        [stored] = answers
        await until(lambda: len(messages_of(self.b.got)) == 4)
        self.assertEqual(messages_of(self.b.got), stored)
        self.assertEqual([type(d.item) for d in self.b.got], [tuple])

    async def test_a_resend_of_a_client_id_is_not_published_again(self):
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        await self.online(1)
        first, _ = await self.append(draft("c-1"), ("bob",), once=True)
        again, _ = await self.append(draft("c-1"), ("bob",), once=True)
        self.assertEqual(again, Resent(first))
        await until(lambda: self.b.got)
        await self.quiet()
        self.assertEqual([d.item for d in self.b.got], [first])

    async def test_a_device_connected_elsewhere_before_the_commit_is_sent_it_after_the_commit(self):
        """bob is on b when the message is announced; his second device connects on c before
        the script runs: a sends c its part after the commit; b, where bob still is, sends
        nothing on."""
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        await self.online(1)
        parts, announced = self.a.bus.announcement(Delivery("app", draft(), ("bob",), "a:1"))
        self.c.presence.connect("app", "bob", "c:1", "ws")
        await until(lambda: all(len(n.presence.connections("app", "bob")) == 2
                                for n in (self.a, self.b, self.c)))
        stored = await self.store_announced(parts)
        self.a.bus.publish_announced(Delivery("app", stored, ("bob",), "a:1"), announced)
        await until(lambda: self.c.got)
        await self.quiet()
        self.assertEqual(self.c.got, [Delivery("app", stored, ("bob",), "a:1")])
        self.assertEqual(len(self.b.got), 1, "b had it with the commit")
        self.assertEqual(self.a.got, [])

    async def test_a_recipient_announced_nowhere_but_online_since_is_sent_its_part_by_the_sender(self):
        """A message to bob (on b) and carol (offline when it is announced, then on c before
        its commit): the announcement reached no node for carol, so a sends her part."""
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        await self.online(1)
        delivery = Delivery("app", draft(), ("bob", "carol"), "a:1")
        parts, announced = self.a.bus.announcement(delivery)
        self.c.presence.connect("app", "carol", "c:1", "tcp")
        await self.online(2)
        stored = await self.store_announced(parts)
        self.a.bus.publish_announced(delivery._replace(item=stored), announced)
        await until(lambda: self.c.got)
        await self.quiet()
        self.assertEqual(self.c.got, [Delivery("app", stored, ("carol",), "a:1")])
        self.assertEqual(self.b.got, [Delivery("app", stored, ("bob",), "a:1")])

    async def test_a_device_on_the_sending_node_gets_it_though_the_one_announced_to_left(self):
        """bob has a device on a (the sending node) and one on b. b hands the part to b:1,
        then b:1 leaves before a publishes its own part: a:7, connected throughout, gets it
        from a, and nothing comes back from b."""
        self.a.presence.connect("app", "bob", "a:7", "tcp")
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        await until(lambda: all(len(n.presence.connections("app", "bob")) == 2
                                for n in (self.a, self.b, self.c)))
        parts, announced = self.a.bus.announcement(Delivery("app", draft(), ("bob",), None))
        stored = await self.store_announced(parts)
        await until(lambda: self.b.got)
        self.b.presence.disconnect("app", "bob", "b:1")
        await until(lambda: self.a.presence.connections("app", "bob") == [("a:7", "tcp")])
        self.a.bus.publish_announced(Delivery("app", stored, ("bob",), None), announced)
        await self.quiet()
        self.assertEqual(self.a.got, [Delivery("app", stored, ("bob",), None)])

    async def test_a_device_elsewhere_gets_it_though_the_one_announced_to_left_after_it(self):
        """bob on b when it is announced; his second device connects on c before the script
        runs; b hands the part to b:1, then b:1 leaves before a publishes the rest: c gets
        it from a, once."""
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        await self.online(1)
        parts, announced = self.a.bus.announcement(Delivery("app", draft(), ("bob",), None))
        self.c.presence.connect("app", "bob", "c:1", "ws")
        await until(lambda: all(len(n.presence.connections("app", "bob")) == 2
                                for n in (self.a, self.b, self.c)))
        stored = await self.store_announced(parts)
        await until(lambda: self.b.got)
        self.b.presence.disconnect("app", "bob", "b:1")
        await until(lambda: self.a.presence.connections("app", "bob") == [("c:1", "ws")])
        self.a.bus.publish_announced(Delivery("app", stored, ("bob",), None), announced)
        await until(lambda: self.c.got)
        await self.quiet()
        self.assertEqual(self.c.got, [Delivery("app", stored, ("bob",), None)])

    async def test_a_recipient_announced_to_two_nodes_gets_it_once_on_each(self):
        """bob on b and c when it is announced; b:1 leaves before the script runs. c has the
        script's part; b, finding him gone, does not send it on to c, which had one too."""
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        self.c.presence.connect("app", "bob", "c:1", "ws")
        await until(lambda: all(len(n.presence.connections("app", "bob")) == 2
                                for n in (self.a, self.b, self.c)))
        parts, announced = self.a.bus.announcement(Delivery("app", draft(), ("bob",), None))
        self.assertEqual(len(parts), 2)
        self.b.presence.disconnect("app", "bob", "b:1")
        await until(lambda: all(n.presence.connections("app", "bob") == [("c:1", "ws")]
                                for n in (self.a, self.b, self.c)))
        stored = await self.store_announced(parts)
        self.a.bus.publish_announced(Delivery("app", stored, ("bob",), None), announced)
        await until(lambda: self.c.got)
        await self.quiet()
        self.assertEqual(self.c.got, [Delivery("app", stored, ("bob",), None)])
        self.assertEqual(self.b.got, [])

    async def test_a_recipient_on_two_nodes_who_connects_on_a_third_gets_it_once_there(self):
        """bob on b and c when it is announced, then on d too before the commit: d gets its
        part once, from a; b and c send nothing on."""
        d = await self.node()
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        self.c.presence.connect("app", "bob", "c:1", "ws")
        nodes = (self.a, self.b, self.c, d)
        await until(lambda: all(len(n.presence.connections("app", "bob")) == 2 for n in nodes))
        parts, announced = self.a.bus.announcement(Delivery("app", draft(), ("bob",), None))
        d.presence.connect("app", "bob", "d:1", "tcp")
        await until(lambda: all(len(n.presence.connections("app", "bob")) == 3 for n in nodes))
        stored = await self.store_announced(parts)
        self.a.bus.publish_announced(Delivery("app", stored, ("bob",), None), announced)
        await until(lambda: d.got)
        await self.quiet()
        self.assertEqual(d.got, [Delivery("app", stored, ("bob",), None)])
        self.assertEqual((len(self.b.got), len(self.c.got)), (1, 1))

    async def test_a_device_connected_elsewhere_gets_two_messages_in_their_order(self):
        """bob on b when m1 is announced; his second device connects on c before m1's commit.
        m1 reaches c from a, before a's next message m2, even when b (here reading everything
        Redis sends it 100 ms late, as a busy node would) is slow: nothing waits on b."""
        port = int(self.url.rsplit(":", 1)[1].split("/")[0])
        self.b = await self.node(url=f"redis://127.0.0.1:{SlowLink(port, 0.1).listen(self)}/0")
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        await self.online(1)
        first = Delivery("app", draft(text="m1"), ("bob",), None)
        parts, announced = self.a.bus.announcement(first)
        self.c.presence.connect("app", "bob", "c:1", "ws")
        await until(lambda: all(len(n.presence.connections("app", "bob")) == 2
                                for n in (self.a, self.b, self.c)))
        d = defer.Deferred()
        self.store.messages.add_announced_then(first.item, parts, False, d.callback)
        self.a.bus.publish_announced(first._replace(item=await d), announced)
        second = Delivery("app", draft(text="m2"), ("bob",), None)
        await until(lambda: self.a.bus.announcement(second) is not None)
        parts, announced = self.a.bus.announcement(second)
        d = defer.Deferred()
        self.store.messages.add_announced_then(second.item, parts, False, d.callback)
        self.a.bus.publish_announced(second._replace(item=await d), announced)
        await until(lambda: len(self.c.got) == 2)
        await task.deferLater(reactor, 0.3, lambda: None)  # b's late reads are over
        self.assertEqual([d.item.body["text"] for d in self.c.got], ["m1", "m2"])
        self.assertEqual([d.item.body["text"] for d in self.b.got], ["m1", "m2"])

    async def store_announced(self, parts):
        """Store draft() from node a with the announced C{parts}: the message stored."""
        d = defer.Deferred()
        self.store.messages.add_announced_then(draft(), parts, False, d.callback)
        return await d

    async def moved_during_the_commit(self, node, connection_id):
        """bob, on b when a message to him is announced, moves to C{node} before its commit:
        what C{node} was handed once b sent it on, and the message."""
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        await self.online(1)
        parts, announced = self.a.bus.announcement(Delivery("app", draft(), ("bob",), "a:1"))
        self.b.presence.disconnect("app", "bob", "b:1")
        node.presence.connect("app", "bob", connection_id, "tcp")
        await until(lambda: all(n.presence.connections("app", "bob") == [(connection_id, "tcp")]
                                for n in (self.a, self.b, self.c)))
        d = defer.Deferred()
        self.store.messages.add_announced_then(draft(), parts, False, d.callback)
        stored = await d
        self.a.bus.publish_announced(Delivery("app", stored, ("bob",), "a:1"), announced)
        await until(lambda: node.got)  # b sends it on
        await self.quiet()
        self.assertEqual(self.b.got, [])
        return node.got, stored

    async def test_one_who_left_the_node_announced_to_gets_it_once_where_it_went(self):
        got, stored = await self.moved_during_the_commit(self.c, "c:1")
        self.assertEqual(got, [Delivery("app", stored, ("bob",), "a:1")], "once")

    async def test_one_who_moved_to_the_sending_node_gets_it_once_there(self):
        got, stored = await self.moved_during_the_commit(self.a, "a:5")
        self.assertEqual(got, [Delivery("app", stored, ("bob",), "a:1")], "once")

    async def test_no_parts_without_a_recipient_on_another_node(self):
        self.a.presence.connect("app", "bob", "a:3", "tcp")
        await self.online(1)
        self.assertEqual(self.a.bus.announcement(Delivery("app", draft(), ("bob",), "a:1")),
                         ((), None))
        self.assertEqual(self.a.bus.announcement(Delivery("app", draft(), ("nobody",), None)),
                         ((), None))

    def test_a_store_whose_bus_is_elsewhere_does_not_announce(self):
        elsewhere = RedisStore(parse(self.url), reactor)  # (not started: nothing is sent)
        self.assertFalse(elsewhere.messages.announces("app"))

    async def test_a_delivery_published_at_a_commit_reaches_a_node_before_a_later_script(self):
        """m1 is published after its commit, from its answer (as the core does with a message
        it did not announce), and m3's script, announced, is sent from that same answer (it
        waited for a script in flight): both go on the store's connection, m1's part first,
        though the bus sends what a turn queued only at its end."""
        self.b.presence.connect("app", "bob", "b:1", "tcp")
        await self.online(1)
        clock = task.Clock()  # when this area sends its scripts
        messages = RedisMessages(self.store.client, clock, announcing=True)
        messages.add_message_then(draft(text="m1"), lambda stored: self.a.bus.publish(
            Delivery("app", stored, ("bob",), None)))
        clock.advance(0)
        messages.add_message_then(draft(text="m2"), lambda stored: None)
        clock.advance(0)  # two scripts in flight: m3 waits for m1's answer
        parts, _ = self.a.bus.announcement(Delivery("app", draft(text="m3"), ("bob",), None))
        messages.add_announced_then(draft(text="m3"), parts, False, lambda stored: None)
        await until(lambda: len(self.b.got) == 2)
        self.assertEqual([d.item.body["text"] for d in self.b.got], ["m1", "m3"])

    def test_a_bus_on_a_connection_of_its_own_announces_nothing(self):
        """A store's script, on another connection, could overtake what it published."""
        delivery = Delivery("app", draft(), ("bob",), None)
        self.assertIsNone(self.b.bus.announcement(delivery))

    async def test_a_store_with_many_appends_waiting_does_not_announce(self):
        messages = self.store.messages
        self.assertTrue(messages.announces("app"))
        answers = []
        for _ in range(ANNOUNCE_BELOW + 2 * 256):  # beyond the scripts in flight
            messages.add_message_then(draft(), answers.append)
        self.assertFalse(messages.announces("app"), "batches are big: publish after")
        self.assertTrue(messages.announces("other"), "another app's are not")
        await until(lambda: len(answers) == ANNOUNCE_BELOW + 2 * 256)
        self.assertTrue(messages.announces("app"))
