# -*- test-case-name: tests.test_wire_jim_body_chat -*-
"""A cmd 11 that carries a JMessage message body (``msgBody``) in place of J-IM's ``content``:
how a client sends an image, a voice, a video, a file, a location or a custom message.
Pure code.

``msgType`` names the body's kind (L{BODY_KINDS}); the body is checked by the rules and
limits of the REST API's ``msg_body`` (L{jmessage.check_body}). Everything else of the chat
(``chatType``, ``to``, ``groupId``, ``roomId``, ``extras``, ``id``) is read as for any chat
(L{jimjson.chat_draft}). Such a message is pushed as J-IM shows a JMessage body
(L{jim_messages.to_jim}): the ``msgType`` of its kind, its JSON text as ``content``.
"""
from jim import model
from jim.errors import BAD_REQUEST, JimError
from jim.wire import jimjson, jmessage

#: the J-IM msgType of a chat with a body -> the JMessage msg_type of its body
BODY_KINDS = {0: model.TEXT, 1: model.IMAGE, 2: model.VOICE, 3: model.VIDEO, 6: model.FILE,
              7: model.LOCATION, 8: model.CUSTOM}
#: the request's name of the body, in refusals
FIELD = "msgBody"


def body_chat_draft(obj):
    """C{(draft, group_id)} of a cmd 11 with a C{msgBody}, as L{jimjson.chat_draft} gives
    them: the neutral L{model.Draft} (its body the checked message body, its msg_type the
    body's kind) and the J-IM ``groupId`` of a group chat (None otherwise).
    JimError(BAD_REQUEST) for a bad one."""
    if obj.get("content") is not None:
        raise JimError(BAD_REQUEST, f"a chat carries content or {FIELD}, not both")
    msg_type = jimjson.integer(obj, "msgType", default=0)
    kind = BODY_KINDS.get(msg_type)
    if kind is None:
        raise JimError(BAD_REQUEST, f"with {FIELD}, msgType must be 0 (text), 1 (image),"
                       " 2 (voice), 3 (video), 6 (file), 7 (location) or 8 (custom)")
    body = jmessage.check_body(kind, obj[FIELD], FIELD)
    rest = {key: value for key, value in obj.items()
            if key not in (FIELD, "msgType", "content")}
    draft, group_id = jimjson.chat_draft(rest)
    return draft._replace(msg_type=kind, body=body), group_id


def media_ids(draft):
    """The media ids the body of a draft names (each must be an upload of its app)."""
    return jmessage.media_ids_of(draft.msg_type, draft.body)
