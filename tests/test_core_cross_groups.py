"""How one app's data names another app's users and groups (jim.core.cross_groups), and how
a group event's copy for another app's members reads on the wire (jim.wire.jim_events)."""
import orjson
from hypothesis import assume, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.core.cross_copies import renamed
from jim.core.cross_groups import CrossGroups, group_ref
from jim.errors import JimError
from jim.model import GROUP, Event, UserCard
from jim.wire import jim_events, jimjson

_KEYS = st.text(alphabet="abcdefghijkLMNOP0123456789", min_size=1, max_size=24)
_NAMES = st.text(alphabet="abcxyz019_.-@", min_size=1, max_size=20)


class NamingTests(SynchronousTestCase):
    def test_a_name_as_another_app_names_it(self):
        self.assertEqual(renamed("alice", "A", "B"), "A:alice")
        self.assertEqual(renamed("B:bob", "A", "B"), "bob")
        self.assertEqual(renamed("C:cid", "A", "B"), "C:cid")
        self.assertEqual(renamed("alice", "A", "A"), "alice")

    @given(_KEYS, _KEYS, _KEYS, _NAMES)
    def test_renaming_there_and_back_is_the_name(self, home, other, third, username):
        assume(third != home)  # an app names its own users by their usernames alone
        for name in (username, model.qualified(third, username)):
            self.assertEqual(renamed(renamed(name, home, other), other, home), name)

    @given(_KEYS, _KEYS, st.integers(min_value=1, max_value=10**17))
    def test_group_names(self, home, other, gid):
        self.assertEqual(group_ref(str(gid), home), (home, gid))
        self.assertEqual(group_ref(model.qualified(other, str(gid)), home), (other, gid))

    @given(st.text(max_size=30))
    def test_anything_else_is_no_group(self, text):
        _, _, gid = text.rpartition(":")
        if gid.isdigit() and gid.isascii() and len(gid) <= 18:
            return
        with self.assertRaises(JimError) as caught:
            group_ref(text, "A")
        self.assertEqual(caught.exception.code, errors.NO_SUCH_GROUP)

    def test_signs_spaces_and_other_digits_are_no_gid(self):
        for text in ("A:-1", "A: 1", "A:١٢", "A:1e3", "A:", "", "A:" + "9" * 19):
            with self.assertRaises(JimError):
                group_ref(text, "B")


class EventCopyTests(SynchronousTestCase):
    def copy(self, **fields):
        event = Event(model.MEMBERS_ADDED, "A", id=7, actor="alice", gid=10000001,
                      users=[UserCard("B:bob"), UserCard("anna")], group_name="team",
                      **fields)
        return CrossGroups.event_copy(event, "B")

    def test_users_and_the_group_are_named_as_the_members_app_names_them(self):
        copy = self.copy()
        self.assertEqual((copy.app, copy.actor, [c.username for c in copy.users], copy.gid,
                          copy.target_type, copy.target),
                         ("B", "A:alice", ["bob", "A:anna"], None, GROUP, "A:10000001"))

    def test_the_copy_names_the_group_by_its_qualified_gid_on_the_wire(self):
        copy = self.copy()
        shown = jim_events.event_json(copy)
        self.assertEqual((shown["gid"], shown["groupId"], shown["group_appkey"],
                          shown["from_username"], shown["from_appkey"]),
                         (10000001, "A:10000001", "A", "alice", "A"))
        self.assertEqual([(u["username"], u["appkey"]) for u in shown["to_usernames"]],
                         [("bob", "B"), ("anna", "A")])
        frames = jim_events.frames(copy)  # offline too: no alias is needed
        self.assertEqual(orjson.loads(frames[0][1])["group"], "A:10000001")

    def test_a_retraction_copy_names_the_group_and_its_gid(self):
        event = Event(model.MESSAGE_RETRACTED, "A", actor="alice", gid=10000001,
                      message_ids=(5,), target_type=GROUP, target="10000001")
        shown = jim_events.event_json(CrossGroups.event_copy(event, "B"))
        self.assertEqual((shown["from_gid"], shown["groupId"], shown["msgid_list"]),
                         (10000001, "A:10000001", [5]))


class RoomTargetTests(SynchronousTestCase):
    """A J-IM chat's roomId: a room of the app, or another app's by C{<appKey>:<id>}."""

    @given(_KEYS, st.integers(min_value=1, max_value=2**63 - 1))
    def test_another_apps_room(self, key, room):
        self.assertEqual(jimjson.room_target({"roomId": f"{key}:{room}"}), f"{key}:{room}")
        self.assertEqual(jimjson.room_target({"roomId": str(room)}), str(room))
        self.assertEqual(jimjson.room_target({"roomId": room}), str(room))

    @given(st.one_of(st.text(max_size=30), st.integers(), st.none(), st.booleans()))
    def test_anything_else_is_refused(self, value):
        try:
            found = jimjson.room_target({"roomId": value})
        except JimError as e:
            self.assertEqual(e.code, errors.BAD_REQUEST)
            return
        app_key, _, number = found.rpartition(":")
        self.assertTrue(number.isdigit() and 0 < int(number) < 2**63, found)
        self.assertEqual(app_key == "", ":" not in str(value))
