# -*- test-case-name: tests.store_contract.test_inbox -*-
"""The inbox area of the Redis store (L{jim.interfaces.IInboxStore}).

Keys (named by L{jim.store.redis_keys.key}):

    jim:{app}:message-ids:<conv>  LIST    written by the message area's append script: the ids
                                          of every message of the conversation, retracted ones
                                          too, in id order
    jim:{app}:private:<username>  SET     likewise: the keys of the user's private
                                          conversations
    jim:{app}:cursors:<username>  HASH    device key -> its L{Cursor}, the JSON of
                                          L{Cursor.to_json}
    jim:cursors:seen              ZSET    (every app's) the JSON C{[app, username, device]} of
                                          each cursor, scored by its C{seen}: what
                                          L{RedisInbox.forget_cursors} sweeps, without a SCAN

A move reads the cursor, merges in Python (L{Cursor.moved}) and writes the result with a
compare-and-set script: it writes only if the field still holds the text it read (a field
missing then and now counts as the same), else the move reads again and tries again, at most
L{MOVE_TRIES} times. Comparing the whole text, not a version, is safe against a cursor
forgotten and made again meanwhile: whatever its history, a field that holds the text that was
read holds the cursor the merge started from. The moves of one device made on this node are
sent one at a time, those that come meanwhile merged into one (cursors only move forward, so
merging first loses nothing): only other nodes' moves can make a compare fail.

A read takes the user's conversations (their set, or the one named), then, in scripts of up to
L{READ_KEYS} conversations sent together, of each one's latest C{per_conversation} ids those
above the id up to which the cursor and C{after} leave out everything there (a conversation
whose last id is not above it costs one LINDEX), then the messages of the oldest of those,
C{limit} at a time, until C{limit} of them pass the filters.
"""
import heapq

import orjson
from twisted.internet import defer
from twisted.python.failure import Failure
from zope.interface import implementer

from jim import errors
from jim.cursors import Cursor, from_json, group_conversation, private_conversation
from jim.errors import JimError
from jim.interfaces import IInboxStore
from jim.redis.client import Script
from jim.store import check_limit
from jim.store.redis_keys import deferred, key
from jim.store.redis_messages import stored_message

#: how many times a move reads and compares before it fails with SERVER_ERROR
MOVE_TRIES = 10
#: the most conversations one read script looks at (the scripts of a read are sent together)
READ_KEYS = 512
#: the most messages one HMGET of a read fetches
FETCH = 1024
#: the most cursors one sweep script forgets
FORGET = 1000

#: the cursors of every app, by their C{seen}
SEEN = key(None, "cursors", "seen")

#: KEYS: the user's cursors, the cursors by seen; ARGV: the device, the cursor's JSON as it
#: was read ('' for none), the new JSON, its seen, its member in the cursors by seen.
#: 1 if written, 0 if the cursor was not the one read.
MOVE = Script("inbox.move", """
if (redis.call('HGET', KEYS[1], ARGV[1]) or '') ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
return 1
""")

#: KEYS: the cursors by seen, then each cursor's user's cursors; ARGV: the seen to forget
#: below, then for each cursor its member in the cursors by seen and its device. Forgets each
#: one still seen before, and says how many it forgot.
FORGET_CURSORS = Script("inbox.forget", """
local before = tonumber(ARGV[1])
local forgotten = 0
for i = 2, #KEYS do
  local member = ARGV[2 * i - 2]
  local seen = redis.call('ZSCORE', KEYS[1], member)
  if seen and tonumber(seen) < before then
    redis.call('ZREM', KEYS[1], member)
    forgotten = forgotten + redis.call('HDEL', KEYS[i], ARGV[2 * i - 1])
  end
end
return forgotten
""")

#: KEYS: the id lists of conversations; ARGV: how many of each list's latest to read at most
#: ('': all of them), then for each list the highest id to leave out. For each list, the ids
#: it holds among its latest that are above that, oldest first: read back from the end a page
#: at a time, to the first id not above it (lists are in id order), so that a read costs what
#: it finds, however long the list.
IDS = Script("inbox.ids", """
local window = tonumber(ARGV[1])
local out = {}
for i, name in ipairs(KEYS) do
  local above = tonumber(ARGV[i + 1])
  local found = {}
  local last = redis.call('LINDEX', name, -1)
  if last and tonumber(last) > above then
    local newest, stop = {}, -1
    while true do
      local size = 100
      if window and window - #newest < size then size = window - #newest end
      if size <= 0 then break end
      local page = redis.call('LRANGE', name, stop - size + 1, stop)
      local reached = false
      for j = #page, 1, -1 do
        if tonumber(page[j]) > above then newest[#newest + 1] = page[j] else reached = true break end
      end
      if reached or #page < size then break end
      stop = stop - size
    end
    for j = #newest, 1, -1 do found[#found + 1] = newest[j] end
  end
  out[i] = found
end
return out
""")


def _text(value):
    return orjson.dumps(value).decode()


@implementer(IInboxStore)
class RedisInbox:
    def __init__(self, client):
        self._client = client
        # (app, username, device) -> [merged move, [Deferreds]] of the moves that wait for
        # the one in flight (a key with None: one in flight, none waiting)
        self._moving = {}

    @deferred
    async def last_message_id(self, app):
        return int(await self._client.call("GET", key(app, "message-id")) or 0)

    @deferred
    async def cursors(self, app, username):
        reply = await self._client.call("HGETALL", key(app, "cursors", username))
        return {reply[i]: from_json(orjson.loads(reply[i + 1]))
                for i in range(0, len(reply), 2)}

    def move_cursor(self, app, username, device, cursor):
        d = defer.Deferred()
        who = (app, username, device)
        if who in self._moving:  # one is in flight: wait for it, merged with the others
            waiting = self._moving[who]
            if waiting is None:
                self._moving[who] = [cursor, [d]]
            else:
                waiting[0] = waiting[0].moved(cursor)
                waiting[1].append(d)
            return d
        self._moving[who] = None
        self._send_move(who, cursor, [d])
        return d

    def _send_move(self, who, cursor, answers):
        done = defer.ensureDeferred(self._move(*who, cursor))
        done.addBoth(self._moved, who, answers)

    def _moved(self, result, who, answers):
        waiting = self._moving.pop(who)
        if waiting is not None:
            self._moving[who] = None
            self._send_move(who, *waiting)
        for d in answers:
            if isinstance(result, Failure):
                d.errback(result)
            else:
                d.callback(result)

    async def _move(self, app, username, device, cursor):
        name = key(app, "cursors", username)
        member = _text([app, username, device])
        for _ in range(MOVE_TRIES):
            read = await self._client.call("HGET", name, device)
            moved = (Cursor() if read is None else from_json(orjson.loads(read))).moved(cursor)
            value = _text(moved.to_json())
            if value == read:
                return moved  # it holds the move already
            if await self._client.run(MOVE, [name, SEEN],
                                      [device, read or "", value, str(moved.seen), member]):
                return moved
        raise JimError(errors.SERVER_ERROR, f"the cursor of device {device!r} of {username!r}"
                       " kept changing: try again")

    @deferred
    async def forget_cursors(self, seen_before):
        forgotten = 0
        while True:
            members = await self._client.call("ZRANGEBYSCORE", SEEN, "-inf",
                                              f"({seen_before}", "LIMIT", 0, FORGET)
            if not members:
                return forgotten
            keys, args = [SEEN], [str(seen_before)]
            for member in members:
                app, username, device = orjson.loads(member)
                keys.append(key(app, "cursors", username))
                args += [member, device]
            # one moved meanwhile is left, and is no longer in the range
            forgotten += await self._client.run(FORGET_CURSORS, keys, args)

    @deferred
    async def read(self, app, username, gids, cursor, after=0, peer=None, gid=None, since=0,
                   limit=100, per_conversation=100):
        check_limit(limit)
        check_limit(per_conversation)
        if limit == 0 or per_conversation == 0:
            return []
        if peer is not None:
            conversations = [private_conversation(username, peer)]
        elif gid is not None:
            conversations = [group_conversation(gid)]
        else:
            conversations = await self._client.call("SMEMBERS", key(app, "private", username))
            conversations += [group_conversation(g) for g in gids]
        conversations = list(dict.fromkeys(conversations))
        floor = max(after, cursor.floor)
        reads = []
        for start in range(0, len(conversations), READ_KEYS):
            part = conversations[start:start + READ_KEYS]
            reads.append(self._client.run(
                IDS, [key(app, "message-ids", c) for c in part],
                ["" if per_conversation is None else str(per_conversation),
                 *[str(cursor.left_out_upto(c, floor)) for c in part]]))
        replies = await defer.gatherResults(reads, consumeErrors=True)
        found = [
            [i for i in map(int, ids) if not cursor.consumed(i, conversation)]
            for conversation, ids in zip(conversations, (ids for r in replies for ids in r))
        ]
        candidates = list(heapq.merge(*found))
        return await self._fetch(app, candidates, since, limit)

    async def _fetch(self, app, candidates, since, limit):
        """The messages of the first C{candidates} (ids, in order) that are kept for an
        inbox, at most C{limit}: fetched C{limit} at a time at first, more each time."""
        kept = []
        if limit is None:
            limit = len(candidates)
        start, size = 0, min(limit, FETCH)
        while start < len(candidates) and len(kept) < limit:
            part = candidates[start:start + size]
            values = await self._client.call("HMGET", key(app, "messages"), *part)
            for message_id, value in zip(part, values):
                if value is None:
                    continue
                message = stored_message(app, message_id, value)
                if (message.retracted or message.no_offline or message.created < since):
                    continue
                kept.append(message)
                if len(kept) == limit:
                    break
            start += len(part)
            size = min(2 * size, FETCH)
        return kept
