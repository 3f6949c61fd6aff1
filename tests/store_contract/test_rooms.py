"""The contract of the chat-room area (IRoomStore): each app's rooms with ids never given
twice, in creation order, and their members in the order they came in, added and removed all
or none; for every store."""
import attr
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim import errors
from jim.interfaces import IRoomStore
from jim.metrics import Metrics
from jim.model import FIRST_ROOM_ID, MAX_INT64, Room, RoomMember
from jim.store import ROOM_CHANGES
from jim.store.sqlite import SqliteStore
from tests.store_contract.base import ContractCase, OnMemory, OnRedis, OnSqlite

#: a room with every field set to something other than its default (its id is the store's)
FULL = Room("a", 0, "Lobby ✨", "say hello", "ann", 50, 1_700_000_000_000, 1_700_000_000_500)


def names(members):
    return [member.username for member in members]


class RoomsContract(ContractCase):
    def setUp(self):
        opened = super().setUp()
        opened.addCallback(lambda _: setattr(self, "rooms", self.store.rooms))
        return opened

    async def room(self, app="a", *usernames, **fields):
        """A new room of C{app} with these members (joined 0); its id."""
        made = await self.rooms.create_room(Room(app, 0, **fields),
                                            [RoomMember(name) for name in usernames])
        return made.id

    def test_provides_the_interface(self):
        self.assertTrue(verifyObject(IRoomStore, self.rooms))

    async def test_create_with_members(self):
        members = [RoomMember("ann", False, 1000), RoomMember("zed", True, 1001),
                   RoomMember("bob")]
        made = await self.rooms.create_room(attr.evolve(FULL, id=5), members)
        self.assertEqual(made, attr.evolve(FULL, id=FIRST_ROOM_ID))  # the id given is ignored
        self.assertEqual(await self.rooms.get_rooms("a", [FIRST_ROOM_ID]), [made])
        self.assertEqual(await self.rooms.room_members("a", FIRST_ROOM_ID), (3, members))
        self.assertIs((await self.rooms.room_members("a", FIRST_ROOM_ID))[1][1].silenced, True)
        self.assertEqual(await self.rooms.user_rooms("a", "zed"), [FIRST_ROOM_ID])
        self.assertEqual(await self.rooms.room_sizes("a", [FIRST_ROOM_ID]), {FIRST_ROOM_ID: 3})
        # the store checks nothing else of the members: more than the room's most is kept
        crowd = [RoomMember(f"u{i}") for i in range(3)]
        small = await self.rooms.create_room(Room("a", 0, max_members=1), crowd)
        self.assertEqual(small, Room("a", FIRST_ROOM_ID + 1, max_members=1))
        self.assertEqual(await self.rooms.room_members("a", small.id), (3, crowd))
        empty = await self.rooms.create_room(Room("a", 0), [])
        self.assertEqual(await self.rooms.room_members("a", empty.id), (0, []))
        self.assertEqual(await self.rooms.room_sizes("a", [empty.id]), {empty.id: 0})

    async def test_ids_increase_from_the_first_per_app(self):
        self.assertEqual([await self.room() for _ in range(3)],
                         [FIRST_ROOM_ID, FIRST_ROOM_ID + 1, FIRST_ROOM_ID + 2])
        self.assertEqual(await self.room("b"), FIRST_ROOM_ID)  # another app's are its own
        self.assertEqual(await self.room("a"), FIRST_ROOM_ID + 3)

    async def test_a_deleted_rooms_id_is_not_given_again(self):
        first, newest = await self.room("a", "ann"), await self.room("a", "ann")
        await self.rooms.delete_room("a", newest)
        made = await self.room("a", "bob")
        self.assertEqual(made, newest + 1)
        self.assertEqual(await self.rooms.room_members("a", made), (1, [RoomMember("bob")]))
        # even once every room of the app is gone
        for room_id in (first, made):
            await self.rooms.delete_room("a", room_id)
        self.assertEqual(await self.rooms.list_rooms("a", 0, 10), (0, []))
        self.assertEqual(await self.room("a"), newest + 2)
        self.assertEqual(await self.room("b"), FIRST_ROOM_ID)

    async def test_get_rooms_in_the_order_asked(self):
        one, two, three = [await self.room("a", name=n) for n in ("one", "two", "three")]
        await self.room("b", name="b's")
        found = await self.rooms.get_rooms("a", [three, 5, one, three, two + 100, one])
        self.assertEqual([room.name for room in found], ["three", "one"])
        self.assertEqual(await self.rooms.get_rooms("a", []), [])
        self.assertEqual(await self.rooms.get_rooms("c", [one]), [])
        self.assertEqual([r.name for r in await self.rooms.get_rooms("b", [two, one])], ["b's"])

    async def test_update_every_changeable_field(self):
        room = await self.rooms.create_room(Room("a", 0, owner="ann"), [RoomMember("ann")])
        values = attr.asdict(FULL)
        for field in sorted(ROOM_CHANGES):
            room = attr.evolve(room, **{field: values[field]})
            self.assertEqual(await self.rooms.update_room("a", room.id, {field: values[field]}),
                             room, field)
            self.assertEqual(await self.rooms.get_rooms("a", [room.id]), [room], field)
        self.assertEqual(room, attr.evolve(FULL, id=room.id, ctime=0))
        several = {"name": "", "description": "", "owner": "", "max_members": 3, "mtime": 9}
        room = attr.evolve(room, **several)
        self.assertEqual(await self.rooms.update_room("a", room.id, several), room)
        self.assertEqual(await self.rooms.update_room("a", room.id, {}), room)
        self.assertEqual(await self.rooms.list_rooms("a", 0, 5), (1, [room]))
        # fewer than its members is the caller's to refuse
        self.assertEqual((await self.rooms.update_room("a", room.id, {"max_members": 0}))
                         .max_members, 0)
        self.assertEqual(await self.rooms.room_members("a", room.id), (1, [RoomMember("ann")]))

    async def test_update_refusals(self):
        room_id = await self.room("a")
        await self.refused(self.rooms.update_room("a", room_id + 1, {"name": "x"}),
                           errors.NO_SUCH_ROOM)
        await self.refused(self.rooms.update_room("b", room_id, {"name": "x"}),
                           errors.NO_SUCH_ROOM)
        # a field that never changes is the caller's bug, raised at once, room or not
        for fixed in ({"id": 5}, {"app": "b"}, {"ctime": 1}, {"desc": "x"}):
            self.assertRaises(ValueError, self.rooms.update_room, "a", room_id, fixed)
            self.assertRaises(ValueError, self.rooms.update_room, "a", room_id + 1, fixed)
        self.assertEqual(await self.rooms.get_rooms("a", [room_id, room_id + 1]),
                         [Room("a", room_id)])
        self.assertEqual(await self.rooms.get_rooms("b", [room_id]), [])

    async def test_delete_with_its_members(self):
        lobby = await self.room("a", "ann", "bob")
        other = await self.room("a", "bob")
        in_b = await self.room("b", "ann")
        self.assertEqual(in_b, lobby)
        self.assertIsNone(await self.rooms.delete_room("a", lobby))
        self.assertEqual(await self.rooms.get_rooms("a", [lobby]), [])
        self.assertEqual(await self.rooms.user_rooms("a", "ann"), [])
        self.assertEqual(await self.rooms.user_rooms("a", "bob"), [other])
        self.assertEqual(await self.rooms.room_sizes("a", [lobby, other]), {other: 1})
        self.assertEqual(await self.rooms.list_rooms("a", 0, 10), (1, [Room("a", other)]))
        await self.refused(self.rooms.room_members("a", lobby), errors.NO_SUCH_ROOM)
        await self.refused(self.rooms.delete_room("a", lobby), errors.NO_SUCH_ROOM)
        await self.refused(self.rooms.delete_room("c", other), errors.NO_SUCH_ROOM)
        await self.refused(self.rooms.add_room_members("a", lobby, [RoomMember("ann")]),
                           errors.NO_SUCH_ROOM)
        await self.refused(self.rooms.remove_room_members("a", lobby, ["bob"]),
                           errors.NO_SUCH_ROOM)
        await self.refused(self.rooms.update_room_member("a", lobby, "bob", {"silenced": True}),
                           errors.NO_SUCH_ROOM)
        # another app's room of the same id is another room
        self.assertEqual(await self.rooms.room_members("b", in_b), (1, [RoomMember("ann")]))
        self.assertEqual(await self.rooms.user_rooms("b", "ann"), [in_b])

    async def test_list_rooms_in_creation_order(self):
        made = [await self.rooms.create_room(Room("a", 0, str(n)), []) for n in range(5)]
        await self.room("b")
        self.assertEqual(await self.rooms.list_rooms("a", 0, 10), (5, made))
        self.assertEqual(await self.rooms.list_rooms("a", 1, 2), (5, made[1:3]))
        self.assertEqual(await self.rooms.list_rooms("a", 4, MAX_INT64), (5, made[4:]))
        self.assertEqual(await self.rooms.list_rooms("a", 5, 10), (5, []))
        self.assertEqual(await self.rooms.list_rooms("a", MAX_INT64, MAX_INT64), (5, []))
        self.assertEqual(await self.rooms.list_rooms("a", 0, 0), (5, []))
        self.assertEqual(await self.rooms.list_rooms("c", 0, 10), (0, []))
        await self.rooms.delete_room("a", made[1].id)
        self.assertEqual(await self.rooms.list_rooms("a", 0, 2), (4, [made[0], made[2]]))

    async def test_add_members(self):
        room_id = await self.room("a", "ann", max_members=4)
        self.assertIsNone(await self.rooms.add_room_members(
            "a", room_id, [RoomMember("bob", True, 7), RoomMember("cid")]))
        self.assertEqual(await self.rooms.room_members("a", room_id),
                         (3, [RoomMember("ann"), RoomMember("bob", True, 7), RoomMember("cid")]))
        self.assertEqual(await self.rooms.user_rooms("a", "bob"), [room_id])
        await self.rooms.add_room_members("a", room_id, [RoomMember("dan")])  # up to its most
        self.assertEqual(await self.rooms.room_sizes("a", [room_id]), {room_id: 4})
        await self.rooms.add_room_members("a", room_id, [])  # nobody: nothing to refuse

    async def test_add_members_all_or_none(self):
        room_id = await self.room("a", "ann", "bob", max_members=4)
        await self.refused(self.rooms.add_room_members(
            "a", room_id, [RoomMember("cid"), RoomMember("bob", True)]), errors.IN_ROOM)
        await self.refused(self.rooms.add_room_members(
            "a", room_id, [RoomMember(n) for n in ("cid", "dan", "eve")]), errors.ROOM_FULL)
        # a member among them is refused first
        await self.refused(self.rooms.add_room_members(
            "a", room_id, [RoomMember(n) for n in ("cid", "dan", "ann")]), errors.IN_ROOM)
        await self.refused(self.rooms.add_room_members("a", room_id + 1, [RoomMember("cid")]),
                           errors.NO_SUCH_ROOM)
        await self.refused(self.rooms.add_room_members("b", room_id, [RoomMember("cid")]),
                           errors.NO_SUCH_ROOM)
        # nothing of the refused calls was kept
        self.assertEqual(await self.rooms.room_members("a", room_id),
                         (2, [RoomMember("ann"), RoomMember("bob")]))
        for name in ("cid", "dan", "eve"):
            self.assertEqual(await self.rooms.user_rooms("a", name), [])
        # a room's most as it is now
        await self.rooms.update_room("a", room_id, {"max_members": 2})
        await self.refused(self.rooms.add_room_members("a", room_id, [RoomMember("cid")]),
                           errors.ROOM_FULL)
        await self.rooms.update_room("a", room_id, {"max_members": 3})
        await self.rooms.add_room_members("a", room_id, [RoomMember("cid")])
        self.assertEqual(names((await self.rooms.room_members("a", room_id))[1]),
                         ["ann", "bob", "cid"])

    async def test_remove_members_all_or_none(self):
        room_id = await self.room("a", "ann", "bob", "cid", "dan")
        other = await self.room("a", "bob")
        self.assertIsNone(await self.rooms.remove_room_members("a", room_id, ["cid", "ann"]))
        self.assertEqual(names((await self.rooms.room_members("a", room_id))[1]), ["bob", "dan"])
        self.assertEqual(await self.rooms.user_rooms("a", "ann"), [])
        await self.refused(self.rooms.remove_room_members("a", room_id, ["bob", "ann"]),
                           errors.NOT_IN_ROOM)
        await self.refused(self.rooms.remove_room_members("a", room_id, ["zed"]),
                           errors.NOT_IN_ROOM)
        await self.refused(self.rooms.remove_room_members("a", other + 1, ["bob"]),
                           errors.NO_SUCH_ROOM)
        await self.refused(self.rooms.remove_room_members("b", room_id, ["bob"]),
                           errors.NO_SUCH_ROOM)
        await self.rooms.remove_room_members("a", room_id, [])
        self.assertEqual(names((await self.rooms.room_members("a", room_id))[1]), ["bob", "dan"])
        self.assertEqual(await self.rooms.user_rooms("a", "bob"), [room_id, other])
        # back again, a member is the newest
        await self.rooms.add_room_members("a", room_id, [RoomMember("ann", joined=5)])
        self.assertEqual((await self.rooms.room_members("a", room_id))[1],
                         [RoomMember("bob"), RoomMember("dan"), RoomMember("ann", joined=5)])

    async def test_update_room_member(self):
        made = await self.rooms.create_room(Room("a", 0),
                                            [RoomMember("ann", joined=3), RoomMember("bob")])
        room_id = made.id
        self.assertEqual(await self.rooms.update_room_member("a", room_id, "ann",
                                                             {"silenced": True}),
                         RoomMember("ann", True, 3))
        self.assertEqual(await self.rooms.update_room_member("a", room_id, "ann", {}),
                         RoomMember("ann", True, 3))
        self.assertEqual(await self.rooms.room_members("a", room_id),
                         (2, [RoomMember("ann", True, 3), RoomMember("bob")]))
        self.assertEqual(await self.rooms.update_room_member("a", room_id, "ann",
                                                             {"silenced": False}),
                         RoomMember("ann", joined=3))
        await self.refused(self.rooms.update_room_member("a", room_id, "cid",
                                                         {"silenced": True}),
                           errors.NOT_IN_ROOM)
        for app, number in (("a", room_id + 1), ("b", room_id)):
            await self.refused(self.rooms.update_room_member(app, number, "ann",
                                                             {"silenced": True}),
                               errors.NO_SUCH_ROOM)
        for fixed in ({"username": "x"}, {"joined": 9}, {"role": "admin"}):
            self.assertRaises(ValueError, self.rooms.update_room_member, "a", room_id, "ann",
                              fixed)
            self.assertRaises(ValueError, self.rooms.update_room_member, "a", room_id, "cid",
                              fixed)
        self.assertEqual(await self.rooms.room_members("a", room_id),
                         (2, [RoomMember("ann", joined=3), RoomMember("bob")]))

    async def test_room_members_pages(self):
        usernames = [f"u{n}" for n in range(6)]
        room_id = await self.room("a", *usernames[:3])
        await self.rooms.add_room_members("a", room_id, [RoomMember(n) for n in usernames[3:]])
        every = [RoomMember(n) for n in usernames]
        self.assertEqual(await self.rooms.room_members("a", room_id), (6, every))
        self.assertEqual(await self.rooms.room_members("a", room_id, 2), (6, every[2:]))
        self.assertEqual(await self.rooms.room_members("a", room_id, 1, 2), (6, every[1:3]))
        self.assertEqual(await self.rooms.room_members("a", room_id, 4, MAX_INT64),
                         (6, every[4:]))
        self.assertEqual(await self.rooms.room_members("a", room_id, 0, 0), (6, []))
        self.assertEqual(await self.rooms.room_members("a", room_id, 6), (6, []))
        self.assertEqual(await self.rooms.room_members("a", room_id, MAX_INT64, None), (6, []))
        await self.refused(self.rooms.room_members("a", room_id + 1, 0, 5), errors.NO_SUCH_ROOM)

    async def test_room_sizes(self):
        one, two = await self.room("a", "ann"), await self.room("a")
        three = await self.room("a", "ann", "bob")
        await self.room("b", "x", "y", "z")
        self.assertEqual(await self.rooms.room_sizes("a", [three, one, two, three, 5]),
                         {one: 1, two: 0, three: 2})
        self.assertEqual(await self.rooms.room_sizes("a", []), {})
        self.assertEqual(await self.rooms.room_sizes("b", [one, two]), {one: 3})
        self.assertEqual(await self.rooms.room_sizes("c", [one]), {})

    async def test_user_rooms_in_the_order_it_came_in(self):
        one, two, three = await self.room("a"), await self.room("a"), await self.room("a")
        for room_id in (three, one, two):
            await self.rooms.add_room_members("a", room_id, [RoomMember("ann")])
        self.assertEqual(await self.rooms.user_rooms("a", "ann"), [three, one, two])
        await self.rooms.remove_room_members("a", three, ["ann"])
        await self.rooms.add_room_members("a", three, [RoomMember("ann")])
        self.assertEqual(await self.rooms.user_rooms("a", "ann"), [one, two, three])
        self.assertEqual(await self.rooms.user_rooms("a", "bob"), [])
        self.assertEqual(await self.rooms.user_rooms("b", "ann"), [])

    async def test_leave_all_rooms(self):
        one, two = await self.room("a", "ann", "bob"), await self.room("a", "bob", "ann")
        three = await self.room("a", "cid")
        in_b = await self.room("b", "ann")
        self.assertEqual(await self.rooms.leave_all_rooms("a", "ann"), 2)
        self.assertEqual(await self.rooms.user_rooms("a", "ann"), [])
        self.assertEqual(await self.rooms.room_sizes("a", [one, two, three]),
                         {one: 1, two: 1, three: 1})
        self.assertEqual((await self.rooms.room_members("a", two))[1], [RoomMember("bob")])
        self.assertEqual(await self.rooms.user_rooms("b", "ann"), [in_b])  # another app's
        self.assertEqual(await self.rooms.leave_all_rooms("a", "ann"), 0)
        self.assertEqual(await self.rooms.leave_all_rooms("a", "nobody"), 0)
        # it may come in again
        await self.rooms.add_room_members("a", three, [RoomMember("ann")])
        self.assertEqual(await self.rooms.user_rooms("a", "ann"), [three])

    async def test_members_with_a_prefix(self):
        """The memberships of another app's users (C{"<appkey>:"}), whatever else their names
        hold, and only those that are kept."""
        one = await self.room("a", "ann", "K1:bob", "K10:zed", "K1")
        two = await self.room("a", "K1:eve", "K1:[x]*?", "K1:bob", "bob")
        await self.room("b", "K1:amy", "K1:bob")
        self.assertEqual(await self.rooms.room_members_with_prefix("a", "K1:"),
                         [(one, "K1:bob"), (two, "K1:[x]*?"), (two, "K1:bob"), (two, "K1:eve")])
        self.assertEqual(await self.rooms.room_members_with_prefix("a", "K2:"), [])
        await self.rooms.remove_room_members("a", two, ["K1:bob", "K1:[x]*?"])
        await self.rooms.leave_all_rooms("a", "K1:eve")
        self.assertEqual(await self.rooms.room_members_with_prefix("a", "K1:"),
                         [(one, "K1:bob")])
        await self.rooms.delete_room("a", one)
        self.assertEqual(await self.rooms.room_members_with_prefix("a", "K1:"), [])
        self.assertEqual(await self.rooms.room_members_with_prefix("b", "K1:"),
                         [(FIRST_ROOM_ID, "K1:amy"), (FIRST_ROOM_ID, "K1:bob")])

    async def test_rooms_are_per_app(self):
        in_a, in_b = await self.room("a", "ann", name="in a"), await self.room("b", "bob")
        self.assertEqual(in_a, in_b)
        await self.rooms.update_room("b", in_b, {"name": "changed in b"})
        await self.rooms.add_room_members("b", in_b, [RoomMember("ann")])
        await self.rooms.update_room_member("b", in_b, "ann", {"silenced": True})
        await self.rooms.remove_room_members("b", in_b, ["bob"])
        self.assertEqual(await self.rooms.get_rooms("a", [in_a]), [Room("a", in_a, "in a")])
        self.assertEqual(await self.rooms.room_members("a", in_a), (1, [RoomMember("ann")]))
        self.assertEqual(await self.rooms.user_rooms("a", "bob"), [])
        await self.rooms.delete_room("b", in_b)
        self.assertEqual(await self.rooms.list_rooms("a", 0, 5), (1, [Room("a", in_a, "in a")]))
        self.assertEqual(await self.rooms.user_rooms("a", "ann"), [in_a])

    async def test_names_of_any_text(self):
        odd = ["a b", "x\x00y", "{x}", "of:d", "'quote'", "ü✨", "line\nbreak", "1"]
        for app in ("a:b", "{a}", "%7Ba%7D"):
            made = await self.rooms.create_room(Room(app, 0, "n\x00m", "{d}", odd[0]),
                                                [RoomMember(n) for n in odd[:4]])
            room_id = made.id
            await self.rooms.add_room_members(app, room_id, [RoomMember(n) for n in odd[4:]])
            self.assertEqual(names((await self.rooms.room_members(app, room_id))[1]), odd)
            self.assertEqual(await self.rooms.get_rooms(app, [room_id]),
                             [Room(app, room_id, "n\x00m", "{d}", odd[0])])
            for name in odd:
                self.assertEqual(await self.rooms.user_rooms(app, name), [room_id])
            await self.rooms.update_room_member(app, room_id, "x\x00y", {"silenced": True})
            await self.rooms.remove_room_members(app, room_id, odd[::2])
            self.assertEqual((await self.rooms.room_members(app, room_id))[1],
                             [RoomMember(n, n == "x\x00y") for n in odd[1::2]])
            await self.refused(self.rooms.remove_room_members(app, room_id, ["a b"]),
                               errors.NOT_IN_ROOM)
            self.assertEqual(await self.rooms.leave_all_rooms(app, "line\nbreak"), 0)
            self.assertEqual(await self.rooms.leave_all_rooms(app, "1"), 1)
        self.assertEqual(await self.rooms.list_rooms("a", 0, 5), (0, []))
        self.assertEqual(await self.rooms.user_rooms("a", "a b"), [])

    async def test_ids_no_room_can_have(self):
        room_id = await self.room("a", "ann")
        for number in (2**63, 2**64 + room_id, -(2**63) - 1, 0, -room_id):
            self.assertEqual(await self.rooms.get_rooms("a", [number, room_id]),
                             [Room("a", room_id)])
            self.assertEqual(await self.rooms.room_sizes("a", [number]), {})
            await self.refused(self.rooms.room_members("a", number), errors.NO_SUCH_ROOM)
            await self.refused(self.rooms.delete_room("a", number), errors.NO_SUCH_ROOM)
            await self.refused(self.rooms.add_room_members("a", number, [RoomMember("bob")]),
                               errors.NO_SUCH_ROOM)
        self.assertEqual(await self.rooms.user_rooms("a", "bob"), [])

    async def test_bad_pages_are_refused(self):
        room_id = await self.room("a", "ann")
        for start, count in ((-1, 1), (0, -1), (0, 2**63), (2**63, 1)):
            await self.refused(self.rooms.list_rooms("a", start, count), errors.BAD_REQUEST)
            await self.refused(self.rooms.room_members("a", room_id, start, count),
                               errors.BAD_REQUEST)
        await self.refused(self.rooms.room_members("a", room_id, -1), errors.BAD_REQUEST)
        await self.refused(self.rooms.room_members("a", room_id, 2**63, None),
                           errors.BAD_REQUEST)

    async def test_results_are_values_or_copies(self):
        room_id = await self.room("a", "ann")
        (await self.rooms.room_members("a", room_id))[1].append(RoomMember("intruder"))
        (await self.rooms.user_rooms("a", "ann")).clear()
        (await self.rooms.list_rooms("a", 0, 5))[1].clear()
        (await self.rooms.get_rooms("a", [room_id])).clear()
        (await self.rooms.room_sizes("a", [room_id]))[room_id] = 9
        with self.assertRaises(attr.exceptions.FrozenInstanceError):
            (await self.rooms.get_rooms("a", [room_id]))[0].name = "changed"
        with self.assertRaises(attr.exceptions.FrozenInstanceError):
            (await self.rooms.room_members("a", room_id))[1][0].silenced = True
        self.assertEqual(await self.rooms.room_members("a", room_id), (1, [RoomMember("ann")]))
        self.assertEqual(await self.rooms.user_rooms("a", "ann"), [room_id])
        self.assertEqual(await self.rooms.list_rooms("a", 0, 5), (1, [Room("a", room_id)]))
        self.assertEqual(await self.rooms.room_sizes("a", [room_id]), {room_id: 1})

    async def test_changes_match_the_model(self):
        """Random creates, deletes, joins, leaves and silences: every store says what a few
        dicts in order say."""
        users = ("ann", "bob", "cid")
        user = st.sampled_from(users)
        some = st.lists(user, max_size=3, unique=True)
        room = st.integers(0, 3).map(lambda n: FIRST_ROOM_ID + n)
        steps = st.lists(st.one_of(
            st.tuples(st.just("create"), some, st.integers(1, 3)),
            st.tuples(st.just("delete"), room),
            st.tuples(st.just("add"), room, some),
            st.tuples(st.just("remove"), room, some),
            st.tuples(st.just("silence"), room, user, st.booleans()),
            st.tuples(st.just("most"), room, st.integers(1, 3)),
            st.tuples(st.just("leave_all"), user)), max_size=12)

        @settings(max_examples=self.property_examples, deadline=None)
        @given(steps)
        def check(plan):
            app, rooms = self.fresh_app(), self.rooms
            made = 0  # rooms created so far: the next one's id is FIRST_ROOM_ID + made
            most = {}  # room id -> its max_members, in creation order
            members = {}  # room id -> {username: RoomMember}, in the order they came in
            joined = {name: [] for name in users}  # username -> room ids, in that order
            for n, (kind, *args) in enumerate(plan):
                expected = None  # the code of the refusal expected, if any
                if kind == "create":
                    usernames, size = args
                    created = self.blocking(rooms.create_room, Room(app, 5, max_members=size),
                                            [RoomMember(name, joined=n) for name in usernames])
                    self.assertEqual(created, Room(app, FIRST_ROOM_ID + made, max_members=size))
                    made += 1
                    most[created.id] = size
                    members[created.id] = {name: RoomMember(name, joined=n)
                                           for name in usernames}
                    for name in usernames:
                        joined[name].append(created.id)
                    continue
                if kind == "leave_all":
                    (name,) = args
                    for room_id in joined[name]:
                        del members[room_id][name]
                    self.assertEqual(self.blocking(rooms.leave_all_rooms, app, name),
                                     len(joined[name]))
                    joined[name] = []
                    continue
                room_id, *args = args
                current = members.get(room_id)
                if current is None:
                    expected = errors.NO_SUCH_ROOM
                elif kind == "delete":
                    for name in members.pop(room_id):
                        joined[name].remove(room_id)
                    del most[room_id]
                elif kind == "add":
                    if any(name in current for name in args[0]):
                        expected = errors.IN_ROOM
                    elif args[0] and len(current) + len(args[0]) > most[room_id]:
                        expected = errors.ROOM_FULL
                    else:
                        for name in args[0]:
                            current[name] = RoomMember(name, joined=n)
                            joined[name].append(room_id)
                elif kind == "remove":
                    if not all(name in current for name in args[0]):
                        expected = errors.NOT_IN_ROOM
                    else:
                        for name in args[0]:
                            del current[name]
                            joined[name].remove(room_id)
                elif kind == "silence":
                    name, silenced = args
                    if name not in current:
                        expected = errors.NOT_IN_ROOM
                    else:
                        current[name] = attr.evolve(current[name], silenced=silenced)
                else:
                    most[room_id] = args[0]
                if kind == "delete":
                    call = (rooms.delete_room, app, room_id)
                elif kind == "add":
                    call = (rooms.add_room_members, app, room_id,
                            [RoomMember(name, joined=n) for name in args[0]])
                elif kind == "remove":
                    call = (rooms.remove_room_members, app, room_id, args[0])
                elif kind == "silence":
                    call = (rooms.update_room_member, app, room_id, args[0],
                            {"silenced": args[1]})
                else:
                    call = (rooms.update_room, app, room_id, {"max_members": args[0]})
                try:
                    self.blocking(*call)
                except errors.JimError as refusal:
                    self.assertEqual(refusal.code, expected, (kind, room_id, args))
                else:
                    self.assertIsNone(expected, (kind, room_id, args))
            ids = list(most)
            self.assertEqual(self.blocking(rooms.list_rooms, app, 0, 10),
                             (len(ids), [Room(app, i, max_members=most[i]) for i in ids]))
            every = [FIRST_ROOM_ID + k for k in range(made + 1)]
            self.assertEqual(self.blocking(rooms.room_sizes, app, every),
                             {i: len(members[i]) for i in ids})
            for room_id in ids:
                self.assertEqual(self.blocking(rooms.room_members, app, room_id),
                                 (len(members[room_id]), list(members[room_id].values())))
            for name in users:
                self.assertEqual(self.blocking(rooms.user_rooms, app, name), joined[name])

        await self.run_property(check)


class MemoryRoomsTests(RoomsContract, OnMemory, unittest.TestCase):
    pass


class SqliteRoomsTests(RoomsContract, OnSqlite, unittest.TestCase):
    async def test_a_deleted_rooms_id_is_not_given_again_after_a_restart(self):
        await self.room("a", "ann")
        newest = await self.room("a", "ann")
        await self.rooms.delete_room("a", newest)
        await self.store.stop()
        self.store = SqliteStore(self.store.path, reactor, metrics=Metrics())
        await self.store.start()
        self.addCleanup(self.store.stop)
        self.assertEqual(await self.store.rooms.room_members("a", FIRST_ROOM_ID),
                         (1, [RoomMember("ann")]))
        self.assertEqual(await self.store.rooms.user_rooms("a", "ann"), [FIRST_ROOM_ID])
        self.assertEqual((await self.store.rooms.create_room(Room("a", 0), [])).id, newest + 1)


class RedisRoomsTests(RoomsContract, OnRedis, unittest.TestCase):
    async def test_writes_racing_for_the_same_keys_all_land(self):
        """Two nodes' stores on one Redis, writing at once: every new room gets an id of its
        own, and every change is kept, all or none."""
        other = await self.open_store()
        self.addCleanup(other.stop)
        both = (self.rooms, other.rooms)
        made = await self.in_one_turn([(both[i % 2].create_room, Room("a", 0, str(i)),
                                        [RoomMember("ann"), RoomMember(f"u{i}")])
                                       for i in range(10)])
        made.sort(key=lambda room: room.id)
        self.assertEqual([room.id for room in made],
                         list(range(FIRST_ROOM_ID, FIRST_ROOM_ID + 10)))
        joined = await other.rooms.user_rooms("a", "ann")  # concurrent: in any order
        self.assertEqual(sorted(joined), [room.id for room in made])
        room_id = made[0].id
        # joins racing with each other for the room's last places, and with a change of it
        await self.rooms.update_room("a", room_id, {"max_members": 5})
        joins = await self.in_one_turn(
            [(outcome, both[i % 2].add_room_members("a", room_id, [RoomMember(f"new{i}")]))
             for i in range(6)]
            + [(outcome, other.rooms.update_room("a", room_id, {"name": "x"}))])
        self.assertEqual(sorted(map(str, joins[:6])), ["None"] * 3 + [errors.ROOM_FULL] * 3)
        kept = Room("a", room_id, "x", max_members=5)
        self.assertEqual(joins[6], kept)
        total, members = await other.rooms.room_members("a", room_id)
        self.assertEqual(total, 5)
        self.assertEqual(names(members)[:2], ["ann", f"u{made[0].name}"])
        self.assertEqual(sorted(names(members)[2:]),
                         sorted(f"new{i}" for i, done in enumerate(joins[:6]) if done is None))
        # deletes racing with the user leaving every room, and with a silence
        await self.in_one_turn([(both[i % 2].delete_room, "a", r.id)
                                for i, r in enumerate(made[1:])]
                               + [(other.rooms.leave_all_rooms, "a", "ann"),
                                  (self.rooms.update_room_member, "a", room_id,
                                   f"u{made[0].name}", {"silenced": True})])
        self.assertEqual(await self.rooms.list_rooms("a", 0, 10), (1, [kept]))
        self.assertEqual(await self.rooms.user_rooms("a", "ann"), [])
        total, members = await self.rooms.room_members("a", room_id)
        self.assertEqual((total, members[0]), (4, RoomMember(f"u{made[0].name}", True)))
        for gone in made[1:]:
            self.assertEqual(await other.rooms.user_rooms("a", f"u{gone.name}"), [])


def outcome(pending):
    """C{pending}, firing with the code of the JimError it fails with, if it does."""
    return pending.addErrback(lambda failure: failure.trap(errors.JimError) and
                              failure.value.code)
