# -*- test-case-name: tests.test_web_rest_params,tests.integration.test_rest_messages -*-
"""JMessage's message bodies (reference section 4.2), checked as its REST API and SDKs send
them: each ``msg_type`` with the fields it must have, of the types they must be. Pure code.

``extras`` (an object) is allowed in every body; a custom body is any object. The body as a
whole is at most L{MAX_BODY_BYTES} of compact JSON.
"""
import orjson

from jim import model
from jim.errors import BAD_REQUEST, JimError

MAX_BODY_BYTES = 4096

_STR, _INT, _NUM = "a string", "an integer", "a number"
_FILE = {"media_id": _STR, "media_crc32": _INT, "fsize": _INT, "fname": _STR}
_IMAGE = {"media_id": _STR, "media_crc32": _INT, "width": _INT, "height": _INT,
          "format": _STR, "fsize": _INT}
#: msg_type -> {required field: its kind}
REQUIRED = {
    model.TEXT: {"text": _STR},
    model.IMAGE: _IMAGE,
    model.VOICE: {"media_id": _STR, "media_crc32": _INT, "duration": _NUM, "fsize": _INT},
    model.FILE: _FILE,
    model.LOCATION: {"latitude": _NUM, "longitude": _NUM, "scale": _NUM},
    model.VIDEO: {"video": _FILE, "duration": _NUM},
    model.CUSTOM: {},
}
#: msg_type -> {optional field: its kind}
OPTIONAL = {
    model.IMAGE: {"hash": _STR},
    model.VOICE: {"format": _STR, "hash": _STR},
    model.FILE: {"hash": _STR},
    model.VIDEO: {"thumb": _IMAGE},
}


def _bad(detail):
    return JimError(BAD_REQUEST, detail)


def _check(value, kind, field):
    if type(kind) is dict:
        if type(value) is not dict:
            raise _bad(f"{field} must be an object")
        for name, inner in kind.items():
            if name not in value:
                raise _bad(f"{field}.{name} is required")
            _check(value[name], inner, f"{field}.{name}")
        return
    kinds = {_STR: (str,), _INT: (int,), _NUM: (int, float)}[kind]
    if type(value) not in kinds:
        raise _bad(f"{field} must be {kind}")


def check_body(msg_type, body, field="msg_body"):
    """C{body} if it is a valid body of C{msg_type}; JimError(BAD_REQUEST) saying what is
    wrong otherwise, naming the body C{field} (what the request calls it)."""
    if msg_type not in REQUIRED:
        raise _bad(f"msg_type must be one of {', '.join(model.MSG_TYPES)}")
    if type(body) is not dict:
        raise _bad(f"{field} must be a JSON object")
    for name, kind in REQUIRED[msg_type].items():
        if name not in body:
            raise _bad(f"{field}.{name} is required in {msg_type} messages")
        _check(body[name], kind, f"{field}.{name}")
    for name, kind in OPTIONAL.get(msg_type, {}).items():
        if body.get(name) is not None:
            _check(body[name], kind, f"{field}.{name}")
    if msg_type == model.LOCATION:
        label = body.get("label", body.get("lable"))  # the spec spells it lable
        if type(label) is not str:
            raise _bad(f"{field}.label is required in location messages")
    if "extras" in body and type(body["extras"]) is not dict:
        raise _bad(f"{field}.extras must be an object")
    try:
        size = len(orjson.dumps(body))
    except orjson.JSONEncodeError:
        raise _bad(f"{field} cannot be stored as JSON") from None
    if size > MAX_BODY_BYTES:
        raise _bad(f"{field} is over {MAX_BODY_BYTES} bytes")
    return body


def media_ids_of(msg_type, body):
    """The media ids a valid body of C{msg_type} (L{check_body}) names: an image's, a
    voice's or a file's C{media_id}; a video's file and its thumbnail's. A custom body names
    none (its fields are its app's own)."""
    if msg_type in (model.IMAGE, model.VOICE, model.FILE):
        return (body["media_id"],)
    if msg_type == model.VIDEO:
        thumb = body.get("thumb")
        return (body["video"]["media_id"],) + (() if thumb is None else (thumb["media_id"],))
    return ()
