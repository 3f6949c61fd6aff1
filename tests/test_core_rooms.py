"""The Rooms service and chat-room messages through the core: members kept in memory and
forgotten when a room changes anywhere, a read a change overtook not kept, the rules of
entering, leaving and owning, and a room's fan-out to its members online."""
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.cursors import Cursor
from jim.errors import JimError
from jim.model import Invalidate
from jim.store.memory import MemoryStore
from tests.support.fakes import APP_KEY, HoldingStore, make_core, send


class RoomsTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol"))
        self.rooms = self.fx.core.rooms

    def done(self, coroutine):
        return self.successResultOf(defer.ensureDeferred(coroutine))

    def refused(self, coroutine, code):
        failure = self.failureResultOf(defer.ensureDeferred(coroutine), JimError)
        self.assertEqual(failure.value.code, code, failure.value.detail)

    def test_members_are_kept_and_forgotten_when_the_room_changes(self):
        room = self.done(self.rooms.create(APP_KEY, "alice", "Lobby", ["bob"]))
        self.assertIsNone(self.rooms.cached_members(APP_KEY, room.id))
        self.assertEqual(list(self.done(self.rooms.members(APP_KEY, room.id))), ["alice", "bob"])
        self.assertIsNotNone(self.rooms.cached_members(APP_KEY, room.id))
        self.done(self.rooms.add_members(APP_KEY, room.id, ["carol"]))
        self.assertIsNone(self.rooms.cached_members(APP_KEY, room.id))
        self.assertEqual(list(self.done(self.rooms.members(APP_KEY, room.id))),
                         ["alice", "bob", "carol"])
        # another node changed it
        self.rooms.on_bus(Invalidate(model.ROOMS_AREA, APP_KEY, str(room.id), "other"))
        self.assertIsNone(self.rooms.cached_members(APP_KEY, room.id))

    def test_a_read_that_a_change_overtook_is_not_kept(self):
        store = HoldingStore(MemoryStore(), "room_members")
        fx = make_core(store=store, users=("alice",))
        rooms = fx.core.rooms
        room = self.successResultOf(defer.ensureDeferred(rooms.create(APP_KEY, "alice", "R")))
        reading = defer.ensureDeferred(rooms.members(APP_KEY, room.id))
        rooms.on_bus(Invalidate(model.ROOMS_AREA, APP_KEY, str(room.id), "other"))
        store.release()
        self.assertEqual(list(self.successResultOf(reading)), ["alice"])
        self.assertIsNone(rooms.cached_members(APP_KEY, room.id))

    def test_entering_leaving_and_owning(self):
        room = self.done(self.rooms.create(APP_KEY, "alice", "Lobby"))
        self.done(self.rooms.enter(APP_KEY, "bob", room.id))
        self.done(self.rooms.enter(APP_KEY, "bob", room.id))  # again: nothing changes
        self.assertEqual(list(self.done(self.rooms.members(APP_KEY, room.id))), ["alice", "bob"])
        self.refused(self.rooms.leave(APP_KEY, "alice", room.id), errors.NOT_ALLOWED)
        self.refused(self.rooms.update(APP_KEY, room.id, owner="carol"), errors.NOT_IN_ROOM)
        self.done(self.rooms.update(APP_KEY, room.id, owner="bob"))
        self.done(self.rooms.leave(APP_KEY, "alice", room.id))
        self.refused(self.rooms.enter(APP_KEY, "bob", room.id + 1), errors.NO_SUCH_ROOM)
        self.refused(self.rooms.create(APP_KEY, "alice", ""), errors.BAD_REQUEST)
        self.refused(self.rooms.create(APP_KEY, "ghost", "x"), errors.NO_SUCH_USER)

    def test_a_deleted_user_leaves_its_rooms(self):
        room = self.done(self.rooms.create(APP_KEY, "alice", "Lobby", ["bob"]))
        self.done(self.rooms.members(APP_KEY, room.id))
        self.done(self.fx.core.users.delete(APP_KEY, "bob"))
        self.assertEqual(list(self.done(self.rooms.members(APP_KEY, room.id))), ["alice"])


class RoomMessageTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol", "dan"))
        self.room = self.successResultOf(defer.ensureDeferred(
            self.fx.core.rooms.create(APP_KEY, "alice", "Lobby", ["bob", "carol"])))

    def say(self, session, client, content):
        send(session, 11, {"chatType": 3, "roomId": self.room.id, "content": content})
        [(_, reply)] = [c for c in client.take() if c[0] == 12]
        return reply

    def test_the_members_online_get_it_once_and_nobody_else(self):
        alice, alice_client = self.fx.login("alice")
        _, bob_client = self.fx.login("bob")
        _, dan_client = self.fx.login("dan")
        send(alice, 11, {"chatType": 3, "roomId": self.room.id, "content": "hi"})
        replies = alice_client.take()
        self.assertEqual([c for c, _ in replies], [11, 12])  # its own copy, then the ack
        [(_, push)] = [c for c in bob_client.take() if c[0] == 11]
        self.assertEqual((push["data"]["roomId"], push["data"]["content"]), (self.room.id, "hi"))
        self.assertEqual(dan_client.take(), [])
        stored = self.successResultOf(self.fx.memory.messages.get_message(
            APP_KEY, int(replies[1][1]["data"]["id"])))
        self.assertEqual((stored.target_type, stored.target), (model.CHATROOM, str(self.room.id)))
        # carol was offline: she finds nothing waiting
        carol, carol_client = self.fx.login("carol")
        send(carol, 19, {"type": 0})
        [(_, offline)] = [c for c in carol_client.take() if c[0] == 20]
        self.assertEqual((offline["data"]["friends"], offline["data"]["groups"]), ({}, {}))

    def test_outsiders_and_silenced_members_are_refused(self):
        dan, dan_client = self.fx.login("dan")
        self.assertIn("not in chat room", self.say(dan, dan_client, "me too")["detail"])
        self.successResultOf(defer.ensureDeferred(
            self.fx.core.rooms.silence(APP_KEY, self.room.id, "bob", True)))
        bob, bob_client = self.fx.login("bob")
        self.assertIn("silenced", self.say(bob, bob_client, "hey")["detail"])

    def test_a_silenced_member_who_leaves_comes_back_silenced(self):
        rooms = self.fx.core.rooms
        self.successResultOf(defer.ensureDeferred(
            rooms.silence(APP_KEY, self.room.id, "bob", True)))
        self.successResultOf(defer.ensureDeferred(rooms.leave(APP_KEY, "bob", self.room.id)))
        self.successResultOf(defer.ensureDeferred(rooms.enter(APP_KEY, "bob", self.room.id)))
        bob, bob_client = self.fx.login("bob")
        self.assertIn("silenced", self.say(bob, bob_client, "back!")["detail"])
        # taken out by the app and added again: still silenced
        self.successResultOf(defer.ensureDeferred(
            rooms.remove_members(APP_KEY, self.room.id, ["bob"])))
        self.successResultOf(defer.ensureDeferred(
            rooms.add_members(APP_KEY, self.room.id, ["bob", "dan"])))
        members = self.successResultOf(defer.ensureDeferred(
            rooms.members(APP_KEY, self.room.id)))
        self.assertEqual([n for n, m in members.items() if m.silenced], ["bob"])
        # lifted, leaving and coming back leaves bob free
        self.successResultOf(defer.ensureDeferred(
            rooms.silence(APP_KEY, self.room.id, "bob", False)))
        self.successResultOf(defer.ensureDeferred(rooms.leave(APP_KEY, "bob", self.room.id)))
        self.successResultOf(defer.ensureDeferred(rooms.enter(APP_KEY, "bob", self.room.id)))
        self.assertEqual(self.say(bob, bob_client, "free")["code"], 10000)

    def test_a_silence_set_elsewhere_an_instant_before_the_leave_is_kept(self):
        """Another node silenced bob; this node's members, read before, still say he may
        speak. The store keeps the silence it holds as it takes him out."""
        rooms = self.fx.core.rooms
        members = self.successResultOf(defer.ensureDeferred(rooms.members(APP_KEY, self.room.id)))
        self.assertFalse(members["bob"].silenced)
        self.successResultOf(self.fx.memory.rooms.update_room_member(
            APP_KEY, self.room.id, "bob", {"silenced": True}))
        self.successResultOf(defer.ensureDeferred(rooms.leave(APP_KEY, "bob", self.room.id)))
        self.successResultOf(defer.ensureDeferred(rooms.enter(APP_KEY, "bob", self.room.id)))
        bob, bob_client = self.fx.login("bob")
        self.assertIn("silenced", self.say(bob, bob_client, "back!")["detail"])

    def test_a_deleted_room_keeps_no_silence(self):
        rooms = self.fx.core.rooms
        self.successResultOf(defer.ensureDeferred(
            rooms.silence(APP_KEY, self.room.id, "bob", True)))
        self.successResultOf(defer.ensureDeferred(rooms.leave(APP_KEY, "bob", self.room.id)))
        place = model.silence_place(model.ROOMS_AREA, self.room.id)
        kept = self.fx.memory.silences
        self.assertEqual(self.successResultOf(kept.silenced_among(APP_KEY, place, ["bob"])),
                         ["bob"])
        self.successResultOf(defer.ensureDeferred(rooms.delete(APP_KEY, self.room.id)))
        self.assertEqual(self.successResultOf(kept.silenced_among(APP_KEY, place, ["bob"])),
                         [])

    def test_a_retraction_reaches_the_members_online_and_is_kept_for_no_one(self):
        alice, alice_client = self.fx.login("alice")
        _, bob_client = self.fx.login("bob")
        send(alice, 11, {"chatType": 3, "roomId": self.room.id, "content": "oops"})
        [(_, ack)] = [c for c in alice_client.take() if c[0] == 12]
        bob_client.take()
        message_id = int(ack["data"]["id"])
        self.successResultOf(defer.ensureDeferred(
            self.fx.core.messages.retract(APP_KEY, "alice", message_id)))
        [(_, event)] = [c for c in bob_client.take() if c[0] == 100]
        self.assertEqual((event["data"]["kind"], event["data"]["type"], event["data"]["roomId"],
                          event["data"]["msgid_list"]),
                         ("message_retracted", 2, self.room.id, [message_id]))
        for name in ("bob", "carol", str(self.room.id)):
            self.assertEqual(self.successResultOf(self.fx.memory.events.read_events(
                APP_KEY, name, Cursor())), [], name)
