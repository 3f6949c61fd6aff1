"""Events: their ids and times, and how one is sent (a Delivery on the bus for the users it
concerns), as the services and the users' connections see them."""
import attr
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.logger import capturedLogs, formatEvent
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.bus.local import LocalBus
from jim.core.events import Events, bare_card, card, cards
from jim.metrics import Metrics
from jim.cursors import Cursor
from jim.errors import JimError
from jim.model import Delivery, Message, User, UserCard
from jim.store.memory import MemoryStore
from tests.support.fakes import APP_KEY, HoldingStore, make_core, send


def ms_of(event_id):
    return event_id >> 10


def node_of(event_id):
    return (event_id >> 6) & 0xF


class IdTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1_700_000_000.5)
        self.events = self.events_of_node(7)

    def events_of_node(self, number):
        return Events(LocalBus(wire=True), self.clock, Metrics(), node_number=number)

    def test_an_event_carries_its_time_and_fields(self):
        event = self.events.make(model.MEMBER_SILENCED, APP_KEY, actor="alice", gid=5,
                                 users=[UserCard("bob")], flag=True, group_name="g")
        self.assertEqual((event.kind, event.app, event.actor, event.gid, event.users,
                          event.flag, event.group_name, event.created),
                         (model.MEMBER_SILENCED, APP_KEY, "alice", 5, (UserCard("bob"),), True,
                          "g", 1_700_000_000_500))
        self.assertEqual((ms_of(event.id), node_of(event.id)), (event.created, 7))

    def test_ids_increase_within_a_millisecond_and_across_them(self):
        ids = []
        for step in range(50):
            for _ in range(step % 4):
                ids.append(self.events.make(model.USER_UPDATED, APP_KEY).id)
            self.clock.advance(0.001 * (step % 3))
        self.assertEqual(ids, sorted(set(ids)))

    def test_ids_increase_when_the_counter_wraps(self):
        for _ in range(63):
            self.events.make(model.USER_UPDATED, APP_KEY)
        self.clock.advance(0.001)
        first = self.events.make(model.USER_UPDATED, APP_KEY).id
        second = self.events.make(model.USER_UPDATED, APP_KEY).id
        self.assertLess(first, second)

    def test_ids_stay_unique_past_64_events_in_a_millisecond(self):
        ids = [self.events.make(model.USER_UPDATED, APP_KEY).id for _ in range(5000)]
        self.assertEqual(ids, sorted(set(ids)))
        self.assertEqual({node_of(i) for i in ids}, {7})

    def test_ids_are_numbers_javascript_reads_exactly(self):
        self.clock.advance(5_000_000_000)  # the year 2180: still below 2**53
        self.assertLess(self.events.make(model.USER_UPDATED, APP_KEY).id, 2**53)

    def test_nodes_never_share_an_id(self):
        other = self.events_of_node(8)
        mine = {self.events.make(model.USER_UPDATED, APP_KEY).id for _ in range(100)}
        theirs = {other.make(model.USER_UPDATED, APP_KEY).id for _ in range(100)}
        self.assertEqual(mine & theirs, set())

    @given(st.integers(0, 10_000))
    def test_the_node_number_takes_four_bits(self, number):
        event = self.events_of_node(number).make(model.USER_UPDATED, APP_KEY)
        self.assertEqual(node_of(event.id), number % 16)
        self.assertEqual(ms_of(event.id), event.created)


class SendTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob"))
        self.events = self.fx.core.events
        self.published = []
        self.fx.bus.subscribe(self.published.append)

    def read(self, username):
        return self.successResultOf(self.fx.store.events.read_events(APP_KEY, username,
                                                                     Cursor()))

    def test_an_event_is_kept_and_goes_out_once_per_recipient_in_order(self):
        self.successResultOf(self.fx.store.messages.add_message(
            Message(0, APP_KEY, "alice", model.SINGLE, "bob", model.TEXT, {"text": "hi"})))
        last = self.successResultOf(self.fx.store.inbox.last_message_id(APP_KEY))
        event = self.events.make(model.GROUP_UPDATED, APP_KEY, gid=3, group_name="g")
        kept = self.successResultOf(self.events.send(event, ["bob", "alice", "bob"],
                                                     alias="lobby"))
        self.assertEqual(kept, attr.evolve(event, id=last + 1, kept=True))
        self.assertEqual(self.published,
                         [Delivery(APP_KEY, kept, ("bob", "alice"), None, "lobby")])
        self.assertEqual(self.fx.metrics.events, {model.GROUP_UPDATED: 2})
        self.assertEqual((self.read("bob"), self.read("alice")), ([kept], [kept]))

    def test_presence_events_are_not_kept(self):
        event = self.events.make(model.USER_ONLINE, APP_KEY, actor="alice", gid=3)
        self.assertIs(self.successResultOf(self.events.send(event, ["bob"])), event)
        self.assertEqual(self.published, [Delivery(APP_KEY, event, ("bob",), None, None)])
        self.assertEqual(self.read("bob"), [])

    def test_an_event_the_store_cannot_keep_still_reaches_connected_devices(self):
        def refuse(event, audience):
            return defer.fail(JimError(errors.SERVER_ERROR, "disk full"))

        self.fx.store.events.add_event = refuse
        event = self.events.make(model.GROUP_UPDATED, APP_KEY, gid=3)
        with capturedLogs() as logged:
            self.assertIs(self.successResultOf(self.events.send(event, ["bob"])), event)
        self.assertEqual(self.published, [Delivery(APP_KEY, event, ("bob",), None, None)])
        self.assertFalse(event.kept)
        self.assertIn("could not be kept", " ".join(formatEvent(e) for e in logged))
        self.assertIn("disk full", " ".join(formatEvent(e) for e in logged))

    def test_no_recipients_publish_nothing(self):
        event = self.events.make(model.GROUP_UPDATED, APP_KEY)
        self.assertIs(self.successResultOf(self.events.send(event, [])), event)
        self.assertEqual((self.published, self.fx.metrics.events), ([], {}))
        self.assertEqual(self.read("alice"), [])

    def test_the_recipients_connections_get_it_as_jmessage_event(self):
        _, alice = self.fx.login("alice")
        _, bob = self.fx.login("bob")
        self.fx.clock.advance(2)
        event = self.successResultOf(self.events.send(
            self.events.make(model.USER_UPDATED, APP_KEY, actor="alice",
                             users=[UserCard("alice", "Al")]), ["alice"]))
        [(command, body)] = alice.take()
        self.assertEqual((command, body["command"]), (100, 100))
        self.assertEqual(body["data"], {
            "event_id": event.id, "event_type": 40, "kind": model.USER_UPDATED,
            "from_username": "alice", "from_appkey": APP_KEY,
            "to_usernames": [{"username": "alice", "appkey": APP_KEY, "nickname": "Al"}],
            "ctime_ms": 2000})
        self.assertEqual(bob.take(), [])

    def test_an_event_of_another_app_reaches_nobody_here(self):
        _, alice = self.fx.login("alice")
        event = self.events.make(model.USER_UPDATED, "otherapp")
        self.events.send(event, ["alice"])
        self.assertEqual(alice.take(), [])
        [delivery] = self.published
        self.assertEqual(delivery.app, "otherapp")


class CardTests(SynchronousTestCase):
    def test_card_shows_what_a_client_draws(self):
        user = User(APP_KEY, "alice", "hash", nickname="Al", avatar="a.png", signature="hi",
                    region="somewhere")
        self.assertEqual(card(user), UserCard("alice", "Al", "a.png", "hi"))
        self.assertEqual(card(user, True, "ws"), UserCard("alice", "Al", "a.png", "hi", True,
                                                          "ws"))

    def test_bare_card_is_the_name_alone(self):
        self.assertEqual(bare_card("bob"), UserCard("bob"))

    def test_another_apps_user_is_carded_by_name_without_a_read(self):
        """Another app's users (qualified names) are in no app's store under those names: a
        read for them could find nothing, so none is made (a held read would never answer)."""
        store = HoldingStore(MemoryStore(), "get_users")
        fx = make_core(store=store)
        shown = self.successResultOf(defer.ensureDeferred(
            cards(fx.core.users, APP_KEY, ["beta:bob", "other:amy"])))
        self.assertEqual(shown, [UserCard("beta:bob"), UserCard("other:amy")])


class OrderTests(SynchronousTestCase):
    def test_messages_after_an_event_being_kept_are_published_after_it(self):
        store = HoldingStore(MemoryStore(), "add_event")
        fx = make_core(store=store, users=("alice", "bob", "carol"))
        alice, _ = fx.login("alice")
        _, bob_client = fx.login("bob")
        blacklisting = defer.ensureDeferred(
            fx.core.relations.add_blacklist(APP_KEY, "bob", ["carol"]))
        send(alice, 11, {"chatType": 2, "to": "bob", "content": "after the event"})
        self.assertEqual([c for c, _ in bob_client.take()], [], "it waits for the event")
        store.release()
        self.successResultOf(blacklisting)
        self.assertEqual([c for c, _ in bob_client.take()], [100, 11])
