# -*- test-case-name: tests.store_contract.test_reports -*-
"""The report area of the Redis store (L{jim.interfaces.IReportStore}).

Keys (named by L{jim.store.redis_keys.key}, all of them the app's; C{<hour>} is the epoch ms of
the hour's start, in decimal):

    jim:{app}:reports:log             ZSET  the app's messages that are not retracted, as their
                                            history entries (every score 0, each
                                            C{<created + 2**63>:<id>}, 20 digits each): in
                                            (created, id) order
    jim:{app}:reports:user:<username> ZSET  the same, of the messages the user sent to groups
                                            and chat rooms (their private messages are in
                                            their conversations' histories)
    jim:{app}:reports:hours           ZSET  the hours that have figures: every score 0, each
                                            member the hour + 10**19 as 20 digits, so in time
                                            order
    jim:{app}:reports:counts:<hour>   HASH  C{<target type>:<msg type>} -> how many such
                                            messages were sent in the hour (retracted ones too)
    jim:{app}:reports:sender:<hour>   SET   the users who sent a message in the hour
    jim:{app}:reports:group:<hour>    SET   the gids a group message was sent to in the hour
    jim:{app}:reports:active:<hour>   SET   the users L{RedisReports.note_active} named for it

The message area's append script writes all of them but the active sets
(L{jim.store.redis_message_scripts}), in the script that writes the message: they are exactly
as durable as the message, and no extra round trip. Its retraction script takes the message out
of the log and of its sender's index. A group's and a chat room's scope read the conversation's
history (C{history:g:<gid>}, C{history:r:<room id>}), which leaves retracted messages out too.
A window and a position after C{(created, id)} are one C{ZRANGEBYLEX} range (the history page
script, L{jim.store.redis_message_scripts.HISTORY}, reads it with its messages); a count is
C{ZLEXCOUNT}.

A user's scope is their index merged with the histories of their private conversations (the
set C{private:<username>}), so that a private message costs its append no index of its own: a
read is an C{SMEMBERS} of the set (with a C{GET} of the sweep's mark, in the same round trip),
then one script over the index and every history (L{USER_PAGE}, L{USER_COUNT}). A page reads
at most C{count} entries of each (C{ZRANGEBYLEX ... LIMIT 0 count}, narrowed to the lowest
C{count} found so far as it goes), merges them and fetches the first C{count} messages; a
count is the sum of their C{ZLEXCOUNT}s. For a user of C{n} conversations that is one script of
C{n + 1} range reads, each O(log size + what it returns), a few microseconds, during which Redis
runs nothing else: measured, a page of 10 took 1.5 ms of Redis for a user of 1,000
conversations and 13 ms for one of 5,000 (a page of 1,000: 6 ms and 26 ms), a count 1.2 ms and
9 ms. The reply is at most C{count} messages, whatever C{n}. The histories are never swept,
so what a user's scope reads of them starts at the last sweep's time (C{jim:reports:swept}):
after a sweep the scope holds no private message created before it, as if it had been
forgotten, while the messages stay in their histories. A conversation whose first message
comes between the C{SMEMBERS} and the script is not read.

The hourly figures are read by their hours, from the hours index: C{message_counts} fetches the
counts of those in the range, C{distinct_count} the union of their sets (C{SUNION}, a day's
hours at a time, merged here: the counts are exact, every name counted once).

C{created_histogram} reads the C{ctime} of every current user (the C{users} and C{admins}
sets, paged by their scores, then each user's hash) or group (C{groups:order}, then the
C{groups} hash's JSON values), a chunk at a time: users and groups made before the reports
were are counted, without a migration, at the cost of reading them all; it is a rarely asked
statistic. A user who is made an admin (or no longer one) while it reads may be counted twice
or not at all.

C{forget_reports} finds the report keys of every app with C{SCAN} (C{MATCH
jim:{*}:reports:*}, each name checked to be one), so it reads the whole keyspace, as
L{jim.store.redis_forget} does, and then, a bounded batch at a time (scripts of at most
L{FORGET_ENTRIES} index entries over at most L{FORGET_KEYS} indexes, and of L{FORGET_HOURS}
hours), removes the index entries of messages created before the time and every key of the
hours before it. A whole sweep then raises C{jim:reports:swept} (every app's) to its time: a
sweep of a time not after it (every node sweeps every hour, L{jim.core.reports}) has nothing
to do and reads nothing else. What is appended later with an older C{created} goes with the next
sweep of a later time. Nothing expires by itself: how long the figures are kept is the caller's
(the sweep's C{before}), not the store's: an C{EXPIRE} would have to be set by the append
script, one more command a message, and know the retention.
"""
import bisect
import re

import orjson
from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from jim import errors
from jim.cursors import group_conversation, room_conversation
from jim.errors import JimError
from jim.interfaces import IReportStore
from jim.model import CHATROOM, GROUP
from jim.redis.client import Script
from jim.store import check_paging
from jim.store.redis_apps import FETCH
from jim.store.redis_keys import SCAN_COUNT, deferred, key
from jim.store.redis_message_scripts import HISTORY
from jim.store.redis_messages import (
    HOUR_SHIFT, history_head, hour_member, hour_of, report_key, stored_message,
)

#: the hourly figures L{RedisReports.distinct_count} counts (the part of their keys)
DISTINCT = ("sender", "group", "active")
#: the hourly keys, by the part of their names after C{reports:}
HOURLY = ("counts", *DISTINCT)
#: how many hours' sets one SUNION reads
UNION_HOURS = 24
#: how many keys one read of users' or groups' ctime names
CHUNK = 500
#: the most index entries one sweep script removes
FORGET_ENTRIES = 1000
#: the most report indexes one sweep script looks at
FORGET_KEYS = 256
#: the most hours one sweep script forgets
FORGET_HOURS = 100
#: how many apps' hours the sweep forgets at once (each app's scripts one after the other)
FORGET_TOGETHER = 32
#: (every app's) the time before which the last whole sweep forgot everything, as L{_mark}
#: writes it: a sweep of a time not after it has nothing to do
SWEPT_MARK = key(None, "reports", "swept")
#: the SCAN pattern of every app's report keys (each name found is checked: L{_report_key})
_PATTERN = "jim:{*}:reports:*"
#: an app key's escapes in a key name (L{jim.store.redis_keys.key}), undone
_UNESCAPE = re.compile("%(25|7B|7D)")
_UNESCAPED = {"25": "%", "7B": "{", "7D": "}"}

#: KEYS: user hashes; the JSON of each one's ctime (nil for a user that is gone)
CTIMES = Script("reports.ctimes", """
local found = {}
for i, name in ipairs(KEYS) do found[i] = redis.call('HGET', name, 'ctime') end
return found
""")

#: KEYS: the messages, a user's report index, then the histories of their private
#: conversations; ARGV: the lowest entry of the index and the lowest of the histories, the
#: highest (ZRANGEBYLEX bounds), the count. The first C{count} messages of them all in (created,
#: id) order: id, JSON, ... Each range reads at most C{count} entries, and no higher than the
#: C{count}th lowest found so far.
USER_PAGE = Script("reports.user_page", """
local count = tonumber(ARGV[4])
local rows = redis.call('ZRANGEBYLEX', KEYS[2], ARGV[1], ARGV[3], 'LIMIT', 0, ARGV[4])
local high = ARGV[3]
local function keep()
  table.sort(rows)
  local kept, previous = {}, nil
  for _, row in ipairs(rows) do
    if #kept == count then break end
    if row ~= previous then kept[#kept + 1] = row end
    previous = row
  end
  rows = kept
  if #rows == count then high = '[' .. rows[count] end
end
if #rows == count then keep() end
for i = 3, #KEYS do
  local more = redis.call('ZRANGEBYLEX', KEYS[i], ARGV[2], high, 'LIMIT', 0, ARGV[4])
  for _, row in ipairs(more) do rows[#rows + 1] = row end
  if #rows >= 2 * count then keep() end
end
keep()
local out = {}
for _, row in ipairs(rows) do
  local id = string.match(row, ':0*(%d+)$')
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[1], id)
end
return out
""")

#: KEYS: a user's report index, then the histories of their private conversations; ARGV: the
#: lowest entry of the index and the lowest of the histories, the highest. How many entries
#: they hold in all.
USER_COUNT = Script("reports.user_count", """
local found = redis.call('ZLEXCOUNT', KEYS[1], ARGV[1], ARGV[3])
for i = 2, #KEYS do
  found = found + redis.call('ZLEXCOUNT', KEYS[i], ARGV[2], ARGV[3])
end
return found
""")

#: KEYS: the hour's active users, the hours; ARGV: the hour's member, the usernames
NOTE_ACTIVE = Script("reports.note_active", """
redis.call('SADD', KEYS[1], unpack(ARGV, 2))
redis.call('ZADD', KEYS[2], '0', ARGV[1])
""")

#: KEYS: report indexes; ARGV: the entry to remove below (exclusive, a ZRANGEBYLEX bound), the
#: most to remove in all. How many went, and the place of the first key that may still hold
#: some (one past the last when none may).
TRIM = Script("reports.trim", """
local most, gone = tonumber(ARGV[2]), 0
for i, name in ipairs(KEYS) do
  local left = most - gone
  local last = redis.call('ZRANGEBYLEX', name, '-', ARGV[1], 'LIMIT', left - 1, 1)[1]
  if last then
    gone = gone + redis.call('ZREMRANGEBYLEX', name, '-', '[' .. last)
    return {gone, i}
  end
  gone = gone + redis.call('ZREMRANGEBYLEX', name, '-', ARGV[1])
end
return {gone, #KEYS + 1}
""")

#: KEYS: the sweep's mark; ARGV: the time it swept before, as L{_mark} writes it. Raises it.
SWEPT = Script("reports.swept", """
local was = redis.call('GET', KEYS[1])
if not was or was < ARGV[1] then redis.call('SET', KEYS[1], ARGV[1]) end
""")

#: KEYS: the hours, then for each hour its counts, senders, groups and active users; ARGV: the
#: hours' members. Forgets them, and says how many fields and members went.
FORGET = Script("reports.forget_hours", """
local gone = 0
for i, member in ipairs(ARGV) do
  local k = 4 * i - 2
  gone = gone + redis.call('HLEN', KEYS[k])
  for j = k + 1, k + 3 do gone = gone + redis.call('SCARD', KEYS[j]) end
  redis.call('UNLINK', KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3])
  redis.call('ZREM', KEYS[1], member)
end
return gone
""")


def _low(begin):
    """The ZRANGEBYLEX bound of the history entries created at C{begin} or later."""
    return "-" if begin is None else "[" + history_head(begin)


def _high(end):
    """... created at C{end} or earlier: an entry of created t is above "<t>:", below "<t>;"."""
    return "+" if end is None else "(" + history_head(end)[:-1] + ";"


def _above(low, swept):
    """The higher of a ZRANGEBYLEX lower bound and the sweep's mark (as L{_mark} writes it, or
    None): the lowest entry a user's scope reads of a history."""
    if swept is None:
        return low
    floor = "[" + swept + ":"
    return floor if low == "-" or low[1:] < floor[1:] else low


def _mark(before):
    """C{before} as the sweep's mark: 20 digits, shifted to be positive, so that texts compare
    as the times do."""
    return history_head(before)[:-1]


def _report_key(name):
    """C{(app, the part after reports:)} of a report key's name; None for another key (a
    conversation key may hold C{:reports:} after the app, whose name, escaped, holds no closing
    brace: the first one ends it)."""
    if not name.startswith("jim:{"):
        return None
    close = name.find("}")
    head, sep, rest = name[close + 1:].partition(":reports:")
    if close < 0 or head or not sep:
        return None
    app = _UNESCAPE.sub(lambda found: _UNESCAPED[found.group(1)], name[5:close])
    return app, rest


@implementer(IReportStore)
class RedisReports:
    log = Logger()

    def __init__(self, client):
        self._client = client

    # -- the message log by time -------------------------------------------------------------

    def _index(self, app, scope):
        """The sorted set of history entries a scope reads (a user's: their index, which
        L{_private} completes)."""
        if scope is None:
            return report_key(app, "log")
        kind, name = scope
        if kind == "user":
            return report_key(app, "user", name)
        if kind == GROUP:
            return key(app, "history", group_conversation(name))
        if kind == CHATROOM:
            return key(app, "history", room_conversation(name))
        raise JimError(errors.BAD_REQUEST, f"no report scope {kind!r}")

    async def _private(self, app, username, low):
        """The histories of the user's private conversations, and the lowest entry of them their
        scope reads from C{low} on (not below the last sweep's time)."""
        conversations, swept = await defer.gatherResults([
            self._client.call("SMEMBERS", key(app, "private", username)),
            self._client.call("GET", SWEPT_MARK)], consumeErrors=True)
        return [key(app, "history", c) for c in conversations], _above(low, swept)

    @deferred
    async def report_messages(self, app, scope, begin, end, after, count):
        check_paging(None, count, begin, end)
        low = _low(begin)
        if after is not None:
            created, message_id = after
            check_paging(message_id, count, created)
            if begin is None or created >= begin:  # an entry after it is in the window
                low = f"({history_head(created)}{message_id:020d}"
        index = self._index(app, scope)
        if count == 0:
            return []
        if scope is not None and scope[0] == "user":
            histories, floor = await self._private(app, scope[1], low)
            reply = await self._client.run(USER_PAGE, [key(app, "messages"), index, *histories],
                                           [low, floor, _high(end), str(count)])
        else:
            reply = await self._client.run(HISTORY, [index, key(app, "messages")],
                                           [low, _high(end), "0", str(count)])
        return [stored_message(app, reply[i], reply[i + 1]) for i in range(0, len(reply), 2)]

    @deferred
    async def count_report_messages(self, app, scope, begin, end):
        check_paging(None, 0, begin, end)
        index, low = self._index(app, scope), _low(begin)
        if scope is not None and scope[0] == "user":
            histories, floor = await self._private(app, scope[1], low)
            return await self._client.run(USER_COUNT, [index, *histories],
                                          [low, floor, _high(end)])
        return await self._client.call("ZLEXCOUNT", index, low, _high(end))

    # -- hourly figures ----------------------------------------------------------------------

    async def _hours(self, app, begin, end):
        """The hours from C{begin} up to C{end} that have figures, in order."""
        check_paging(None, 0, begin, end)
        if begin >= end:
            return []
        members = await self._client.call("ZRANGEBYLEX", report_key(app, "hours"),
                                          "[" + hour_member(begin), "(" + hour_member(end))
        return [int(member) - HOUR_SHIFT for member in members]

    @deferred
    async def message_counts(self, app, begin, end):
        hours = await self._hours(app, begin, end)
        counts = {}
        for at in range(0, len(hours), CHUNK):
            chunk = hours[at:at + CHUNK]
            replies = await self._client.run(
                FETCH, [report_key(app, "counts", str(hour)) for hour in chunk])
            for hour, reply in zip(chunk, replies):
                for i in range(0, len(reply), 2):
                    target_type, _, msg_type = reply[i].partition(":")
                    counts[hour, target_type, msg_type] = int(reply[i + 1])
        return counts

    @deferred
    async def distinct_count(self, app, what, begin, end):
        if what not in DISTINCT:
            raise JimError(errors.BAD_REQUEST, f"no distinct count of {what!r}")
        hours = await self._hours(app, begin, end)
        unions = await defer.gatherResults([
            self._client.call("SUNION", *[report_key(app, what, str(hour))
                                          for hour in hours[at:at + UNION_HOURS]])
            for at in range(0, len(hours), UNION_HOURS)], consumeErrors=True)
        names = set()
        for union in unions:
            names.update(union)
        return len(names)

    @deferred
    async def note_active(self, app, usernames, at):
        check_paging(None, 0, at)
        names = list(dict.fromkeys(usernames))
        hour = hour_of(at)
        keys = [report_key(app, "active", str(hour)), report_key(app, "hours")]
        for start in range(0, len(names), CHUNK):
            await self._client.run(NOTE_ACTIVE, keys,
                                   [hour_member(hour), *names[start:start + CHUNK]])

    # -- users' and groups' creation ---------------------------------------------------------

    @deferred
    async def created_histogram(self, app, kind, edges):
        if kind == "user":
            ctimes = []
            for listed in (key(app, "users"), key(app, "admins")):
                async for names in self._pages(listed):
                    found = await self._client.run(CTIMES, [key(app, "user", name)
                                                            for name in names])
                    ctimes += [orjson.loads(ctime) for ctime in found if ctime is not None]
        elif kind == "group":
            ctimes = []
            async for gids in self._pages(key(app, "groups", "order")):
                found = await self._client.call("HMGET", key(app, "groups"), *gids)
                ctimes += [orjson.loads(value)[6] for value in found if value is not None]
        else:
            raise JimError(errors.BAD_REQUEST, f"no creation histogram of {kind!r}")
        counts = [0] * (len(edges) + 1)
        for ctime in ctimes:
            counts[bisect.bisect_right(edges, ctime)] += 1
        return counts

    async def _pages(self, ordered):
        """The members of a sorted set scored by distinct integers (a creation's number), in
        chunks, each after the highest score of the one before (a member added or removed
        meanwhile moves no other one)."""
        low = "-inf"
        while True:
            reply = await self._client.call("ZRANGEBYSCORE", ordered, low, "+inf",
                                            "WITHSCORES", "LIMIT", 0, CHUNK)
            if reply:
                yield reply[0::2]
            if len(reply) < 2 * CHUNK:
                return
            low = "(" + reply[-1]

    # -- the sweep ---------------------------------------------------------------------------

    @deferred
    async def forget_reports(self, before):
        check_paging(None, 0, before)
        done = await self._client.call("GET", SWEPT_MARK)
        if done is not None and done >= _mark(before):
            return 0  # another node (or this one) swept so far since
        gone, cursor = 0, "0"
        while True:
            cursor, names = await self._client.call("SCAN", cursor, "MATCH", _PATTERN,
                                                    "COUNT", SCAN_COUNT)
            found = [parsed for parsed in map(_report_key, names) if parsed is not None]
            indexes = [report_key(app, rest) for app, rest in found
                       if rest == "log" or rest.startswith("user:")]
            gone += await self._trim(indexes, "(" + history_head(before))
            for at in range(0, len(found), FORGET_TOGETHER):
                swept = await defer.gatherResults(
                    [self._forget_hours(app, before)
                     for app, rest in found[at:at + FORGET_TOGETHER] if rest == "hours"],
                    consumeErrors=True)
                gone += sum(swept)
            if str(cursor) == "0":
                break
        await self._client.run(SWEPT, [SWEPT_MARK], [_mark(before)])
        self.log.info("reports: forgot {count} entries of what was before {before}",
                      count=gone, before=before)
        return gone

    async def _trim(self, indexes, bound):
        """Remove the entries below C{bound} from the report indexes, at most
        L{FORGET_ENTRIES} a script; how many went."""
        gone, start = 0, 0
        while start < len(indexes):
            chunk = indexes[start:start + FORGET_KEYS]
            removed, unfinished = await self._client.run(TRIM, chunk,
                                                         [bound, FORGET_ENTRIES])
            gone += removed
            start += unfinished - 1  # that key again: it may hold more
        return gone

    @deferred
    async def _forget_hours(self, app, before):
        """Forget the app's hours before C{before}, L{FORGET_HOURS} a script; how many fields
        and members went."""
        gone, hours, bound = 0, report_key(app, "hours"), "(" + hour_member(before)
        while True:
            members = await self._client.call("ZRANGEBYLEX", hours, "-", bound,
                                              "LIMIT", 0, FORGET_HOURS)
            if not members:
                return gone
            keys = [report_key(app, part, str(int(member) - HOUR_SHIFT))
                    for member in members for part in HOURLY]
            gone += await self._client.run(FORGET, [hours, *keys], members)
            if len(members) < FORGET_HOURS:
                return gone
