"""The Messages service with a store that publishes a message's parts for other nodes with its
commit (as the Redis store does, L{jim.interfaces.IMessageStore.add_announced_then}): a
message is announced unless a delivery that is not waits ahead of it, and whatever its
announcement did not reach is published after the commit."""
from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.errors import JimError

from jim.model import Delivery
from jim.store.memory import MemoryStore

from tests.support.fakes import make_core, send


class AnnouncingMessages:
    """A message area that gives ids only with the commit (as the Redis store) and takes
    announcements; C{announced} lists the texts it was given parts for."""

    def __init__(self, messages):
        self._messages = messages
        self.announced = []
        self.willing = True
        self.holding = False  # appends wait for commit()
        self.failing = False  # appends fail, as when Redis is away
        self._held = []

    def add_message_then(self, message, then, *args):
        self._add(self._messages.add_message_then, message, then, args)

    def add_message_once_then(self, message, then, *args):
        self._add(self._messages.add_message_once_then, message, then, args)

    def _add(self, add, message, then, args):
        if self.failing:
            then(Failure(JimError(errors.SERVER_ERROR, "Redis did not answer")), *args)
        elif self.holding:
            self._held.append((add, message, then, args))
        else:
            add(message, then, *args)

    def commit(self):
        held, self._held = self._held, []
        for add, message, then, args in held:
            add(message, then, *args)

    def __getattr__(self, name):
        return getattr(self._messages, name)

    def reserve_id(self):
        return None

    def announces(self, app):
        return self.willing

    def add_announced_then(self, message, parts, once, then, *args):
        self.announced.append((message.body["text"], parts))
        add = self._messages.add_message_once_then if once else \
            self._messages.add_message_then
        self._add(add, message, then, args)


class AnnouncingBus:
    """The fixture's local bus, as if C{elsewhere} were connected to another node: their parts
    are announced. Records the deliveries published after an announcement."""

    def __init__(self, bus, elsewhere):
        self._bus = bus
        self.elsewhere = elsewhere
        self.after = []

    def __getattr__(self, name):
        return getattr(self._bus, name)

    def announcement(self, delivery):
        names = [u for u in delivery.recipients if u in self.elsewhere]
        if not names:
            return (), None
        return [("jim:bus:other", ",".join(names).encode())], {"other": names}

    def publish_announced(self, delivery, announced):
        self.after.append((delivery, announced))
        self._bus.publish_announced(delivery, announced)


def chat(to, text):
    return {"chatType": 2, "to": to, "content": text}


class AnnouncedSendTests(SynchronousTestCase):
    def setUp(self):
        store = MemoryStore()
        self.store = store.messages = AnnouncingMessages(store.messages)
        self.fx = make_core(store=store, users=("alice", "bob", "carol"))
        messages = self.fx.core.messages
        self.bus = messages.bus = AnnouncingBus(messages.bus, {"bob"})
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")

    def acks(self):
        return [body["code"] for command, body in self.alice_client.take() if command == 12]

    def test_a_message_to_another_nodes_user_is_announced_with_its_commit(self):
        send(self.alice, 11, chat("bob", "hi"))
        self.assertEqual(self.store.announced, [("hi", [("jim:bus:other", b"bob")])])
        [(delivery, announced)] = self.bus.after
        self.assertEqual(announced, {"other": ["bob"]})
        self.assertIsInstance(delivery, Delivery)
        self.assertEqual((delivery.item.body, delivery.recipients),
                         ({"text": "hi"}, ("bob", "alice")))
        self.assertEqual(self.acks(), [10000])

    def test_a_message_to_no_other_nodes_user_is_published_after_its_commit(self):
        send(self.alice, 11, chat("carol", "later"))  # offline: only alice's other devices
        self.assertEqual(self.store.announced, [])
        self.assertEqual(self.bus.after, [])
        self.assertEqual(self.acks(), [10001])
        send(self.alice, 11, chat("bob", "then"))  # nothing waits ahead of it
        self.assertEqual([text for text, _ in self.store.announced], ["then"])

    def test_a_store_that_declines_publishes_after_the_commit(self):
        self.store.willing = False
        send(self.alice, 11, chat("bob", "busy"))
        self.assertEqual(self.store.announced, [])
        self.assertEqual(self.bus.after, [])
        pushed = [body["data"]["content"] for command, body in self.bob_client.take()
                  if command == 11]
        self.assertEqual(pushed, ["busy"])

    def test_nothing_is_announced_behind_a_delivery_that_waits_unannounced(self):
        """An event waiting for its store write goes out first: a message after it is not
        announced (its parts would reach the other nodes before the event)."""
        messages = self.fx.core.messages
        writing = defer.Deferred()
        published = []
        messages.publish_in_order(writing, published.append)
        send(self.alice, 11, chat("bob", "behind"))
        self.assertEqual(self.store.announced, [])
        self.assertEqual(self.bus.after, [])
        self.assertEqual(self.acks(), [], "waits behind the event")
        writing.callback("event")
        self.assertEqual(published, ["event"])
        self.assertEqual(self.acks(), [10000])
        send(self.alice, 11, chat("bob", "free"))
        self.assertEqual([text for text, _ in self.store.announced], ["free"])

    def test_a_message_published_after_its_commit_holds_up_its_own_conversation_only(self):
        """A message the store declined to announce is published after its commit: the
        next of its conversation is too (its parts could overtake it), one of another
        conversation is announced, and every delivery leaves this node in id order."""
        self.bus.elsewhere = {"bob", "carol"}
        carol, carol_client = self.fx.login("carol")
        self.store.holding = True
        self.store.willing = False
        send(self.alice, 11, chat("bob", "declined"))
        self.store.willing = True
        send(self.alice, 11, chat("bob", "same conversation"))
        send(self.alice, 11, chat("carol", "another conversation"))
        send(carol, 11, chat("bob", "another again"))
        self.assertEqual([text for text, _ in self.store.announced],
                         ["another conversation", "another again"])
        self.store.commit()
        self.assertEqual(self.acks(), [10000, 10000, 10000])
        pushed = [body["data"]["content"] for command, body in self.bob_client.take()
                  if command == 11]
        self.assertEqual(pushed, ["declined", "same conversation", "another again"])
        send(self.alice, 11, chat("bob", "all committed"))
        self.assertEqual([text for text, _ in self.store.announced][-1], "all committed")

    def test_nothing_is_announced_behind_one_announced_before_connections_changed(self):
        """Whoever connected since that one was announced gets its part after its commit:
        a message announced now could reach them first."""
        self.store.holding = True
        send(self.alice, 11, chat("bob", "first"))
        send(self.alice, 11, chat("bob", "same presence"))
        self.assertEqual([text for text, _ in self.store.announced], ["first", "same presence"])
        self.fx.login("carol")  # a connection came
        send(self.alice, 11, chat("bob", "after a login"))
        self.assertEqual(len(self.store.announced), 2)
        self.store.commit()
        self.assertEqual(self.acks(), [10000, 10000, 10000])
        send(self.alice, 11, chat("bob", "all committed"))
        self.assertEqual([text for text, _ in self.store.announced][-1], "all committed")

    def test_an_announced_message_that_fails_holds_nothing_up(self):
        self.store.failing = True
        send(self.alice, 11, chat("bob", "lost"))
        self.assertEqual(self.acks(), [10002])
        self.assertEqual(self.bus.after, [], "nothing to publish after it")
        self.store.failing = False
        self.fx.login("carol")  # a connection came: only a message still waiting would block
        send(self.alice, 11, chat("bob", "next"))
        self.assertEqual([text for text, _ in self.store.announced], ["lost", "next"])
        self.assertEqual(self.acks(), [10000])
