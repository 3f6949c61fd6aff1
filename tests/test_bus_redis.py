"""The Redis bus and cluster presence, on a real redis-server: two or three buses in one
process stand for nodes."""
import orjson
from twisted.internet import defer, reactor, task
from twisted.logger import LogLevel, formatEvent, globalLogPublisher
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim.bus.redis import RedisBus
from jim.interfaces import IBus, IPresence
from jim.model import (
    EVERY_APP, GROUP, MEMBERS_ADDED, SINGLE, TEXT, Delivery, Event, Invalidate, Kick, Message,
    UserCard,
)
from jim.redis.address import parse
from jim.wire import busjson
from tests.support.redis_server import RedisServer, empty_redis, shared_server
from tests.support.waiting import until


def message(mid=1, sender="ann", target="bob", no_offline=False):
    return Message(mid, "app", sender, SINGLE, target, TEXT, {"text": "hi"}, created=1,
                   no_offline=no_offline)


def ghost(origin, username):
    """A node "ghost" that announced C{username}, beat once just now, and died."""
    server = shared_server()
    server.command("EVAL", "local t = redis.call('TIME') redis.call('ZADD', KEYS[1],"
                   " t[1] * 1000 + math.floor(t[2] / 1000), 'ghost')", "1", "jim:nodes")
    server.command("HSET", "jim:presence:ghost", "ghost:1", f'["app","{username}","tcp"]')
    server.command("PUBLISH", "jim:bus", f'ghost\nup ["app","{username}","ghost:1","tcp"]')


class Node:
    """A bus and what it handed out."""

    def __init__(self, url, **options):
        self.bus = RedisBus(parse(url), reactor, **options)
        self.got = []
        self.bus.subscribe(self.got.append)

    @property
    def presence(self):
        return self.bus.presence


class RedisBusTests(unittest.TestCase):
    def logged(self):
        """The events logged from now to the end of the test."""
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        return events

    def own_redis(self):
        """A redis-server of this test's own, to stop, restart or pause."""
        server = RedisServer().start()
        self.addCleanup(server.remove)
        return server

    async def nodes(self, count, url=None, **options):
        url = url or empty_redis()
        made = []
        for _ in range(count):
            node = Node(url, **options)
            await node.bus.start()
            self.addCleanup(node.bus.stop)
            made.append(node)
        return made

    def test_interfaces(self):
        bus = RedisBus(parse("redis://127.0.0.1:1/0"), reactor)
        verifyObject(IBus, bus)
        verifyObject(IPresence, bus.presence)

    @defer.inlineCallbacks
    def test_presence_reaches_every_node(self):
        a, b = yield defer.ensureDeferred(self.nodes(2))
        self.assertNotEqual(a.bus.node_number, b.bus.node_number)
        self.assertTrue(a.presence.connect("app", "ann", "a:1", "tcp"))
        yield defer.ensureDeferred(until(lambda: b.presence.is_online("app", "ann")))
        self.assertEqual(b.presence.connections("app", "ann"), [("a:1", "tcp")])
        self.assertFalse(b.presence.connect("app", "ann", "b:1", "ws"), "not her first")
        yield defer.ensureDeferred(until(lambda: len(a.presence.connections("app", "ann")) == 2))
        self.assertFalse(a.presence.disconnect("app", "ann", "a:1"), "still on b")
        yield defer.ensureDeferred(until(lambda: len(b.presence.connections("app", "ann")) == 1))
        self.assertTrue(b.presence.disconnect("app", "ann", "b:1"), "her last connection")
        yield defer.ensureDeferred(until(lambda: not a.presence.is_online("app", "ann")))
        self.assertEqual(a.presence.online_users(), 0)

    @defer.inlineCallbacks
    def test_a_delivery_reaches_each_recipient_on_its_node_once(self):
        a, b, c = yield defer.ensureDeferred(self.nodes(3))
        a.presence.connect("app", "ann", "a:1", "tcp")
        b.presence.connect("app", "bob", "b:1", "tcp")
        c.presence.connect("app", "cid", "c:1", "ws")
        yield defer.ensureDeferred(until(lambda: a.presence.online_users() == 3))
        item = Message(7, "app", "ann", GROUP, "10000000", TEXT, {"text": "all"}, created=1)
        a.bus.publish(Delivery("app", item, ("ann", "bob", "cid", "dan"), "a:2"))
        yield defer.ensureDeferred(until(lambda: b.got and c.got))
        self.assertEqual([d.recipients for d in a.got], [("ann",)])
        self.assertEqual(b.got, [Delivery("app", item, ("bob",), "a:2")])
        self.assertEqual(c.got, [Delivery("app", item, ("cid",), "a:2")])
        yield task.deferLater(reactor, 0.1, lambda: None)
        self.assertEqual((len(a.got), len(b.got), len(c.got)), (1, 1, 1), "exactly once")

    @defer.inlineCallbacks
    def test_a_message_skips_a_node_whose_one_connection_of_the_user_sent_it(self):
        """Its one connection there is the excluded one (the sender's): nothing to hand over.
        An event still goes there: the hub follows what it changes for every connection."""
        a, b = yield defer.ensureDeferred(self.nodes(2))
        a.presence.connect("app", "ann", "a:1", "tcp")
        b.presence.connect("app", "bob", "b:1", "tcp")
        yield defer.ensureDeferred(until(lambda: a.presence.online_users() == 2))
        item = Message(7, "app", "ann", SINGLE, "bob", TEXT, {"text": "hi"}, created=1)
        a.bus.publish(Delivery("app", item, ("bob", "ann"), "a:1"))
        yield defer.ensureDeferred(until(lambda: b.got))
        self.assertEqual(b.got, [Delivery("app", item, ("bob",), "a:1")])
        self.assertEqual(a.got, [], "ann's one connection sent it")
        event = Event(MEMBERS_ADDED, "app", gid=5, users=(UserCard("ann"),))
        a.bus.publish(Delivery("app", event, ("ann",), "a:1"))
        self.assertEqual(a.got, [Delivery("app", event, ("ann",), "a:1")])

    @defer.inlineCallbacks
    def test_kicks_and_invalidations_reach_every_node_in_order(self):
        a, b = yield defer.ensureDeferred(self.nodes(2))
        values = [Kick("app", "bob", "forbidden"), Invalidate("users", "app", "bob", a.bus.node),
                  Kick("app", "cid", "deleted", keep="x")]
        for value in values:
            a.bus.publish(value)
        self.assertEqual(a.got, values, "handed out here at once")
        yield defer.ensureDeferred(until(lambda: len(b.got) == 3))
        self.assertEqual(b.got, values)

    @defer.inlineCallbacks
    def test_a_recipient_who_moved_to_another_node_gets_it_there(self):
        b, c = yield defer.ensureDeferred(self.nodes(2))
        c.presence.connect("app", "bob", "c:1", "tcp")
        yield defer.ensureDeferred(until(lambda: b.presence.is_online("app", "bob")))
        # a third node still thought bob was on b, and sent b his part
        stale = Delivery("app", message(8), ("bob",))
        shared_server().command("PUBLISH", f"jim:bus:{b.bus.node}",
                                busjson.encode(stale).decode())
        yield defer.ensureDeferred(until(lambda: c.got))
        self.assertEqual(c.got, [stale])
        self.assertEqual(b.got, [])

    @defer.inlineCallbacks
    def test_stored_parts_are_handed_out_and_sent_on_only_where_no_part_went(self):
        """Parts a store's script published (the C{stored} form): one of the version before
        (no origin) is handed out; a recipient not here is sent it on, but not to a node that
        had a part of its own (C{told}); an unreadable line costs only itself."""
        b, c = yield defer.ensureDeferred(self.nodes(2))
        b.presence.connect("app", "bob", "b:1", "tcp")
        c.presence.connect("app", "carol", "c:1", "tcp")
        yield defer.ensureDeferred(until(lambda: all(
            n.presence.online_users() == 2 for n in (b, c))))
        first, second, third = message(41), message(42), message(43)

        def stored(item, *tail):
            return (b"stored [" + b"%d" % item.id + b"," + orjson.dumps(item[2:]) + b","
                    + orjson.dumps(tail) + b"]")

        lines = [stored(first, "app", ["bob"], None, None), b"stored [1,2,3]",
                 stored(second, "app", ["bob", "carol"], None, None, "gone-node",
                        [b.bus.node]),
                 stored(third, "app", ["carol"], None, None, "gone-node",
                        [b.bus.node, c.bus.node])]
        shared_server().command("PUBLISH", f"jim:bus:{b.bus.node}",
                                b"\n".join(lines).decode())
        yield defer.ensureDeferred(until(lambda: len(b.got) == 2 and c.got))
        yield task.deferLater(reactor, 0.1, lambda: None)
        self.assertEqual([(d.item, d.recipients) for d in b.got],
                         [(first, ("bob",)), (second, ("bob",))])
        self.assertEqual([(d.item, d.recipients) for d in c.got], [(second, ("carol",))],
                         "sent on for carol, once: c had its own part of the third")

    @defer.inlineCallbacks
    def test_a_node_that_stops_beating_has_its_users_shown_offline(self):
        a, = yield defer.ensureDeferred(self.nodes(1, expiry=0.6))
        ghost(a.bus.node, "bob")  # beat once, long ago; never again
        yield defer.ensureDeferred(until(lambda: a.presence.is_online("app", "bob")))
        yield defer.ensureDeferred(until(lambda: not a.presence.is_online("app", "bob"),
                                         timeout=5))
        self.assertNotIn(b"ghost", shared_server().command("ZRANGE", "jim:nodes", "0", "-1"))

    @defer.inlineCallbacks
    def test_users_of_a_node_that_died_before_this_one_started_are_told_offline(self):
        """The node that finds a dead node takes its users offline and tells (C{lost}),
        from the dead node's presence as written in Redis: it may have started after the
        death, and never heard the dead node's announcements."""
        a, = yield defer.ensureDeferred(self.nodes(1, expiry=0.6))
        server = shared_server()  # a ghost that beat and wrote its presence, never announced
        server.command("EVAL", "local t = redis.call('TIME') redis.call('ZADD', KEYS[1],"
                       " t[1] * 1000 + math.floor(t[2] / 1000), 'ghost')", "1", "jim:nodes")
        server.command("HSET", "jim:presence:ghost", "ghost:1", '["app","bob","tcp"]',
                       "ghost:2", '["app","bob","ws"]', "ghost:3", "not json",
                       "ghost:4", '["app","carol","tcp"]')
        self.assertFalse(a.presence.is_online("app", "bob"))
        a.presence.connect("app", "carol", "a:1", "tcp")  # carol is online here still
        lost = []
        a.bus.lost = lost.extend
        yield defer.ensureDeferred(until(lambda: lost, timeout=5))
        self.assertEqual(lost, [("app", "bob")])
        self.assertEqual(server.command("EXISTS", "jim:presence:ghost"), b":0\r\n")

    @defer.inlineCallbacks
    def test_a_node_that_starts_while_another_lies_dead_tells_only_of_users_online_nowhere(self):
        """A node that starts while a dead node's beat has expired does not take it out before
        it asked the others for their lists: bob, on the dead node and on live node b, stays
        online, and only ann, on the dead node alone, goes offline. (Beats every second: b's
        next comes after a's first.)"""
        url = empty_redis()
        b, = yield defer.ensureDeferred(self.nodes(1, url=url, expiry=3.0))
        b.presence.connect("app", "bob", "b:1", "tcp")
        lost = []
        b.bus.lost = lost.extend
        yield task.deferLater(reactor, 0.3, lambda: None)  # b's first beats are done
        shared_server().command("EVAL", "redis.call('ZADD', KEYS[1], 0, 'ghost')", "1", "jim:nodes")
        shared_server().command("HSET", "jim:presence:ghost", "ghost:1", '["app","bob","tcp"]',
                                "ghost:2", '["app","ann","tcp"]')
        a = Node(url, expiry=3.0)
        a.bus.lost = lost.extend
        yield a.bus.start()
        self.addCleanup(a.bus.stop)
        yield defer.ensureDeferred(until(lambda: lost, timeout=5))
        yield task.deferLater(reactor, 0.2, lambda: None)
        self.assertEqual(lost, [("app", "ann")])
        self.assertTrue(a.presence.is_online("app", "bob"))

    @defer.inlineCallbacks
    def test_a_node_that_stops_says_goodbye(self):
        a, b = yield defer.ensureDeferred(self.nodes(2))
        b.presence.connect("app", "bob", "b:1", "tcp")
        yield defer.ensureDeferred(until(lambda: a.presence.is_online("app", "bob")))
        yield b.bus.stop()
        yield defer.ensureDeferred(until(lambda: not a.presence.is_online("app", "bob")))

    @defer.inlineCallbacks
    def test_a_node_catches_up_after_redis_restarts(self):
        events, server = self.logged(), self.own_redis()
        a, b = yield defer.ensureDeferred(self.nodes(2, url=server.url(), ping_every=0.3,
                                                     timeout=1.0))
        a.presence.connect("app", "ann", "a:1", "tcp")
        yield defer.ensureDeferred(until(lambda: b.presence.is_online("app", "ann")))
        server.stop()
        b.presence.connect("app", "bob", "b:1", "ws")  # announced into the void
        server.start()
        yield defer.ensureDeferred(until(lambda: a.presence.is_online("app", "bob"), timeout=20))
        channel = f"jim:bus:{b.bus.node}"
        yield defer.ensureDeferred(until(
            lambda: f"{channel}\r\n:1".encode() in server.command("PUBSUB", "NUMSUB", channel),
            timeout=20))  # b listens again
        # what b may have missed meanwhile: it forgets every cache
        self.assertIn(Invalidate("users", EVERY_APP, "", ""), b.got)
        a.bus.publish(Kick("app", "bob", "forbidden"))
        yield defer.ensureDeferred(until(lambda: Kick("app", "bob", "forbidden") in b.got))
        # the logs of the outage say what failed, and name Redis by its address
        said = [formatEvent(event) for event in events]
        self.assertTrue(any("bus: the subscription's connection to Redis failed" in line
                            for line in said), said)
        self.assertFalse([line for line in said if "did not answer a PING" in line])
        self.assertFalse([line for line in said if "object at 0x" in line])
        self.assertTrue(any(f"Redis at redis://127.0.0.1:{server.port}/" in line
                            for line in said), [line for line in said if "retry" in line])

    @defer.inlineCallbacks
    def test_a_publish_that_fails_keeps_nothing_from_this_nodes_recipients(self):
        server = RedisServer().start()
        self.addCleanup(server.remove)
        a, b = yield defer.ensureDeferred(self.nodes(2, url=server.url(), ping_every=0.3,
                                                     timeout=1.0))
        b.presence.connect("app", "bob", "b:1", "tcp")
        b.presence.connect("app", "cid", "b:2", "tcp")
        a.presence.connect("app", "cid", "a:1", "tcp")  # cid is on a too
        yield defer.ensureDeferred(until(lambda: a.presence.online_users() == 2
                                         and len(a.presence.connections("app", "cid")) == 2))
        server.stop()
        a.bus.publish(Delivery("app", message(9, target="bob"), ("bob", "cid")))
        yield task.deferLater(reactor, 0.2, lambda: None)
        # bob is only on b, which cannot be reached (his devices find it in their inboxes);
        # cid got it here all the same
        self.assertEqual([d.recipients for d in a.got], [("cid",)])
        server.start()  # so that the nodes can leave cleanly
        channel = f"jim:bus:{a.bus.node}"
        yield defer.ensureDeferred(until(
            lambda: f"{channel}\r\n:1".encode() in server.command("PUBSUB", "NUMSUB", channel),
            timeout=20))

    @defer.inlineCallbacks
    def test_a_subscription_redis_does_not_answer_is_dropped_and_made_again(self):
        events, server = self.logged(), self.own_redis()
        a, b = yield defer.ensureDeferred(self.nodes(2, url=server.url(), ping_every=0.3))
        server.command("CLIENT", "PAUSE", "1000", "ALL")
        yield defer.ensureDeferred(until(lambda: any(
            "did not answer a PING within 0.3 s" in formatEvent(e) for e in events)))
        b.presence.connect("app", "bob", "b:1", "tcp")  # told once it listens again
        yield defer.ensureDeferred(until(lambda: a.presence.is_online("app", "bob"),
                                         timeout=20))

    @defer.inlineCallbacks
    def test_a_big_part_sent_on_twice_is_handed_out_once(self):
        """A room message for 5,000 members who moved here: both the node they left and the
        sender send it on; each member is handed it once."""
        c, = yield defer.ensureDeferred(self.nodes(1))
        names = [f"u{n}" for n in range(5000)]
        for n, name in enumerate(names):
            c.presence.connect("app", name, f"c:{n}", "tcp")
        item = message(42)._replace(target_type="chatroom", target="7")
        line = (b"again " + busjson.encode(Delivery("app", item, tuple(names)))).decode()
        for _ in range(2):
            shared_server().command("PUBLISH", f"jim:bus:{c.bus.node}", line)
        yield defer.ensureDeferred(until(lambda: c.got))
        yield task.deferLater(reactor, 0.2, lambda: None)
        self.assertEqual([len(d.recipients) for d in c.got], [5000])

    @defer.inlineCallbacks
    def test_a_node_number_lost_from_redis_is_taken_back_at_the_next_beat(self):
        a, = yield defer.ensureDeferred(self.nodes(1, expiry=0.6))
        key = f"jim:node-number:{a.bus.node_number}"
        shared_server().command("DEL", key)
        yield defer.ensureDeferred(until(
            lambda: shared_server().command("GET", key).endswith(a.bus.node.encode() + b"\r\n")))

    @defer.inlineCallbacks
    def test_a_node_number_taken_by_another_node_is_logged_as_an_error(self):
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        a, = yield defer.ensureDeferred(self.nodes(1, expiry=0.6))
        shared_server().command("SET", f"jim:node-number:{a.bus.node_number}", "usurper")

        def complaint():
            return [e for e in events if e.get("log_level") == LogLevel.error
                    and e.get("number") == a.bus.node_number]
        yield defer.ensureDeferred(until(complaint))
        self.assertIn("event ids may repeat", formatEvent(complaint()[0]))
