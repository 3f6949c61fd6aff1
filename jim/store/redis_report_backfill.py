# -*- test-case-name: tests.test_store_redis_reports -*-
"""The report data of messages a Redis jim stored before it kept reports: added once, in the
background, when a node of a version that keeps them first starts on that Redis.

SQLite fills its report tables with a migration (0013). Redis has no migrations, and since the
message append script writes each message's share of the reports
(L{jim.store.redis_message_scripts.APPEND}), a message stored by an older jim has none: the
app-wide report and the hourly figures (L{jim.store.redis_reports}) would not know it. L{run}
walks every app's messages (C{SCAN} for the C{messages} hashes, then C{HSCAN} of each, a few
hundred at a time) and gives each message that has no entry in its app's report log what the
append script would have given it: its report log entry, its sender's report index entry (a
group or chat room message), and its share of its hour's figures. The mark
C{jim:reports:backfilled} then says it was done, and no node does it again.

It never counts a message twice: the script that adds a message's share first checks, in
Redis, that the message has no report log entry and is not retracted (a retraction takes the
entry out again), so a message written meanwhile by the append script (which writes its share
with it), or a walk that two nodes run at once, or one run again after a node died in the
middle, adds nothing twice. What it cannot know: how many messages of an older jim were
retracted (they are counted by the append script when sent; these are not counted at all), and
messages created before the last report sweep (they are past the retention, and skipped).
"""
import orjson
from twisted.logger import Logger

from jim.model import GROUP, SINGLE
from jim.redis.client import Script
from jim.store.redis_keys import SCAN_COUNT, key
from jim.store.redis_messages import (
    history_head, hour_member, hour_of, report_key, stored_message,
)

#: set once every app's messages were given their report data
BACKFILLED = key(None, "reports", "backfilled")
#: every app's message hash (each name found is checked: L{app_of})
_PATTERN = "jim:{*}:messages"
#: the most messages one script looks at
BATCH = 200

log = Logger()

#: KEYS: the app's messages, its report log, its report hours, then for each message its hour's
#: counts, senders and groups and, for a group or chat room message, its sender's report index.
#: ARGV[1]: a JSON array with, for each message, [its id, its report log entry, its hour's
#: member, its field of the counts, its sender, its gid ('' for none), 1 with a sender's index
#: and 0 without]. Each message that is still stored, not retracted, and not in the log gets
#: what the append script gives it. How many did.
BACKFILL = Script("reports.backfill", """
local k, added = 3, 0
for _, m in ipairs(cjson.decode(ARGV[1])) do
  local u = tonumber(m[7])
  local value = redis.call('HGET', KEYS[1], m[1])
  if value and string.sub(value, -5) ~= 'true]'
      and not redis.call('ZSCORE', KEYS[2], m[2]) then
    redis.call('ZADD', KEYS[2], '0', m[2])
    redis.call('ZADD', KEYS[3], '0', m[3])
    redis.call('HINCRBY', KEYS[k + 1], m[4], 1)
    redis.call('SADD', KEYS[k + 2], m[5])
    if m[6] ~= '' then redis.call('SADD', KEYS[k + 3], m[6]) end
    if u == 1 then redis.call('ZADD', KEYS[k + 4], '0', m[2]) end
    added = added + 1
  end
  k = k + 3 + u
end
return added
""")


def app_of(name):
    """The app whose message hash C{name} is, or None for another key that the pattern
    matched (a conversation key may end with C{:messages})."""
    close = name.find("}")
    if not name.startswith("jim:{") or close < 0 or name[close + 1:] != ":messages":
        return None
    return (name[5:close].replace("%7B", "{").replace("%7D", "}").replace("%25", "%"))


async def run(client, swept_mark):
    """Give every message stored without report data its share (see the module); None when
    it was done before, else how many messages got theirs. C{swept_mark} is the key of the
    report sweep's mark: messages created before it are skipped."""
    if await client.call("GET", BACKFILLED) is not None:
        return None
    swept = await client.call("GET", swept_mark)
    added, cursor = 0, "0"
    while True:
        cursor, names = await client.call("SCAN", cursor, "MATCH", _PATTERN,
                                          "COUNT", SCAN_COUNT)
        for name in names:
            app = app_of(name if isinstance(name, str) else name.decode())
            if app is not None:
                added += await _app(client, app, swept)
        if str(cursor) == "0":
            break
    await client.call("SET", BACKFILLED, "1")
    if added:
        log.info("reports: gave {count} messages stored before the reports their report data",
                 count=added)
    return added


async def _app(client, app, swept):
    """Backfill one app's messages, L{BATCH} at a time; how many got their share."""
    messages, added, cursor = key(app, "messages"), 0, "0"
    while True:
        cursor, flat = await client.call("HSCAN", messages, cursor, "COUNT", BATCH)
        batch = [stored_message(app, flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
        batch = [m for m in batch if not m.retracted
                 and (swept is None or history_head(m.created)[:-1] >= swept)]
        if batch:
            added += await client.run(BACKFILL, *script_arguments(app, messages, batch))
        if str(cursor) == "0":
            return added


def script_arguments(app, messages, batch):
    """The keys and arguments of L{BACKFILL} for C{batch}, messages of C{app} as read from
    its message hash C{messages}."""
    keys = [messages, report_key(app, "log"), report_key(app, "hours")]
    entries = []
    for message in batch:
        hour = hour_of(message.created)
        keys += [report_key(app, figure, str(hour)) for figure in ("counts", "sender", "group")]
        indexed = message.target_type != SINGLE
        if indexed:
            keys.append(report_key(app, "user", message.sender))
        entries.append([str(message.id), f"{history_head(message.created)}{message.id:020d}",
                        hour_member(hour), message.target_type + ":" + message.msg_type,
                        message.sender, message.target if message.target_type == GROUP else "",
                        "1" if indexed else "0"])
    return keys, [orjson.dumps(entries)]
