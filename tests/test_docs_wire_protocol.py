"""docs/wire-protocol.md agrees with the code: status texts, example messages and byte dumps.

The document's conventions, which these tests rely on:

- the status table has rows ``| 10000 | `ok 发送成功` | ... |``;
- a fenced block tagged ``json`` holds one JSON message per line: a request has ``cmd``, a
  server message has ``command`` (an HTTP API reply has ``code`` or ``error`` instead);
- requests in ``json`` blocks must be accepted by jim's parser for their command, requests in
  ``json refused`` blocks must be rejected by it;
- a fenced block tagged ``hex`` is one TCP frame as hex bytes.

Besides, the command table's "not served" row and the login gate's list of commands must match
``jim.protocols.jim_commands.HANDLERS``, every ``(#anchor)`` link must lead to a heading, and
every event (cmd 100) example must be what ``jim.wire.jim_events`` makes of the event it shows.
"""
import base64
import datetime
import io
import os
import re

import orjson
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.test.requesthelper import DummyRequest

from jim import model
from jim.core.web_sdk import parse_config
from jim.errors import JimError
from jim.model import GROUP, SINGLE, Event, Group, Message, User, UserCard
from jim.protocols import jim_commands as commands
from jim.web import jim_api
from jim.wire import (framing, jim_body_chat, jim_events, jim_messages, jimjson,
                      jmessage_shapes, retract_request, sdk_requests, status, sync_reply)

from tests.support.fakes import make_core

DOC = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "wire-protocol.md"
)

_FENCE = re.compile(r"^ *```(?P<info>[^\n`]*)\n(?P<body>.*?)^ *```$", re.M | re.S)
_STATUS_ROW = re.compile(r"^\| (\d{5}) \| `([^`]*)` \|", re.M)


def _read_doc():
    with open(DOC, encoding="utf-8") as f:
        return f.read()


def _blocks(text, info):
    return [m.group("body") for m in _FENCE.finditer(text) if m.group("info").strip() == info]


def _lines(blocks):
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


#: the fields jim puts beside code/msg/command/data (J-IM's RespBody subclasses, and detail)
_TOP_LEVEL = {"detail", "user", "token", "maxBody", "group", "result"}


def _token(obj):
    return jimjson.text(obj, "token", limit=jimjson.MAX_TOKEN_BYTES)


#: request command -> the parser jim runs on its body (None: the body is not read)
PARSERS = {
    status.HANDSHAKE_REQ: None,
    status.AUTH_REQ: _token,
    status.LOGIN_REQ: jimjson.login_request,
    status.JOIN_GROUP_REQ: jimjson.join_request,
    status.CHAT_REQ: lambda obj: (jim_body_chat.body_chat_draft(obj) if "msgBody" in obj
                                  else jimjson.chat_draft(obj)),
    status.HEARTBEAT: None,
    status.CLOSE: jimjson.close_request,
    status.GET_USER_REQ: jimjson.user_request,
    status.GET_MESSAGE_REQ: jimjson.message_request,
    status.SYNC_REQ: sync_reply.sync_request,
    status.ACK_REQ: sync_reply.ack_request,
    status.ENTER_ROOM_REQ: jimjson.room_id,
    status.LEAVE_ROOM_REQ: jimjson.room_id,
    status.CONFIG_REQ: parse_config,
    status.GROUPS_REQ: lambda obj: (sdk_requests.seq(obj), sdk_requests.group_request(obj)),
    status.PROFILE_REQ: lambda obj: (sdk_requests.seq(obj), sdk_requests.profile_request(obj)),
    status.RETRACT_REQ: lambda obj: (sdk_requests.seq(obj), retract_request.message_id(obj)),
}


def _items(obj):
    """Key/value pairs in order, so that key order is compared too."""
    return list(orjson.loads(orjson.dumps(obj)).items())


def _chat_body(d):
    """The ChatBody jim would produce for the message an example ChatBody describes."""
    group = d["chatType"] == jimjson.CHAT_GROUP
    msg_type, body = jim_messages.to_neutral(d["msgType"], d["content"])
    alias = None
    target = d.get("to")
    target_type = SINGLE
    if group:
        gid, alias = jimjson.group_ref(d["groupId"])
        target, target_type = str(gid if alias is None else 10_000_000), GROUP
    elif d["chatType"] == jimjson.CHAT_ROOM:
        target, target_type = str(d["roomId"]), model.CHATROOM
    message = Message(
        int(d["id"]),
        "app",
        d["from"],
        target_type,
        target,
        msg_type,
        body,
        orjson.dumps(d["extras"]).decode() if "extras" in d else None,
        d.get("clientId"),
        d["createTime"],
    )
    return jimjson.chat_body(message, alias)


def _user(d):
    """The User JSON jim would produce for the user an example describes."""
    user = User("app", d["userId"], "", nickname=d["nick"], avatar=d["avatar"],
                signature=d.get("sign", ""))
    return jimjson.user_json(user, d["status"] == "online", d.get("terminal"))


class StatusTableTests(SynchronousTestCase):
    def test_table_is_every_code_with_its_exact_text(self):
        rows = _STATUS_ROW.findall(_read_doc())
        documented = {int(code): msg for code, msg in rows}
        self.assertEqual(len(rows), len(documented), "a code is listed twice")
        self.assertEqual(documented, status.MESSAGES)


def _slug(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


class LinkTests(SynchronousTestCase):
    def test_every_internal_link_has_its_anchor(self):
        text = _FENCE.sub("", _read_doc())
        anchors = {_slug(h) for h in re.findall(r"^#+ (.*)$", text, re.M)}
        anchors |= set(re.findall(r'<a id="([^"]+)">', text))
        links = set(re.findall(r"\]\(#([^)]+)\)", text))
        self.assertGreater(len(links), 10)
        self.assertEqual(links - anchors, set())


class CommandListTests(SynchronousTestCase):
    def test_not_served_row_is_the_complement_of_the_handlers(self):
        row = re.search(r"^\| ([0-9, ]+), 21\.\.255 \| not served", _read_doc(), re.M)
        self.assertIsNotNone(row)
        listed = {int(n) for n in row.group(1).split(",")}
        self.assertEqual(listed, set(range(21)) - set(commands.HANDLERS))

    def test_login_gate_lists_the_commands_served_before_login(self):
        found = re.search(r"only these commands are served:(.*?)\.\s", _read_doc(), re.S)
        self.assertIsNotNone(found)
        listed = {int(n) for n in re.findall(r"\b(\d+)\s+\(", found.group(1))}
        open_commands = {h.command for h in commands.HANDLERS.values() if not h.needs_login}
        self.assertEqual(listed, open_commands)


class ExampleMessageTests(SynchronousTestCase):
    def setUp(self):
        text = _read_doc()
        self.accepted = _lines(_blocks(text, "json"))
        self.refused = _lines(_blocks(text, "json refused"))

    def test_there_are_examples(self):
        self.assertGreater(len(self.accepted), 60)
        self.assertGreater(len(self.refused), 5)

    def test_every_line_is_one_json_object(self):
        for line in self.accepted + self.refused:
            with self.subTest(line=line):
                self.assertIs(type(orjson.loads(line)), dict)

    def test_server_messages_are_encoded_exactly_as_jim_encodes_them(self):
        checked = 0
        for line in self.accepted:
            obj = orjson.loads(line)
            if "command" not in obj:
                continue
            extra = {k: v for k, v in obj.items() if k not in ("code", "msg", "command", "data")}
            self.assertLessEqual(set(extra), _TOP_LEVEL, line)
            rebuilt = jimjson.reply(obj["command"], obj.get("code"), obj.get("data"), **extra)
            self.assertEqual(rebuilt.decode(), line)
            checked += 1
        self.assertGreater(checked, 40)

    def test_http_api_replies_carry_the_exact_status_text(self):
        checked = 0
        for line in self.accepted:
            obj = orjson.loads(line)
            if "command" in obj or "code" not in obj:
                continue
            self.assertEqual(obj["msg"], status.message(obj["code"]), line)
            self.assertEqual(orjson.dumps(obj).decode(), line)
            checked += 1
        self.assertGreaterEqual(checked, 4)

    def test_http_api_auth_errors_are_what_the_api_answers(self):
        """Each JMessage error body shown for J-IM's HTTP API is what its endpoints answer to
        the request the document describes: no credentials, a wrong secret, an unknown app
        key (answered as a wrong secret is), another site's page."""
        documented = {line for line in self.accepted if '"error"' in line}
        self.assertEqual(len(documented), 3)
        fx = make_core()
        requests = {
            "no credentials": (None, None, 401),
            "a wrong secret": (fx.app_key, "not the secret", 401),
            "an unknown app key": ("N" * 24, fx.app_secret, 401),
            "another site's page": (fx.app_key, fx.app_secret, 403),
        }
        for endpoint in (jim_api.SendMessage, jim_api.UserOnline, jim_api.UserClose):
            answered = set()
            for case, (key, secret, http_status) in requests.items():
                request = DummyRequest([b"api"])
                request.method = b"POST"
                request.args = {b"userid": [b"alice"]}
                request.content = io.BytesIO(b'{"from":"alice","chatType":2,"to":"bob",'
                                             b'"content":"hi"}')
                if key is not None:
                    token = base64.b64encode(f"{key}:{secret}".encode())
                    request.requestHeaders.addRawHeader(b"authorization", b"Basic " + token)
                if http_status == 403:
                    request.requestHeaders.addRawHeader(b"sec-fetch-site", b"cross-site")
                endpoint(fx.core).render(request)
                where = f"{endpoint.__name__}, {case}"
                self.assertTrue(request.finished, where)
                self.assertEqual(request.responseCode, http_status, where)
                challenge = request.responseHeaders.getRawHeaders(b"www-authenticate")
                self.assertEqual(challenge, [b'Basic realm="jim"'] if http_status == 401
                                 else None, where)
                answered.add(b"".join(request.written).decode())
            self.assertEqual(answered, documented, endpoint.__name__)

    def test_pushed_and_listed_chat_bodies_are_what_jim_sends(self):
        bodies = []
        for line in self.accepted:
            obj = orjson.loads(line)
            if obj.get("command") == status.CHAT_REQ:
                bodies.append(obj["data"])
            elif obj.get("command") == status.GET_MESSAGE_RESP and "data" in obj:
                for conversations in (obj["data"]["friends"], obj["data"]["groups"]):
                    for messages in conversations.values():
                        bodies.extend(messages)
        self.assertGreater(len(bodies), 6)
        for body in bodies:
            self.assertEqual(_items(body), _items(_chat_body(body)))

    def test_users_and_groups_are_what_jim_sends(self):
        users = groups = 0
        for line in self.accepted:
            obj = orjson.loads(line)
            found = []
            if "user" in obj:
                found.append(obj["user"])
            data = obj.get("data")
            if isinstance(data, dict) and "user" in data \
                    and obj.get("command") != status.PROFILE_RESP:  # J-IM's user, not REST's
                found.append(data["user"])
            if obj.get("command") == status.GET_USER_RESP and data is not None:
                own = {k: v for k, v in data.items() if k not in ("groups", "friends")}
                found.append(own)
                if "groups" in data:
                    self.assertEqual(list(data)[-2:], ["groups", "friends"])
                    self.assertEqual(data["friends"], [])
                for g in data.get("groups", ()):
                    found.extend(g["users"])
                    gid, alias = jimjson.group_ref(g["groupId"])
                    rebuilt = jimjson.group_json(
                        Group("app", gid if alias is None else 10_000_000, g["name"],
                              avatar=g["avatar"], alias=alias),
                        g["users"],
                        g["online"],
                    )
                    self.assertEqual(_items(g), _items(rebuilt))
                    groups += 1
            for user in found:
                self.assertEqual(_items(user), _items(_user(user)), line)
                users += 1
        self.assertGreater(users, 10)
        self.assertGreater(groups, 2)

    def test_documented_requests_are_accepted(self):
        for line in self.accepted:
            obj = orjson.loads(line)
            if "cmd" not in obj or "command" in obj:
                continue
            cmd = jimjson.integer(obj, "cmd")
            if cmd not in PARSERS:
                self.assertNotIn(cmd, commands.HANDLERS, line)  # shown as an unknown command
                continue
            parser = PARSERS[cmd]
            if parser is not None:
                try:
                    parser(obj)
                except JimError as e:
                    self.fail(f"{line} refused: {e.detail}")

    def test_documented_refusals_are_refused(self):
        for line in self.refused:
            obj = orjson.loads(line)
            parser = PARSERS[jimjson.integer(obj, "cmd")]
            self.assertIsNotNone(parser, line)
            self.assertRaises(JimError, parser, obj)


def _clock_ms(text):
    """Epoch ms of a JMessage time (``yyyy-MM-dd HH:mm:ss``, UTC)."""
    moment = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    return int(moment.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def _rest_group(d):
    """The REST group object jim would answer for the group an example describes."""
    return jmessage_shapes.group(Group(
        d["appkey"], d["gid"], d["name"], d["desc"], d["avatar"], d["owner_username"],
        d["flag"], d["MaxMemberCount"], _clock_ms(d["ctime"]), _clock_ms(d["mtime"])))


def _rest_user(d):
    """The REST user object jim would answer for the user an example describes."""
    user = User("app", d["username"], "", nickname=d.get("nickname", ""),
                gender=d.get("gender", 0),
                extras=orjson.dumps(d["extras"]).decode() if "extras" in d else None,
                ctime=_clock_ms(d["ctime"]), mtime=_clock_ms(d["mtime"]))
    return jmessage_shapes.user(user)


class SdkReplyTests(SynchronousTestCase):
    """The replies of cmd 111 and 113 carry the REST API's objects, as jim shapes them, after
    the request's op and seq."""

    def test_group_and_user_objects_are_what_jim_sends(self):
        groups = users = members = 0
        for line in _lines(_blocks(_read_doc(), "json")):
            obj = orjson.loads(line)
            if obj.get("command") not in (status.GROUPS_RESP, status.PROFILE_RESP):
                continue
            data = obj["data"]
            head = ["code", "op", "seq"] if obj["code"] == status.INVALID else ["op", "seq"]
            self.assertEqual([k for k in data if k in ("code", "op", "seq")],
                             [k for k in head if k in data], line)
            listed = [data["group"]] if "group" in data else []
            for entry in data.get("groups", ()):
                entry = dict(entry)
                self.assertIs(type(entry.pop("member_usernames")), list)
                listed.append(entry)
            for group in listed:
                self.assertEqual(_items(group), _items(_rest_group(group)), line)
                groups += 1
            if "user" in data:
                self.assertEqual(_items(data["user"]), _items(_rest_user(data["user"])), line)
                users += 1
            for member in data.get("members", ()):
                flag = {v: k for k, v in jmessage_shapes.MEMBER_FLAGS.items()}[member["flag"]]
                user = User("app", member["username"], "", nickname=member.get("nickname", ""))
                rebuilt = jmessage_shapes.member(model.Member(member["username"], flag), user)
                self.assertEqual(_items(member), _items(rebuilt), line)
                members += 1
        self.assertEqual((groups, users, members), (4, 1, 3))


#: event_type -> the event kinds it may stand for (9 is a member leaving or a dissolve)
_KINDS = {}
for _kind, _number in jim_events.EVENT_TYPES.items():
    _KINDS.setdefault(_number, []).append(_kind)


def _event(d):
    """The Event an example event object describes."""
    users = tuple(UserCard(u["username"], u["nickname"]) for u in d["to_usernames"])
    extra = d.get("extra")
    flag = None
    if d["kind"] == model.MEMBER_SILENCED or d["kind"] in (model.BLACKLIST_CHANGED,
                                                           model.NODISTURB_CHANGED):
        flag = None if extra is None else extra == 1
    target_type = target = None
    if d["kind"] == model.MESSAGE_RETRACTED:
        target_type = GROUP if d["type"] == 1 else SINGLE
        target = str(d["from_gid"]) if d["type"] == 1 else d["target"]
    return Event(d["kind"], d["from_appkey"], d["event_id"], d["from_username"], d.get("gid"),
                 users, d["ctime_ms"], d.get("group_name", ""), d.get("new_owner", ""),
                 tuple(d.get("msgid_list", ())), flag, target_type, target,
                 d.get("description", ""))


class EventExampleTests(SynchronousTestCase):
    def test_event_examples_are_what_jim_sends(self):
        checked = set()
        for line in _lines(_blocks(_read_doc(), "json")):
            obj = orjson.loads(line)
            if obj.get("command") != status.EVENT:
                continue
            data = obj["data"]
            self.assertIn(data["kind"], _KINDS[data["event_type"]], line)
            alias = None
            if "groupId" in data:
                alias = jimjson.group_ref(data["groupId"])[1]
            frames = dict(jim_events.frames(_event(data), alias))
            self.assertEqual(frames[status.EVENT].decode(), line)
            checked.add(data["kind"])
        self.assertGreaterEqual(len(checked), 10)


class ByteDumpTests(SynchronousTestCase):
    def setUp(self):
        text = _read_doc()
        self.frames = [bytes.fromhex(block) for block in _blocks(text, "hex")]
        self.json_lines = set(_lines(_blocks(text, "json")))

    def test_dumps_are_whole_frames(self):
        self.assertEqual(len(self.frames), 4)
        for raw in self.frames:
            decoder = framing.FrameDecoder()
            frames = decoder.feed(raw)
            self.assertEqual(len(frames), 1)
            self.assertEqual(decoder.buffered, 0)

    def test_server_frames_are_encoded_as_jim_encodes_them(self):
        replies = 0
        for raw in self.frames:
            [(cmd, seq, body)] = framing.FrameDecoder().feed(raw)
            if body == b"\x80":
                self.assertEqual(cmd, status.HEARTBEAT)  # the Java client's heartbeat
                continue
            obj = orjson.loads(body)
            if "command" not in obj:
                self.assertEqual(obj["cmd"], cmd)
                self.assertIsInstance(jimjson.login_request(obj), jimjson.LoginRequest)
                continue
            self.assertEqual(obj["command"], cmd)
            self.assertEqual(framing.encode(cmd, body), raw)
            self.assertIn(body.decode(), self.json_lines)
            replies += 1
        self.assertEqual(replies, 2)

    def test_heartbeat_reply_is_jims(self):
        heartbeat = [raw for raw in self.frames if raw[2] == status.HEARTBEAT and len(raw) > 8]
        expected = framing.encode(status.HEARTBEAT, jimjson.reply(13, data={"hbbyte": -128}))
        self.assertEqual(heartbeat, [expected])
