"""Kept silences (docs/storage.md, "Kept silences") outlive neither their user nor their app:
a member silenced in a group or a chat room who left keeps its silence, but once the user is
deleted (its own app's places and those of the other apps it was a member in) or its app is
deleted (every other app's places, and its own app's with everything of it), a user
made later under the same name, or in an app made again under the same key, comes in
unsilenced. Each case is set up so that the silence is shown kept until the deletion, and
covers both a user who had left silenced and one still in, silenced, when it was deleted (the
deletion takes it out, which keeps its silence, and only then forgets it: the order of
C{Users.on_delete} and C{Apps.on_delete} in L{jim.core.core.build_core})."""
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.model import Draft
from tests.support.fakes import APP_KEY, ServiceCalls, make_core

GUEST = "GuestApp0000000000000001"

class SilenceCase(ServiceCalls, SynchronousTestCase):
    """The default app (alice, anna, bob, carl) and app GUEST (bella, bobby), each listing the
    other in its C{cross_apps}."""

    def setUp(self):
        self.fx = make_core(users=("alice", "anna", "bob", "carl"))
        self.core = self.fx.core
        self.make_guest()
        self.ok(self.core.apps.update(APP_KEY, {"cross_apps": [GUEST]}))

    def make_guest(self, *users):
        self.ok(self.core.apps.create({"name": "Guest", "cross_apps": [APP_KEY]}, key=GUEST))
        for name in users or ("bella", "bobby"):
            self.register(GUEST, name)

    def register(self, app, name):
        self.ok(self.core.users.register(app, name, "secret"))

    @staticmethod
    def guest(name):
        return model.qualified(GUEST, name)

    # -- groups -------------------------------------------------------------------------------

    def group(self, app=APP_KEY, owner="alice", members=("anna",)):
        return self.ok(self.core.groups.create(app, owner, "g", list(members))).gid

    def group_add(self, gid, name, app=APP_KEY):
        """The app server adds C{name} (a username of C{app}, or C{<GUEST>:<name>}) to the
        group C{gid} of C{app}."""
        if app == APP_KEY and model.QUALIFIER in name:
            self.ok(self.core.cross_groups.change_members(
                APP_KEY, gid, [(GUEST, [model.unqualified(name, APP_KEY)[1]], [])]))
        else:
            self.ok(self.core.groups.add_members(app, gid, [name]))

    def group_remove(self, gid, name, app=APP_KEY):
        if app == APP_KEY and model.QUALIFIER in name:
            self.ok(self.core.cross_groups.change_members(
                APP_KEY, gid, [(GUEST, [], [model.unqualified(name, APP_KEY)[1]])]))
        else:
            self.ok(self.core.groups.remove_members(app, gid, [name]))

    def group_silence(self, gid, name, app=APP_KEY):
        if app == APP_KEY and model.QUALIFIER in name:
            self.ok(self.core.cross_groups.silence(APP_KEY, gid, [name], True))
        else:
            self.ok(self.core.groups.silence(app, gid, [name], True))

    def group_silenced(self, gid, app=APP_KEY):
        """The members of the group its member list shows silenced."""
        return [m.username for m in self.ok(self.core.groups.member_list(app, gid))
                if m.silenced]

    def group_says(self, app, sender, target):
        """C{sender} of C{app} sends to the group C{target} (its gid, or C{<appkey>:<gid>}):
        None when it is sent, else the refusal's code."""
        return self._says(app, sender, Draft(model.GROUP, str(target), model.TEXT,
                                             {"text": "hello"}))

    # -- chat rooms ---------------------------------------------------------------------------

    def room(self, app=APP_KEY, owner="alice", members=("anna",)):
        return self.ok(self.core.rooms.create(app, owner, "hall", list(members))).id

    def room_add(self, room, name):
        self._room_members(room, name, "add_members")

    def room_remove(self, room, name):
        self._room_members(room, name, "remove_members")

    def _room_members(self, room, name, change):
        """C{change} (C{add_members} or C{remove_members}) of C{name}, through CrossRooms
        for a C{<GUEST>:<name>}, else through Rooms."""
        if model.QUALIFIER in name:
            self.ok(getattr(self.core.cross_rooms, change)(
                APP_KEY, room, [(GUEST, [model.unqualified(name, APP_KEY)[1]])]))
        else:
            self.ok(getattr(self.core.rooms, change)(APP_KEY, room, [name]))

    def room_silence(self, room, name):
        if model.QUALIFIER in name:
            self.ok(self.core.cross_rooms.silence(APP_KEY, room, name, True))
        else:
            self.ok(self.core.rooms.silence(APP_KEY, room, name, True))

    def room_silenced(self, room):
        return [name for name, m in self.ok(self.core.rooms.members(APP_KEY, room)).items()
                if m.silenced]

    def room_says(self, app, sender, target):
        return self._says(app, sender, Draft(model.CHATROOM, str(target), model.TEXT,
                                             {"text": "hello"}))

    def _says(self, app, sender, draft):
        result = self.core.messages.send(app, sender, draft)
        failures = []
        result.addErrback(lambda f: failures.append(f.value.code))
        self.successResultOf(result)
        return failures[0] if failures else None

    # -- set-ups ------------------------------------------------------------------------------

    def kept_in_group(self, gid, name, app=APP_KEY):
        """C{name}, a member of the group, is silenced and taken out: its silence is kept
        (shown by its coming back silenced; then it is taken out again)."""
        self.group_silence(gid, name, app)
        self.group_remove(gid, name, app)
        self.group_add(gid, name, app)
        self.assertIn(name, self.group_silenced(gid, app), "the silence is kept")
        self.group_remove(gid, name, app)
        self.assertNotIn(name, self.group_silenced(gid, app))

    def kept_in_room(self, room, name):
        self.room_silence(room, name)
        self.room_remove(room, name)
        self.room_add(room, name)
        self.assertIn(name, self.room_silenced(room), "the silence is kept")
        self.room_remove(room, name)


class UserDeletionTests(SilenceCase):
    def test_a_user_made_again_under_a_deleted_users_name_comes_in_unsilenced(self):
        """bob left a group and a room silenced, and is still in another group and room,
        silenced, when he is deleted: the bob registered after comes into all four free and
        speaks there. carl, silenced and gone from the same places, keeps his silences."""
        left_group, in_group = self.group(), self.group(members=("anna", "bob"))
        left_room, in_room = self.room(), self.room(members=("anna", "bob"))
        self.group_add(left_group, "bob")
        self.group_add(left_group, "carl")
        self.room_add(left_room, "bob")
        self.room_add(left_room, "carl")
        for name in ("bob", "carl"):
            self.kept_in_group(left_group, name)
            self.kept_in_room(left_room, name)
        self.group_silence(in_group, "bob")
        self.room_silence(in_room, "bob")
        self.assertEqual(self.group_says(APP_KEY, "bob", in_group), errors.SILENCED)

        self.ok(self.core.users.delete(APP_KEY, "bob"))
        self.register(APP_KEY, "bob")
        for gid in (left_group, in_group):
            self.group_add(gid, "bob")
            self.assertEqual(self.group_silenced(gid), [])
            self.assertIsNone(self.group_says(APP_KEY, "bob", gid))
        for room in (left_room, in_room):
            self.room_add(room, "bob")
            self.assertEqual(self.room_silenced(room), [])
            self.assertIsNone(self.room_says(APP_KEY, "bob", room))
        # another user's kept silences are not the deleted user's
        self.group_add(left_group, "carl")
        self.room_add(left_room, "carl")
        self.assertEqual(self.group_silenced(left_group), ["carl"])
        self.assertEqual(self.room_silenced(left_room), ["carl"])

    def test_a_deleted_users_silences_in_other_apps_groups_and_rooms_go(self):
        """GUEST's bobby left a group and a room of the default app silenced, and is still in
        another group and room of it, silenced, when GUEST deletes him: the bobby GUEST
        registers after comes into all four free, and speaks there. bella's silences, in the
        same places, stay kept."""
        bobby, bella = self.guest("bobby"), self.guest("bella")
        left_group, in_group = self.group(), self.group()
        left_room, in_room = self.room(), self.room()
        for name in (bobby, bella):
            self.group_add(left_group, name)
            self.room_add(left_room, name)
            self.kept_in_group(left_group, name)
            self.kept_in_room(left_room, name)
        self.group_add(in_group, bobby)
        self.group_silence(in_group, bobby)
        self.room_add(in_room, bobby)
        self.room_silence(in_room, bobby)
        self.assertEqual(self.group_says(GUEST, "bobby", f"{APP_KEY}:{in_group}"),
                         errors.SILENCED)

        self.ok(self.core.users.delete(GUEST, "bobby"))
        self.assertNotIn(bobby, self.ok(self.core.groups.members(APP_KEY, in_group)))
        self.assertNotIn(bobby, self.ok(self.core.rooms.members(APP_KEY, in_room)))
        self.register(GUEST, "bobby")
        for gid in (left_group, in_group):
            self.group_add(gid, bobby)
            self.assertEqual(self.group_silenced(gid), [], f"group {gid}")
            self.assertIsNone(self.group_says(GUEST, "bobby", f"{APP_KEY}:{gid}"))
        for room in (left_room, in_room):
            self.room_add(room, bobby)
            self.assertEqual(self.room_silenced(room), [], f"room {room}")
            self.assertIsNone(self.room_says(GUEST, "bobby", f"{APP_KEY}:{room}"))
        self.group_add(left_group, bella)
        self.room_add(left_room, bella)
        self.assertEqual(self.group_silenced(left_group), [bella])
        self.assertEqual(self.room_silenced(left_room), [bella])


class PermissionTakenBackTests(SilenceCase):
    """A user deleted while its app no longer lists the other app (a permission taken back,
    which leaves the other app's groups and rooms as they were: docs/admin-api.md,
    "Cross-app chat") still leaves them, and its silences kept there go: every other app is
    visited, not only those its app lists at the time."""

    def test_its_silences_in_the_other_apps_places_go_all_the_same(self):
        """GUEST's bobby left a group and a room of the default app silenced; GUEST stops
        listing the default app, deletes bobby, and lists it again. Deleting a user forgets
        its kept silences (docs/storage.md, "Kept silences": "a deleted user's go ... after
        it left its groups and rooms, those of other apps too"), so the bobby registered
        after comes in free."""
        bobby = self.guest("bobby")
        gid, room = self.group(), self.room()
        self.group_add(gid, bobby)
        self.room_add(room, bobby)
        self.kept_in_group(gid, bobby)
        self.kept_in_room(room, bobby)
        self.ok(self.core.apps.update(GUEST, {"cross_apps": []}))
        self.ok(self.core.users.delete(GUEST, "bobby"))
        self.ok(self.core.apps.update(GUEST, {"cross_apps": [APP_KEY]}))
        self.register(GUEST, "bobby")
        self.group_add(gid, bobby)
        self.room_add(room, bobby)
        self.assertEqual((self.group_silenced(gid), self.room_silenced(room)), ([], []))

    def test_it_leaves_the_other_apps_groups_and_rooms_all_the_same(self):
        """The same, with bobby still a member when deleted: "A user deleted in its app
        leaves the groups of other apps it was in" (docs/rest-api.md, "14. Cross-app")."""
        bobby = self.guest("bobby")
        gid, room = self.group(), self.room()
        self.group_add(gid, bobby)
        self.room_add(room, bobby)
        self.ok(self.core.apps.update(GUEST, {"cross_apps": []}))
        self.ok(self.core.users.delete(GUEST, "bobby"))
        self.assertEqual((list(self.ok(self.core.groups.members(APP_KEY, gid))),
                          list(self.ok(self.core.rooms.members(APP_KEY, room)))),
                         (["alice", "anna"], ["alice", "anna"]))


class AppDeletionTests(SilenceCase):
    def test_a_deleted_apps_users_silences_kept_by_other_apps_go_with_it(self):
        """GUEST's bella left a group and a room of the default app silenced before GUEST was
        deleted (KeptSilences.app_deleted): the bella of the app made again under GUEST's key
        comes into both free, and speaks there."""
        bella = self.guest("bella")
        gid, room = self.group(), self.room()
        self.group_add(gid, bella)
        self.room_add(room, bella)
        self.kept_in_group(gid, bella)
        self.kept_in_room(room, bella)
        # the default app's own carl, silenced and gone too, is no user of GUEST
        self.group_add(gid, "carl")
        self.kept_in_group(gid, "carl")

        self.ok(self.core.apps.delete(GUEST))
        self.make_guest("bella")
        self.group_add(gid, bella)
        self.room_add(room, bella)
        self.assertEqual(self.group_silenced(gid), [])
        self.assertEqual(self.room_silenced(room), [])
        self.assertIsNone(self.group_says(GUEST, "bella", f"{APP_KEY}:{gid}"))
        self.assertIsNone(self.room_says(GUEST, "bella", f"{APP_KEY}:{room}"))
        self.group_add(gid, "carl")
        self.assertEqual(self.group_silenced(gid), ["carl"])

    def test_a_deleted_apps_users_still_in_other_apps_places_silenced_keep_nothing(self):
        """GUEST's bobby is still in a group and a room of the default app, silenced, when
        GUEST is deleted: he is taken out (which keeps his silence), then the app's users'
        silences go; the bobby of the app made again comes in free."""
        bobby = self.guest("bobby")
        gid, room = self.group(), self.room()
        self.group_add(gid, bobby)
        self.group_silence(gid, bobby)
        self.room_add(room, bobby)
        self.room_silence(room, bobby)

        self.ok(self.core.apps.delete(GUEST))
        self.assertEqual(list(self.ok(self.core.groups.members(APP_KEY, gid))),
                         ["alice", "anna"])
        self.assertEqual(list(self.ok(self.core.rooms.members(APP_KEY, room))),
                         ["alice", "anna"])
        self.make_guest("bobby")
        self.group_add(gid, bobby)
        self.room_add(room, bobby)
        self.assertEqual(self.group_silenced(gid), [])
        self.assertEqual(self.room_silenced(room), [])
        self.assertIsNone(self.group_says(GUEST, "bobby", f"{APP_KEY}:{gid}"))

    def test_a_deleted_apps_own_kept_silences_go_with_it(self):
        """In GUEST's own group (its first gid) bella left silenced; GUEST is deleted and made
        again under its key, whose first group has that gid again: its bella joins it
        free."""
        gid = self.group(app=GUEST, owner="bobby", members=("bella",))
        self.kept_in_group(gid, "bella", app=GUEST)

        self.ok(self.core.apps.delete(GUEST))
        self.make_guest("bella", "bobby")
        again = self.group(app=GUEST, owner="bobby", members=())
        self.assertEqual(again, gid, "the app made again gives its first gid again")
        self.group_add(again, "bella", app=GUEST)
        self.assertEqual(self.group_silenced(again, app=GUEST), [])
        self.assertIsNone(self.group_says(GUEST, "bella", again))
