# -*- test-case-name: tests.test_store_redis_keys -*-
"""How the Redis store names its keys, and what its areas share.

Every key is named by L{key}: C{jim:} and, for what belongs to an app, the app in braces (a
Redis Cluster hash tag: one app's keys stay together, so a script may touch any of them), then
the area's own parts.
"""
import functools

from twisted.internet import defer

#: the characters L{key} escapes in an app: braces would end its hash tag early
_ESCAPES = str.maketrans({"%": "%25", "{": "%7B", "}": "%7D"})


def key(app, *parts):
    """The name of a Redis key of C{app} (None: one of every app's, like the app list).

    At most the last part may be free text (a username, an alias): the parts before it are
    fixed words and numbers, so two different keys never get the same name."""
    try:
        return _head(app) + ":".join(parts)  # texts (every key a message append names)
    except TypeError:  # a number among them
        return _head(app) + ":".join(str(part) for part in parts)


@functools.lru_cache(maxsize=4096)
def _head(app):
    """C{jim:} and the app's hash tag (made once per app: every message names several keys)."""
    return "jim:" if app is None else "jim:{" + app.translate(_ESCAPES) + "}:"


def deferred(method):
    """An C{async def} method as one that returns a Deferred, as every store method does."""

    @functools.wraps(method)
    def run(*args, **kwargs):
        return defer.ensureDeferred(method(*args, **kwargs))

    return run


#: what Redis's glob patterns give a meaning to (SCAN's MATCH)
_GLOB = str.maketrans({char: "\\" + char for char in "*?[]\\"})
#: how many keys one SCAN looks at
SCAN_COUNT = 1000


def starting_with(prefix):
    """The SCAN MATCH pattern of every key whose name begins with C{prefix}."""
    return prefix.translate(_GLOB) + "*"


async def names_after(client, head):
    """The set of what follows C{head} in the names of the keys that begin with it: a SCAN of
    the whole key space, L{SCAN_COUNT} keys a call (not a hot path)."""
    pattern, found, cursor = starting_with(head), set(), "0"
    while True:
        cursor, names = await client.call("SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT)
        found.update((n.decode("utf-8") if isinstance(n, bytes) else n)[len(head):]
                     for n in names)
        if str(cursor) == "0":
            return found


async def indexed_with_prefix(client, index_of, prefix):
    """C{(number, name)} of every name beginning with C{prefix} that has an index key
    C{index_of(name)} (a sorted set of numbers, deleted with its last one), sorted: a SCAN
    (L{names_after}), then each index."""
    found = []
    for rest in await names_after(client, index_of(prefix)):
        name = prefix + rest
        found += [(int(number), name)
                  for number in await client.call("ZRANGE", index_of(name), 0, -1)]
    return sorted(found)
