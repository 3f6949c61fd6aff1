# -*- test-case-name: tests.test_wire_callbacks -*-
"""What jim POSTs to an app server's callback URL (docs/callbacks.md), and how it signs it.
Pure code.

A message is JMessage's history message object (reference section 4.4) and a presence change
a status object; each is made once, when jim learns of it, as compact JSON text (L{item}),
and kept so in the app's backlog. A POST carries a run of items of one kind:
C{{"total": n, "messages": [...]}} or C{{"total": n, "statuses": [...]}}, the items' texts
joined as they are (L{body}).

jim keeps only a hash of an app's master secret (hex SHA-256), never the secret, so it cannot
send JMessage's C{Authorization: Basic appKey:masterSecret}. It signs each body instead with
HMAC-SHA256 keyed by that hash (L{signature}), which the app server computes from its secret.
"""
import base64
import hashlib
import hmac

import orjson

from jim.model import QUALIFIER, unqualified

#: JMessage's message version
VERSION = 1
#: a backlog item's kind -> the name of the list it goes out in
LISTS = {"message": "messages", "status": "statuses"}
SIGNATURE_HEADER = "X-Jim-Signature"
TIMESTAMP_HEADER = "X-Jim-Timestamp"


def message_object(message, from_name="", target_name=""):
    """JMessage's message object (section 4.4) of a stored L{jim.model.Message}.

    A J-IM message's C{extras} (kept apart from its body) go out in C{msg_body.extras}, where
    JMessage keeps them, unless the body has its own."""
    body = message.body
    if message.extras is not None and "extras" not in body:
        body = {**body, "extras": orjson.Fragment(message.extras)}
    # a cross-app message names the other app's user by its qualified name (jim.model)
    from_app, from_id = message.app, message.sender
    if QUALIFIER in from_id:
        from_app, from_id = unqualified(from_id, from_app)
    target_app, target = message.app, message.target
    if QUALIFIER in target:  # another app's user, or group
        target_app, target = unqualified(target, target_app)
    return {
        "msgid": message.id,
        "msg_ctime": message.created,
        "create_time": message.created // 1000,
        "version": VERSION,
        "msg_level": 0 if target_app == from_app else 1,
        "target_type": message.target_type,
        "target_id": target,
        "target_name": target_name,
        "target_appkey": target_app,
        "from_type": message.from_type,
        "from_id": from_id,
        "from_name": from_name,
        "from_appkey": from_app,
        "msg_type": message.msg_type,
        "msg_body": body,
        "no_offline": message.no_offline,
        "no_notification": message.no_notification,
    }


def status_object(app, username, online, time):
    """A user's first connection came up (C{online}) or its last went down, at C{time}
    (epoch ms)."""
    return {"username": username, "appkey": app, "online": bool(online), "time": time}


def item(obj):
    """The text an object is kept as in the backlog (compact JSON)."""
    return orjson.dumps(obj).decode("utf-8")


def body(kind, texts):
    """The bytes of one POST: the items (L{item} texts) of C{kind}, in order."""
    joined = ",".join(texts).encode("utf-8")
    return b'{"total":%d,"%s":[%s]}' % (len(texts), LISTS[kind].encode("ascii"), joined)


def signature(secret_hash, timestamp, data):
    """C{sha256=} and the hex HMAC-SHA256 of C{<timestamp>.<data>} (C{data}: the body's
    bytes), keyed by the app's C{secret_hash} (the hex SHA-256 of its master secret) as ASCII
    bytes."""
    mac = hmac.new(secret_hash.encode("ascii"), b"%d." % timestamp, hashlib.sha256)
    mac.update(data)
    return "sha256=" + mac.hexdigest()


def verify(secret_hash, timestamp, data, header):
    """Whether C{header} (an C{X-Jim-Signature} value) signs C{data} sent at C{timestamp}:
    what an app server checks (in constant time)."""
    return hmac.compare_digest(signature(secret_hash, timestamp, data), header)


def headers(app_key, secret_hash, timestamp, data):
    """The headers of a POST of C{data} signed at C{timestamp} (epoch ms), as text.

    C{Authorization} names the app in JMessage's header with an empty password: it proves
    nothing; the signature does."""
    named = base64.b64encode(f"{app_key}:".encode("utf-8")).decode("ascii")
    return {
        "Content-Type": "application/json; charset=utf-8",
        "Authorization": f"Basic {named}",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret_hash, timestamp, data),
    }
