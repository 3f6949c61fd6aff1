# -*- test-case-name: tests.store_contract.test_users -*-
"""The users area of the Redis store (L{jim.interfaces.IUserStore}).

Keys (named by L{jim.store.redis_keys.key}, all of them the user's app's):

    jim:{app}:user:<username>  HASH    the User: one field per attribute (app, username,
                                       password, the profile, ctime, mtime, forbidden, admin),
                                       each holding the JSON of its value
    jim:{app}:users            ZSET    the usernames of the users who are not admins, scored by
                                       registration number
    jim:{app}:admins           ZSET    the usernames of the admins, scored the same way
    jim:{app}:users:seq        STRING  the last registration number given (INCR)

Each user is in exactly one of the two sets; an update of C{admin} moves it to the other with
its score, so both lists stay in registration order and a page is a range of one set.
"""
import attr
from zope.interface import implementer

from jim.interfaces import IUserStore
from jim.model import User
from jim.redis.client import Script
from jim.store import USER_CHANGES, check_changes
from jim.store.redis_apps import ADD, as_json, fetch, fields, page, value_of
from jim.store.redis_keys import deferred, key


#: KEYS: the user's hash, the users, the admins; ARGV: the username, then field, value, ...
#: The user's fields after the change.
UPDATE = Script("users.update", """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('JIM no_such_user no such user')
end
local was = redis.call('HGET', KEYS[1], 'admin')
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
local now = redis.call('HGET', KEYS[1], 'admin')
if now ~= was then
  local from, to = KEYS[2], KEYS[3]
  if now == 'false' then from, to = KEYS[3], KEYS[2] end
  redis.call('ZADD', to, redis.call('ZSCORE', from, ARGV[1]), ARGV[1])
  redis.call('ZREM', from, ARGV[1])
end
return redis.call('HGETALL', KEYS[1])
""")

#: KEYS: the user's hash; ARGV: the JSON of the old password, of the new one. 1 if replaced.
REPLACE_PASSWORD = Script("users.replace_password", """
if redis.call('HGET', KEYS[1], 'password') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'password', ARGV[2])
return 1
""")

#: KEYS: the user's hash, the users, the admins; ARGV: the username
DELETE = Script("users.delete", """
if redis.call('DEL', KEYS[1]) == 0 then
  return redis.error_reply('JIM no_such_user no such user')
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
""")


def _user(app, username):
    return key(app, "user", username)


def _lists(app):
    """The sorted sets of the users who are not admins, and of the admins."""
    return [key(app, "users"), key(app, "admins")]


@implementer(IUserStore)
class RedisUsers:
    def __init__(self, client):
        self._client = client

    @deferred
    async def add_user(self, user):
        keys = [_user(user.app, user.username), key(user.app, "users", "seq"),
                _lists(user.app)[bool(user.admin)]]
        await self._client.run(ADD, keys, ["JIM user_exists the username is taken",
                                           user.username, *fields(attr.asdict(user))])

    @deferred
    async def get_user(self, app, username):
        found = await fetch(self._client, User, [_user(app, username)])
        return found[0] if found else None

    @deferred
    async def get_users(self, app, usernames):
        return await fetch(self._client, User, [_user(app, n) for n in dict.fromkeys(usernames)])

    def update_user(self, app, username, changes):
        check_changes(User, changes, USER_CHANGES)  # a caller's bug: raised at once
        return self._update(app, username, changes)

    @deferred
    async def _update(self, app, username, changes):
        reply = await self._client.run(UPDATE, [_user(app, username), *_lists(app)],
                                       [username, *fields(changes)])
        return value_of(User, reply)

    @deferred
    async def replace_password(self, app, username, old, new):
        replaced = await self._client.run(REPLACE_PASSWORD, [_user(app, username)],
                                          [as_json(old), as_json(new)])
        return replaced == 1

    @deferred
    async def delete_user(self, app, username):
        await self._client.run(DELETE, [_user(app, username), *_lists(app)], [username])

    @deferred
    async def list_users(self, app, start, count, admin=False):
        total, names = await page(self._client, _lists(app)[bool(admin)], start, count)
        users = await fetch(self._client, User, [_user(app, name) for name in names])
        # a user made an admin (or not) since the page was read is left out of it
        return total, [user for user in users if user.admin is bool(admin)]
