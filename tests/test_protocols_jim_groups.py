"""jim's commands for JMessage's Web SDK, cmd 111 (a user's own group calls) and cmd 113 (a
profile), through sessions and recording clients: their parsers (any JSON object is read or
refused with jim's error, nothing else), the ``seq`` echo, the refusal's ``data.code``, the
login gate, and replies shaped as the REST API's objects."""
import orjson
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.config import Limits
from jim.errors import JimError
from jim.wire import jmessage_shapes, sdk_requests
from jim.wire.sdk_requests import GroupRequest, group_request, profile_request
from tests.support.fakes import APP_KEY, make_core, send
from tests.test_wire_jimjson import TRICKY, json_values

GROUP_FIELDS = ["cmd", "op", "seq", "gid", "name", "desc", "usernames", "username"]
json_objects = st.dictionaries(
    st.sampled_from(GROUP_FIELDS) | st.text(max_size=6),
    json_values | st.sampled_from(sdk_requests.OPS) | st.lists(st.text(max_size=4), max_size=4),
    max_size=7,
)
NAMES = ("alice", "bobby", "carol", "dave1")
FIRST_GID = 10_000_000


def refused(test, parser, obj, code=errors.BAD_REQUEST):
    error = test.assertRaises(JimError, parser, obj)
    test.assertEqual(error.code, code, error.detail)
    return error.detail


class GroupRequestTests(SynchronousTestCase):
    def test_each_op(self):
        cases = [
            ({"op": "create", "name": "team"}, GroupRequest("create", name="team")),
            ({"op": "create", "name": "team", "desc": "d", "usernames": ["bobby", "carol"]},
             GroupRequest("create", name="team", desc="d", usernames=("bobby", "carol"))),
            ({"op": "create", "name": "team", "usernames": []}, GroupRequest("create",
                                                                             name="team")),
            ({"op": "info", "gid": 10000001}, GroupRequest("info", 10000001)),
            ({"op": "info", "gid": "10000001"}, GroupRequest("info", 10000001)),
            ({"op": "update", "gid": 5, "name": "n"}, GroupRequest("update", 5, name="n")),
            ({"op": "update", "gid": 5, "desc": ""}, GroupRequest("update", 5, desc="")),
            ({"op": "add", "gid": 5, "usernames": ["bobby"]},
             GroupRequest("add", 5, usernames=("bobby",))),
            ({"op": "remove", "gid": 5, "usernames": ["bobby"]},
             GroupRequest("remove", 5, usernames=("bobby",))),
            ({"op": "exit", "gid": 5, "name": "ignored"}, GroupRequest("exit", 5)),
            ({"op": "list", "gid": "not read"}, GroupRequest("list")),
        ]
        for obj, expected in cases:
            with self.subTest(obj=obj):
                self.assertEqual(group_request(obj), expected)

    def test_refusals_name_the_field(self):
        cases = [
            ({}, "op is required"),
            ({"op": "delete"}, "op must be one of"),
            ({"op": 1}, "op must be one of"),
            ({"op": ["list"]}, "op must be one of"),
            ({"op": "create"}, "name is required"),
            ({"op": "create", "name": 5}, "name must be a string"),
            ({"op": "create", "name": "t", "desc": []}, "desc must be a string"),
            ({"op": "create", "name": "t", "usernames": "bobby"}, "usernames must be an array"),
            ({"op": "create", "name": "t", "usernames": [1]}, "each of usernames"),
            ({"op": "create", "name": "t", "usernames": [""]}, "each of usernames"),
            ({"op": "create", "name": "t", "usernames": ["x" * 129]}, "each of usernames"),
            ({"op": "info"}, "gid is required"),
            ({"op": "info", "gid": 0}, "gid must be a positive integer"),
            ({"op": "info", "gid": -4}, "gid must be a positive integer"),
            ({"op": "info", "gid": 2**63}, "gid must be a positive integer"),
            ({"op": "info", "gid": 1.5}, "gid must be a positive integer"),
            ({"op": "info", "gid": True}, "gid must be a positive integer"),
            ({"op": "info", "gid": "12a"}, "gid must be a positive integer"),
            ({"op": "info", "gid": "²"}, "gid must be a positive integer"),
            ({"op": "update", "gid": 5}, "update takes name, desc or both"),
            ({"op": "update", "gid": 5, "name": None, "desc": None}, "update takes"),
            ({"op": "add", "gid": 5}, "at least one user"),
            ({"op": "add", "gid": 5, "usernames": []}, "at least one user"),
            ({"op": "remove", "gid": 5, "usernames": {"bobby": 1}}, "must be an array"),
        ]
        for obj, detail in cases:
            with self.subTest(obj=obj):
                self.assertIn(detail, refused(self, group_request, obj))

    def test_lists_are_limited_as_rest_batches_are(self):
        names = [f"user{i}" for i in range(sdk_requests.MAX_USERNAMES)]
        self.assertEqual(len(group_request({"op": "add", "gid": 5,
                                            "usernames": names}).usernames), 500)
        refused(self, group_request, {"op": "add", "gid": 5, "usernames": names + ["one"]},
                errors.TOO_MANY)

    @given(json_objects)
    def test_any_object_is_read_or_refused_as_jims_error(self, obj):
        obj = orjson.loads(orjson.dumps(obj))
        for parser in (group_request, profile_request, sdk_requests.seq):
            try:
                parser(obj)
            except JimError as e:
                self.assertIn(e.code, (errors.BAD_REQUEST, errors.TOO_MANY))
        op = sdk_requests.echoed_op(obj)
        self.assertTrue(op is None or type(op) is str)

    @given(st.sampled_from(sdk_requests.OPS), st.sampled_from(["gid", "name", "desc",
                                                                "usernames"]),
           st.sampled_from(TRICKY) | json_values)
    def test_any_field_value_is_read_or_refused(self, op, field, value):
        obj = {"op": op, "gid": 5, "name": "n", "usernames": ["bobby"], field: value}
        try:
            group_request(obj)
        except JimError as e:
            self.assertEqual(e.code, errors.BAD_REQUEST)


class SeqAndProfileRequestTests(SynchronousTestCase):
    def test_seq(self):
        self.assertIsNone(sdk_requests.seq({}))
        self.assertIsNone(sdk_requests.seq({"seq": None}))
        for good in (0, 7, 2**53 - 1):
            self.assertEqual(sdk_requests.seq({"seq": good}), good)
        for bad in (-1, 2**53, "7", 7.0, True, [7]):
            with self.subTest(seq=bad):
                refused(self, sdk_requests.seq, {"seq": bad})

    def test_echoed_op(self):
        self.assertEqual(sdk_requests.echoed_op({"op": "add"}), "add")
        for unusable in ({}, {"op": 3}, {"op": ""}, {"op": "x" * 17}, {"op": "a\nb"}):
            self.assertIsNone(sdk_requests.echoed_op(unusable))

    def test_profile_request(self):
        self.assertEqual(profile_request({"username": "bobby"}), "bobby")
        self.assertIn("username is required", refused(self, profile_request, {}))
        for bad in ("", 5, ["bobby"], "x" * 129):
            refused(self, profile_request, {"username": bad})


class CommandCase(SynchronousTestCase):
    limits = Limits()

    def setUp(self):
        self.fx = make_core(users=NAMES, limits=self.limits)
        self.alice, self.alice_client = self.fx.login("alice")
        self.bobby, self.bobby_client = self.fx.login("bobby")

    def call(self, session, client, cmd, obj):
        """The replies (cmd 112 or 114) to one request; the events it made are left out."""
        send(session, cmd, {"cmd": cmd, **obj})
        return [body for command, body in client.take() if command == cmd + 1]

    def group_call(self, obj, who="alice"):
        session, client = ((self.alice, self.alice_client) if who == "alice"
                           else (self.bobby, self.bobby_client))
        [reply] = self.call(session, client, 111, obj)
        return reply


class GroupCommandTests(CommandCase):
    def test_create_answers_the_rest_group_object_and_echoes_seq(self):
        reply = self.group_call({"op": "create", "name": "team", "desc": "ours",
                                 "usernames": ["bobby"], "seq": 41})
        self.assertEqual((reply["code"], reply["command"]), (10000, 112))
        data = reply["data"]
        self.assertEqual(list(data), ["op", "seq", "group"])
        self.assertEqual((data["op"], data["seq"]), ("create", 41))
        group = self.fx.core.groups.cached_group(APP_KEY, data["group"]["gid"])
        self.assertEqual(data["group"], jmessage_shapes.group(group))
        self.assertEqual((group.name, group.desc, group.owner), ("team", "ours", "alice"))

    def test_no_seq_no_echo(self):
        reply = self.group_call({"op": "list"})
        self.assertEqual(reply["data"], {"op": "list", "groups": []})

    def test_refusal_carries_the_jmessage_code_op_and_seq(self):
        reply = self.group_call({"op": "info", "gid": FIRST_GID + 99, "seq": 3})
        self.assertEqual(reply, {"code": 10020, "msg": "Invalid verification! 不合法校验",
                                 "command": 112,
                                 "data": {"code": 899006, "op": "info", "seq": 3},
                                 "detail": f"no group {FIRST_GID + 99}"})
        self.assertEqual(self.alice_client.closes, [])

    def test_bad_requests(self):
        cases = [
            ({"op": "info", "gid": "x", "seq": 1}, {"code": 899003, "op": "info", "seq": 1}),
            ({"op": "nope", "seq": 2}, {"code": 899003, "op": "nope", "seq": 2}),
            ({"op": "list", "seq": -1}, {"code": 899003, "op": "list"}),
            ({"op": 5}, {"code": 899003}),
            ({"op": "add", "gid": 5, "usernames": ["a"] * 501}, {"code": 899013, "op": "add"}),
            ({"op": "create", "name": "", "seq": 4}, {"code": 899003, "op": "create", "seq": 4}),
            ({"op": "create", "name": "n" * 65}, {"code": 899003, "op": "create"}),
            ({"op": "create", "name": "t", "usernames": ["ghost"]},
             {"code": 899002, "op": "create"}),
        ]
        for obj, data in cases:
            with self.subTest(obj=obj):
                reply = self.group_call(obj)
                self.assertEqual((reply["code"], reply["data"]), (10020, data), reply)
                self.assertIsInstance(reply["detail"], str)
        self.assertEqual(self.group_call({"op": "list"})["data"]["groups"], [],
                         "nothing was created")
        self.assertEqual(self.fx.metrics.bad_input, len(cases))

    def test_a_members_calls(self):
        gid = self.group_call({"op": "create", "name": "team",
                               "usernames": ["bobby"]})["data"]["group"]["gid"]
        info = self.group_call({"op": "info", "gid": gid}, "bobby")["data"]
        self.assertEqual(info["members"], [{"username": "alice", "flag": 1},
                                           {"username": "bobby", "flag": 0}])
        added = self.group_call({"op": "add", "gid": str(gid), "usernames": ["carol"]}, "bobby")
        self.assertEqual(added["data"], {"op": "add", "gid": gid})
        refusal = self.group_call({"op": "remove", "gid": gid, "usernames": ["carol"]}, "bobby")
        self.assertEqual(refusal["data"]["code"], 899016)
        refusal = self.group_call({"op": "update", "gid": gid, "name": "mine"}, "bobby")
        self.assertEqual(refusal["data"]["code"], 899016)
        updated = self.group_call({"op": "update", "gid": gid, "desc": "ours"})["data"]
        self.assertEqual((updated["group"]["name"], updated["group"]["desc"]), ("team", "ours"))
        listed = self.group_call({"op": "list"}, "bobby")["data"]["groups"]
        self.assertEqual([(g["gid"], g["member_usernames"]) for g in listed],
                         [(gid, ["alice", "bobby", "carol"])])
        self.assertEqual(self.group_call({"op": "exit", "gid": gid}, "bobby")["data"],
                         {"op": "exit", "gid": gid})
        self.assertEqual(self.group_call({"op": "list"}, "bobby")["data"]["groups"], [])
        removed = self.group_call({"op": "remove", "gid": gid, "usernames": ["carol"]})
        self.assertEqual(removed["data"], {"op": "remove", "gid": gid})

    def test_unexpected_failure_is_answered_with_seq_and_logged(self):
        def broken(*args, **kwargs):
            raise RuntimeError("boom")

        self.patch(self.fx.core.groups, "user_groups", broken)
        reply = self.group_call({"op": "list", "seq": 9})
        self.assertEqual((reply["code"], reply["data"], reply["detail"]),
                         (10020, {"code": 899000, "op": "list", "seq": 9}, "internal error"))
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    @given(json_objects)
    def test_any_request_gets_one_reply_and_the_connection_stays(self, obj):
        obj = orjson.loads(orjson.dumps(obj))
        for cmd in (111, 113):
            replies = self.call(self.bobby, self.bobby_client, cmd, dict(obj, cmd=cmd))
            self.assertEqual(len(replies), 1, replies)
            self.assertIn(replies[0]["code"], (10000, 10020), replies)
            if replies[0]["code"] == 10020:
                self.assertIn(replies[0]["data"]["code"], (899002, 899003, 899006, 899011,
                                                           899012, 899013, 899014, 899015,
                                                           899016))
        self.assertEqual(self.bobby_client.closes, [])


class LoginGateTests(SynchronousTestCase):
    def test_refused_before_the_login(self):
        fx = make_core(users=NAMES)
        session, client = fx.connect()
        for cmd in (111, 113):
            send(session, cmd, {"cmd": cmd, "op": "list", "username": "alice", "seq": 1})
            self.assertEqual(client.take(), [(cmd + 1, {
                "code": 10020, "msg": "Invalid verification! 不合法校验", "command": cmd + 1,
                "detail": "log in first (cmd 5)"})])
        self.assertEqual(client.closes, [])


class ProfileCommandTests(CommandCase):
    def test_a_user_of_the_app(self):
        for name in ("bobby", "alice"):
            [reply] = self.call(self.alice, self.alice_client, 113, {"username": name, "seq": 2})
            self.assertEqual(reply["code"], 10000)
            user = self.fx.core.users.cached(APP_KEY, name)
            self.assertEqual(reply["data"], {"seq": 2, "user": orjson.loads(orjson.dumps(
                jmessage_shapes.user(user)))})

    def test_no_op_is_echoed(self):
        [reply] = self.call(self.alice, self.alice_client, 113,
                            {"username": "bobby", "op": "info", "seq": 1})
        self.assertEqual(list(reply["data"]), ["seq", "user"])

    def test_unknown_user(self):
        [reply] = self.call(self.alice, self.alice_client, 113, {"username": "ghost", "seq": 5})
        self.assertEqual((reply["code"], reply["data"], reply["detail"]),
                         (10020, {"code": 899002, "seq": 5}, "no user 'ghost'"))
        [reply] = self.call(self.alice, self.alice_client, 113, {})
        self.assertEqual(reply["data"], {"code": 899003})
