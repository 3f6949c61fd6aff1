"""J-IM 3.0 JSON bodies: requests in (lenient, as J-IM's fastjson is), replies out.

Requests are parsed into frozen attrs values; each parser accepts numeric strings for integer
fields and J-IM 2.x spellings (``loginname``, ``group_id``, ``userid``) on input. A body that
cannot be read raises L{JimError} with the status code J-IM would answer with.
Replies are built as dicts and encoded once with orjson (compact, UTF-8, no ASCII escaping).
"""
import copy
import math
import re

import attr
import orjson

from jim.errors import JimError
from jim.model import GROUP, MAX_INT64
from jim.wire import status

#: longest userId / groupId / token accepted, in UTF-8 bytes
MAX_NAME_BYTES = 128
MAX_TOKEN_BYTES = 1024
#: deepest nesting of arrays and objects in a chat's ``content`` or ``extras``: orjson reads
#: bodies nested up to 1024 levels, but writes (as chat_request must) at most 254
MAX_NESTING = 254

#: a numeric string fastjson would read as an int (ASCII digits only: str.isdigit takes "²")
_INTEGER_TEXT = re.compile(r"-?[0-9]{1,19}")

CHAT_GROUP = 1
CHAT_PRIVATE = 2


def loads(body, code=status.INVALID):
    """Parse a body that must be a JSON object; JimError(code) otherwise."""
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise JimError(code, f"body is not valid UTF-8 JSON: {e.msg}") from None
    if type(obj) is not dict:
        raise JimError(code, "body must be a JSON object")
    return obj


def dumps(obj):
    return orjson.dumps(obj)


# -- field readers -------------------------------------------------------------------------------


def _pick(obj, names):
    for name in names:
        value = obj.get(name)
        if value is not None:
            return name, value
    return names[0], None


def integer(obj, *names, code=status.INVALID, default=None):
    """An integer field, accepting numeric strings ("2") as fastjson does; booleans are refused."""
    name, value = _pick(obj, names)
    if value is None or value == "":
        return default
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is str:
        text = value.strip()
        if _INTEGER_TEXT.fullmatch(text):
            return int(text)
    raise JimError(code, f"{name} must be an integer")


def number(obj, *names, code=status.INVALID):
    """A number field (J-IM's beginTime/endTime are Doubles), accepting numeric strings."""
    name, value = _pick(obj, names)
    if value is None or value == "":
        return None
    if type(value) in (int, float):
        return value
    if type(value) is str:
        try:
            parsed = float(value)
        except ValueError:
            parsed = math.nan
        if math.isfinite(parsed):  # "nan", "inf" and "1e400" are no time
            return parsed
    raise JimError(code, f"{name} must be a number")


def text(obj, *names, code=status.INVALID, limit=None):
    """A string field; numbers are accepted and turned into their decimal text."""
    name, value = _pick(obj, names)
    if value is None:
        return None
    if type(value) is int:
        value = str(value)
    elif type(value) is not str:
        raise JimError(code, f"{name} must be a string")
    if limit is not None and len(value) > limit // 4 and len(value.encode()) > limit:
        raise JimError(code, f"{name} is longer than {limit} bytes")
    return value


def name(obj, *names, code=status.INVALID, required=False):
    """A userId or groupId: 1..128 UTF-8 bytes, no control characters."""
    value = text(obj, *names, code=code, limit=MAX_NAME_BYTES)
    if not value:
        if required:
            raise JimError(code, f"{names[0]} is required")
        return None
    if not value.isprintable() or value != value.strip():
        raise JimError(code, f"{names[0]} must be printable without surrounding spaces")
    return value


# -- requests ------------------------------------------------------------------------------------


@attr.s(frozen=True, slots=True)
class LoginRequest:
    user_id = attr.ib()
    password = attr.ib()
    token = attr.ib()
    app_key = attr.ib()


def login_request(obj):
    code = status.LOGIN_FAILED
    return LoginRequest(
        user_id=name(obj, "userId", "loginname", code=code),
        password=text(obj, "password", code=code, limit=MAX_NAME_BYTES),
        token=text(obj, "token", code=code, limit=MAX_TOKEN_BYTES),
        app_key=text(obj, "appKey", code=code, limit=64),
    )


@attr.s(frozen=True, slots=True)
class ChatRequest:
    chat_type = attr.ib()
    to = attr.ib()
    group_id = attr.ib()
    msg_type = attr.ib()
    content = attr.ib()
    extras = attr.ib()  # compact JSON text or None
    client_id = attr.ib()


def chat_request(obj):
    """A cmd 11 body. chatType 1 needs a groupId, 2 a ``to``; ``from`` is ignored (the server
    decides who speaks).

    The usual body (ints as ints, plain string ids) takes the short way through; anything else
    goes through the lenient field readers.
    """
    code = status.SEND_FAILED
    chat_type = obj.get("chatType")
    if type(chat_type) is not int:
        chat_type = integer(obj, "chatType", code=code)
    if chat_type != CHAT_PRIVATE and chat_type != CHAT_GROUP:
        raise JimError(code, "chatType must be 1 (group) or 2 (private)")
    msg_type = obj.get("msgType", 0)
    if type(msg_type) is not int:
        msg_type = integer(obj, "msgType", code=code, default=0)
    if not 0 <= msg_type <= 127:
        raise JimError(code, "msgType must be between 0 and 127")
    content = obj.get("content")
    if type(content) is not str:
        # J-IM's content is a String; structured content is kept as its JSON text
        content = "" if content is None else _json_text(content, "content", code)
    extras = obj.get("extras")
    if extras is not None:
        if type(extras) is not dict:
            raise JimError(code, "extras must be a JSON object")
        extras = _json_text(extras, "extras", code)
    if chat_type == CHAT_GROUP:
        group_id = _quick_name(obj, "groupId") or name(
            obj, "groupId", "group_id", code=code, required=True
        )
        to = None
    else:
        to = _quick_name(obj, "to") or name(obj, "to", code=code, required=True)
        group_id = None
    client_id = obj.get("id")
    if client_id is not None:
        client_id = text(obj, "id", code=code, limit=MAX_NAME_BYTES) or None
    return ChatRequest(chat_type, to, group_id, msg_type, content, extras, client_id)


def _json_text(value, field, code):
    """C{value}, a parsed JSON value, as its compact JSON text; JimError(code) if it is nested
    more than L{MAX_NESTING} levels deep, which orjson refuses to write."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        # Parsed JSON can only be too deep for orjson to write: every number it reads it can
        # write, and it refuses lone surrogates when reading.
        raise JimError(code, f"{field} is nested more than {MAX_NESTING} levels deep") from None


def _quick_name(obj, key):
    """C{obj[key]} if it is an ordinary short name (the usual case), else None."""
    value = obj.get(key)
    if type(value) is str and 0 < len(value) <= 32 and value.isalnum() and value.isascii():
        return value
    return None


@attr.s(frozen=True, slots=True)
class JoinRequest:
    group_id = attr.ib()
    name = attr.ib()
    avatar = attr.ib()


def join_request(obj):
    code = status.JOIN_FAILED
    return JoinRequest(
        group_id=name(obj, "groupId", "group_id", code=code, required=True),
        name=text(obj, "name", code=code, limit=256) or "",
        avatar=text(obj, "avatar", code=code, limit=1024) or "",
    )


@attr.s(frozen=True, slots=True)
class UserRequest:
    user_id = attr.ib()
    type = attr.ib()
    group_id = attr.ib()


USER_ONLINE, USER_OFFLINE, USER_ALL = 0, 1, 2


def user_request(obj):
    code = status.GET_USER_FAILED
    kind = integer(obj, "type", code=code, default=USER_ALL)
    if kind not in (USER_ONLINE, USER_OFFLINE, USER_ALL):
        raise JimError(code, "type must be 0 (online), 1 (offline) or 2 (all)")
    return UserRequest(
        user_id=name(obj, "userId", "userid", code=code),
        type=kind,
        group_id=name(obj, "groupId", "group_id", code=code),
    )


@attr.s(frozen=True, slots=True)
class MessageRequest:
    user_id = attr.ib()
    type = attr.ib()
    from_user_id = attr.ib()
    group_id = attr.ib()
    begin = attr.ib()
    end = attr.ib()
    offset = attr.ib()
    count = attr.ib()


OFFLINE_MESSAGES, HISTORY_MESSAGES = 0, 1


def message_request(obj):
    code = status.GET_MESSAGE_FAILED
    kind = integer(obj, "type", code=code)
    if kind not in (OFFLINE_MESSAGES, HISTORY_MESSAGES):
        raise JimError(code, "type must be 0 (offline) or 1 (history)")
    begin = number(obj, "beginTime", code=code)
    end = number(obj, "endTime", code=code)
    offset = integer(obj, "offset", code=code)
    count = integer(obj, "count", code=code)
    if offset is not None and not 0 <= offset <= MAX_INT64:
        raise JimError(code, "offset must be between 0 and 2**63-1")
    if count is not None and not 0 <= count <= MAX_INT64:
        raise JimError(code, "count must be between 0 and 2**63-1")
    for field, value in (("beginTime", begin), ("endTime", end)):
        if value is not None and not -MAX_INT64 <= value <= MAX_INT64:
            raise JimError(code, f"{field} must be epoch milliseconds")
    return MessageRequest(
        user_id=name(obj, "userId", "userid", code=code),
        type=kind,
        from_user_id=name(obj, "fromUserId", code=code),
        group_id=name(obj, "groupId", "group_id", code=code),
        # inclusive bounds over whole milliseconds: a fractional one rounds inward
        begin=None if begin is None else math.ceil(begin),
        end=None if end is None else math.floor(end),
        offset=offset,
        count=count,
    )


def close_request(obj):
    """A cmd 14 body: the userId it names (only the caller may be named)."""
    return name(obj, "userId", "userid", code=status.INVALID)


# -- replies -------------------------------------------------------------------------------------


def reply(command, code=None, data=None, **extra):
    """A RespBody: ``{"code"?, "command", "data"?, "msg"?}`` plus extra top-level fields, encoded."""
    obj = {}
    if code is not None:
        obj["code"] = code
        obj["msg"] = status.message(code)
    obj["command"] = command
    if data is not None:
        obj["data"] = data
    for key, value in extra.items():
        if value is not None:
            obj[key] = value
    return orjson.dumps(obj)


def chat_client_id(obj):
    """The client's ``id`` of a chat body as its acknowledgement would carry it, or None when it
    has none or it is unusable. Never raises: it names the chat in a refusal."""
    try:
        return text(obj, "id", limit=MAX_NAME_BYTES) or None
    except JimError:
        return None


def name_chat(error, client_id):
    """C{error}, a chat's refusal, carrying the chat's C{client_id} as ``data.clientId`` (where
    an acknowledgement carries it): a copy, since one error may answer several callers (all
    waiting on the same failed read, say). C{error} itself when C{client_id} is None."""
    if client_id is None:
        return error
    named = copy.copy(error)  # every attribute, whatever JimError comes to carry
    named.extra = {**(error.extra or {}), "data": {"clientId": client_id}}
    return named


def refusal(error, failure, client_id=None):
    """C{error} as J-IM can answer it, never C{error} itself changed (one error may answer
    several callers): a code J-IM has no text for (a store failure, 899000; a bad query
    argument, 899003) becomes the command's own C{failure} code, and a chat's C{client_id}
    rides along as ``data.clientId``."""
    if error.code not in status.MESSAGES:
        error = JimError(failure, error.detail, error.http_status, error.command, error.close,
                         error.extra)
    return name_chat(error, client_id)


def error_reply(command, error):
    """The reply for a JimError on the J-IM wire: its status, its detail as ``detail``, and its
    extra fields (``data`` among them, in its usual place)."""
    extra = dict(error.extra or ())
    data = extra.pop("data", None)
    return reply(command, error.code, data, detail=error.detail, **extra)


def chat_body(message):
    """The ChatBody of a stored message, as pushed (cmd 11) and listed (cmd 20)."""
    body = {
        "id": str(message.id),
        "cmd": status.CHAT_REQ,
        "from": message.sender,
        "createTime": message.created,
        "msgType": message.msg_type,
        "content": message.content,
    }
    if message.target_type == GROUP:
        body["chatType"] = CHAT_GROUP
        body["groupId"] = message.target
    else:
        body["chatType"] = CHAT_PRIVATE
        body["to"] = message.target
    if message.extras is not None:
        body["extras"] = orjson.Fragment(message.extras)
    if message.client_id is not None:
        body["clientId"] = message.client_id
    return body


def chat_ack(code, message):
    """The cmd 12 reply to a stored chat: C{reply(CHAT_RESP, code, data={"id": str(id),
    "createTime": created, "clientId"?})}, byte for byte. Sent for every chat, so the usual
    one (an int time, no client id) is a bytes template rather than a dict to encode."""
    head = _ACK_HEADS.get(code)
    created = message.created
    if head is None or message.client_id is not None or type(created) is not int:
        data = {"id": str(message.id), "createTime": created}
        if message.client_id is not None:
            data["clientId"] = message.client_id
        return reply(status.CHAT_RESP, code, data=data)
    return head + b'%d","createTime":%d}}' % (message.id, created)


#: code -> the start of chat_ack's reply, up to the id's opening quote
_ACK_HEADS = {
    code: reply(status.CHAT_RESP, code, data={"id": ""})[: -len(b'"}}')]
    for code in (status.OK, status.OFFLINE)
}


def push(message):
    """The cmd 11 push of a message, encoded once for every recipient."""
    return orjson.dumps({"command": status.CHAT_REQ, "data": chat_body(message)})


def user_json(user, online, terminal=None):
    """A J-IM User (without friends/groups)."""
    obj = {
        "userId": user.username,
        "nick": user.nickname or user.username,
        "avatar": user.avatar,
        "status": "online" if online else "offline",
    }
    if user.signature:
        obj["sign"] = user.signature
    if terminal:
        obj["terminal"] = terminal
    return obj


def group_json(group, users=None, online=None):
    obj = {"groupId": group.gid, "name": group.name or group.gid, "avatar": group.avatar}
    if users is not None:
        obj["users"] = users
    if online is not None:
        obj["online"] = online
    return obj
