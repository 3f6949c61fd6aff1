"""J-IM 3.0 JSON bodies: requests in (lenient, as J-IM's fastjson is), replies out.

Requests are parsed into frozen attrs values; each parser accepts numeric strings for integer
fields and J-IM 2.x spellings (``loginname``, ``group_id``, ``userid``) on input. A body that
cannot be read raises L{JimError}(BAD_REQUEST); the session answers it with the status code of
the command that failed, as J-IM would.
Replies are built as dicts and encoded once with orjson (compact, UTF-8, no ASCII escaping).
"""
import math
import re

import attr
import orjson

from jim import errors
from jim.errors import BAD_REQUEST, JimError
from jim.model import CHATROOM, FIRST_GID, GROUP, MAX_INT64, QUALIFIER, SINGLE, TEXT, Draft
from jim.wire import jim_messages, status

#: longest userId / groupId / token accepted, in UTF-8 bytes
MAX_NAME_BYTES = 128
MAX_TOKEN_BYTES = 1024
#: deepest nesting of arrays and objects in a chat's ``content`` or ``extras``: orjson reads
#: bodies nested up to 1024 levels, but writes (as chat_draft must) at most 254
MAX_NESTING = 254

#: a numeric string fastjson would read as an int (ASCII digits only: str.isdigit takes "²")
_INTEGER_TEXT = re.compile(r"-?[0-9]{1,19}")

CHAT_GROUP = 1
CHAT_PRIVATE = 2
CHAT_ROOM = 3  # jim's: a chat room's message, named by roomId


def loads(body):
    """Parse a body that must be a JSON object; JimError(BAD_REQUEST) otherwise."""
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise JimError(BAD_REQUEST, f"body is not valid UTF-8 JSON: {e.msg}") from None
    if type(obj) is not dict:
        raise JimError(BAD_REQUEST, "body must be a JSON object")
    return obj


# -- field readers -------------------------------------------------------------------------------


def _pick(obj, names):
    for name in names:
        value = obj.get(name)
        if value is not None:
            return name, value
    return names[0], None


def integer(obj, *names, default=None):
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
    raise JimError(BAD_REQUEST, f"{name} must be an integer")


def flag(obj, *names):
    """A boolean field: true, false, 1, 0 or absent (false)."""
    name, value = _pick(obj, names)
    if value is None or value is False or value == 0:
        return False
    if value is True or value == 1:
        return True
    raise JimError(BAD_REQUEST, f"{name} must be true or false")


def number(obj, *names):
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
    raise JimError(BAD_REQUEST, f"{name} must be a number")


def text(obj, *names, limit=None):
    """A string field; numbers are accepted and turned into their decimal text."""
    name, value = _pick(obj, names)
    if value is None:
        return None
    if type(value) is int:
        value = str(value)
    elif type(value) is not str:
        raise JimError(BAD_REQUEST, f"{name} must be a string")
    if limit is not None and len(value) > limit // 4 and len(value.encode()) > limit:
        raise JimError(BAD_REQUEST, f"{name} is longer than {limit} bytes")
    return value


def name(obj, *names, required=False):
    """A userId or groupId: 1..128 UTF-8 bytes, no control characters."""
    value = text(obj, *names, limit=MAX_NAME_BYTES)
    if not value:
        if required:
            raise JimError(BAD_REQUEST, f"{names[0]} is required")
        return None
    if not value.isprintable() or value != value.strip():
        raise JimError(BAD_REQUEST, f"{names[0]} must be printable without surrounding spaces")
    return value


# -- requests ------------------------------------------------------------------------------------


@attr.s(frozen=True, slots=True)
class LoginRequest:
    user_id = attr.ib()
    password = attr.ib()
    token = attr.ib()
    app_key = attr.ib()
    platform = attr.ib(default=None)  # JMessage's a/i/j/w, checked by the core's devices
    device_id = attr.ib(default=None)
    acks = attr.ib(default=False)  # the device acknowledges what it gets (cmd ACK_REQ)


def login_request(obj):
    return LoginRequest(
        user_id=name(obj, "userId", "loginname"),
        password=text(obj, "password", limit=MAX_NAME_BYTES),
        token=text(obj, "token", limit=MAX_TOKEN_BYTES),
        app_key=text(obj, "appKey", limit=64),
        platform=text(obj, "platform", limit=16) or None,
        device_id=text(obj, "deviceId", limit=MAX_NAME_BYTES) or None,
        acks=flag(obj, "acks"),
    )


#: a J-IM chat's Draft after its client id: a user's, and no options
_USER_DRAFT = tuple(Draft._field_defaults[field] for field in Draft._fields[6:])


def chat_draft(obj):
    """A cmd 11 body as the neutral L{Draft} the core sends, and the J-IM ``groupId`` of a
    group chat (None for a private one), whose gid the caller puts in the draft's target.
    chatType 1 needs a groupId, 2 a ``to``; ``from`` is ignored (the server decides who
    speaks)."""
    chat_type, to, group_id, msg_type, content, extras, client_id = _chat_fields(obj)
    if msg_type == 0:  # jim_messages.to_neutral's first case, without its call
        kind, body = TEXT, {"text": content}
    else:
        kind, body = jim_messages.to_neutral(msg_type, content)
    # _make with every field: a NamedTuple's own constructor costs twice as much
    if chat_type == CHAT_PRIVATE:
        return Draft._make((SINGLE, to, kind, body, extras, client_id) + _USER_DRAFT), None
    if chat_type == CHAT_ROOM:  # its room id is where a private chat's receiver is
        return Draft._make((CHATROOM, to, kind, body, extras, client_id) + _USER_DRAFT), None
    return Draft._make((GROUP, group_id, kind, body, extras, client_id) + _USER_DRAFT), group_id


def _chat_fields(obj):
    """The fields of a cmd 11 body: C{(chat_type, to, group_id, msg_type, content, extras,
    client_id)}, a plain tuple (cheap to make, for the hot path).

    The usual body (ints as ints, plain string ids) takes the short way through; anything else
    goes through the lenient field readers.
    """
    chat_type = obj.get("chatType")
    if type(chat_type) is not int:
        chat_type = integer(obj, "chatType")
    if chat_type != CHAT_PRIVATE and chat_type != CHAT_GROUP and chat_type != CHAT_ROOM:
        raise JimError(BAD_REQUEST, "chatType must be 1 (group), 2 (private) or 3 (chat room)")
    msg_type = obj.get("msgType", 0)
    if type(msg_type) is not int:
        msg_type = integer(obj, "msgType", default=0)
    if not 0 <= msg_type <= 127:
        raise JimError(BAD_REQUEST, "msgType must be between 0 and 127")
    content = obj.get("content")
    if type(content) is not str:
        # J-IM's content is a String; structured content is kept as its JSON text
        content = "" if content is None else _json_text(content, "content")
    extras = obj.get("extras")
    if extras is not None:
        if type(extras) is not dict:
            raise JimError(BAD_REQUEST, "extras must be a JSON object")
        extras = _json_text(extras, "extras")
    if chat_type == CHAT_GROUP:
        group_id = _quick_name(obj, "groupId") or name(
            obj, "groupId", "group_id", required=True
        )
        to = None
    elif chat_type == CHAT_ROOM:
        to, group_id = room_target(obj), None
    else:
        to = _quick_name(obj, "to") or name(obj, "to", required=True)
        group_id = None
    client_id = obj.get("id")
    if client_id is not None:
        client_id = text(obj, "id", limit=MAX_NAME_BYTES) or None
    return chat_type, to, group_id, msg_type, content, extras, client_id


def room_id(obj):
    """The C{roomId} of a body: a chat room's id, a positive integer (or its decimal text)."""
    value = obj.get("roomId")
    if type(value) is str and value.isdigit() and value.isascii() and len(value) <= 19:
        value = int(value)
    if type(value) is not int or not 0 < value < 2**63:
        raise JimError(BAD_REQUEST, "roomId must be a chat room's id (a positive integer)")
    return value


def room_target(obj):
    """The room a chat's C{roomId} names, as the core names it: its id's decimal, or
    another app's room, C{<appKey>:<id>} (L{jim.core.cross_rooms})."""
    value = obj.get("roomId")
    if type(value) is str and QUALIFIER in value:
        app_key, _, number = value.rpartition(QUALIFIER)
        if app_key and number.isdigit() and number.isascii() and len(number) <= 19 \
                and 0 < int(number) < 2**63:
            return f"{app_key}{QUALIFIER}{int(number)}"
    return str(room_id(obj))


def _json_text(value, field):
    """C{value}, a parsed JSON value, as its compact JSON text; JimError(BAD_REQUEST) if it is nested
    more than L{MAX_NESTING} levels deep, which orjson refuses to write."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        # Parsed JSON can only be too deep for orjson to write: every number it reads it can
        # write, and it refuses lone surrogates when reading.
        raise JimError(BAD_REQUEST, f"{field} is nested more than {MAX_NESTING} levels deep") from None


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
    return JoinRequest(
        group_id=name(obj, "groupId", "group_id", required=True),
        name=text(obj, "name", limit=256) or "",
        avatar=text(obj, "avatar", limit=1024) or "",
    )


@attr.s(frozen=True, slots=True)
class UserRequest:
    user_id = attr.ib()
    type = attr.ib()
    group_id = attr.ib()


USER_ONLINE, USER_OFFLINE, USER_ALL = 0, 1, 2


def user_request(obj):
    kind = integer(obj, "type", default=USER_ALL)
    if kind not in (USER_ONLINE, USER_OFFLINE, USER_ALL):
        raise JimError(BAD_REQUEST, "type must be 0 (online), 1 (offline) or 2 (all)")
    return UserRequest(
        user_id=name(obj, "userId", "userid"),
        type=kind,
        group_id=name(obj, "groupId", "group_id"),
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
    kind = integer(obj, "type")
    if kind not in (OFFLINE_MESSAGES, HISTORY_MESSAGES):
        raise JimError(BAD_REQUEST, "type must be 0 (offline) or 1 (history)")
    begin = number(obj, "beginTime")
    end = number(obj, "endTime")
    offset = integer(obj, "offset")
    count = integer(obj, "count")
    if offset is not None and not 0 <= offset <= MAX_INT64:
        raise JimError(BAD_REQUEST, "offset must be between 0 and 2**63-1")
    if count is not None and not 0 <= count <= MAX_INT64:
        raise JimError(BAD_REQUEST, "count must be between 0 and 2**63-1")
    for field, value in (("beginTime", begin), ("endTime", end)):
        if value is not None and not -MAX_INT64 <= value <= MAX_INT64:
            raise JimError(BAD_REQUEST, f"{field} must be epoch milliseconds")
    return MessageRequest(
        user_id=name(obj, "userId", "userid"),
        type=kind,
        from_user_id=name(obj, "fromUserId"),
        group_id=name(obj, "groupId", "group_id"),
        # inclusive bounds over whole milliseconds: a fractional one rounds inward
        begin=None if begin is None else math.ceil(begin),
        end=None if end is None else math.floor(end),
        offset=offset,
        count=count,
    )


def close_request(obj):
    """A cmd 14 body: the userId it names (only the caller may be named)."""
    return name(obj, "userId", "userid")


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


#: J-IM's JoinGroupResult of a refused join, for the refusals it has one for
_JOIN_RESULTS = {errors.GROUP_FULL: 3, errors.NO_SUCH_GROUP: 2}


def refusal(command, failure, error, client_id=None):
    """The J-IM reply (cmd C{command}) to a L{JimError}: the status code J-IM answers a failed
    command with (C{failure}: 10002 for a chat, 10008 for a login...), the error's detail as
    ``detail``, a chat's C{client_id} as ``data.clientId`` (where its acknowledgement carries
    it), and a refused join's J-IM ``result``."""
    data = None if client_id is None else {"clientId": client_id}
    result = _JOIN_RESULTS.get(error.code) if command == status.JOIN_GROUP_RESP else None
    return reply(command, failure, data, detail=error.detail, result=result)


#: a canonical decimal: no sign, no leading zero
_DECIMAL = re.compile(r"[1-9][0-9]*")
#: the largest gid a J-IM client names directly: above it, numbers JavaScript cannot read
_JS_SAFE = 2**53


def group_ref(group_id):
    """C{(gid, alias)}: how the core names the group a J-IM ``groupId`` names.

    - "100", a number below L{model.FIRST_GID} (J-IM's numbered groups): gid 100;
    - "10000005", a number a gid can have: gid 10000005 (a group made over REST), else a group
      an earlier version let a join make under that alias; a join makes no group under such a
      number, so that a J-IM client can never take the name of a gid the REST API hands out;
    - "g1", any other name: the group with that alias.
    """
    if _DECIMAL.fullmatch(group_id) and len(group_id) <= 16:
        number = int(group_id)
        if number < FIRST_GID:
            return number, None
        if number <= _JS_SAFE:
            return number, group_id
    return None, group_id


def jim_group_id(group_id, alias=None):
    """The ``groupId`` J-IM clients know a group by: its alias, else its gid in decimal."""
    return alias if alias is not None else str(group_id)


def chat_body(message, alias=None):
    """The ChatBody of a stored message, as pushed (cmd 11) and listed (cmd 20). A group
    message names its group by C{alias} when it has one."""
    content = message.body.get("text")
    if message.msg_type == TEXT and type(content) is str:  # to_jim's first case, without a call
        msg_type = 0
    else:
        msg_type, content = jim_messages.to_jim(message.msg_type, message.body)
    body = {
        "id": str(message.id),
        "cmd": status.CHAT_REQ,
        "from": message.sender,
        "createTime": message.created,
        "msgType": msg_type,
        "content": content,
    }
    if message.target_type == GROUP:
        body["chatType"] = CHAT_GROUP
        body["groupId"] = alias if alias is not None else message.target
    elif message.target_type == CHATROOM:
        body["chatType"] = CHAT_ROOM
        target = message.target  # a room id's digits, as stored
        body["roomId"] = int(target) if target.isdigit() and target.isascii() else target
    else:
        body["chatType"] = CHAT_PRIVATE
        body["to"] = message.target
    extras = message.extras
    if extras is not None:
        body["extras"] = orjson.Fragment(extras)
    elif type(message.body.get("extras")) is dict:  # a JMessage body's own extras
        body["extras"] = message.body["extras"]
    if message.client_id is not None:
        body["clientId"] = message.client_id
    return body


def chat_ack(code, message, content=None):
    """The cmd 12 reply to a stored chat: C{reply(CHAT_RESP, code, data={"id": str(id),
    "createTime": created, "clientId"?, "content"?})}, byte for byte. C{content}: the text
    stored, when it is not the one sent (sensitive words masked). Sent for every chat, so the
    usual one (an int time, no client id, the text as sent) is a bytes template rather than a
    dict to encode."""
    head = _ACK_HEADS.get(code)
    created = message.created
    if head is None or message.client_id is not None or type(created) is not int \
            or content is not None:
        data = {"id": str(message.id), "createTime": created}
        if message.client_id is not None:
            data["clientId"] = message.client_id
        if content is not None:
            data["content"] = content
        return reply(status.CHAT_RESP, code, data=data)
    return head + b'%d","createTime":%d}}' % (message.id, created)


#: code -> the start of chat_ack's reply, up to the id's opening quote
_ACK_HEADS = {
    code: reply(status.CHAT_RESP, code, data={"id": ""})[: -len(b'"}}')]
    for code in (status.OK, status.OFFLINE)
}


def push(message, alias=None):
    """The cmd 11 push of a message, encoded once for every recipient."""
    return orjson.dumps({"command": status.CHAT_REQ, "data": chat_body(message, alias)})


def pushes(messages, alias=None):
    """L{push} of each of C{messages}, byte for byte. A run's (one sender's private texts to
    one user, made together: jim.core.message_runs) share everything but their ids and texts,
    so the rest is encoded once."""
    first = messages[0]
    sender, target, created = first.sender, first.target, first.created
    for message in messages:
        body = message.body
        if (message.target_type != SINGLE or message.msg_type != TEXT or len(body) != 1
                or type(body.get("text")) is not str or message.extras is not None
                or message.client_id is not None or message.sender != sender
                or message.target != target or message.created != created
                or type(created) is not int):
            return [push(message, alias) for message in messages]
    head = b'{"command":11,"data":{"id":"'
    middle = b'","cmd":11,"from":%b,"createTime":%d,"msgType":0,"content":' % (
        orjson.dumps(sender), created)
    tail = b',"chatType":2,"to":%b}}' % orjson.dumps(target)
    dumps = orjson.dumps
    return [b"%b%d%b%b%b" % (head, message.id, middle, dumps(message.body["text"]), tail)
            for message in messages]


def user_json(user, online, terminal=None):
    """A J-IM User (without friends/groups) of a L{jim.model.User} or anything with its
    username, nickname, avatar and signature."""
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


def card_json(card):
    """A J-IM User of a L{jim.model.UserCard} (an event's view of a user)."""
    return user_json(card, card.online, card.terminal)


def group_json(group, users=None, online=None):
    group_id = jim_group_id(group.gid, group.alias)
    obj = {"groupId": group_id, "name": group.name or group_id, "avatar": group.avatar}
    if users is not None:
        obj["users"] = users
    if online is not None:
        obj["online"] = online
    return obj
