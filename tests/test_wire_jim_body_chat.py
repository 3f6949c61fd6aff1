"""A cmd 11 with a ``msgBody``: read into the Draft the core sends, its body checked by the
REST API's msg_body rules (the same function), and pushed back as J-IM shows a JMessage body.
Every input is a draft or a BAD_REQUEST refusal, never another exception."""
import orjson
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim import model
from jim.errors import BAD_REQUEST, JimError
from jim.model import GROUP, SINGLE
from jim.wire import jim_body_chat, jim_messages, jmessage
from tests.test_wire_jimjson import json_objects, json_values

IMAGE = {"media_id": "qiniu/image/j/" + "A" * 32 + ".png", "media_crc32": 123, "width": 640,
         "height": 480, "format": "png", "fsize": 5123}
FILE = {"media_id": "qiniu/file/j/" + "B" * 32, "media_crc32": 1, "fsize": 2, "fname": "a.pdf"}
VOICE = {"media_id": "qiniu/voice/j/" + "C" * 32, "media_crc32": 7, "duration": 1.5,
         "fsize": 8}
LOCATION = {"latitude": 39.9, "longitude": 116.4, "scale": 15, "label": "Beijing"}
#: J-IM msgType -> a valid body of its kind
VALID = {0: {"text": "hi"}, 1: IMAGE, 2: VOICE, 3: {"video": FILE, "duration": 3},
         6: FILE, 7: LOCATION, 8: {"anything": [1, {"x": None}]}}


def chat(**fields):
    return {"cmd": 11, "chatType": 2, "to": "bob", **fields}


def refused(test, obj):
    error = test.assertRaises(JimError, jim_body_chat.body_chat_draft, obj)
    test.assertEqual(error.code, BAD_REQUEST, error.detail)
    return error


class BodyChatDraftTests(SynchronousTestCase):
    def test_the_contracts_example(self):
        obj = {"cmd": 11, "chatType": 2, "to": "bob", "msgType": 1, "id": "c-3",
               "msgBody": IMAGE}
        draft, group_id = jim_body_chat.body_chat_draft(obj)
        self.assertEqual(draft, model.Draft(SINGLE, "bob", model.IMAGE, IMAGE, None, "c-3"))
        self.assertIsNone(group_id)
        self.assertEqual(jim_body_chat.media_ids(draft), (IMAGE["media_id"],))

    def test_each_kind(self):
        for msg_type, body in VALID.items():
            draft, _ = jim_body_chat.body_chat_draft(chat(msgType=msg_type, msgBody=body))
            self.assertEqual((draft.msg_type, draft.body),
                             (jim_body_chat.BODY_KINDS[msg_type], body))

    def test_the_media_a_body_names(self):
        video = {"video": FILE, "duration": 3, "thumb": IMAGE}
        for msg_type, body, named in [
            (2, VOICE, (VOICE["media_id"],)),
            (6, FILE, (FILE["media_id"],)),
            (3, VALID[3], (FILE["media_id"],)),
            (3, video, (FILE["media_id"], IMAGE["media_id"])),
            (7, LOCATION, ()),
            (8, {"media_id": "not one"}, ()),  # a custom body's fields are its app's own
            (0, {"text": "qiniu/image/j/x"}, ()),
        ]:
            draft, _ = jim_body_chat.body_chat_draft(chat(msgType=msg_type, msgBody=body))
            self.assertEqual(jim_body_chat.media_ids(draft), named)

    def test_group_room_extras_and_id_as_any_chat(self):
        draft, group_id = jim_body_chat.body_chat_draft(
            {"chatType": 1, "groupId": "g1", "msgType": "7", "msgBody": LOCATION,
             "extras": {"k": 1}, "id": 5})
        self.assertEqual((draft.target_type, draft.target, group_id, draft.extras,
                          draft.client_id), (GROUP, "g1", "g1", '{"k":1}', "5"))
        draft, _ = jim_body_chat.body_chat_draft(
            {"chatType": 3, "roomId": "12", "msgType": 8, "msgBody": {}})
        self.assertEqual((draft.target_type, draft.target), (model.CHATROOM, "12"))

    def test_refusals_name_the_field(self):
        for obj, detail in [
            (chat(msgType=1, msgBody={**IMAGE, "width": "640"}),
             "msgBody.width must be an integer"),
            (chat(msgType=1, msgBody={"media_id": "m"}),
             "msgBody.media_crc32 is required in image messages"),
            (chat(msgType=7, msgBody={**LOCATION, "label": None}),
             "msgBody.label is required in location messages"),
            (chat(msgType=8, msgBody=[1]), "msgBody must be a JSON object"),
            (chat(msgType=8, msgBody=None), "msgBody must be a JSON object"),
            (chat(msgType=8, msgBody={"extras": 1}), "msgBody.extras must be an object"),
            (chat(msgType=8, msgBody={"x": "y" * 4096}),
             f"msgBody is over {jmessage.MAX_BODY_BYTES} bytes"),
        ]:
            self.assertEqual(refused(self, obj).detail, detail)

    def test_other_refusals(self):
        for obj in [
            chat(msgType=4, msgBody={}),  # J-IM's music: no JMessage body has it
            chat(msgType=9, msgBody={}),
            chat(msgType="image", msgBody=IMAGE),
            chat(msgType=1, msgBody=IMAGE, content="pic"),
            {"chatType": 2, "msgType": 1, "msgBody": IMAGE},  # no receiver
            chat(chatType=5, msgType=1, msgBody=IMAGE),
            chat(msgType=8, msgBody={}, extras=[1]),
        ]:
            refused(self, obj)

    @given(st.sampled_from(sorted(VALID)), json_objects)
    def test_a_valid_body_with_any_other_fields_is_itself_or_refused(self, msg_type, extra):
        """A valid body is sent as it is, whatever else the chat says (a refusal is a bad
        other field); and it is pushed with the msgType of its kind and its JSON as
        content (a text as its text)."""
        body = VALID[msg_type]
        obj = {**extra, "chatType": 2, "to": "bob", "msgType": msg_type, "msgBody": body}
        obj.pop("content", None)
        try:
            draft, _ = jim_body_chat.body_chat_draft(obj)
        except JimError as e:
            self.assertEqual(e.code, BAD_REQUEST)
            return
        self.assertEqual((draft.msg_type, draft.body, draft.target),
                         (jim_body_chat.BODY_KINDS[msg_type], body, "bob"))
        shown = jim_messages.to_jim(draft.msg_type, draft.body)
        if msg_type == 0:
            self.assertEqual(shown, (0, "hi"))
        else:
            self.assertEqual((shown[0], orjson.loads(shown[1])), (msg_type, body))

    @given(st.integers(-2, 130) | json_values, json_values)
    def test_any_type_and_body_is_a_checked_draft_or_a_refusal(self, msg_type, body):
        try:
            draft, _ = jim_body_chat.body_chat_draft(chat(msgType=msg_type, msgBody=body))
        except JimError as e:
            self.assertEqual(e.code, BAD_REQUEST)
            return
        self.assertIs(jmessage.check_body(draft.msg_type, draft.body), body)
        self.assertIn(draft.msg_type, jim_body_chat.BODY_KINDS.values())
        for media_id in jim_body_chat.media_ids(draft):
            self.assertIsInstance(media_id, str)

    @given(json_objects)
    def test_any_object_is_a_draft_or_a_refusal(self, obj):
        try:
            jim_body_chat.body_chat_draft({**obj, "msgBody": obj.get("msgBody")})
        except JimError as e:
            self.assertEqual(e.code, BAD_REQUEST)
