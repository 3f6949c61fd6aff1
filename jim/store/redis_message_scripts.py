# -*- test-case-name: tests.store_contract.test_messages -*-
"""The Lua scripts of the Redis store's message area (L{jim.store.redis_messages}).

Every key a script touches comes in KEYS. A script never parses a message's JSON: what it needs
to know of a message comes in ARGV, but for retraction, which is the last element of the JSON
array: a message's text ends with C{false]} until it is retracted, then with C{true]}.
"""
from jim.redis.client import Script

#: KEYS: the id counter, the messages, the client ids, the app's report log and its report
#: hours, then for each hour of the batch (ARGV[2], ...) its report counts, senders and groups
#: (L{jim.store.redis_reports}), then for each message (but one whose p is '=') the history of
#: its conversation, the list of its conversation's ids, the private-conversation sets of its
#: sender and target (none, one or two) and its sender's report index (one for a group or chat
#: room message, none for a private one, which a user's report scope reads from its history).
#: ARGV[1]: a JSON array of two: for each message an array of texts, and the channels its
#: messages' parts are published on. A message's texts: p (how many private-conversation sets;
#: '=' for the keys of the message before it, which are then not named again: a run's messages
#: share theirs), the id it was built with ('' for the next one), the head of its history entry
#: ('' for none), its client-id field ('' for none), its conversation key ('' when p is 0), u
#: (how many report indexes: 0 or 1), the place of its hour among the batch's hours (1 for
#: ARGV[2]), its field of the hour's counts (C{<target type>:<msg type>}), its sender, its gid
#: ('' for none), '1' to store it only if its client id was never stored ('' for always), n, how
#: many parts of its delivery to publish, and then the place of each part's channel among the
#: channels. (One argument rather than one per field: a command's arguments cost a client far
#: more to encode than a JSON text, and cjson reads texts back exactly.) Then the batch's hours,
#: as members of the report hours (ARGV[2], ...), then the tail of each message's parts, then
#: each message's JSON, in the order of ARGV[1] (arguments of their own: inside ARGV[1] every
#: quote of theirs would be escaped, and unescaping them cost the script more than reading the
#: rest).
#: A message stored (not one answered with an earlier message) has its parts published: each
#: C{'stored [' .. id .. ',' .. JSON .. ',' .. tail .. ']'} (L{jim.wire.busjson.
#: stored_delivery_tail}), the parts of one channel as one PUBLISH once everything is
#: written, a line each, in id order.
#: The messages' ids in order: 0 for an id it was built with that is not above the last id,
#: C{[id, JSON]} of the first message with its client id for one stored only once that was.
#: The whole batch is one SET, one HSET, one ZADD for each history it touches and one RPUSH
#: for each conversation, not several commands a message: each command a script runs is also
#: an entry in the AOF and the replication stream. A conversation enters its users'
#: private-conversation sets (SADD) only with its first message, when the RPUSH makes its list:
#: the sets are kept with the lists and never lose a member, so later messages need no SADD.
#: The reports' share is grouped the same way: one ZADD of the report log, one of each group or
#: chat room sender's report index, one of the report hours (which changes nothing, so is not
#: written to the AOF, once the hour is there), one HINCRBY for each hour and (target type,
#: message type), one SADD of the senders of each hour and one of its groups. A message
#: appended retracted is counted (it was sent) but enters no index, as it enters no history.
APPEND = Script("messages.append", """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local first = last
local ids, fields, sets, names = {}, {}, {}, {}
local seen = {}  -- client field -> {id, JSON} of the batch's first message with it
local lists, conversations = {}, {}
local hours, tallies, tallied, members, named = {}, {}, {}, {}, {}
local function add(name, member)
  local set = sets[name]
  if set == nil then
    set = {}
    sets[name] = set
    names[#names + 1] = name
  end
  set[#set + 1] = '0'  -- a text: a number would be formatted as a double for Redis
  set[#set + 1] = member
end
local function tally(name, field)
  local counts = tallies[name]
  if counts == nil then
    counts = {}
    tallies[name] = counts
  end
  if counts[field] == nil then
    counts[field] = 1
    tallied[#tallied + 1] = {name, field}
  else
    counts[field] = counts[field] + 1
  end
end
local function note(name, member)
  local set = members[name]
  if set == nil then
    set = {}
    members[name] = set
    named[#named + 1] = name
  end
  if set[member] == nil then
    set[member] = true
    set[#set + 1] = member
  end
end
local batch = cjson.decode(ARGV[1])
local entries, channels = batch[1], batch[2]
local parts = 0
for _, entry in ipairs(entries) do
  parts = parts + tonumber(entry[12])
end
local hours_end = #ARGV - #entries - parts  -- the last hour's place in ARGV
local values = hours_end + parts  -- ARGV[values + i]: the JSON of entry i
local part = hours_end  -- ARGV[part + j]: the tail of the entry's part j
local k = 3 * hours_end + 3  -- after the hours' keys
local k0, p0, u0 = k, 0, 0  -- where the last keys an entry named start, its p and u
local lines = {}  -- channel place -> the pieces of what is published on it
for i, entry in ipairs(entries) do
  local p, u
  if entry[1] == '=' then  -- the keys of the entry before it, not named again
    k, p, u = k0, p0, u0
  else
    p, u = tonumber(entry[1]), tonumber(entry[6])
    k0, p0, u0 = k, p, u
  end
  local hour = tonumber(entry[7])
  local given, head, client = entry[2], entry[3], entry[4]
  local value = ARGV[values + i]
  local n = tonumber(entry[12])
  local r = k + 1 + p
  local first = nil
  if entry[11] == '1' then  -- once: a client id sent before is answered with its first message
    first = seen[client]
    if first == nil then
      local found = redis.call('HGET', KEYS[3], client)
      if found then
        local stored = redis.call('HGET', KEYS[2], found)
        if stored then
          first = {found, stored}
        end
      end
    end
  end
  local id = 0
  if first ~= nil then
    id = 0
  elseif given == '' then
    last = last + 1
    id = last
  elseif tonumber(given) > last then
    last = tonumber(given)
    id = last
  end
  if id ~= 0 then
    local field = string.format('%d', id)
    fields[#fields + 1] = field
    fields[#fields + 1] = value
    if head ~= '' then
      local member = head .. string.format('%020d', id)
      add(KEYS[k], member)
      add(KEYS[4], member)
      for i = 1, u do
        add(KEYS[r + i], member)
      end
    end
    if hours[hour] == nil then
      hours[hour] = true
      add(KEYS[5], ARGV[hour + 1])
    end
    local figures = 3 * hour + 3
    tally(KEYS[figures], entry[8])
    note(KEYS[figures + 1], entry[9])
    if entry[10] ~= '' then
      note(KEYS[figures + 2], entry[10])
    end
    local list = KEYS[k + 1]
    local pushed = lists[list]
    if pushed == nil then
      pushed = {}
      lists[list] = pushed
      conversations[#conversations + 1] = list
    end
    pushed[#pushed + 1] = field
    if p > 0 and pushed.private == nil then
      pushed.private = {entry[5], KEYS[k + 2], KEYS[k + 1 + p]}
    end
    if client ~= '' and redis.call('HSETNX', KEYS[3], client, field) == 1 then
      seen[client] = {field, value}
    end
    for j = 1, n do
      local place = entry[12 + j]
      local out = lines[place]
      if out == nil then
        out = {}
        lines[place] = out
      else
        out[#out + 1] = '\\n'
      end
      local at = #out
      out[at + 1] = 'stored ['
      out[at + 2] = field
      out[at + 3] = ','
      out[at + 4] = value
      out[at + 5] = ','
      out[at + 6] = ARGV[part + j]
      out[at + 7] = ']'
    end
  end
  ids[#ids + 1] = first or id
  k = r + u + 1
  part = part + n
end
if last ~= first then
  redis.call('SET', KEYS[1], string.format('%d', last))
end
if #fields > 0 then
  redis.call('HSET', KEYS[2], unpack(fields))
end
for _, name in ipairs(names) do
  redis.call('ZADD', name, unpack(sets[name]))
end
for _, counted in ipairs(tallied) do
  redis.call('HINCRBY', counted[1], counted[2], tallies[counted[1]][counted[2]])
end
for _, name in ipairs(named) do
  redis.call('SADD', name, unpack(members[name]))
end
for _, list in ipairs(conversations) do
  local pushed = lists[list]
  local private = pushed.private
  if redis.call('RPUSH', list, unpack(pushed)) == #pushed and private ~= nil then
    redis.call('SADD', private[2], private[1])
    if private[3] ~= private[2] then
      redis.call('SADD', private[3], private[1])
    end
  end
end
for place, channel in ipairs(channels) do
  if lines[place] ~= nil then
    redis.call('PUBLISH', channel, table.concat(lines[place]))
  end
end
return ids
""")

#: KEYS: a conversation's history, the messages; ARGV: the lowest and the highest entry
#: (ZRANGEBYLEX bounds), the offset ('' for the latest), the count. The messages: id, JSON,
#: ... oldest first from an offset, newest first for the latest.
HISTORY = Script("messages.history", """
local rows
if ARGV[3] == '' then
  rows = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[2], ARGV[1], 'LIMIT', 0, ARGV[4])
else
  rows = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', ARGV[3], ARGV[4])
end
local out = {}
for _, row in ipairs(rows) do
  local id = string.match(row, ':0*(%d+)$')
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[2], id)
end
return out
""")

#: KEYS: the messages, the message's history, then its report indexes (the app's log, and a
#: group or chat room message's sender's: L{jim.store.redis_reports}); ARGV: its id, its history
#: entry (the same member in each index). Its JSON, retracted.
RETRACT = Script("messages.retract", """
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then
  return redis.error_reply('JIM no_such_message no message ' .. ARGV[1])
end
if string.sub(value, -5) == 'true]' then
  return redis.error_reply('JIM already_retracted message ' .. ARGV[1] .. ' is retracted already')
end
value = string.sub(value, 1, -7) .. 'true]'
redis.call('HSET', KEYS[1], ARGV[1], value)
for i = 2, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[2])
end
return value
""")
