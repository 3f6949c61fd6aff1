"""``/v1/messages`` over HTTP (reference 2.4, 4.1, 4.2): sending in an admin's name and
retracting, every refusal with its code, and that a refused send delivers and keeps nothing
(read back by the target's J-IM offline fetch)."""
import json

from twisted.trial.unittest import TestCase

from tests.support.jimclient import tcp_client
from tests.support.rest import Checks, start_rest, text_message

MEDIA = {"media_id": "qiniu/image/j/A.jpg", "media_crc32": 1, "width": 2, "height": 3,
         "format": "jpg", "fsize": 4}
FILE = {"media_id": "qiniu/file/j/B", "media_crc32": 5, "fsize": 6, "fname": "b.txt"}
GOOD_BODIES = [
    ("text", {"text": "hi", "extras": {"k": "v"}}),
    ("image", MEDIA),
    ("image", {**MEDIA, "hash": "h"}),
    ("voice", {"media_id": "qiniu/voice/j/C", "media_crc32": 7, "duration": 1.5, "fsize": 8}),
    ("file", FILE),
    ("location", {"latitude": 48.8, "longitude": 2.3, "scale": 1, "label": "Paris"}),
    ("location", {"latitude": 48.8, "longitude": 2.3, "scale": 1, "lable": "Paris"}),
    ("video", {"video": FILE, "duration": 3, "thumb": MEDIA}),
    ("custom", {}),
    ("custom", {"anything": [1, {"deep": None}]}),
]
BAD_BODIES = [
    ("text", {}), ("text", {"text": 5}), ("text", {"text": "x", "extras": []}),
    ("text", "hi"), ("text", None), ("image", {**MEDIA, "width": "2"}),
    ("image", {k: v for k, v in MEDIA.items() if k != "format"}),
    ("voice", {"media_id": "m", "media_crc32": 1, "fsize": 1}),
    ("file", {**FILE, "fname": None}), ("location", {"latitude": 1, "longitude": 2, "scale": 3}),
    ("video", {"video": {}, "duration": 1}), ("video", {"video": FILE, "duration": 1, "thumb": 5}),
    ("custom", []), ("chatroom", {"text": "x"}), ("sticker", {"text": "x"}), (None, {"text": "x"}),
]


async def _app(testcase, **limits):
    jim, rest = await start_rest(testcase, limits=limits)
    await rest.register("alice", "bobby", "carol")
    await rest.admin("admin1")
    return jim, rest


async def _offline(jim, username, field="content"):
    """What J-IM's offline fetch (cmd 19 type 0) gives a user: {peer or gid: [contents]} (or
    the messages' C{field}, "id" say, in place of their contents)."""
    client = await tcp_client(jim.port)
    await client.login(username)
    reply = await client.request(19, {"cmd": 19, "type": 0, "userId": username}, 20)
    await client.disconnect()
    found = {}
    for kind in ("friends", "groups"):
        for peer, messages in reply["data"][kind].items():
            found[peer] = [m[field] for m in messages]
    return found


class SendTests(TestCase, Checks):
    timeout = 60

    async def test_a_text_to_a_user(self):
        jim, rest = await _app(self)
        response = await rest.post("/v1/messages/", text_message("admin1", "alice", "first"))
        sent = self.assertJson(response, 201)
        self.assertEqual(sorted(sent), ["msg_ctime", "msg_id"])
        self.assertIsInstance(sent["msg_id"], int)
        self.assertGreater(sent["msg_ctime"], 1_500_000_000_000)  # epoch ms
        # what the clients send besides: names, flags, a notification, version as text
        extra = dict(target_name="Alice", from_name="Admin", no_notification=True,
                     notification={"title": "t", "alert": "a"}, target_appkey=rest.key,
                     no_offline=False, version="1")
        self.assertJson(await rest.post("/v1/messages", text_message("admin1", "alice",
                                                                     "second", **extra)), 201)
        self.assertEqual(await _offline(jim, "alice"), {"admin1": ["first", "second"]})

    async def test_every_message_type_the_protocol_defines(self):
        jim, rest = await _app(self)
        for msg_type, body in GOOD_BODIES:
            message = {**text_message("admin1", "alice"), "msg_type": msg_type,
                       "msg_body": body}
            self.assertJson(await rest.post("/v1/messages", message), 201)
        received = (await _offline(jim, "alice"))["admin1"]
        self.assertEqual(received[0], "hi")
        self.assertEqual(json.loads(received[1]), MEDIA)  # shown to J-IM as its JSON
        self.assertEqual(len(received), len(GOOD_BODIES))

    async def test_msg_body_up_to_4096_bytes(self):
        jim, rest = await _app(self)
        overhead = len(json.dumps({"text": ""}, separators=(",", ":")))
        fits = "x" * (4096 - overhead)
        self.assertJson(await rest.post("/v1/messages", text_message("admin1", "alice", fits)),
                        201)
        cjk = "字" * ((4096 - overhead) // 3 + 1)  # counted in UTF-8 bytes
        for text in (fits + "x", cjk):
            response = await rest.post("/v1/messages", text_message("admin1", "alice", text))
            self.assertError(response, 400, 899003)
        self.assertEqual(await _offline(jim, "alice"), {"admin1": [fits]})

    async def test_a_target_id_may_be_a_number(self):
        jim, rest = await _app(self)
        await rest.register("12345")
        gid = await rest.group("alice", ["bobby"])
        self.assertJson(await rest.post("/v1/messages", text_message("admin1", 12345, "n")), 201)
        self.assertJson(await rest.post("/v1/messages", text_message(
            "admin1", str(gid), "g", target_type="group")), 201)
        self.assertEqual(await _offline(jim, "12345"), {"admin1": ["n"]})
        self.assertEqual(await _offline(jim, "bobby"), {str(gid): ["g"]})

    async def test_no_offline_keeps_nothing_for_an_offline_target(self):
        jim, rest = await _app(self)
        self.assertJson(await rest.post("/v1/messages", text_message(
            "admin1", "alice", "gone", no_offline=True)), 201)
        self.assertEqual(await _offline(jim, "alice"), {})

    async def test_a_group_message_from_an_admin_who_is_not_a_member(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        self.assertJson(await rest.post("/v1/messages", text_message(
            "admin1", gid, "to all", target_type="group")), 201)
        for name in ("alice", "bobby"):
            self.assertEqual(await _offline(jim, name), {str(gid): ["to all"]})
        self.assertEqual(await _offline(jim, "carol"), {})

    async def test_refused_sends_deliver_and_keep_nothing(self):
        jim, rest = await _app(self)
        gid = await rest.group("alice", ["bobby"])
        base = text_message("admin1", "alice", "never")
        cases = [
            ({**base, "from_id": "bobby"}, 403, 899016),
            ({**base, "from_id": "ghost"}, 403, 899002),
            ({**base, "target_id": "ghost"}, 403, 899002),
            ({**base, "target_type": "group", "target_id": 99999999}, 403, 899006),
            ({**base, "target_appkey": "X" * 24}, 403, 899020),  # no app allowing this one
            ({**base, "target_type": "group", "target_id": gid, "target_appkey": "X" * 24},
             403, 899020),  # another app's group: only of an app allowing this one
            ({**base, "from_type": "user"}, 400, 899003),
            ({**base, "target_type": "chatroom", "target_id": "10000001"}, 403, 899081),
            ({**base, "target_type": "chatroom", "target_id": "lobby"}, 400, 899003),
            ({**base, "target_type": "everyone"}, 400, 899003),
            ({**base, "target_type": "group", "target_id": "abc"}, 400, 899003),
            ({**base, "target_id": ""}, 400, 899003), ({**base, "target_id": None}, 400, 899003),
            ({**base, "target_id": True}, 400, 899003),  # a number names a user; a bool none
            ({**base, "version": 2}, 400, 899003), ({**base, "version": True}, 400, 899003),
            ({k: v for k, v in base.items() if k != "version"}, 400, 899003),
            ({k: v for k, v in base.items() if k != "msg_body"}, 400, 899003),
            ({k: v for k, v in base.items() if k != "from_type"}, 400, 899003),
            ({**base, "no_offline": "yes"}, 400, 899003),
            ({**base, "no_notification": 1}, 400, 899003),
            ([base], 400, 899003), (None, 400, 899003),
        ]
        cases += [({**base, "msg_type": t, "msg_body": b}, 400, 899003) for t, b in BAD_BODIES]
        for body, status, code in cases:
            self.assertError(await rest.post("/v1/messages", body), status, code)
        # a body over the route's 16 KiB
        padded = {**base, "target_name": "n" * 17000}
        self.assertError(await rest.post("/v1/messages", padded), 413, 899003)
        # a user (not an admin) is refused in a group too, and so is a silenced admin member
        body = {**base, "from_id": "alice", "target_type": "group", "target_id": gid}
        self.assertError(await rest.post("/v1/messages", body), 403, 899016)
        self.assertEmpty(await rest.post(f"/v1/groups/{gid}/members", {"add": ["admin1"]}))
        self.assertEmpty(await rest.put(f"/v1/groups/messages/{gid}/silence?status=1",
                                        ["admin1"]))
        body = {**base, "target_type": "group", "target_id": gid}
        self.assertError(await rest.post("/v1/messages", body), 403, 803012)
        # a forbidden admin sends nothing
        self.assertEmpty(await rest.put("/v1/users/admin1/forbidden?disable=1"))
        self.assertError(await rest.post("/v1/messages", base), 403, 801006)
        for name in ("alice", "bobby"):
            self.assertEqual(await _offline(jim, name), {}, name)


class RetractTests(TestCase, Checks):
    timeout = 60

    async def test_retract_with_and_without_pythons_body(self):
        jim, rest = await _app(self)
        first = await rest.send("admin1", "alice", "one")
        second = await rest.send("admin1", "alice", "two")
        kept = await rest.send("admin1", "alice", "three")
        path = "/v1/messages/admin1/{}/retract"
        self.assertEmpty(await rest.post(path.format(first["msg_id"]),
                                         {"username": "admin1", "msgid": first["msg_id"]}))
        self.assertEmpty(await rest.post(path.format(second["msg_id"]) + "/"))
        self.assertEqual(await _offline(jim, "alice", "id"), {"admin1": [str(kept["msg_id"])]})

    async def test_retract_refusals(self):
        jim, rest = await _app(self)
        await rest.admin("admin2")
        sent = await rest.send("admin1", "alice", "one")
        msgid = sent["msg_id"]
        cases = [(f"/v1/messages/admin2/{msgid}/retract", 403, 855002),
                 (f"/v1/messages/alice/{msgid}/retract", 403, 855002),
                 (f"/v1/messages/admin1/{msgid + 1000}/retract", 403, 855003),
                 ("/v1/messages/admin1/abc/retract", 400, 899003),
                 ("/v1/messages/admin1/0/retract", 400, 899003)]
        for path, status, code in cases:
            self.assertError(await rest.post(path), status, code)
        self.assertEmpty(await rest.post(f"/v1/messages/admin1/{msgid}/retract"))
        self.assertError(await rest.post(f"/v1/messages/admin1/{msgid}/retract"), 403, 855004)
        self.assertEqual(await _offline(jim, "alice"), {})

    async def test_too_late_to_retract_changes_nothing(self):
        jim, rest = await _app(self, retract_window=-1.0)  # every message is past its window
        sent = await rest.send("admin1", "alice", "kept")
        response = await rest.post(f"/v1/messages/admin1/{sent['msg_id']}/retract")
        self.assertError(response, 403, 855001)
        self.assertEqual(await _offline(jim, "alice"), {"admin1": ["kept"]})
