"""J-IM JSON bodies: lenient request parsing, exact replies, and the ChatBody of a message."""
import orjson
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.errors import BAD_REQUEST, JimError
from jim.model import GROUP, SINGLE, Group, Message, User, UserCard
from jim.wire import jim_messages, jimjson

from tests.support.model_strategies import int64, messages

#: every request parser; each refuses with BAD_REQUEST (the session answers it with the
#: status code of the command that failed)
PARSERS = [
    jimjson.login_request,
    jimjson.chat_draft,
    jimjson.join_request,
    jimjson.user_request,
    jimjson.message_request,
    jimjson.close_request,
]

FIELD_NAMES = [
    "cmd", "userId", "loginname", "userid", "password", "token", "appKey", "chatType", "to",
    "from", "groupId", "group_id", "msgType", "content", "extras", "id", "name", "avatar",
    "type", "fromUserId", "beginTime", "endTime", "offset", "count",
]  # fmt: skip

#: strings that look like numbers to one reader and not to another
TRICKY = ["2", " 1 ", "-0", "--2", "²", "٣", "1e400", "nan", "inf", "-inf", "1.5", "", " "]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(TRICKY)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(
    st.sampled_from(FIELD_NAMES) | st.text(max_size=8), json_values, max_size=8
)


def nested_text(depth, kind="["):
    """JSON text of C{depth} nested arrays (C{kind} "[") or objects (C{kind} "{"), innermost 1."""
    if kind == "[":
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


#: a field and the JSON text of a value nested up to the 1024 levels a body may have, which
#: orjson can read but not write (so it cannot be built as a Python value and encoded)
deep_fields = st.tuples(
    st.sampled_from(["content", "extras"]) | st.sampled_from(FIELD_NAMES),
    st.integers(1, 1023) | st.integers(jimjson.MAX_NESTING - 2, jimjson.MAX_NESTING + 2),
    st.sampled_from("[{"),
)


def refused(test, parser, obj):
    error = test.assertRaises(JimError, parser, obj)
    test.assertEqual(error.code, BAD_REQUEST, error.detail)
    return error


def parsed_or_bad_request(test, parser, obj):
    """Run C{parser}: it answers, or refuses with JimError(BAD_REQUEST), nothing else."""
    try:
        parser(obj)
    except JimError as e:
        test.assertEqual(e.code, BAD_REQUEST)


class LoadsTests(SynchronousTestCase):
    def test_object(self):
        self.assertEqual(jimjson.loads(b'{"cmd":5}'), {"cmd": 5})

    def test_refused(self):
        for body in [b'{"a":"\xff"}', b"\xff", b"{", b"", b"[1]", b'"x"', b"1", b"null", b"[]"]:
            error = self.assertRaises(JimError, jimjson.loads, body)
            self.assertEqual(error.code, BAD_REQUEST, body)


class FuzzTests(SynchronousTestCase):
    @given(json_objects)
    def test_only_jim_errors(self, obj):
        """Whatever object a client sends, a parser answers or refuses it as a bad request."""
        obj = jimjson.loads(orjson.dumps(obj))
        for parser in PARSERS:
            parsed_or_bad_request(self, parser, obj)

    @given(json_objects, deep_fields, st.sampled_from([1, 2]))
    def test_deep_nesting_only_jim_errors(self, obj, deep, chat_type):
        """A value nested deeper than orjson writes is refused as a bad request too.
        The body is otherwise a usable request, so that the parsers get as far as the field."""
        field, depth, kind = deep
        obj = {**obj, "chatType": chat_type, "to": "b", "groupId": "g", "type": 1}
        obj.pop(field, None)
        rest = orjson.dumps(obj).decode()[1:]
        body = f'{{"{field}":{nested_text(depth, kind)},{rest}'
        obj = jimjson.loads(body.encode())
        for parser in PARSERS:
            parsed_or_bad_request(self, parser, obj)

    @given(st.sampled_from(PARSERS), st.sampled_from(FIELD_NAMES), st.sampled_from(TRICKY))
    def test_tricky_numbers(self, parser, field, value):
        obj = {"chatType": 2, "to": "a", "groupId": "g", "type": 1, field: value}
        parsed_or_bad_request(self, parser, obj)


class IntegerTests(SynchronousTestCase):
    def test_accepted(self):
        for value, expected in [(2, 2), ("2", 2), (" 2 ", 2), ("-3", -3), (4.0, 4), ("", None)]:
            self.assertEqual(jimjson.integer({"n": value}, "n"), expected, value)

    def test_refused(self):
        for value in [True, "x", "2.5", 2.5, "--2", "²", "-", [], {}, "1" * 30]:
            error = self.assertRaises(JimError, jimjson.integer, {"n": value}, "n")
            self.assertEqual((error.code, error.detail), (BAD_REQUEST, "n must be an integer"))

    def test_default_and_second_spelling(self):
        self.assertEqual(jimjson.integer({}, "n", default=7), 7)
        self.assertEqual(jimjson.integer({"m": "5"}, "n", "m"), 5)


class LoginRequestTests(SynchronousTestCase):
    def test_fields(self):
        request = jimjson.login_request(
            {"cmd": 5, "userId": "alice", "password": "pw", "token": "t", "appKey": "k"}
        )
        self.assertEqual(request, jimjson.LoginRequest("alice", "pw", "t", "k"))

    def test_2x_loginname(self):
        self.assertEqual(jimjson.login_request({"loginname": "bob"}).user_id, "bob")

    def test_numbers_as_text(self):
        request = jimjson.login_request({"userId": 123, "password": 456})
        self.assertEqual((request.user_id, request.password), ("123", "456"))

    def test_wrong_types(self):
        for obj in [
            {"userId": ["alice"]},
            {"userId": {"a": 1}},
            {"userId": True},
            {"userId": 1.5},
            {"userId": "a", "password": {"x": 1}},
            {"userId": "a", "token": []},
            {"userId": "a\nb"},
            {"userId": " alice"},
            {"userId": "x" * 129},
        ]:
            refused(self, jimjson.login_request, obj)

    def test_longest_name(self):
        name = "é" * 64  # 128 UTF-8 bytes
        self.assertEqual(jimjson.login_request({"userId": name}).user_id, name)
        refused(self, jimjson.login_request, {"userId": name + "x"})


def chat(obj):
    """What chat_draft reads of a cmd 11 body."""
    return jimjson.chat_draft(obj)


class ChatDraftTests(SynchronousTestCase):
    """chat_draft reads a cmd 11 body straight into the neutral Draft the core sends."""

    def test_private(self):
        self.assertEqual(
            chat({"from": "mallory", "to": "bob", "cmd": 11, "createTime": 1, "chatType": "2",
                  "msgType": "0", "content": "hi", "id": "c1"}),
            (model.Draft(SINGLE, "bob", model.TEXT, {"text": "hi"}, None, "c1"), None),
        )  # fmt: skip

    def test_group_spellings(self):
        for key in ("groupId", "group_id"):
            draft, group_id = chat({"chatType": "1", key: "100", "content": "x"})
            self.assertEqual((draft.target_type, draft.target, group_id), (GROUP, "100", "100"))

    def test_numeric_group_id(self):
        self.assertEqual(chat({"chatType": 1, "groupId": 100})[1], "100")

    def test_defaults(self):
        draft, _ = chat({"chatType": 2, "to": "b"})
        self.assertEqual((draft.msg_type, draft.body, draft.extras, draft.client_id,
                          draft.from_type), (model.TEXT, {"text": ""}, None, None, "user"))

    def test_other_message_types_map_to_neutral_ones(self):
        draft, _ = chat({"chatType": 2, "to": "b", "msgType": 1, "content": "pic.png"})
        self.assertEqual((draft.msg_type, draft.body),
                         jim_messages.to_neutral(1, "pic.png"))

    def test_structured_content_and_extras(self):
        draft, _ = chat(
            {"chatType": 2, "to": "b", "content": {"k": [1, "é"]}, "extras": {"a": 1}}
        )
        self.assertEqual(orjson.loads(draft.body["text"]), {"k": [1, "é"]})
        self.assertEqual(draft.extras, '{"a":1}')

    def test_too_deep(self):
        """content and extras are written back as JSON text, which orjson does only up to
        MAX_NESTING levels: a deeper one (a body may have 1024) is a bad field, not a fault."""
        deep_list = orjson.loads(nested_text(300))
        deep_dict = orjson.loads(nested_text(300, "{"))
        for field, value in [
            ("content", deep_list),
            ("content", deep_dict),
            ("content", orjson.loads(nested_text(jimjson.MAX_NESTING + 1))),
            ("content", orjson.loads(nested_text(1023))),
            ("extras", deep_dict),
            ("extras", {"a": 1, "b": deep_list}),
            ("extras", orjson.loads(nested_text(jimjson.MAX_NESTING + 1, "{"))),
        ]:
            obj = {"chatType": 2, "to": "b", field: value}
            error = refused(self, jimjson.chat_draft, obj)
            self.assertEqual(error.detail, f"{field} is nested more than 254 levels deep")

    def test_deepest(self):
        for kind in "[{":
            text = nested_text(jimjson.MAX_NESTING, kind)
            draft, _ = chat({"chatType": 2, "to": "b", "content": orjson.loads(text)})
            self.assertEqual(draft.body["text"], text)
        extras = nested_text(jimjson.MAX_NESTING, "{")
        draft, _ = chat({"chatType": 2, "to": "b", "extras": orjson.loads(extras)})
        self.assertEqual(draft.extras, extras)

    def test_wrong(self):
        for obj in [
            {"to": "b"},
            {"chatType": 0, "to": "b"},
            {"chatType": 3, "to": "b"},
            {"chatType": "two", "to": "b"},
            {"chatType": True, "to": "b"},
            {"chatType": [2], "to": "b"},
            {"chatType": 2},
            {"chatType": 2, "to": ""},
            {"chatType": 2, "to": ["b"]},
            {"chatType": 1, "to": "b"},
            {"chatType": 2, "to": "b", "msgType": 128},
            {"chatType": 2, "to": "b", "msgType": -1},
            {"chatType": 2, "to": "b", "msgType": "text"},
            {"chatType": 2, "to": "b", "extras": [1]},
            {"chatType": 2, "to": "b", "extras": "{}"},
            {"chatType": 2, "to": "b", "id": {"x": 1}},
        ]:
            refused(self, jimjson.chat_draft, obj)


class JoinRequestTests(SynchronousTestCase):
    def test_spellings(self):
        self.assertEqual(
            jimjson.join_request({"groupId": "100", "name": "n", "avatar": "a"}),
            jimjson.JoinRequest("100", "n", "a"),
        )
        self.assertEqual(jimjson.join_request({"group_id": 7}).group_id, "7")

    def test_wrong(self):
        for obj in [{}, {"groupId": ""}, {"groupId": ["1"]}, {"groupId": "1", "name": []}]:
            refused(self, jimjson.join_request, obj)


class UserRequestTests(SynchronousTestCase):
    def test_fields(self):
        request = jimjson.user_request({"type": "0", "userId": "alice", "groupId": "g"})
        self.assertEqual(request, jimjson.UserRequest("alice", 0, "g"))

    def test_2x_spellings_and_default(self):
        request = jimjson.user_request({"userid": "bob", "group_id": "g"})
        self.assertEqual(request, jimjson.UserRequest("bob", 2, "g"))

    def test_wrong(self):
        for obj in [{"type": 3}, {"type": "x"}, {"type": []}, {"userId": {"a": 1}}]:
            refused(self, jimjson.user_request, obj)


class MessageRequestTests(SynchronousTestCase):
    def test_fields(self):
        request = jimjson.message_request(
            {"type": "1", "userid": "me", "fromUserId": "bob", "beginTime": "1.5e3",
             "endTime": 2000.7, "offset": "1", "count": "10"}
        )  # fmt: skip
        self.assertEqual(request, jimjson.MessageRequest("me", 1, "bob", None, 1500, 2000, 1, 10))

    def test_fractional_bounds_round_inward(self):
        """The range is inclusive over whole milliseconds: 1000.5 begins at 1001 and -0.5 ends
        at -1, so no message outside the asked range comes back."""
        for begin, end, expected in ((1000.5, 2000.5, (1001, 2000)), (-1.5, -0.5, (-1, -1)),
                                     ("999.01", "1e3", (1000, 1000))):
            request = jimjson.message_request({"type": 1, "beginTime": begin, "endTime": end})
            self.assertEqual((request.begin, request.end), expected, (begin, end))

    def test_group_id_2x(self):
        self.assertEqual(jimjson.message_request({"type": 0, "group_id": "g"}).group_id, "g")

    def test_wrong(self):
        for obj in [
            {},
            {"type": 2},
            {"type": "history"},
            {"type": 1, "offset": -1},
            {"type": 1, "count": "-1"},
            {"type": 1, "beginTime": "soon"},
            {"type": 1, "beginTime": "nan"},
            {"type": 1, "endTime": "inf"},
            {"type": 1, "endTime": "1e400"},
            {"type": 1, "beginTime": [1]},
            {"type": 1, "userId": [1]},
        ]:
            refused(self, jimjson.message_request, obj)


class CloseRequestTests(SynchronousTestCase):
    def test_spellings(self):
        self.assertEqual(jimjson.close_request({"userId": "a"}), "a")
        self.assertEqual(jimjson.close_request({"userid": "b"}), "b")
        self.assertIsNone(jimjson.close_request({}))

    def test_wrong(self):
        refused(self, jimjson.close_request, {"userId": ["a"]})


class ReplyTests(SynchronousTestCase):
    def test_status_reply(self):
        body = jimjson.reply(12, 10000)
        self.assertEqual(orjson.loads(body), {"code": 10000, "command": 12, "msg": "ok 发送成功"})
        self.assertNotIn(b" ", body.replace("ok 发送成功".encode(), b""))
        self.assertIn("发送成功".encode(), body)  # UTF-8, not \\u escapes

    def test_omits_none(self):
        body = orjson.loads(jimjson.reply(13, None, data=None, user=None, token=None))
        self.assertEqual(body, {"command": 13})

    def test_data_and_extra_fields(self):
        body = orjson.loads(jimjson.reply(9, 10011, group="100", user={"userId": "a"}))
        self.assertEqual(
            body,
            {"code": 10011, "command": 9, "msg": "join group ok! 加入群组成功!", "group": "100",
             "user": {"userId": "a"}},
        )  # fmt: skip

    def test_heartbeat_reply_bytes(self):
        """jim-wire.md 1.4: the heartbeat reply body, byte for byte."""
        self.assertEqual(
            jimjson.reply(13, data={"hbbyte": -128}), b'{"command":13,"data":{"hbbyte":-128}}'
        )


class RefusalTests(SynchronousTestCase):
    """The J-IM reply to a neutral refusal: the failing command's status code, the detail."""

    def test_bytes(self):
        error = JimError(errors.BAD_REQUEST, "chatType must be 1 (group) or 2 (private)")
        self.assertEqual(
            jimjson.refusal(12, 10002, error, "c-1").decode(),
            '{"code":10002,"msg":"' + jimjson.status.message(10002) + '","command":12,'
            '"data":{"clientId":"c-1"},"detail":"chatType must be 1 (group) or 2 (private)"}',
        )

    def test_the_command_decides_the_code(self):
        for code in (errors.BAD_REQUEST, errors.SERVER_ERROR, errors.NO_SUCH_USER,
                     errors.USER_FORBIDDEN, errors.BUSY):
            for command, failure in ((6, 10008), (12, 10002), (18, 10004), (20, 10015)):
                reply = orjson.loads(jimjson.refusal(command, failure, JimError(code, "why")))
                self.assertEqual(
                    reply,
                    {"code": failure, "command": command, "msg": jimjson.status.message(failure),
                     "detail": "why"},
                )

    def test_a_refused_join_says_why_as_j_ims_result(self):
        for code, result in ((errors.GROUP_FULL, 3), (errors.NO_SUCH_GROUP, 2),
                             (errors.GROUP_PRIVATE, None), (errors.SERVER_ERROR, None)):
            reply = orjson.loads(jimjson.refusal(8, 10012, JimError(code, "full")))
            self.assertEqual(reply.get("result"), result, code)
            self.assertEqual((reply["code"], reply["detail"]), (10012, "full"))
        self.assertEqual(
            orjson.loads(jimjson.refusal(8, 10012, JimError(errors.GROUP_FULL, "full"))),
            {"code": 10012, "command": 8, "msg": "join group failed! 加入群组失败!",
             "detail": "full", "result": 3},
        )  # fmt: skip
        # only a join's reply has a result
        reply = orjson.loads(jimjson.refusal(12, 10002, JimError(errors.GROUP_FULL, "full")))
        self.assertNotIn("result", reply)

    def test_no_client_id_no_data(self):
        reply = orjson.loads(jimjson.refusal(12, 10002, JimError(errors.SILENCED, "hush")))
        self.assertNotIn("data", reply)

    def test_chat_client_id(self):
        for obj, expected in (({"id": "c-1"}, "c-1"), ({"id": 7}, "7"), ({"id": ""}, None),
                              ({}, None), ({"id": ["x"]}, None), ({"id": "x" * 129}, None)):
            self.assertEqual(jimjson.chat_client_id(obj), expected, obj)


class ChatAckTests(SynchronousTestCase):
    """The bytes template of the cmd 12 reply says exactly what the general encoder says."""

    def general(self, code, message):
        data = {"id": str(message.id), "createTime": message.created}
        if message.client_id is not None:
            data["clientId"] = message.client_id
        return jimjson.reply(12, code, data=data)

    @given(
        st.sampled_from([10000, 10001, 10002]),
        st.integers(min_value=1, max_value=2**63 - 1),
        st.one_of(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(0, 1e15)),
        st.one_of(st.none(), st.text(max_size=8), st.integers(-5, 5)),
    )
    def test_same_bytes_as_reply(self, code, message_id, created, client_id):
        message = Message(message_id, "a", "ann", SINGLE, "bob", model.TEXT, {"text": "hi"},
                          None, client_id, created)
        ack = jimjson.chat_ack(code, message)
        self.assertEqual(ack, self.general(code, message))
        self.assertEqual(orjson.loads(ack)["data"]["id"], str(message_id))

    def test_usual_ack(self):
        message = Message(42, "a", "ann", SINGLE, "bob", model.TEXT, {"text": "hi"},
                          created=1700000000123)
        self.assertEqual(
            orjson.loads(jimjson.chat_ack(10000, message)),
            {"code": 10000, "msg": "ok 发送成功", "command": 12,
             "data": {"id": "42", "createTime": 1700000000123}},
        )


class ChatBodyTests(SynchronousTestCase):
    def test_private(self):
        message = Message(7, "app", "alice", SINGLE, "bob", model.TEXT, {"text": "hi"},
                          created=1234)
        self.assertEqual(
            jimjson.chat_body(message),
            {"id": "7", "cmd": 11, "from": "alice", "createTime": 1234, "msgType": 0,
             "content": "hi", "chatType": 2, "to": "bob"},
        )  # fmt: skip

    def test_group_with_extras_and_client_id(self):
        message = Message(8, "app", "alice", GROUP, "100", model.IMAGE, {"content": "img"},
                          '{"w":1}', "c9", 99)
        push = orjson.loads(jimjson.push(message))
        self.assertEqual(push["command"], 11)
        self.assertEqual(
            push["data"],
            {"id": "8", "cmd": 11, "from": "alice", "createTime": 99, "msgType": 1,
             "content": "img", "chatType": 1, "groupId": "100", "extras": {"w": 1},
             "clientId": "c9"},
        )  # fmt: skip

    def test_push_bytes(self):
        message = Message(9, "app", "alice", GROUP, "10000000", model.TEXT, {"text": "你好"},
                          '{"k":[1,"é"]}', None, 5)
        self.assertEqual(
            jimjson.push(message, "g1").decode(),
            '{"command":11,"data":{"id":"9","cmd":11,"from":"alice","createTime":5,'
            '"msgType":0,"content":"你好","chatType":1,"groupId":"g1","extras":{"k":[1,"é"]}}}',
        )

    def test_a_group_is_named_by_its_alias(self):
        message = Message(8, "app", "alice", GROUP, "10000000", model.TEXT, {"text": "x"})
        self.assertEqual(jimjson.chat_body(message)["groupId"], "10000000")
        self.assertEqual(jimjson.chat_body(message, "g1")["groupId"], "g1")

    def test_a_private_message_ignores_an_alias(self):
        message = Message(8, "app", "alice", SINGLE, "bob", model.TEXT, {"text": "x"})
        body = jimjson.chat_body(message, "g1")
        self.assertEqual((body["to"], "groupId" in body), ("bob", False))

    def test_a_jmessage_bodys_own_extras(self):
        """A JMessage text keeps its extras inside its body; J-IM's are beside the content.
        The message's own extras win when it has both."""
        body = {"text": "hi", "extras": {"from": "rest"}}
        message = Message(8, "app", "admin", SINGLE, "bob", model.TEXT, body)
        chat = jimjson.chat_body(message)
        self.assertEqual((chat["msgType"], chat["content"], chat["extras"]),
                         (0, "hi", {"from": "rest"}))
        chat = jimjson.chat_body(message._replace(extras='{"own":1}'))
        self.assertEqual(orjson.loads(orjson.dumps(chat))["extras"], {"own": 1})


def _run_of(sender, target, created, ids_and_texts):
    """The messages of a run (jim.core.message_runs): one sender's private texts to one user."""
    return [Message(message_id, "app", sender, SINGLE, target, model.TEXT, {"text": text}, None,
                    None, created) for message_id, text in ids_and_texts]


class PushesTests(SynchronousTestCase):
    @given(st.text(), st.text(), int64,
           st.lists(st.tuples(st.integers(0, model.MAX_INT64), st.text()), min_size=1,
                    max_size=4))
    def test_a_runs_pushes_are_each_messages_push(self, sender, target, created, ids_and_texts):
        run = _run_of(sender, target, created, ids_and_texts)
        self.assertEqual(jimjson.pushes(run), [jimjson.push(m) for m in run])

    @given(st.lists(messages, min_size=1, max_size=4), st.none() | st.text(max_size=5))
    def test_any_messages_pushes_are_each_messages_push(self, some, alias):
        self.assertEqual(jimjson.pushes(some, alias), [jimjson.push(m, alias) for m in some])

    def test_a_run_with_another_kind_of_message_in_it(self):
        run = _run_of("al", "bo", 5, [(1, "a"), (2, "b")])
        for other in (run[1]._replace(extras='{"k":1}'), run[1]._replace(client_id="c"),
                      run[1]._replace(body={"text": "b", "extras": {"k": 1}}),
                      run[1]._replace(created=6), run[1]._replace(target="cy")):
            both = [run[0], other]
            self.assertEqual(jimjson.pushes(both), [jimjson.push(m) for m in both])


class UserJsonTests(SynchronousTestCase):
    def test_defaults(self):
        user = User("app", "alice", "hash")
        self.assertEqual(
            jimjson.user_json(user, False),
            {"userId": "alice", "nick": "alice", "avatar": "", "status": "offline"},
        )

    def test_full(self):
        user = User("app", "alice", "hash", nickname="Alice", avatar="a.png", signature="hello")
        self.assertEqual(
            jimjson.user_json(user, True, "ws"),
            {"userId": "alice", "nick": "Alice", "avatar": "a.png", "status": "online",
             "sign": "hello", "terminal": "ws"},
        )  # fmt: skip
        self.assertNotIn("hash", repr(jimjson.user_json(user, True)))

    def test_a_card_shows_as_its_user_would(self):
        user = User("app", "alice", "hash", nickname="Alice", avatar="a.png", signature="hello")
        for online, terminal in ((True, "ws"), (False, None)):
            card = UserCard("alice", "Alice", "a.png", "hello", online, terminal)
            self.assertEqual(jimjson.card_json(card), jimjson.user_json(user, online, terminal))
        self.assertEqual(jimjson.card_json(UserCard("bob")),
                         {"userId": "bob", "nick": "bob", "avatar": "", "status": "offline"})

    def test_group(self):
        group = Group("app", 100, owner="alice")
        self.assertEqual(jimjson.group_json(group), {"groupId": "100", "name": "100", "avatar": ""})
        self.assertEqual(
            jimjson.group_json(group, [], 0),
            {"groupId": "100", "name": "100", "avatar": "", "users": [], "online": 0},
        )

    def test_group_by_alias(self):
        group = Group("app", 10000000, name="Team", avatar="t.png", alias="g1")
        self.assertEqual(jimjson.group_json(group),
                         {"groupId": "g1", "name": "Team", "avatar": "t.png"})
        self.assertEqual(jimjson.jim_group_id(10000000, None), "10000000")
        self.assertEqual(jimjson.jim_group_id("100"), "100")


class HugeNumbersTests(SynchronousTestCase):
    def test_paging_numbers_beyond_64_bits_are_refused(self):
        for field, value in (("offset", 10**19), ("count", "9999999999999999999"),
                             ("beginTime", 1e300), ("endTime", -1e300)):
            with self.assertRaises(JimError) as caught:
                jimjson.message_request({"type": 1, "groupId": "g", field: value})
            self.assertEqual(caught.exception.code, BAD_REQUEST, field)
        request = jimjson.message_request({"type": 1, "offset": 2**63 - 1})
        self.assertEqual(request.offset, 2**63 - 1)
