"""Cluster presence as one node sees it: its own connections exactly, other nodes' as they were
announced, and the wait for an announcement to go round."""
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from jim.bus.local import LocalPresence
from jim.bus.presence import ClusterPresence
from jim.bus.redis_presence import Broadcast
from jim.interfaces import IPresence

USERS = ("ann", "bob", "cid")
CONNECTIONS = ("c1", "c2", "c3", "c4")

operations = st.lists(st.tuples(st.booleans(), st.sampled_from(USERS),
                                st.sampled_from(CONNECTIONS), st.sampled_from(("tcp", "ws"))),
                      max_size=40)


class AloneTests(SynchronousTestCase):
    """A node alone in its cluster answers as the presence of one process does."""

    def test_interface(self):
        verifyObject(IPresence, ClusterPresence("a", Clock()))

    @given(operations)
    def test_behaves_as_local_presence(self, steps):
        mine, local = ClusterPresence("a", Clock()), LocalPresence()
        for up, user, connection, terminal in steps:
            if up:
                taken = {c for name in USERS for c, _ in local.connections("app", name)}
                if connection in taken:
                    continue  # a connection id is one connection: one user, once
                self.assertEqual(mine.connect("app", user, connection, terminal),
                                 local.connect("app", user, connection, terminal))
            else:
                self.assertEqual(mine.disconnect("app", user, connection),
                                 local.disconnect("app", user, connection))
            for name in USERS:
                self.assertEqual(mine.is_online("app", name), local.is_online("app", name))
                self.assertEqual(mine.connections("app", name), local.connections("app", name))
            self.assertEqual(mine.online_among("app", USERS), local.online_among("app", USERS))
            self.assertEqual(mine.online_users(), local.online_users())
            # alone, here is online
            for name in USERS:
                self.assertEqual(mine.is_here("app", name), local.is_online("app", name))
            self.assertEqual(mine.absent("app", USERS),
                             [name for name in USERS if not local.is_online("app", name)])


class ClusterTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.presence = ClusterPresence("a", self.clock)
        self.changes = []
        self.presence.on_change = lambda *change: self.changes.append(change)

    def test_own_changes_are_handed_on(self):
        self.assertTrue(self.presence.connect("app", "ann", "a:1", "tcp"))
        self.assertFalse(self.presence.disconnect("app", "ann", "a:9"), "not hers")
        self.assertTrue(self.presence.disconnect("app", "ann", "a:1"))
        self.assertEqual(self.changes, [(True, "app", "ann", "a:1", "tcp"),
                                        (False, "app", "ann", "a:1", None)])

    def test_a_user_on_two_nodes(self):
        self.presence.remote_up("b", "app", "ann", "b:1", "ws")
        self.assertFalse(self.presence.connect("app", "ann", "a:1", "tcp"), "not her first")
        self.assertEqual(self.presence.nodes_of("app", ["ann", "bob"]),
                         {"b": ["ann"], "a": ["ann"]})
        self.assertTrue(self.presence.is_here("app", "ann"))
        self.assertTrue(self.presence.online_beyond("app", "ann", "a"))
        self.presence.remote_up("b", "app", "bob", "b:2", "ws")
        self.assertEqual(self.presence.absent("app", ["ann", "bob", "cid"]), ["bob", "cid"])
        self.assertFalse(self.presence.connect("app", "ann", "a:2", "ws"), "a second here")
        self.assertFalse(self.presence.disconnect("app", "ann", "a:2"), "still on a and b")
        self.assertTrue(self.presence.is_here("app", "ann"), "a:1 is still here")
        self.assertFalse(self.presence.disconnect("app", "ann", "a:1"), "still on b")
        self.assertFalse(self.presence.is_here("app", "ann"))
        self.assertEqual(self.presence.absent("app", ["ann"]), ["ann"])
        self.assertTrue(self.presence.is_online("app", "ann"))
        self.assertFalse(self.presence.online_beyond("app", "ann", "b"))

    def test_a_user_whose_one_connection_is_excluded_is_on_no_node(self):
        self.presence.connect("app", "ann", "a:1", "tcp")
        self.presence.remote_up("b", "app", "bob", "b:1", "ws")
        self.assertEqual(self.presence.nodes_of("app", ["ann", "bob"], "a:1"), {"b": ["bob"]})
        self.assertEqual(self.presence.nodes_of("app", ["ann", "bob"], "a:9"),
                         {"a": ["ann"], "b": ["bob"]})
        self.presence.connect("app", "ann", "a:2", "ws")  # another connection: still reached
        self.assertEqual(self.presence.nodes_of("app", ["ann", "bob"], "a:1"),
                         {"a": ["ann"], "b": ["bob"]})

    def test_another_node_cannot_touch_this_nodes_connections(self):
        self.presence.connect("app", "ann", "a:1", "tcp")
        self.presence.remote_down("b", "app", "ann", "a:1")
        self.presence.remote_up("a", "app", "bob", "a:2", "tcp")  # an echo of this node
        self.assertEqual(self.presence.drop_node("a"), [])
        self.assertEqual(self.presence.connections("app", "ann"), [("a:1", "tcp")])
        self.assertFalse(self.presence.is_online("app", "bob"))

    def test_a_dropped_node_takes_its_users_offline(self):
        self.presence.remote_up("b", "app", "ann", "b:1", "tcp")
        self.presence.remote_up("b", "app", "bob", "b:2", "tcp")
        self.presence.remote_up("c", "app", "bob", "c:1", "tcp")
        self.assertEqual(self.presence.drop_node("b"), [("app", "ann")])
        self.assertEqual(self.presence.online_among("app", ["ann", "bob"]), ["bob"])
        self.assertEqual(self.presence.remote_nodes(), ["c"])

    def test_a_nodes_whole_list_replaces_what_was_known_of_it(self):
        self.presence.connect("app", "ann", "a:1", "tcp")
        self.presence.remote_up("b", "app", "bob", "b:1", "tcp")  # gone from b's list below
        self.presence.remote_up("c", "app", "dan", "c:1", "tcp")
        self.presence.replace_node("b", [("b:2", "app", "cid", "ws")])
        self.presence.replace_node("a", [("a:7", "app", "eve", "ws")])  # its own: ignored
        self.assertEqual(self.presence.online_among("app", ["ann", "bob", "cid", "dan", "eve"]),
                         ["ann", "cid", "dan"])
        self.assertEqual(self.presence.local_connections(), [("a:1", "app", "ann", "tcp")])
        self.assertEqual(self.presence.absent("app", ["ann", "cid", "eve"]), ["cid", "eve"])

    def test_a_login_waits_until_its_announcement_went_round(self):
        self.presence.connect("app", "ann", "a:1", "tcp")
        waiting = self.presence.announced("a:1")
        self.assertNoResult(waiting)
        self.presence.went_round("a:1")
        self.assertIsNone(self.successResultOf(waiting))
        self.assertIsNone(self.successResultOf(self.presence.announced("a:1")), "done already")
        self.assertEqual(self.clock.getDelayedCalls(), [], "its deadline is cancelled")

    def test_a_slow_bus_never_holds_a_login_long(self):
        self.presence.connect("app", "ann", "a:1", "tcp")
        waiting = self.presence.announced("a:1")
        self.clock.advance(1.9)
        self.assertNoResult(waiting)
        self.clock.advance(0.2)
        self.assertIsNone(self.successResultOf(waiting))

    def test_stopping_lets_every_login_go_on(self):
        self.presence.connect("app", "ann", "a:1", "tcp")
        self.presence.connect("app", "bob", "a:2", "tcp")
        waiting = [self.presence.announced("a:1"), self.presence.announced("a:2")]
        self.presence.stop_announcing()
        for done in waiting:
            self.assertIsNone(self.successResultOf(done))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_without_a_bus_nothing_waits(self):
        alone = ClusterPresence("a", self.clock)
        alone.connect("app", "ann", "a:1", "tcp")
        self.assertIsNone(self.successResultOf(alone.announced("a:1")))


class FakeClient:
    """Records PUBLISHes; each answer is a Deferred the test fires."""

    def __init__(self):
        self.published = []

    def call(self, *args):
        d = defer.Deferred()
        self.published.append((args, d))
        return d


class BroadcastTests(SynchronousTestCase):
    """What a REST change waits for: this node's announcements went round."""

    def setUp(self):
        self.clock = Clock()
        self.client = FakeClient()
        self.broadcast = Broadcast(self.client, "a", self.clock)

    def test_nothing_sent_nothing_to_wait_for(self):
        self.assertIsNone(self.successResultOf(self.broadcast.flushed()))

    def test_flushed_once_everything_sent_so_far_came_back(self):
        self.broadcast.send("bus", b"one")
        self.broadcast.send("up", b"two")
        first = self.broadcast.flushed()
        self.broadcast.send("bus", b"three")  # not waited for by the first
        second = self.broadcast.flushed()
        self.assertEqual([args for args, _ in self.client.published],
                         [("PUBLISH", "jim:bus", b"a\nbus one"),
                          ("PUBLISH", "jim:bus", b"a\nup two"),
                          ("PUBLISH", "jim:bus", b"a\nbus three")])
        self.broadcast.heard_back()
        self.assertNoResult(first)
        self.broadcast.heard_back()
        self.assertIsNone(self.successResultOf(first))
        self.assertNoResult(second)
        self.broadcast.heard_back()
        self.successResultOf(second)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_what_failed_to_leave_is_not_waited_for(self):
        self.broadcast.send("bus", b"x").addErrback(lambda f: None)
        waiting = self.broadcast.flushed()
        self.client.published[0][1].errback(RuntimeError("Redis is away"))
        self.successResultOf(waiting)

    def test_a_node_back_from_a_break_waits_for_nothing_sent_before(self):
        self.broadcast.send("bus", b"x")
        waiting = self.broadcast.flushed()
        self.broadcast.resubscribed()
        self.successResultOf(waiting)

    def test_never_longer_than_the_timeout(self):
        self.broadcast.send("bus", b"x")
        waiting = self.broadcast.flushed()
        self.clock.advance(1.9)
        self.assertNoResult(waiting)
        self.clock.advance(0.2)
        self.successResultOf(waiting)
