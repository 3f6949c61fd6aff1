"""J-IM messages and the neutral model: every J-IM message maps to it and back without loss,
and a message from elsewhere (a JMessage body) reaches J-IM clients as documented."""
import orjson
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import model
from jim.model import Message
from jim.wire import jim_messages, jimjson

from tests.support.model_strategies import json_objects, texts

jim_msg_types = st.integers(0, 127)
#: any content a J-IM client can send: J-IM's content is a string
contents = st.text()
#: a chat's ``id``: J-IM clients send strings (and numbers, read as their text)
client_ids = st.none() | st.text(min_size=1, max_size=32) | st.integers(0, 2**53)


def sent(draft, sender="alice", message_id=9, created=1234):
    """The message the core makes of a draft (L{jim.core.messages.Messages})."""
    return Message(message_id, "app", sender, draft.target_type, draft.target, draft.msg_type,
                   draft.body, draft.extras, draft.client_id, created, draft.from_type,
                   draft.target_app, draft.no_offline, draft.no_notification)


class RoundTripTests(SynchronousTestCase):
    @given(jim_msg_types, contents)
    def test_to_neutral_and_back(self, msg_type, content):
        neutral_type, body = jim_messages.to_neutral(msg_type, content)
        self.assertIn(neutral_type, model.MSG_TYPES)
        self.assertEqual(jim_messages.to_jim(neutral_type, body), (msg_type, content))

    @given(jim_msg_types, contents)
    def test_the_body_is_json(self, msg_type, content):
        """A neutral body is kept and sent as JSON: it survives being written and read."""
        msg_type, body = jim_messages.to_neutral(msg_type, content)
        self.assertEqual(orjson.loads(orjson.dumps(body)), body)

    @given(st.sampled_from([jimjson.CHAT_PRIVATE, jimjson.CHAT_GROUP]), jim_msg_types,
           contents, st.none() | json_objects, client_ids)
    def test_a_chat_through_the_core_comes_back_as_sent(self, chat_type, msg_type, content,
                                                       extras, client_id):
        """A cmd 11 body parsed, drafted, made a message and pushed: msgType, content, extras
        and the client's id come back as the client sent them."""
        obj = {"cmd": 11, "chatType": chat_type, "to": "bob", "groupId": "g1",
               "msgType": msg_type, "content": content}
        if extras is not None:
            obj["extras"] = extras
        if client_id is not None:
            obj["id"] = client_id
        draft, group_id = jimjson.chat_draft(obj)
        target = "bob" if chat_type == jimjson.CHAT_PRIVATE else "10000000"
        if group_id is not None:  # the caller puts the group's gid in (jim_commands.chat)
            draft = draft._replace(target=target)
        self.assertEqual((draft.target, draft.from_type, draft.no_offline, draft.target_app),
                         (target, model.FROM_USER, False, None))
        body = orjson.loads(jimjson.push(sent(draft), alias="g1"))["data"]
        self.assertEqual((body["msgType"], body["content"]), (msg_type, content))
        self.assertEqual(body.get("extras"), extras)
        self.assertEqual(body.get("clientId"), None if client_id is None else str(client_id))
        self.assertEqual(body["chatType"], chat_type)
        if chat_type == jimjson.CHAT_PRIVATE:
            self.assertEqual(body["to"], "bob")
        else:
            self.assertEqual(body["groupId"], "g1")

    @given(jim_msg_types, contents)
    def test_structured_content_comes_back_as_its_json_text(self, msg_type, content):
        """J-IM's content is a string: a JSON object sent as content is kept as its text."""
        value = {"content": content, "n": [1, 2]}
        draft, _ = jimjson.chat_draft({"chatType": 2, "to": "bob", "msgType": msg_type,
                                       "content": value})
        body = jimjson.chat_body(sent(draft))
        self.assertEqual(orjson.loads(body["content"]), value)


class DraftTests(SynchronousTestCase):
    def test_private(self):
        self.assertEqual(
            jimjson.chat_draft({"chatType": 2, "to": "bob", "content": "hi", "extras": {"a": 1},
                                "id": "c-1"}),
            (model.Draft(model.SINGLE, "bob", model.TEXT, {"text": "hi"}, '{"a":1}', "c-1"),
             None),
        )

    def test_group(self):
        self.assertEqual(
            jimjson.chat_draft({"chatType": 1, "groupId": "g1", "msgType": 5,
                                "content": "news"}),
            (model.Draft(model.GROUP, "g1", model.CUSTOM, {"content": "news", "jim_msg_type": 5}),
             "g1"),
        )


class NeutralOfJimTests(SynchronousTestCase):
    """The table of the module's docstring, J-IM to neutral."""

    def test_table(self):
        for msg_type, expected in [
            (0, (model.TEXT, {"text": "c"})),
            (1, (model.IMAGE, {"content": "c"})),
            (2, (model.VOICE, {"content": "c"})),
            (3, (model.VIDEO, {"content": "c"})),
            (4, (model.CUSTOM, {"content": "c", "jim_msg_type": 4})),
            (5, (model.CUSTOM, {"content": "c", "jim_msg_type": 5})),
            (127, (model.CUSTOM, {"content": "c", "jim_msg_type": 127})),
        ]:
            self.assertEqual(jim_messages.to_neutral(msg_type, "c"), expected, msg_type)


class JimOfOtherBodiesTests(SynchronousTestCase):
    """Bodies no J-IM client made: the msgType of their kind, their JSON text as content."""

    def assert_shown_as(self, msg_type, body, jim_type):
        shown_type, content = jim_messages.to_jim(msg_type, body)
        self.assertEqual((shown_type, orjson.loads(content)), (jim_type, body))
        self.assertEqual(content, orjson.dumps(body).decode())  # compact, UTF-8 as is
        return content

    def test_a_jmessage_image(self):
        body = {"media_id": "qiniu/image/j/A1B2.png", "media_crc32": 2778919613, "width": 640,
                "height": 480, "format": "png", "fsize": 3542}
        content = self.assert_shown_as(model.IMAGE, body, 1)
        self.assertTrue(content.startswith('{"media_id":"qiniu/image/j/A1B2.png",'))

    def test_voice_and_video(self):
        self.assert_shown_as(model.VOICE, {"media_id": "v", "duration": 3}, 2)
        self.assert_shown_as(model.VIDEO, {"media_id": "v", "duration": 3, "content": "x"}, 3)

    def test_a_file(self):
        self.assert_shown_as(model.FILE, {"media_id": "f", "fname": "报告.pdf", "fsize": 9}, 6)
        self.assert_shown_as(model.FILE, {"content": "looks like J-IM"}, 6)

    def test_a_location(self):
        content = self.assert_shown_as(
            model.LOCATION, {"latitude": 39.9, "longitude": 116.4, "scale": 1, "label": "北京"}, 7)
        self.assertEqual(content, '{"latitude":39.9,"longitude":116.4,"scale":1,"label":"北京"}')

    def test_custom(self):
        self.assert_shown_as(model.CUSTOM, {"anything": [1, {"deep": None}]}, 8)
        self.assert_shown_as(model.CUSTOM, {}, 8)

    def test_custom_that_only_looks_like_jim(self):
        for body in [
            {"content": "c", "jim_msg_type": 1},  # J-IM's 1 is an image, never a custom
            {"content": "c", "jim_msg_type": 0},
            {"content": "c", "jim_msg_type": 128},
            {"content": "c", "jim_msg_type": -1},
            {"content": "c", "jim_msg_type": True},
            {"content": "c", "jim_msg_type": "4"},
            {"content": 4, "jim_msg_type": 4},
            {"content": "c", "jim_msg_type": 4, "more": 1},
        ]:
            self.assert_shown_as(model.CUSTOM, body, 8)

    def test_a_text_with_jmessage_extras_shows_its_text(self):
        """Its extras go out as J-IM's ``extras`` (see jimjson.chat_body)."""
        body = {"text": "hi", "extras": {"k": 1}}
        self.assertEqual(jim_messages.to_jim(model.TEXT, body), (0, "hi"))

    def test_a_text_without_text(self):
        self.assert_shown_as(model.TEXT, {"text": 5}, 0)
        self.assert_shown_as(model.TEXT, {}, 0)

    def test_an_image_with_more_than_content(self):
        self.assert_shown_as(model.IMAGE, {"content": "c", "width": 1}, 1)
        self.assert_shown_as(model.IMAGE, {"content": ["c"]}, 1)

    def test_an_unknown_kind_is_custom(self):
        self.assert_shown_as("sticker", {"id": 3}, 8)

    @given(st.sampled_from(model.MSG_TYPES), json_objects)
    def test_any_body_is_shown_whole_or_as_a_jim_message(self, msg_type, body):
        """Either the body is a J-IM message's (and maps back to it), or J-IM gets all of it
        as JSON text (a text's extras aside, which go out beside it)."""
        jim_type, content = jim_messages.to_jim(msg_type, body)
        self.assertEqual(type(content), str)
        if msg_type == model.TEXT and type(body.get("text")) is str:
            self.assertEqual((jim_type, content), (0, body["text"]))
        elif jim_messages.to_neutral(jim_type, content) != (msg_type, body):
            self.assertEqual(orjson.loads(content), body)
            self.assertEqual(jim_type, {model.TEXT: 0, model.IMAGE: 1, model.VOICE: 2,
                                        model.VIDEO: 3, model.FILE: 6, model.LOCATION: 7,
                                        model.CUSTOM: 8}[msg_type])

    @given(texts)
    def test_pushed_as_j_im_shows_it(self, label):
        """The whole way: a REST location message in a J-IM push."""
        body = {"latitude": 1.5, "longitude": 2.5, "scale": 3, "label": label}
        message = Message(3, "app", "admin", model.SINGLE, "bob", model.LOCATION, body,
                          from_type=model.FROM_ADMIN)
        chat = orjson.loads(jimjson.push(message))["data"]
        self.assertEqual((chat["msgType"], orjson.loads(chat["content"])), (7, body))
