# -*- test-case-name: tests.store_contract.test_events -*-
"""The event area of the Redis store (L{jim.interfaces.IEventStore}).

Keys (named by L{jim.store.redis_keys.key}):

    jim:{app}:events                HASH  id -> the event as L{jim.wire.busjson.encode_event}
                                          writes it (its id 0)
    jim:{app}:event-ids:<username>  LIST  the ids of the user's events, in id order, the latest
                                          L{KEPT_PER_USER} of them
    jim:events:created              ZSET  (every app's) the JSON C{[app, id]} of each event,
                                          scored by its C{created}: what
                                          L{RedisEvents.forget_events} sweeps, without a SCAN

An event is added by one script: its id from the app's message sequence (the INCR of the key
the message appends count with, so it is ordered among them in commit order across nodes), its
body and its place in each user's list, all or nothing. The sweep forgets an old event's
record only: its id stays in its users' lists (at most L{KEPT_PER_USER} ids a user, trimmed
as new ones come) and reads skip it; the sweep's cost is one field an event, however many
users it was for.
"""
import attr
import orjson
from zope.interface import implementer

from jim.cursors import EVENTS
from jim.interfaces import IEventStore
from jim.redis.client import Script
from jim.store import check_audience, check_limit
from jim.store.redis_keys import deferred, key
from jim.wire import busjson

#: the most event ids a user's list keeps (a read window above it reads these)
KEPT_PER_USER = 1000
#: the most events one sweep script forgets
FORGET = 500

#: every app's events by their created
CREATED = key(None, "events", "created")

#: KEYS: the app's message id, its events, the events by created, then each user's event
#: ids; ARGV: the event's body, its created, the start of its member in the events by created
#: (C{["app",}), how many ids a user's list keeps. The event's id.
ADD = Script("events.add", """
local id = string.format('%d', redis.call('INCR', KEYS[1]))
redis.call('HSET', KEYS[2], id, ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3] .. id .. ']')
local keep = tonumber(ARGV[4])
for k = 4, #KEYS do
  redis.call('RPUSH', KEYS[k], id)
  redis.call('LTRIM', KEYS[k], -keep, -1)
end
return id
""")

#: KEYS: the events by created, then for each event its app's events; ARGV: the created to
#: forget below, then each event's member in the events by created (ARGV[i] is the event of
#: KEYS[i]). Forgets each event's record (its id stays in its users' lists, which reads skip
#: and trims drop); how many records were forgotten.
FORGET_EVENTS = Script("events.forget", """
local before = tonumber(ARGV[1])
local forgotten = 0
for i = 2, #ARGV do
  local member = ARGV[i]
  local created = redis.call('ZSCORE', KEYS[1], member)
  local id = string.match(member, ',(%d+)%]$')
  redis.call('ZREM', KEYS[1], member)
  if created and id and tonumber(created) < before then
    forgotten = forgotten + redis.call('HDEL', KEYS[i], id)
  end
end
return forgotten
""")


def _text(value):
    return orjson.dumps(value).decode()


@implementer(IEventStore)
class RedisEvents:
    def __init__(self, client):
        self._client = client

    @deferred
    async def add_event(self, event, audience):
        audience = check_audience(event, audience)
        app = event.app
        body = busjson.encode_event(attr.evolve(event, id=0, kept=False))
        new_id = await self._client.run(
            ADD,
            [key(app, "message-id"), key(app, "events"), CREATED,
             *[key(app, "event-ids", username) for username in audience]],
            [body, str(event.created), _text([app])[:-1] + ",", str(KEPT_PER_USER)])
        return attr.evolve(event, id=int(new_id), kept=True)

    @deferred
    async def read_events(self, app, username, cursor, after=0, since=0, limit=100,
                          per_user=100):
        check_limit(limit)
        check_limit(per_user)
        if limit == 0 or per_user == 0:
            return []
        start = 0 if per_user is None else -per_user
        ids = [int(i) for i in await self._client.call(
            "LRANGE", key(app, "event-ids", username), start, -1)]
        ids = [i for i in ids if i > after and not cursor.consumed(i, EVENTS)]
        if not ids:
            return []
        found = []
        for event_id, body in zip(ids, await self._client.call("HMGET", key(app, "events"),
                                                               *ids)):
            if body is None:  # forgotten meanwhile
                continue
            event = busjson.decode_event(body)
            if event.created >= since:
                found.append(attr.evolve(event, id=event_id, kept=True))
                if limit is not None and len(found) == limit:
                    break
        return found

    @deferred
    async def forget_events(self, created_before):
        forgotten = 0
        while True:
            members = await self._client.call("ZRANGEBYSCORE", CREATED, "-inf",
                                              f"({created_before}", "LIMIT", 0, FORGET)
            if not members:
                return forgotten
            keys, args = [CREATED], [str(created_before)]
            for member in members:
                app, _ = orjson.loads(member)
                keys.append(key(app, "events"))
                args.append(member)
            forgotten += await self._client.run(FORGET_EVENTS, keys, args)
