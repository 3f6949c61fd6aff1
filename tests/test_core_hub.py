"""The hub: what the bus delivers reaches this process's connections (each encoding a fan-out
once), kicks close them, and a user's first connection and last one are announced to its
groups (J-IM's cmd 9 and 10), also while the store is still reading or writing."""
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from jim import model
from jim.interfaces import IConnection
from jim.model import Delivery, Message
from jim.store.memory import MemoryStore
from jim.store.memory_groups import MemoryGroups
from jim.wire import jim_events, jimjson

from tests.support.fakes import APP_KEY, HoldingStore, codes, make_core, offline, send


@implementer(IConnection)
class RecordingConnection:
    """An L{IConnection} of any dialect: it records what the hub hands it."""

    def __init__(self, connection_id, username, app=APP_KEY, terminal="tcp", device=None):
        self.id = connection_id
        self.app = app
        self.username = username
        self.terminal = terminal
        self.device = device or f"w:~{connection_id}"  # a device of its own by default
        self.delivered = []  # (delivery, the fan-out's cache)
        self.kicks = []

    def deliver(self, delivery, cache):
        self.delivered.append((delivery, cache))

    def kick(self, kick):
        self.kicks.append(kick)


class BrokenConnection(RecordingConnection):
    def deliver(self, delivery, cache):
        raise RuntimeError("a bug in a connection")


def text(sender, target, content, message_id=1):
    return Message(message_id, APP_KEY, sender, model.SINGLE, target, model.TEXT,
                   {"text": content})


def pushed(client):
    """The contents of the chats (cmd 11) C{client} was sent since the last take."""
    return [body["data"]["content"] for command, body in client.take() if command == 11]


def notices(client):
    """What C{client} was sent since the last take: cmd 9 and 10 as (command, group, user,
    status), anything else as (command,)."""
    out = []
    for command, body in client.take():
        if command == 9:
            out.append((9, body["group"], body["user"]["userId"], body["user"]["status"]))
        elif command == 10:
            data = body["data"]
            out.append((10, data["group"], data["user"]["userId"], data["user"]["status"]))
        else:
            out.append((command,))
    return out


class DeliveryTests(SynchronousTestCase):
    """Deliveries from the bus, to connections of any dialect."""

    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol"))
        self.hub = self.fx.hub
        self.alice = self.bind(RecordingConnection("n:1", "alice"))
        self.alice2 = self.bind(RecordingConnection("n:2", "alice"))
        self.bob = self.bind(RecordingConnection("n:3", "bob"))
        self.carol = self.bind(RecordingConnection("n:4", "carol"))

    def bind(self, connection):
        user = self.successResultOf(defer.ensureDeferred(
            self.fx.core.users.get(connection.app, connection.username)))
        self.successResultOf(self.hub.attach(connection))
        self.successResultOf(defer.ensureDeferred(self.hub.bind(connection, user)))
        return connection

    def items(self, connection):
        return [delivery.item for delivery, _ in connection.delivered]

    def test_the_fake_is_a_connection(self):
        verifyObject(IConnection, self.alice)

    def test_every_local_connection_of_each_recipient_gets_it(self):
        message = text("alice", "bob", "hi")
        self.fx.bus.publish(Delivery(APP_KEY, message, ("bob", "alice")))
        for connection in (self.alice, self.alice2, self.bob):
            self.assertEqual(self.items(connection), [message])
        self.assertEqual(self.carol.delivered, [])
        self.assertEqual((self.fx.metrics.messages_out, self.fx.metrics.deliveries), (3, 3))

    def test_the_excluded_connection_is_skipped(self):
        self.fx.bus.publish(Delivery(APP_KEY, text("alice", "bob", "hi"), ("bob", "alice"),
                                     exclude=self.alice.id))
        self.assertEqual(self.alice.delivered, [])
        self.assertEqual([len(c.delivered) for c in (self.alice2, self.bob)], [1, 1])

    def test_a_namesake_in_another_app_gets_nothing(self):
        self.fx.bus.publish(Delivery("otherapp", text("alice", "bob", "hi"), ("bob",)))
        self.assertEqual(self.bob.delivered, [])

    def test_an_event_is_not_counted_as_a_message(self):
        event = model.Event(model.USER_UPDATED, APP_KEY, id=7, actor="bob")
        self.fx.bus.publish(Delivery(APP_KEY, event, ("bob", "carol")))
        self.assertEqual(self.items(self.carol), [event])
        self.assertEqual((self.fx.metrics.messages_out, self.fx.metrics.deliveries), (0, 2))

    def test_one_cache_per_fan_out(self):
        self.fx.bus.publish(Delivery(APP_KEY, text("alice", "bob", "one"), ("alice", "bob")))
        self.fx.bus.publish(Delivery(APP_KEY, text("alice", "bob", "two"), ("bob",)))
        [(_, first)] = self.alice.delivered
        [(_, shared)] = self.alice2.delivered
        [(_, also_shared), (_, second)] = self.bob.delivered
        self.assertIs(shared, first)
        self.assertIs(also_shared, first)
        self.assertIsNot(second, first)

    def test_a_broken_connection_does_not_keep_it_from_the_others(self):
        self.bind(BrokenConnection("n:5", "bob"))
        self.fx.bus.publish(Delivery(APP_KEY, text("alice", "carol", "hi"),
                                     ("alice", "bob", "carol")))
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        for connection in (self.alice, self.alice2, self.bob, self.carol):
            self.assertEqual(len(connection.delivered), 1)

    def test_a_recipient_with_no_connection_here_gets_nothing(self):
        self.fx.bus.publish(Delivery(APP_KEY, text("alice", "nobody", "hi"), ("nobody",)))
        for connection in (self.alice, self.alice2, self.bob, self.carol):
            self.assertEqual(connection.delivered, [])
        self.assertEqual((self.fx.metrics.messages_out, self.fx.metrics.deliveries), (0, 0))


class JimFanOutTests(SynchronousTestCase):
    """A fan-out to many J-IM sessions encodes its frames once."""

    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol", "dave"))
        self.fx.add_group("g", "alice", "bob", "carol", "dave")
        self.clients = [self.fx.login(name)[1] for name in ("alice", "bob", "carol", "dave")]
        self.alice, alice2_client = self.fx.login("alice")
        self.clients.append(alice2_client)
        for client in self.clients:
            client.take()
        self.calls = []

    def counting(self, module, name):
        original = getattr(module, name)

        def counted(*args):
            self.calls.append(name)
            return original(*args)

        self.patch(module, name, counted)

    def test_a_group_message_is_encoded_once(self):
        self.counting(jimjson, "push")
        send(self.alice, 11, {"chatType": 1, "groupId": "g", "content": "to all"})
        self.assertEqual(self.calls, ["push"])
        *others, sender = self.clients
        pushes = [client.take() for client in others]
        [(command, push)] = pushes[0]
        self.assertEqual((command, push["data"]["content"]), (11, "to all"))
        self.assertEqual(pushes, [[(11, push)]] * 4)
        self.assertEqual(codes(sender), [(11, None), (12, 10000)])  # its own copy, then the ack
        self.assertEqual(self.fx.metrics.messages_out, 5)

    def test_an_event_is_encoded_once(self):
        self.fx.add_user("erin")
        erin, _ = self.fx.login("erin")
        for client in self.clients:
            client.take()
        self.counting(jim_events, "frames")
        send(erin, 7, {"groupId": "g"})
        self.assertEqual(self.calls, ["frames"])
        for client in self.clients:
            self.assertEqual(client.commands(), [9, 100])


class KickTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob"))
        self.alice, self.alice_client = self.fx.login("alice")
        self.alice2, self.alice2_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")

    def test_every_connection_of_the_user_is_closed(self):
        self.fx.hub.kick(APP_KEY, "alice", "admin")
        self.assertEqual(self.alice_client.closes, ["admin"])
        self.assertEqual(self.alice2_client.closes, ["admin"])
        self.assertEqual(self.bob_client.closes, [])
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))
        self.fx.hub.kick(APP_KEY, "nobody", "admin")  # harmless

    def test_one_connection_may_be_kept(self):
        self.fx.hub.kick(APP_KEY, "alice", "elsewhere", keep=self.alice2.id)
        self.assertEqual(self.alice_client.closes, ["elsewhere"])
        self.assertEqual(self.alice2_client.closes, [])
        self.assertTrue(self.fx.core.presence.is_online(APP_KEY, "alice"))

    def test_the_user_is_told_why_before_the_close(self):
        self.successResultOf(defer.ensureDeferred(
            self.fx.core.users.forbid(APP_KEY, "alice", True)))
        for client in (self.alice_client, self.alice2_client):
            [(command, body)] = client.take()
            self.assertEqual((command, body["data"]["event_type"], body["data"]["kind"]),
                             (100, 1, model.USER_FORBIDDEN))
            self.assertEqual(client.closes, ["forbidden"])
        self.assertEqual(self.bob_client.sent, [])

    def test_a_message_to_a_closing_connection_is_kept_offline(self):
        self.fx.hub.kick(APP_KEY, "bob", "kicked")  # closing; the connection is not gone yet
        send(self.alice, 11, {"chatType": 2, "to": "bob", "content": "still there?"})
        self.assertEqual(codes(self.alice_client), [(12, 10001)])
        self.assertEqual(self.bob_client.take(), [])  # nothing written to the closing connection
        kept = offline(self.fx, "bob")
        self.assertEqual([m.body for m in kept], [{"text": "still there?"}])
        self.bob.connection_lost()  # and losing it later changes nothing
        self.assertNotIn(self.bob, self.fx.core.sessions)
        before = self.fx.metrics.deliveries
        self.fx.bus.publish(Delivery(APP_KEY, text("alice", "bob", "gone"), ("bob",)))
        self.assertEqual(self.fx.metrics.deliveries, before)  # no connection of bob's is left

    def test_a_connection_closed_then_lost_is_unbound_once(self):
        self.alice.close("bye")
        self.alice.connection_lost()
        self.assertTrue(self.fx.core.presence.is_online(APP_KEY, "alice"))
        send(self.bob, 11, {"chatType": 2, "to": "alice", "content": "still there?"})
        self.assertEqual(codes(self.bob_client), [(12, 10000)])
        self.assertEqual(self.alice_client.sent, [])
        self.assertEqual(pushed(self.alice2_client), ["still there?"])
        self.alice2.connection_lost()
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))
        send(self.bob, 11, {"chatType": 2, "to": "alice", "content": "later"})
        self.assertEqual(codes(self.bob_client), [(12, 10001)])  # kept offline
        self.assertEqual((self.alice_client.sent, self.alice2_client.sent), ([], []))
        self.fx.bus.publish(Delivery(APP_KEY, text("alice", "bob", "hi"), ("bob", "alice")))
        self.assertEqual(pushed(self.bob_client), ["hi"])  # bob's connection is still bound
        self.assertEqual((self.alice_client.sent, self.alice2_client.sent), ([], []))


class MissedKickTests(SynchronousTestCase):
    """A node whose bus was away forgets its caches and checks its users again: kicks made
    meanwhile on other nodes were missed, but what they were for is in the store."""

    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol", "dave"))
        self.clients = {}
        for name in ("alice", "bob", "carol", "dave"):
            self.clients[name] = self.fx.login(name)[1]

    def test_users_changed_elsewhere_are_closed(self):
        store = self.fx.memory.users
        self.successResultOf(store.update_user(APP_KEY, "alice", {"forbidden": True}))
        self.successResultOf(store.update_user(APP_KEY, "bob", {"password": "scrypt$other"}))
        self.successResultOf(store.delete_user(APP_KEY, "carol"))
        # changed in the store, but this node's memory still has them as they were
        self.assertEqual([name for name, client in self.clients.items() if client.closes], [])
        self.fx.bus.publish(model.Invalidate(model.USERS_AREA, model.EVERY_APP, "", ""))
        self.assertEqual({name: client.closes for name, client in self.clients.items()},
                         {"alice": ["forbidden"], "bob": ["password changed"],
                          "carol": ["user deleted"], "dave": []})
        # and memory was forgotten: a chat to the deleted user is refused
        dave, client = self.fx.login("dave")
        client.take()
        send(dave, 11, {"chatType": 2, "to": "carol", "content": "hi"})
        [(command, code)] = codes(client)
        self.assertEqual(command, 12)
        self.assertNotIn(code, (10000, 10001), "refused: carol is gone")

    def test_one_app_invalidated_checks_nobody(self):
        self.successResultOf(self.fx.memory.users.update_user(APP_KEY, "alice",
                                                              {"forbidden": True}))
        self.fx.bus.publish(model.Invalidate(model.USERS_AREA, APP_KEY, "bob", "elsewhere"))
        self.assertEqual(self.clients["alice"].closes, [])


class AnnouncementTests(SynchronousTestCase):
    """A user's first connection and its last are told to the members of its groups."""

    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol", "dave"))
        self.fx.add_group("g", "alice", "carol")
        self.alice, self.alice_client = self.fx.login("alice")
        self.dave, self.dave_client = self.fx.login("dave")

    def test_the_first_connection_is_announced_to_the_members_and_the_user(self):
        carol, carol_client = self.fx.connect()
        send(carol, 5, {"userId": "carol", "password": "secret"})
        self.assertEqual(notices(carol_client), [(6,), (9, "g", "carol", "online")])
        self.assertEqual(notices(self.alice_client), [(9, "g", "carol", "online")])
        self.fx.login("carol")  # a second connection is no news
        self.assertEqual(self.alice_client.sent, [])
        self.assertEqual(self.dave_client.sent, [])  # not a member

    def test_the_last_connection_is_announced_under_the_groups_jim_name(self):
        carol, _ = self.fx.login("carol")
        carol2, carol2_client = self.fx.login("carol")
        self.alice_client.take()
        carol.connection_lost()
        self.assertEqual(self.alice_client.sent, [])
        carol2.connection_lost()
        self.assertEqual(
            self.alice_client.take(),
            [(10, {"command": 10,
                   "data": {"group": "g",
                            "user": {"userId": "carol", "nick": "carol", "avatar": "",
                                     "status": "offline", "terminal": "tcp"}}})],
        )  # fmt: skip
        self.assertEqual(self.dave_client.sent, [])
        self.assertEqual(carol2_client.sent, [])

    def test_a_group_joined_while_online_hears_of_the_logout(self):
        send(self.dave, 7, {"groupId": "g"})
        self.assertEqual(notices(self.alice_client), [(9, "g", "dave", "online"), (100,)])
        self.dave.connection_lost()
        self.assertEqual(notices(self.alice_client), [(10, "g", "dave", "offline")])

    def test_a_group_left_while_online_does_not(self):
        carol, _ = self.fx.login("carol")
        self.alice_client.take()
        group = self.fx.add_group("h", "alice")
        send(carol, 7, {"groupId": "h"})
        self.successResultOf(defer.ensureDeferred(
            self.fx.core.groups.leave(APP_KEY, group.gid, "carol")))
        self.assertEqual(notices(self.alice_client),
                         [(9, "h", "carol", "online"), (100,), (10, "h", "carol", "offline"),
                          (100,)])
        carol.connection_lost()
        self.assertEqual(notices(self.alice_client), [(10, "g", "carol", "offline")])

    def test_a_dissolved_group_does_not(self):
        gid = self.fx.add_group("h", "carol", "dave").gid
        carol, _ = self.fx.login("carol")
        self.successResultOf(defer.ensureDeferred(self.fx.core.groups.dissolve(APP_KEY, gid)))
        for client in (self.alice_client, self.dave_client):
            client.take()
        carol.connection_lost()
        self.assertEqual(notices(self.alice_client), [(10, "g", "carol", "offline")])
        self.assertEqual(self.dave_client.sent, [])

    def test_the_logout_is_announced_when_the_members_are_no_longer_in_memory(self):
        """A change of shields makes the group's members be read again."""
        gid = self.fx.add_group("h", "carol", "dave", "bob").gid
        carol, _ = self.fx.login("carol")
        self.successResultOf(defer.ensureDeferred(
            self.fx.core.relations.set_shields(APP_KEY, "bob", add=[gid])))
        for client in (self.alice_client, self.dave_client):
            client.take()
        carol.connection_lost()
        self.assertEqual(notices(self.alice_client), [(10, "g", "carol", "offline")])
        self.assertEqual(notices(self.dave_client), [(10, "h", "carol", "offline")])

    def test_no_logout_announcement_while_another_connection_remains(self):
        carol, _ = self.fx.login("carol")
        self.fx.login("carol")
        self.alice_client.take()
        carol.close("bye")
        carol.connection_lost()
        self.assertEqual(self.alice_client.sent, [])


class AnnouncingWhileTheStoreWorksTests(SynchronousTestCase):
    def setUp(self):
        self.store = HoldingStore(MemoryStore())
        self.fx = make_core(store=self.store, users=("alice", "bob", "carol", "dave"))
        self.alice, self.alice_client = self.fx.login("alice")
        self.bob, self.bob_client = self.fx.login("bob")

    def log_in(self, username):
        """A connection whose login is sent (and may be waiting for the store)."""
        session, client = self.fx.connect()
        send(session, 5, {"userId": username, "password": "secret"})
        return session, client

    def test_a_logout_while_the_groups_load_announces_nothing(self):
        self.fx.add_group("g", "carol", "alice")
        self.store.held.add("user_groups")
        carol, carol_client = self.log_in("carol")
        self.assertEqual(codes(carol_client), [(6, 10007)])
        carol.connection_lost()
        self.store.release()
        self.assertEqual(self.alice_client.sent, [])
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "carol"))
        self.fx.bus.publish(Delivery(APP_KEY, text("alice", "carol", "hi"), ("carol",)))
        self.assertEqual((carol_client.sent, self.fx.metrics.deliveries), ([], 0))

    def test_going_offline_while_a_login_loads_members_is_the_last_word(self):
        gid = self.fx.add_group("g2", "carol", "bob").gid  # announced first: members in memory
        self.fx.add_group("g1", "carol", "dave")  # no member online: members not loaded
        self.successResultOf(defer.ensureDeferred(self.fx.core.groups.members(APP_KEY, gid)))
        self.store.held.add("members")
        carol, _ = self.log_in("carol")  # waits on g1's members
        self.assertEqual(notices(self.bob_client), [(9, "g2", "carol", "online")])
        carol.connection_lost()
        self.store.release()
        self.assertEqual(notices(self.bob_client), [(10, "g2", "carol", "offline")])
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "carol"))

    def test_coming_back_while_the_members_are_read_for_the_logout(self):
        gid = self.fx.add_group("g", "carol", "alice", "bob").gid
        carol, _ = self.fx.login("carol")
        self.successResultOf(defer.ensureDeferred(  # makes g's members be read again
            self.fx.core.relations.set_shields(APP_KEY, "bob", add=[gid])))
        self.alice_client.take()
        self.store.held.add("members")
        carol.connection_lost()  # her logout waits for g's members...
        self.log_in("carol")  # ...and so does her next login
        self.store.release()
        self.assertEqual(notices(self.alice_client), [(9, "g", "carol", "online")])

    def test_going_offline_while_a_join_is_written(self):
        self.fx.add_group("g", "bob")
        self.store.held.add("add_members")
        send(self.alice, 7, {"groupId": "g"})
        self.alice.connection_lost()
        self.store.release()
        self.assertEqual([command for command, _ in self.bob_client.take()], [9, 100])
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))
        group = self.successResultOf(self.fx.memory.groups.group_by_alias(APP_KEY, "g"))
        members = self.successResultOf(self.fx.memory.groups.members(APP_KEY, group.gid))
        self.assertEqual([m.username for m in members], ["bob", "alice"])  # the join stands


class LateGroupLists(MemoryGroups):
    """A groups area whose C{user_groups} answers what was true when it was asked, but only
    when told (L{answer})."""

    def __init__(self, silences):
        super().__init__(silences)
        self.late = []

    def user_groups(self, app, username):
        late = defer.Deferred()
        super().user_groups(app, username).addCallback(
            lambda groups: self.late.append((late, groups)))
        return late

    def answer(self):
        while self.late:
            late, groups = self.late.pop(0)
            late.callback(groups)


class JoinDuringLoginTests(SynchronousTestCase):
    def test_a_group_joined_while_the_login_reads_the_groups_hears_of_the_logout(self):
        store = MemoryStore()
        store.groups = groups = LateGroupLists(store.silences)
        fx = make_core(store=store, users=("alice", "bob"))
        fx.add_group("g", "bob")
        bob, bob_client = fx.connect()
        send(bob, 5, {"userId": "bob", "password": "secret"})
        first, _ = fx.connect()
        send(first, 5, {"userId": "alice", "password": "secret"})  # her groups: none yet
        second, _ = fx.connect()
        send(second, 5, {"userId": "alice", "password": "secret"})
        send(second, 7, {"groupId": "g"})
        groups.answer()
        self.assertEqual(notices(bob_client),
                         [(6,), (9, "g", "bob", "online"), (9, "g", "alice", "online"), (100,)])
        first.connection_lost()
        second.connection_lost()  # alice is gone: bob, in g with her, hears it
        self.assertEqual(notices(bob_client), [(10, "g", "alice", "offline")])

