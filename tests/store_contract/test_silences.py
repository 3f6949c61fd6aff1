"""The contract of the silence area (ISilenceStore): the silences kept of users who left a
group or a chat room silenced, per app and per place, until they come back, the place goes
or the user is deleted; for every store."""
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jim import errors, model
from jim.errors import JimError
from jim.interfaces import ISilenceStore
from jim.model import Group, Member, Room, RoomMember
from tests.store_contract.base import ContractCase, OnMemory, OnRedis, OnSqlite

GROUP = model.silence_place(model.GROUPS_AREA, 10_000_001)
ROOM = model.silence_place(model.ROOMS_AREA, 10_000_001)


class SilencesContract(ContractCase):
    def setUp(self):
        opened = super().setUp()
        opened.addCallback(lambda _: setattr(self, "silences", self.store.silences))
        return opened

    def test_provides_the_interface(self):
        self.assertTrue(verifyObject(ISilenceStore, self.silences))

    async def test_kept_silences_are_found_in_the_order_asked(self):
        app = self.fresh_app()
        await self.silences.keep_silences(app, GROUP, ["bob", "amy", "émile"])
        self.assertEqual(await self.silences.silenced_among(app, GROUP,
                                                            ["zed", "émile", "bob", "cat"]),
                         ["émile", "bob"])
        # keeping one again changes nothing; nobody asked, nobody found
        await self.silences.keep_silences(app, GROUP, ["bob"])
        self.assertEqual(await self.silences.silenced_among(app, GROUP, ["bob"]), ["bob"])
        self.assertEqual(await self.silences.silenced_among(app, GROUP, []), [])
        await self.silences.keep_silences(app, GROUP, [])

    async def test_silences_are_kept_per_place_and_per_app(self):
        app, other = self.fresh_app(), self.fresh_app()
        await self.silences.keep_silences(app, GROUP, ["bob"])
        self.assertEqual(await self.silences.silenced_among(app, ROOM, ["bob"]), [])
        self.assertEqual(await self.silences.silenced_among(other, GROUP, ["bob"]), [])

    async def test_a_released_silence_is_no_longer_kept(self):
        app = self.fresh_app()
        await self.silences.keep_silences(app, GROUP, ["bob", "amy"])
        await self.silences.keep_silences(app, ROOM, ["bob"])
        await self.silences.release_silences(app, GROUP, ["bob", "nobody"])
        self.assertEqual(await self.silences.silenced_among(app, GROUP, ["bob", "amy"]),
                         ["amy"])
        self.assertEqual(await self.silences.silenced_among(app, ROOM, ["bob"]), ["bob"])
        await self.silences.release_silences(app, "groups:1", ["bob"])  # none kept there

    async def test_a_place_forgotten_keeps_no_silence(self):
        app = self.fresh_app()
        await self.silences.keep_silences(app, GROUP, ["bob", "amy"])
        await self.silences.keep_silences(app, ROOM, ["bob"])
        await self.silences.forget_place(app, GROUP)
        self.assertEqual(await self.silences.silenced_among(app, GROUP, ["bob", "amy"]), [])
        self.assertEqual(await self.silences.silenced_among(app, ROOM, ["bob"]), ["bob"])
        await self.silences.forget_place(app, GROUP)  # twice: nothing to do
        # its users' other silences are still forgotten with them
        await self.silences.forget_user_silences(app, "bob")
        self.assertEqual(await self.silences.silenced_among(app, ROOM, ["bob"]), [])

    async def test_a_deleted_user_keeps_no_silence_anywhere(self):
        app, other = self.fresh_app(), self.fresh_app()
        for place in (GROUP, ROOM):
            await self.silences.keep_silences(app, place, ["bob", "amy"])
        await self.silences.keep_silences(other, GROUP, ["bob"])
        await self.silences.forget_user_silences(app, "bob")
        for place in (GROUP, ROOM):
            self.assertEqual(await self.silences.silenced_among(app, place, ["bob", "amy"]),
                             ["amy"])
        self.assertEqual(await self.silences.silenced_among(other, GROUP, ["bob"]), ["bob"])
        # a user of the same name, later, starts with none; its new ones are kept
        await self.silences.keep_silences(app, ROOM, ["bob"])
        self.assertEqual(await self.silences.silenced_among(app, ROOM, ["bob"]), ["bob"])
        self.assertEqual(await self.silences.silenced_among(app, GROUP, ["bob"]), [])

    async def test_the_silences_of_another_apps_users_go_together(self):
        app = self.fresh_app()
        await self.silences.keep_silences(app, GROUP, ["beta:bob", "beta:amy", "betamax:x",
                                                       "bob", "gamma:bob"])
        await self.silences.keep_silences(app, ROOM, ["beta:bob", "beta;"])
        await self.silences.forget_users_with_prefix(app, "beta:")
        everyone = ["beta:bob", "beta:amy", "betamax:x", "bob", "gamma:bob", "beta;"]
        self.assertEqual(await self.silences.silenced_among(app, GROUP, everyone),
                         ["betamax:x", "bob", "gamma:bob"])
        self.assertEqual(await self.silences.silenced_among(app, ROOM, everyone), ["beta;"])
        await self.silences.forget_users_with_prefix(app, "nobody:")  # none: nothing changes
        self.assertEqual(await self.silences.silenced_among(app, GROUP, everyone),
                         ["betamax:x", "bob", "gamma:bob"])

    async def test_a_forgotten_app_keeps_no_silence(self):
        app, other = self.fresh_app(), self.fresh_app()
        await self.silences.keep_silences(app, GROUP, ["bob"])
        await self.silences.keep_silences(other, GROUP, ["bob"])
        await self.store.forget_app(app)
        self.assertEqual(await self.silences.silenced_among(app, GROUP, ["bob"]), [])
        self.assertEqual(await self.silences.silenced_among(other, GROUP, ["bob"]), ["bob"])

    async def test_members_taken_out_of_a_group_keep_their_silences_as_stored(self):
        """The group's removal keeps the silence of each member silenced in the store at that
        moment (whatever a node's cache said), in the same change; not of the others."""
        app = self.fresh_app()
        group = await self.store.groups.create_group(
            Group(app, 0), [Member("ann", model.OWNER), Member("bob", silenced=True),
                            Member("cat"), Member("dan", silenced=True), Member("d:e")])
        await self.store.groups.update_member(app, group.gid, "d:e", {"silenced": True})
        place = model.silence_place(model.GROUPS_AREA, group.gid)
        removed = await self.store.groups.remove_members(app, group.gid,
                                                         ["bob", "cat", "d:e", "nobody"])
        self.assertEqual(removed, ["bob", "cat", "d:e"])
        everyone = ["ann", "bob", "cat", "dan", "d:e", "nobody"]
        self.assertEqual(await self.silences.silenced_among(app, place, everyone), ["bob", "d:e"])
        # each user's index has it too: deleting the user forgets it
        await self.silences.forget_user_silences(app, "d:e")
        self.assertEqual(await self.silences.silenced_among(app, place, everyone), ["bob"])
        self.assertEqual(await self.store.groups.remove_members(app, group.gid, ["bob"]), [])
        self.assertEqual(await self.silences.silenced_among(app, place, everyone), ["bob"])

    async def test_members_taken_out_of_a_room_keep_their_silences_as_stored(self):
        app = self.fresh_app()
        room = await self.store.rooms.create_room(
            Room(app, 0, owner="ann"), [RoomMember("ann"), RoomMember("bob", silenced=True),
                                        RoomMember("cat")])
        await self.store.rooms.update_room_member(app, room.id, "cat", {"silenced": True})
        await self.store.rooms.update_room_member(app, room.id, "bob", {"silenced": False})
        place = model.silence_place(model.ROOMS_AREA, room.id)
        await self.store.rooms.remove_room_members(app, room.id, ["bob", "cat"])
        self.assertEqual(await self.silences.silenced_among(app, place, ["ann", "bob", "cat"]),
                         ["cat"])
        await self.silences.forget_user_silences(app, "cat")
        self.assertEqual(await self.silences.silenced_among(app, place, ["cat"]), [])

    async def test_a_refused_room_removal_keeps_no_silence(self):
        app = self.fresh_app()
        room = await self.store.rooms.create_room(
            Room(app, 0, owner="ann"), [RoomMember("ann"), RoomMember("bob", silenced=True)])
        with self.assertRaises(JimError) as refused:
            await self.store.rooms.remove_room_members(app, room.id, ["bob", "nobody"])
        self.assertEqual(refused.exception.code, errors.NOT_IN_ROOM)
        place = model.silence_place(model.ROOMS_AREA, room.id)
        self.assertEqual(await self.silences.silenced_among(app, place, ["bob"]), [])

    def test_the_store_keeps_what_a_model_of_it_says(self):
        """Any sequence of keeps, releases and forgets leaves the silences a set per place
        says, for every user asked about."""
        users = st.sampled_from(["amy", "bob", "cat", "d:e"])
        places = st.sampled_from([GROUP, ROOM, "groups:7"])
        step = st.one_of(
            st.tuples(st.just("keep"), places, st.lists(users, max_size=3)),
            st.tuples(st.just("release"), places, st.lists(users, max_size=3)),
            st.tuples(st.just("place"), places),
            st.tuples(st.just("user"), users))

        @settings(max_examples=self.property_examples, deadline=None, derandomize=True)
        @given(st.lists(step, max_size=12))
        def check(plan):
            app, kept = self.fresh_app(), {}
            for kind, *args in plan:
                if kind == "keep":
                    self.blocking(self.silences.keep_silences, app, *args)
                    kept.setdefault(args[0], set()).update(args[1])
                elif kind == "release":
                    self.blocking(self.silences.release_silences, app, *args)
                    kept.setdefault(args[0], set()).difference_update(args[1])
                elif kind == "place":
                    self.blocking(self.silences.forget_place, app, args[0])
                    kept.pop(args[0], None)
                else:
                    self.blocking(self.silences.forget_user_silences, app, args[0])
                    for names in kept.values():
                        names.discard(args[0])
            everyone = ["amy", "bob", "cat", "d:e"]
            for place in (GROUP, ROOM, "groups:7"):
                self.assertEqual(
                    self.blocking(self.silences.silenced_among, app, place, everyone),
                    [name for name in everyone if name in kept.get(place, ())])

        return self.run_property(check)


class MemorySilencesTests(SilencesContract, OnMemory, unittest.TestCase):
    pass


class SqliteSilencesTests(SilencesContract, OnSqlite, unittest.TestCase):
    pass


class RedisSilencesTests(SilencesContract, OnRedis, unittest.TestCase):
    pass
