# -*- test-case-name: tests.test_store_redis_keys -*-
"""How the Redis store names its keys and writes its values.

Every key is named by L{key}: C{jim:} and, for what belongs to an app, the app in braces (a
Redis Cluster hash tag: one app's keys stay together, so a script may touch any of them), then
the area's own parts. Values are kept as compact JSON (L{dump}, L{load}).
"""
import attr
import orjson

#: the characters L{key} escapes in an app: braces would end its hash tag early
_ESCAPES = str.maketrans({"%": "%25", "{": "%7B", "}": "%7D"})


def key(app, *parts):
    """The name of a Redis key of C{app} (None: one of every app's, like the app list).

    At most the last part may be free text (a username, an alias): the parts before it are
    fixed words and numbers, so two different keys never get the same name."""
    head = "jim:" if app is None else "jim:{" + app.translate(_ESCAPES) + "}:"
    return head + ":".join(str(part) for part in parts)


def dump(value):
    """An attrs value as compact JSON text: the list of its fields, in order."""
    return orjson.dumps(attr.astuple(value, recurse=False)).decode()


def load(cls, text):
    """The C{cls} value L{dump} made C{text} of (None for None: a missing key)."""
    if text is None:
        return None
    return cls(*orjson.loads(text))
