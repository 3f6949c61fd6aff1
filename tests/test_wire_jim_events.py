"""Events on the J-IM wire: J-IM's cmd 9 and 10 where J-IM has them, and cmd 100 with
JMessage's event object (its event_type numbers) for every event but presence."""
import attr
import orjson
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import model
from jim.model import Event, UserCard
from jim.wire import jim_events

from tests.support.model_strategies import events

#: JMessage's event_type of each kind, as the reference table in jim_events gives them
#: (written out here, so that a change of a number is a failing test, not a silent one)
EVENT_TYPES = {
    model.USER_FORBIDDEN: 1, model.USER_DELETED: 1, model.PASSWORD_CHANGED: 2,
    model.FRIEND_ADDED: 5,
    model.FRIEND_REMOVED: 6, model.FRIEND_UPDATED: 7, model.GROUP_CREATED: 8,
    model.MEMBER_LEFT: 9, model.GROUP_DISSOLVED: 9, model.MEMBERS_ADDED: 10,
    model.MEMBERS_REMOVED: 11, model.GROUP_UPDATED: 12, model.NODISTURB_CHANGED: 37,
    model.BLACKLIST_CHANGED: 38, model.USER_UPDATED: 40, model.MESSAGE_RETRACTED: 55,
    model.MEMBER_SILENCED: 65, model.OWNER_TRANSFERRED: 82, model.LOGGED_IN_ELSEWHERE: 1,
}  # fmt: skip
#: kind -> the J-IM command each of its users gets besides cmd 100 (9 joined, 10 left)
JIM_NOTIFY = {
    model.USER_ONLINE: 9, model.MEMBERS_ADDED: 9,
    model.USER_OFFLINE: 10, model.MEMBERS_REMOVED: 10, model.MEMBER_LEFT: 10,
}  # fmt: skip

BOB = UserCard("bob", "Bob", online=True, terminal="tcp")
CAROL = UserCard("carol")
BOB_JSON = {"userId": "bob", "nick": "Bob", "avatar": "", "status": "online", "terminal": "tcp"}
CAROL_JSON = {"userId": "carol", "nick": "carol", "avatar": "", "status": "offline"}


def event_of(kind, **fields):
    defaults = dict(id=7, actor="alice", gid=100, users=(BOB, CAROL), created=5,
                    group_name="team")
    return Event(kind, "app", **{**defaults, **fields})


def data_of(frames):
    """The event object of the one cmd 100 frame among C{frames}."""
    [body] = [body for command, body in frames if command == 100]
    return orjson.loads(body)["data"]


class FramesTests(SynchronousTestCase):
    def commands(self, kind, **fields):
        return [command for command, _ in jim_events.frames(event_of(kind, **fields))]

    def test_each_kind(self):
        for kind in model.EVENT_KINDS:
            expected = [JIM_NOTIFY[kind]] * 2 if kind in JIM_NOTIFY else []
            if kind in EVENT_TYPES:
                expected.append(100)
            self.assertEqual(self.commands(kind), expected, kind)

    def test_every_kind_reaches_j_im_clients(self):
        self.assertEqual(set(model.EVENT_KINDS), set(EVENT_TYPES) | set(JIM_NOTIFY))

    def test_event_types(self):
        self.assertEqual(jim_events.EVENT_TYPES, EVENT_TYPES)
        for kind, number in EVENT_TYPES.items():
            data = data_of(jim_events.frames(event_of(kind)))
            self.assertEqual((data["event_type"], data["kind"]), (number, kind))

    def test_no_users_no_notifications(self):
        self.assertEqual(self.commands(model.MEMBERS_ADDED, users=()), [100])
        self.assertEqual(self.commands(model.USER_ONLINE, users=()), [])

    def test_the_group_is_named_by_its_alias(self):
        for kind in JIM_NOTIFY:
            for alias, group_id in ((None, "100"), ("g1", "g1")):
                for command, body in jim_events.frames(event_of(kind), alias):
                    body = orjson.loads(body)
                    named = {9: lambda: body["group"], 10: lambda: body["data"]["group"],
                             100: lambda: body["data"]["groupId"]}[command]()
                    self.assertEqual(named, group_id, (kind, alias, command))

    @given(events())
    def test_any_event(self, event):
        if event.kind == model.MESSAGE_RETRACTED and event.target_type == model.GROUP:
            event = attr.evolve(event, target=str(event.gid or 1))  # a gid, as text
        frames = jim_events.frames(event, "g1")
        notify = JIM_NOTIFY.get(event.kind)
        self.assertEqual([c for c, _ in frames if c != 100],
                         [notify] * len(event.users) if notify else [])
        self.assertEqual(sum(c == 100 for c, _ in frames), int(event.kind in EVENT_TYPES))
        for command, body in frames:
            self.assertEqual(orjson.loads(body)["command"], command)


class BytesTests(SynchronousTestCase):
    def test_online_is_j_ims_join_notify(self):
        event = event_of(model.USER_ONLINE, users=(BOB,))
        self.assertEqual(jim_events.frames(event, "g1"), [(9, (
            '{"code":10011,"msg":"join group ok! 加入群组成功!","command":9,"group":"g1",'
            '"user":{"userId":"bob","nick":"Bob","avatar":"","status":"online",'
            '"terminal":"tcp"}}').encode())])

    def test_offline_is_j_ims_exit_notify(self):
        event = event_of(model.USER_OFFLINE, users=(UserCard("bob", terminal="ws"),))
        self.assertEqual(jim_events.frames(event), [(10, (
            '{"command":10,"data":{"group":"100","user":{"userId":"bob","nick":"bob",'
            '"avatar":"","status":"offline","terminal":"ws"}}}').encode())])

    def test_forbidden(self):
        event = Event(model.USER_FORBIDDEN, "app", id=7, users=(UserCard("alice"),), created=5)
        self.assertEqual(jim_events.frames(event), [(100, (
            '{"command":100,"data":{"event_id":7,"event_type":1,"kind":"user_forbidden",'
            '"from_username":"","from_appkey":"app","to_usernames":[{"username":"alice",'
            '"appkey":"app","nickname":""}],"ctime_ms":5}}').encode())])

    def test_logged_in_elsewhere(self):
        """A replaced device is told JMessage's 872008 in event_type 1 (kicked)."""
        event = Event(model.LOGGED_IN_ELSEWHERE, "app", id=7, users=(UserCard("alice"),),
                      created=5, description="logged in elsewhere")
        self.assertEqual(jim_events.frames(event), [(100, (
            '{"command":100,"data":{"event_id":7,"event_type":1,"kind":"logged_in_elsewhere",'
            '"from_username":"","from_appkey":"app","to_usernames":[{"username":"alice",'
            '"appkey":"app","nickname":""}],"ctime_ms":5,"return_code":872008,'
            '"description":"logged in elsewhere"}}').encode())])

    def test_members_added(self):
        frames = jim_events.frames(event_of(model.MEMBERS_ADDED), "g1")
        self.assertEqual([command for command, _ in frames], [9, 9, 100])
        self.assertEqual([orjson.loads(body)["user"] for _, body in frames[:2]],
                         [BOB_JSON, CAROL_JSON])
        self.assertEqual(frames[2][1].decode(), (
            '{"command":100,"data":{"event_id":7,"event_type":10,"kind":"members_added",'
            '"from_username":"alice","from_appkey":"app","to_usernames":['
            '{"username":"bob","appkey":"app","nickname":"Bob"},'
            '{"username":"carol","appkey":"app","nickname":""}],"ctime_ms":5,"gid":100,'
            '"groupId":"g1","group_name":"team"}}'))


class EventObjectTests(SynchronousTestCase):
    def data(self, kind, alias=None, **fields):
        return jim_events.event_json(event_of(kind, **fields), alias)

    def test_group_fields(self):
        data = self.data(model.GROUP_UPDATED, "g1")
        self.assertEqual((data["gid"], data["groupId"], data["group_name"]), (100, "g1", "team"))
        self.assertNotIn("group_name", self.data(model.GROUP_UPDATED, group_name=""))
        for name in ("gid", "groupId", "group_name"):
            self.assertNotIn(name, self.data(model.USER_UPDATED, gid=None))

    def test_extras(self):
        for kind, flag, extra in [
            (model.GROUP_DISSOLVED, None, 69),
            (model.MEMBER_SILENCED, True, 1), (model.MEMBER_SILENCED, False, 2),
            (model.BLACKLIST_CHANGED, True, 1), (model.BLACKLIST_CHANGED, False, 2),
            (model.BLACKLIST_CHANGED, None, None),
            (model.NODISTURB_CHANGED, True, 1), (model.NODISTURB_CHANGED, False, 2),
            (model.NODISTURB_CHANGED, None, None),
            (model.FRIEND_ADDED, None, 2), (model.FRIEND_REMOVED, False, None),
            (model.MEMBER_LEFT, None, None), (model.GROUP_CREATED, True, None),
        ]:  # fmt: skip
            self.assertEqual(self.data(kind, flag=flag).get("extra"), extra, (kind, flag))
        self.assertEqual(jim_events.DISSOLVED_EXTRA, 69)

    def test_owner_and_description(self):
        data = self.data(model.OWNER_TRANSFERRED, new_owner="bob", description="handed over")
        self.assertEqual((data["new_owner"], data["description"]), ("bob", "handed over"))
        data = self.data(model.MEMBER_LEFT)
        self.assertNotIn("new_owner", data)
        self.assertNotIn("description", data)

    def test_retracted_in_a_group(self):
        data = self.data(model.MESSAGE_RETRACTED, message_ids=(41, 42),
                         target_type=model.GROUP, target="100")
        self.assertEqual((data["event_type"], data["msgid_list"], data["type"], data["from_gid"]),
                         (55, [41, 42], 1, 100))
        self.assertNotIn("target", data)

    def test_retracted_between_two(self):
        data = self.data(model.MESSAGE_RETRACTED, gid=None, users=(), message_ids=(41,),
                         target_type=model.SINGLE, target="bob")
        self.assertEqual(data, {
            "event_id": 7, "event_type": 55, "kind": "message_retracted",
            "from_username": "alice", "from_appkey": "app", "to_usernames": [],
            "ctime_ms": 5, "msgid_list": [41], "type": 0, "target": "bob"})

    def test_to_usernames(self):
        data = self.data(model.FRIEND_ADDED, users=(BOB, UserCard("d", "Dee")))
        self.assertEqual(data["to_usernames"], [
            {"username": "bob", "appkey": "app", "nickname": "Bob"},
            {"username": "d", "appkey": "app", "nickname": "Dee"}])

    def test_another_apps_users_are_shown_with_their_appkey(self):
        data = self.data(model.FRIEND_ADDED, actor="other:carol",
                         users=(BOB, UserCard("other:dave", "Dave")))
        self.assertEqual((data["from_username"], data["from_appkey"]), ("carol", "other"))
        self.assertEqual(data["to_usernames"], [
            {"username": "bob", "appkey": "app", "nickname": "Bob"},
            {"username": "dave", "appkey": "other", "nickname": "Dave"}])

    def test_join_notify(self):
        self.assertEqual(orjson.loads(jim_events.join_notify("g1", BOB_JSON)), {
            "code": 10011, "msg": "join group ok! 加入群组成功!", "command": 9, "group": "g1",
            "user": BOB_JSON})


class PropertyOfEveryKindTests(SynchronousTestCase):
    @given(st.sampled_from(sorted(EVENT_TYPES)), st.none() | st.text(min_size=1, max_size=8))
    def test_event_type_and_group(self, kind, alias):
        data = data_of(jim_events.frames(event_of(kind), alias))
        self.assertEqual(data["event_type"], EVENT_TYPES[kind])
        self.assertEqual(data["groupId"], alias or "100")
