# -*- test-case-name: tests.test_store_redis_media -*-
"""The media area's usage and content sets in Redis (L{jim.store.redis_media}), and how the
records of a jim that kept none are counted in them: once a Redis, by the first node that
asks (L{run}).

SQLite counts the records it kept before with its migration 18. Redis has no migrations:
L{run} walks every app's media records (C{SCAN}), and counts each one whose content its app's
set does not hold, as an upload would (L{INDEX}, which checks that the record is still there:
an app forgotten meanwhile gets nothing back). A content is counted once, whoever counts it
first, so an upload meanwhile, two nodes walking at once, or a walk run again after a node died
in the middle count nothing twice. The mark C{jim:media:indexed} then says it was done (and
what it counted is right for the quota). Every sweep of the files walks them again first
(L{jim.store.redis_media.RedisMedia.count_older}): a record not counted would not keep its
file, and a node of an older jim still running while the nodes are upgraded keeps records that
nothing else would count.
"""
import orjson
from twisted.logger import Logger

from jim.redis.client import Script
from jim.store.redis_keys import SCAN_COUNT, key

#: set once every record kept before the sets is in them
INDEXED = key(None, "media", "indexed")
#: every app's media records (each name found is checked: L{app_of})
_PATTERN = "jim:{*}:media:*"
_RECORDS = ":media:"
#: the largest usage (what INCRBY can keep): it stops there
_MOST = "9223372036854775807"

log = Logger()

#: Lua: count a content new to an app (its hashes set, its usage, the hash's media-named set)
COUNT = """
local function count(hashes, usage, named, hash, size)
  local grown = redis.pcall('INCRBY', usage, size)
  if type(grown) == 'table' and grown.err then redis.call('SET', usage, '""" + _MOST + """') end
  redis.call('SADD', hashes, hash)
  redis.call('SADD', named, hashes)
end
"""

#: KEYS: the app's hashes and usage, then for each record its key and its hash's media-named
#: set; ARGV: each record's hash and size. Each record still kept whose content the app's set
#: does not hold is counted; how many were.
INDEX = Script("media.index", COUNT + """
local counted = 0
for i = 1, #ARGV, 2 do
  local record, named = KEYS[i + 2], KEYS[i + 3]
  if redis.call('EXISTS', record) == 1 and redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 0 then
    count(KEYS[1], KEYS[2], named, ARGV[i], ARGV[i + 1])
    counted = counted + 1
  end
end
return counted
""")


def hashes_key(app):
    return key(app, "media-hashes")


def usage_key(app):
    return key(app, "media-usage")


def named_key(content_hash):
    return key(None, "media-named", content_hash)


def app_of(name):
    """The app whose media record C{name} is, or None for another key that the pattern
    matched (a key of another area whose free text holds C{:media:})."""
    close = name.find("}")
    if not name.startswith("jim:{") or close < 0 or not name.startswith(_RECORDS, close + 1):
        return None
    return name[5:close].replace("%7B", "{").replace("%7D", "}").replace("%25", "%")


async def run(client, again=False):
    """Count every record kept before the sets (see the module); None when that was done
    before, else how many records were counted. C{again}: walk them all the same (records a
    node of an older jim kept since, while the nodes are upgraded one by one, are counted)."""
    if not again and await client.call("GET", INDEXED) is not None:
        return None
    counted, cursor = 0, "0"
    while True:
        cursor, names = await client.call("SCAN", cursor, "MATCH", _PATTERN,
                                          "COUNT", SCAN_COUNT)
        by_app = {}
        for name in names:
            app = app_of(name)
            if app is not None:
                by_app.setdefault(app, []).append(name)
        for app, records in by_app.items():
            counted += await _count(client, app, records)
        if str(cursor) == "0":
            break
    await client.call("SET", INDEXED, "1")
    if counted:
        log.info("media: counted {count} uploads kept before the usage was", count=counted)
    return counted


async def _count(client, app, records):
    """Count these records of C{app} (those still kept); how many were."""
    values = await client.call("MGET", *records)
    keys, args = [hashes_key(app), usage_key(app)], []
    for record, value in zip(records, values):
        if value is not None:
            fields = orjson.loads(value)  # media_id, content_hash, kind, size, ...
            keys += [record, named_key(fields[1])]
            args += [fields[1], fields[3]]
    if not args:
        return 0
    return await client.run(INDEX, keys, args)
