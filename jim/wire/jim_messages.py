# -*- test-case-name: tests.test_wire_jim_messages -*-
"""J-IM messages and the neutral model, both ways, without loss.

J-IM knows a message as ``msgType`` (0 text, 1 image, 2 voice, 3 video, 4 music, 5 news; jim
takes 0..127) and a ``content`` string; the neutral model as a JMessage ``msg_type`` and a JSON
``body``. A J-IM message maps to the neutral model and back unchanged (a Hypothesis property
checks it); a message from elsewhere (the REST API) is shown to J-IM clients as well as J-IM
can show it:

| J-IM msgType | neutral msg_type | body                                   |
|--------------|------------------|----------------------------------------|
| 0            | text             | {"text": content}                      |
| 1, 2, 3      | image, voice, video | {"content": content}                |
| 4, 5, 6..127 | custom           | {"content": content, "jim_msg_type": n} |

Back to J-IM: a text gives its ``text``, and a body of exactly the other shapes its msgType and
content again; any other
body (a JMessage image with its media_id, a location, a custom object) is sent with the msgType
of its kind (text 0, image 1, voice 2, video 3, file 6, location 7, custom 8) and its JSON text
as ``content``.
"""
import orjson

from jim import model

_TO_NEUTRAL = {1: model.IMAGE, 2: model.VOICE, 3: model.VIDEO}
_TO_JIM = {model.TEXT: 0, model.IMAGE: 1, model.VOICE: 2, model.VIDEO: 3, model.FILE: 6,
           model.LOCATION: 7, model.CUSTOM: 8}


def to_neutral(msg_type, content):
    """C{(msg_type, body)} of a J-IM message's C{msgType} (an int) and C{content} (a str)."""
    if msg_type == 0:
        return model.TEXT, {"text": content}
    kind = _TO_NEUTRAL.get(msg_type)
    if kind is not None:
        return kind, {"content": content}
    return model.CUSTOM, {"content": content, "jim_msg_type": msg_type}


def to_jim(msg_type, body):
    """C{(msgType, content)} of a neutral message's C{msg_type} and C{body}."""
    if msg_type == model.TEXT:
        text = body.get("text")
        if type(text) is str:  # a JMessage text's own extras go out as J-IM's extras
            return 0, text
    elif msg_type in (model.IMAGE, model.VOICE, model.VIDEO):
        content = body.get("content")
        if type(content) is str and len(body) == 1:
            return _TO_JIM[msg_type], content
    elif msg_type == model.CUSTOM:
        content = body.get("content")
        jim_type = body.get("jim_msg_type")
        if (type(content) is str and type(jim_type) is int and len(body) == 2
                and 0 <= jim_type <= 127 and jim_type not in (0, 1, 2, 3)):
            return jim_type, content
    return _TO_JIM.get(msg_type, 8), orjson.dumps(body).decode()
