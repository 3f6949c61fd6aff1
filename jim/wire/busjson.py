# -*- test-case-name: tests.test_wire_busjson -*-
"""The one wire form of what crosses the bus (L{jim.model.BUS_VALUES}): C{NAME JSON}.

A bus between nodes carries these bytes; L{decode} of L{encode} gives back an equal value for
every value the core can make (a Hypothesis property checks it). Pure functions, no I/O.

The delivery of a message, nearly everything a cluster's bus carries, is C{message [app,
recipients, exclude, alias, <the message's fields>]}: one flat array, cheaper to write and to
read than an object. Any other delivery (an event's) is C{delivery {...}}, an object, which is
also read for a message (as nodes before the flat form wrote it). A message published by the
Redis store with its commit is C{stored [id, [<the message's fields from its sender on>],
[app, recipients, exclude, alias, origin, told]]}: the store writes it around the message's
JSON as it keeps it (L{stored_delivery_tail}); L{decode_stored} reads it with what its
receiver needs to send it on (C{origin}, the node that announced it; C{told}, the nodes that
got a part), L{decode} without. A tail of only the first four (from nodes of an earlier
version) is read too. The delivery of a run of messages (its item the tuple of them, L{jim.core.
messages.Messages.send_run_then}) is C{messages [app, recipients, exclude, alias, [<the first
message's fields>], [<the next one's>], ...]}, two messages or more.
"""
import itertools
import typing

import attr
import orjson

from jim import model
from jim.errors import BAD_REQUEST, JimError


def _wire_types(declared):
    """The JSON types (as parsed) a field the model declares as C{declared} arrives as."""
    if typing.get_origin(declared) is typing.Union:  # Optional[X]
        return tuple(t for arg in typing.get_args(declared) for t in _wire_types(arg))
    return (list,) if declared is tuple else (declared,)


#: field name -> the JSON types it may arrive as, in the model's field order
_MESSAGE_TYPES = {name: _wire_types(t) for name, t in typing.get_type_hints(model.Message).items()}
_EVENT_TYPES = {a.name: _wire_types(a.type) for a in attr.fields(model.Event)}
_CARD_TYPES = {a.name: _wire_types(a.type) for a in attr.fields(model.UserCard)}
_INVALIDATE_TYPES = {a.name: _wire_types(a.type) for a in attr.fields(model.Invalidate)}
_TEXT = (str,)
_OPTIONAL_TEXT = (str, type(None))
_DELIVERY_TYPES = {"app": _TEXT, "to": (list,), "exclude": _OPTIONAL_TEXT,
                   "alias": _OPTIONAL_TEXT}
_KICK_TYPES = {"app": _TEXT, "user": _TEXT, "reason": _TEXT, "event": (dict, type(None)),
               "keep": _OPTIONAL_TEXT, "device": _OPTIONAL_TEXT}

# What the fast path of a delivery of a message checks in one look-up each: the keys, and the
# tuple of the JSON types of the message's fields (one per combination of Nones the model
# allows). Anything else takes the field-by-field path, which says what is wrong.
_MESSAGE_DELIVERY_KEYS = frozenset([*_DELIVERY_TYPES, "message"])
_MESSAGE_KINDS = frozenset(itertools.product(*_MESSAGE_TYPES.values()))
_DELIVERY_KINDS = frozenset(itertools.product(*_DELIVERY_TYPES.values()))
#: the JSON types of an ordinary message's fields (a user's text, no options): compared first,
#: by identity, before the hash of a look-up in _MESSAGE_KINDS
_ORDINARY_KIND = (int, str, str, str, str, str, dict, type(None), type(None), int, str,
                  type(None), bool, bool, bool)
assert _ORDINARY_KIND in _MESSAGE_KINDS
#: the same, of a message's fields from its sender on (the stored form's, L{_stored})
_ORDINARY_STORED_KIND = _ORDINARY_KIND[2:]
_STORED_KINDS = frozenset(kind[2:] for kind in _MESSAGE_KINDS)
assert all(kind[:2] == (int, str) for kind in _MESSAGE_KINDS)  # the id and the app, said apart
_FLAT_LENGTH = len(_DELIVERY_TYPES) + len(_MESSAGE_TYPES)
_new = tuple.__new__


def encode(value):
    """The bytes of a Delivery, Kick, Invalidate or RateUsage."""
    kind = type(value)
    if kind is model.Delivery:
        app, item, recipients, exclude, alias = value
        if type(item) is model.Message:
            return b"message " + orjson.dumps((app, recipients, exclude, alias) + item)
        if type(item) is model.RUN:  # a run of messages
            if len(item) < 2 or not all(type(m) is model.Message for m in item):
                raise TypeError(f"not a run of messages: {item!r}")
            return b"messages " + orjson.dumps((app, recipients, exclude, alias,
                                                *map(tuple, item)))
        body = {"app": value.app, "to": value.recipients, "exclude": value.exclude,
                "alias": value.alias, **_item(value.item)}
        return b"delivery " + orjson.dumps(body)
    if kind is model.Kick:
        body = {"app": value.app, "user": value.username, "reason": value.reason,
                "event": None if value.event is None else _event(value.event),
                "keep": value.keep, "device": value.device}
        return b"kick " + orjson.dumps(body)
    if kind is model.Invalidate:
        body = [value.area, value.app, value.key, value.origin]
        return b"invalidate " + orjson.dumps(body)
    if kind is model.RateUsage:
        return b"rates " + orjson.dumps([value.origin, value.entries])
    raise TypeError(f"not a bus value: {value!r}")


def stored_delivery_tail(app, recipients, exclude, alias, origin, told):
    """The end of the C{stored} form of the delivery of a message of C{app} to C{recipients}:
    C{b"stored [" + b"%d" % id + b"," + json + b"," + tail + b"]"}, where C{json} is
    C{orjson.dumps(message[2:])} (the message's fields from its sender on, as the Redis store
    keeps them), is a delivery L{decode_stored} reads. A store that gives the id writes it so,
    without decoding the message (L{jim.bus.redis.RedisBus.announcement}). C{origin}: the
    node that announced it; C{told}: the nodes that get a part of it."""
    return orjson.dumps((app, recipients, exclude, alias, origin, told))


def _item(item):
    if type(item) is model.Message:
        return {"message": list(item)}
    return {"event": _event(item)}


def _event(event):
    body = {name: getattr(event, name) for name in _EVENT_TYPES}
    body["users"] = [[getattr(card, name) for name in _CARD_TYPES] for card in event.users]
    return body


def encode_event(event):
    """The bytes of one L{model.Event} on its own (how a store keeps one)."""
    return orjson.dumps(_event(event))


def decode_event(data):
    """The L{model.Event} of L{encode_event}'s bytes; JimError(BAD_REQUEST) for anything else."""
    return _decode_event(_parsed(data))


def decode(data):
    """The value L{encode} made these bytes of; JimError(BAD_REQUEST) for anything else, a
    field of another JSON type than the model's included (a text where recipients go)."""
    name, _, rest = bytes(data).partition(b" ")
    body = _parsed(rest)
    if name == b"message":
        return _flat_message_delivery(body)
    if name == b"messages":
        return _run_delivery(body)
    if name == b"stored":
        return _stored(body)[0]
    if name == b"delivery":
        delivery = _message_delivery(body)
        if delivery is not None:
            return delivery
        items = [key for key in ("message", "event") if type(body) is dict and key in body]
        if len(items) != 1:
            raise _malformed("a delivery has a message or an event")
        fields = _fields("delivery", {k: v for k, v in body.items() if k != items[0]},
                         _DELIVERY_TYPES)
        if items == ["message"]:
            message = body["message"]
            if type(message) is not list or len(message) != len(_MESSAGE_TYPES):
                raise _malformed(f"a message is a list of {len(_MESSAGE_TYPES)} fields")
            item = model.Message(**_fields("message", dict(zip(_MESSAGE_TYPES, message)),
                                           _MESSAGE_TYPES))
        else:
            item = _decode_event(body["event"])
        if not _texts(fields["to"]):
            raise _malformed("delivery recipients are usernames")
        return model.Delivery(fields["app"], item, tuple(fields["to"]), fields["exclude"],
                              fields["alias"])
    if name == b"kick":
        if type(body) is dict and "device" not in body:  # a node from before devices
            body["device"] = None
        fields = _fields("kick", body, _KICK_TYPES)
        event = fields["event"]
        return model.Kick(fields["app"], fields["user"], fields["reason"],
                          None if event is None else _decode_event(event), fields["keep"],
                          fields["device"])
    if name == b"invalidate":
        if type(body) is not list or len(body) != len(_INVALIDATE_TYPES):
            raise _malformed(f"an invalidation is a list of {len(_INVALIDATE_TYPES)} texts")
        return model.Invalidate(**_fields("invalidate", dict(zip(_INVALIDATE_TYPES, body)),
                                          _INVALIDATE_TYPES))
    if name == b"rates":
        return _rate_usage(body)
    raise _malformed(f"unknown bus value {name[:32]!r}")


def decode_stored(data):
    """C{(delivery, origin, told)} of the bytes of a C{stored} form (see
    L{stored_delivery_tail}); C{origin} None (and C{told} empty) for a tail of four (a node
    of an earlier version). JimError(BAD_REQUEST) for anything else."""
    name, _, rest = bytes(data).partition(b" ")
    if name != b"stored":
        raise _malformed("not a stored message's delivery")
    return _stored(_parsed(rest))


def _parsed(data):
    """The JSON value of C{data}; JimError(BAD_REQUEST) if it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise _malformed(f"not JSON: {e}") from None


def _stored(body):
    """C{[id, [the fields from sender on], [app, to, exclude, alias(, origin, told)]]}.

    The usual body (every value as the model says, a tail of six) is checked and built here in
    one pass: this runs for every delivery a node is sent by another. Anything else takes
    L{_checked_stored}, which says what is wrong."""
    if type(body) is list and len(body) == 3:
        message_id, fields, tail = body
        if type(message_id) is int and type(fields) is list and type(tail) is list \
                and len(tail) == 6:
            app, to, exclude, alias, origin, told = tail
            kind = tuple(map(type, fields))
            # (_DELIVERY_KINDS spelled out: a tuple and its look-up cost this path more)
            if (kind == _ORDINARY_STORED_KIND or kind in _STORED_KINDS) \
                    and type(app) is str and type(to) is list and type(origin) is str \
                    and type(told) is list and (exclude is None or type(exclude) is str) \
                    and (alias is None or type(alias) is str) \
                    and _texts(to) and _texts(told):
                message = _new(model.Message, (message_id, app, *fields))
                return _new(model.Delivery, (app, message, tuple(to), exclude, alias)), \
                    origin, told
    return _checked_stored(body)


def _texts(values):
    """Whether every one of C{values} (a list) is a text."""
    for value in values:
        if type(value) is not str:
            return False
    return True


def _checked_stored(body):
    """L{_stored}, field by field."""
    if (type(body) is not list or len(body) != 3 or type(body[1]) is not list
            or type(body[2]) is not list or len(body[2]) not in (4, 6)):
        raise _malformed("a stored message's delivery is [id, [fields], [app, to, exclude,"
                         " alias, origin, told]]")
    message_id, fields, tail = body
    app, to, exclude, alias = tail[:4]
    origin, told = tail[4:] or (None, [])
    if len(tail) == 6 and (type(origin) is not str or type(told) is not list
                           or not _texts(told)):
        raise _malformed("a stored message's origin is a node, and its told a list of nodes")
    delivery = _flat_message_delivery([app, to, exclude, alias, message_id, app, *fields])
    return delivery, origin, told


def _rate_usage(body):
    if (type(body) is not list or len(body) != 2 or type(body[0]) is not str
            or type(body[1]) is not list):
        raise _malformed("a rate usage is [origin, entries]")
    entries = []
    for entry in body[1]:
        if (type(entry) is not list or len(entry) != 4 or entry[0] not in model.RATE_KINDS
                or type(entry[1]) is not str or type(entry[2]) is not str
                or type(entry[3]) is not int or entry[3] < 1):
            raise _malformed("a rate usage entry is [kind, name, username, count > 0]")
        entries.append(tuple(entry))
    return model.RateUsage(body[0], tuple(entries))


def _flat_message_delivery(body):
    """The delivery of a message, C{[app, to, exclude, alias, *fields]}."""
    if type(body) is not list or len(body) != _FLAT_LENGTH:
        raise _malformed(f"a message's delivery is a list of {_FLAT_LENGTH} values")
    app, to, exclude, alias = body[:4]
    fields = body[4:]
    kind = tuple(map(type, fields))
    if ((type(app), type(to), type(exclude), type(alias)) in _DELIVERY_KINDS
            and (kind == _ORDINARY_KIND or kind in _MESSAGE_KINDS)):
        for name in to:
            if type(name) is not str:
                break
        else:  # every value as the model says (see _message_delivery)
            return _new(model.Delivery, (app, _new(model.Message, fields), tuple(to), exclude,
                                         alias))
    # the object form's checks say what is wrong
    return decode(b"delivery " + orjson.dumps({"app": app, "to": to, "exclude": exclude,
                                                "alias": alias, "message": fields}))


def _run_delivery(body):
    """The delivery of a run of messages, C{[app, to, exclude, alias, [fields], [fields],
    ...]}."""
    if type(body) is list and len(body) > 5:
        app, to, exclude, alias = body[:4]
        if (type(app), type(to), type(exclude), type(alias)) in _DELIVERY_KINDS and _texts(to):
            run = []
            for fields in body[4:]:
                if type(fields) is not list:
                    break
                kind = tuple(map(type, fields))
                if kind != _ORDINARY_KIND and kind not in _MESSAGE_KINDS:
                    break
                run.append(_new(model.Message, fields))
            else:
                return _new(model.Delivery, (app, tuple(run), tuple(to), exclude, alias))
    raise _malformed("a run's delivery is [app, to, exclude, alias, and two messages or more,"
                     " each the array of its fields]")


def _message_delivery(body):
    """The delivery of a message C{body} is, when every key and type is as the model says
    (nearly always: a node's own encoding); None for anything else."""
    # five keys, each of them there: exactly these keys (cheaper than comparing key sets)
    if type(body) is not dict or len(body) != len(_MESSAGE_DELIVERY_KEYS):
        return None
    try:
        app, to, exclude, alias, fields = (body["app"], body["to"], body["exclude"],
                                           body["alias"], body["message"])
    except KeyError:
        return None
    if ((type(app), type(to), type(exclude), type(alias)) not in _DELIVERY_KINDS
            or type(fields) is not list):
        return None
    kind = tuple(map(type, fields))
    if kind != _ORDINARY_KIND and kind not in _MESSAGE_KINDS:
        return None
    for name in to:
        if type(name) is not str:
            return None
    # tuple.__new__: the values are checked, and a NamedTuple's own constructor costs as
    # much again as the checks
    return _new(model.Delivery, (app, _new(model.Message, fields), tuple(to), exclude, alias))


def _decode_event(body):
    if type(body) is dict and "kept" not in body:  # a node from before the inbox kept events
        body["kept"] = False
    fields = _fields("event", body, _EVENT_TYPES)
    cards = []
    for card in fields["users"]:
        if type(card) is not list or len(card) != len(_CARD_TYPES):
            raise _malformed(f"a user card is a list of {len(_CARD_TYPES)} fields")
        cards.append(model.UserCard(**_fields("user card", dict(zip(_CARD_TYPES, card)),
                                              _CARD_TYPES)))
    fields["users"] = cards
    if any(type(number) is not int for number in fields["message_ids"]):
        raise _malformed("event message_ids are integers")
    return model.Event(**fields)


def _fields(what, body, types):
    """C{body}, a JSON object that must have exactly the keys of C{types}, each of its type."""
    if type(body) is not dict or body.keys() != types.keys():
        raise _malformed(f"{what} must be an object of {', '.join(types)}")
    for key, accepted in types.items():
        if type(body[key]) not in accepted:
            raise _malformed(f"{what} {key} is a {type(body[key]).__name__}")
    return body


def _malformed(detail):
    return JimError(BAD_REQUEST, f"malformed bus value: {detail}")
