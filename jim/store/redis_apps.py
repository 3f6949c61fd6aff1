# -*- test-case-name: tests.store_contract.test_apps -*-
"""The apps area of the Redis store (L{jim.interfaces.IAppStore}).

Keys (named by L{jim.store.redis_keys.key}; the apps are every app's, so none has a hash tag):

    jim:app:<key>    HASH    the App: one field per attribute (key, secret_hash, name, created,
                             friend_mode), each holding the JSON of its value
    jim:apps         ZSET    every app key, scored by its creation number
    jim:apps:seq     STRING  the last creation number given (INCR)

A value is a hash of JSON fields rather than one JSON text so that a script can change some
fields (an update) or compare one (a user's password) without parsing JSON in Lua, while every
value still comes back with its type: ints, bools, None and any text. The users area keeps its
users the same way, with the helpers below (L{fields}, L{value_of}, L{fetch}, L{page}).
"""

import attr
import orjson
from zope.interface import implementer

from jim.interfaces import IAppStore
from jim.model import App
from jim.redis.client import Script
from jim.store import APP_CHANGES, check_changes, check_page
from jim.store.redis_keys import deferred, key

#: KEYS: hashes; the HGETALL of each (an empty one for a missing key)
FETCH = Script("hashes.fetch", """
local found = {}
for i, name in ipairs(KEYS) do found[i] = redis.call('HGETALL', name) end
return found
""")

#: KEYS: a sorted set; ARGV: start, count. Its size and the members of the page.
PAGE = Script("ordered.page", """
local total = redis.call('ZCARD', KEYS[1])
local start, count = tonumber(ARGV[1]), tonumber(ARGV[2])
if count == 0 or start >= total then return {total, {}} end
return {total, redis.call('ZRANGE', KEYS[1], start, math.min(start + count, total) - 1)}
""")

#: a new record (an app, a user), listed in creation order. KEYS: its hash, the sequence, the
#: list; ARGV: the refusal if the hash exists ("JIM code detail"), the name to list, then field,
#: value, ...
ADD = Script("records.add", """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply(ARGV[1])
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[2]), ARGV[2])
""")

#: KEYS: the app's hash; ARGV: field, value, ... The app's fields after the change.
UPDATE = Script("apps.update", """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('JIM no_such_app no such app')
end
if #ARGV > 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
return redis.call('HGETALL', KEYS[1])
""")


#: KEYS: the app's hash, the list of apps; ARGV: its key. The app's record goes.
DELETE = Script("apps.delete", """
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
""")


def as_json(value):
    """How a hash field holds C{value}: its compact JSON."""
    return orjson.dumps(value).decode()


def fields(values):
    """HSET's arguments for a dict of field values: C{[name, JSON of its value, ...]}."""
    return [text for name, value in values.items() for text in (name, as_json(value))]


def value_of(cls, reply):
    """The C{cls} value an HGETALL C{reply} (a flat list of names and JSON) holds; None for an
    empty reply (no such key)."""
    if not reply:
        return None
    return cls(**{reply[i]: orjson.loads(reply[i + 1]) for i in range(0, len(reply), 2)})


async def fetch(client, cls, names):
    """The C{cls} values kept in the hashes C{names}, in their order, missing ones left out."""
    if not names:
        return []
    found = (value_of(cls, reply) for reply in await client.run(FETCH, names))
    return [value for value in found if value is not None]


async def page(client, ordered, start, count):
    """C{(total, members)}: a page of the sorted set C{ordered}, C{count} from the C{start}th."""
    check_page(start, count)
    total, members = await client.run(PAGE, [ordered], [start, count])
    return total, members


@implementer(IAppStore)
class RedisApps:
    def __init__(self, client):
        self._client = client

    @deferred
    async def add_app(self, app):
        await self._client.run(ADD, [key(None, "app", app.key), key(None, "apps", "seq"),
                                     key(None, "apps")],
                               ["JIM app_exists the app key is taken", app.key,
                                *fields(attr.asdict(app))])

    @deferred
    async def get_app(self, app_key):
        found = await fetch(self._client, App, [key(None, "app", app_key)])
        return found[0] if found else None

    def update_app(self, app_key, changes):
        check_changes(App, changes, APP_CHANGES)  # a caller's bug: raised at once
        return self._update(app_key, changes)

    @deferred
    async def _update(self, app_key, changes):
        reply = await self._client.run(UPDATE, [key(None, "app", app_key)], fields(changes))
        return value_of(App, reply)

    @deferred
    async def delete_app(self, app_key):
        await self._client.run(DELETE, [key(None, "app", app_key), key(None, "apps")],
                               [app_key])

    @deferred
    async def list_apps(self, start, count):
        total, keys = await page(self._client, key(None, "apps"), start, count)
        return total, await fetch(self._client, App, [key(None, "app", k) for k in keys])
