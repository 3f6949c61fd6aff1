"""The Apps service's deletion of an app, as the core sees it: its users leave the other apps'
groups and chat rooms (found by the stores' index of members), the members who stay are told,
a group one of them owned passes to a member who stays (of the group's app first), a group
none stays in is dissolved; a step that fails leaves the app deleted, the other steps done,
and says so."""
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.model import Delivery, Event, Group, Member, OWNER, Room, RoomMember
from tests.support.fakes import APP_KEY, ServiceCalls, make_core

THIRD = "ThirdApp0000000000000001"


class AppDeletionTests(ServiceCalls, SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "anna"))
        self.apps = self.fx.core.apps
        self.guest = self.ok(self.apps.create({"name": "Guest"}))[0].key
        self.bob, self.bea = (model.qualified(self.guest, name) for name in ("bob", "bea"))
        self.cid = model.qualified(THIRD, "cid")
        self.delivered = []
        self.fx.bus.subscribe(self.delivered.append)

    def group(self, *names):
        """A group of the default app, the first of C{names} owning it; its gid."""
        members = [Member(names[0], OWNER)] + [Member(name) for name in names[1:]]
        made = self.fx.memory.groups.create_group(Group(APP_KEY, 0, "g", owner=names[0]),
                                                  members)
        return self.successResultOf(made).gid

    def members(self, gid):
        return {m.username: m.role for m in self.ok(self.fx.core.groups.members(APP_KEY, gid))
                .values()}

    def events(self, gid):
        return [(d.item.kind, d.recipients, [u.username for u in d.item.users], d.item.new_owner)
                for d in self.delivered if type(d) is Delivery and type(d.item) is Event
                and d.item.gid == gid]

    def test_the_users_of_a_deleted_app_leave_the_groups_and_rooms_of_others(self):
        mixed = self.group("alice", self.bob, "anna", self.bea)
        owned = self.group(self.bob, self.cid, self.bea, "anna")
        foreign = self.group(self.bob, self.cid)
        alone = self.group(self.bob, self.bea)
        self.ok(self.fx.core.groups.members(APP_KEY, mixed))  # in memory: it is changed too
        room = self.successResultOf(self.fx.memory.rooms.create_room(
            Room(APP_KEY, 0, "hall", owner="alice"),
            [RoomMember("alice"), RoomMember(self.bob), RoomMember(self.cid)])).id
        self.ok(self.fx.core.rooms.members(APP_KEY, room))
        self.ok(self.apps.delete(self.guest))
        self.assertEqual(self.members(mixed), {"alice": model.OWNER, "anna": model.MEMBER})
        self.assertEqual(self.events(mixed), [(model.MEMBERS_REMOVED, ("alice", "anna"),
                                               [self.bob, self.bea], "")])
        self.assertEqual(self.members(owned), {self.cid: model.MEMBER, "anna": model.OWNER})
        self.assertEqual(self.events(owned), [
            (model.OWNER_TRANSFERRED, ("anna",), [], "anna"),
            (model.MEMBERS_REMOVED, ("anna",), [self.bob, self.bea], "")])
        self.assertEqual(self.members(foreign), {self.cid: model.OWNER},
                         "none of the group's app stays: another app's member owns it")
        self.refused(self.fx.core.groups.get(APP_KEY, alone), errors.NO_SUCH_GROUP)
        self.assertEqual(list(self.ok(self.fx.core.rooms.members(APP_KEY, room))),
                         ["alice", self.cid])
        for store in (self.fx.memory.groups.members_with_prefix,
                      self.fx.memory.rooms.room_members_with_prefix):
            self.assertEqual(self.successResultOf(store(APP_KEY, f"{self.guest}:")), [])

    def test_a_step_that_fails_leaves_the_app_deleted_and_the_rest_done(self):
        gid = self.group("alice", self.bob)

        async def failing(key, others):
            raise RuntimeError("a step that fails")

        self.apps.on_delete.insert(0, failing)
        self.refused(self.apps.delete(self.guest), errors.SERVER_ERROR)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertIsNone(self.ok(self.fx.accounts.app(self.guest)))
        self.assertEqual(self.members(gid), {"alice": model.OWNER})
