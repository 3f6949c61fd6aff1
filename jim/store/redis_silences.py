# -*- test-case-name: tests.store_contract.test_silences -*-
"""The silence area of the Redis store (L{jim.interfaces.ISilenceStore}).

Keys (named by L{jim.store.redis_keys.key}, each the app's: forgetting the app forgets them):

    jim:{app}:silenced:<place>        SET  the usernames whose silence in the place is kept
    jim:{app}:silenced_of:<username>  SET  the places that keep the user's silence

The second is the first's index by user, kept by the same scripts. Forgetting a place or a
user reads one set, then changes it and the other side's sets in one script, which does
nothing when the set changed since it was read (and is tried again).
"""
from zope.interface import implementer

from jim import errors
from jim.errors import JimError
from jim.interfaces import ISilenceStore
from jim.redis.client import Script
from jim.store.redis_keys import deferred, key, names_after

#: how many times forgetting a place or a user is tried while the set keeps changing
ATTEMPTS = 50

#: KEYS: the place's set, then each user's index; ARGV: the place, then the usernames
_KEEP = Script("silences.keep", """
for i = 2, #ARGV do
  redis.call('SADD', KEYS[1], ARGV[i])
  redis.call('SADD', KEYS[i], ARGV[1])
end
""")

_RELEASE = Script("silences.release", """
for i = 2, #ARGV do
  redis.call('SREM', KEYS[1], ARGV[i])
  redis.call('SREM', KEYS[i], ARGV[1])
end
""")

#: KEYS: a set, then the other side's set of each of its members; ARGV: what the set is
#: named by in theirs (a place or a username), then its members as read. 1 once they are
#: forgotten, 0 (and nothing done) if the set no longer holds just those.
_FORGET = Script("silences.forget", """
if redis.call('SCARD', KEYS[1]) ~= #ARGV - 1 then return 0 end
for i = 2, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 0 then return 0 end
end
for i = 2, #ARGV do redis.call('SREM', KEYS[i], ARGV[1]) end
redis.call('DEL', KEYS[1])
return 1
""")


def place_key(app, place):
    return key(app, "silenced", place)


def user_key(app, username):
    return key(app, "silenced_of", username)


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


@implementer(ISilenceStore)
class RedisSilences:
    def __init__(self, client):
        self._client = client

    async def _change(self, script, app, place, usernames):
        names = list(dict.fromkeys(usernames))
        if names:
            await self._client.run(script,
                                   [place_key(app, place),
                                    *(user_key(app, name) for name in names)],
                                   [place, *names])

    @deferred
    async def keep_silences(self, app, place, usernames):
        await self._change(_KEEP, app, place, usernames)

    @deferred
    async def release_silences(self, app, place, usernames):
        await self._change(_RELEASE, app, place, usernames)

    @deferred
    async def silenced_among(self, app, place, usernames):
        usernames = list(usernames)
        if not usernames:
            return []
        found = await self._client.call("SMISMEMBER", place_key(app, place), *usernames)
        return [name for name, kept in zip(usernames, found) if kept]

    async def _forget(self, name, set_key, other_key):
        """Forget the set C{set_key} (of the place or user C{name}) and its members' entries
        of it in their sets (C{other_key(member)})."""
        for _ in range(ATTEMPTS):
            members = [_text(m) for m in await self._client.call("SMEMBERS", set_key)]
            if not members:
                return
            keys = [set_key, *(other_key(member) for member in members)]
            if await self._client.run(_FORGET, keys, [name, *members]):
                return
        raise JimError(errors.SERVER_ERROR, "silences kept changing: try again")

    @deferred
    async def forget_place(self, app, place):
        await self._forget(place, place_key(app, place), lambda u: user_key(app, u))

    @deferred
    async def forget_user_silences(self, app, username):
        await self._forget(username, user_key(app, username), lambda p: place_key(app, p))

    @deferred
    async def forget_users_with_prefix(self, app, prefix):
        """The users' index keys are found by a SCAN of their names (not a hot path)."""
        head = user_key(app, "")
        for username in sorted(await names_after(self._client, head + prefix)):
            name = prefix + username
            await self._forget(name, user_key(app, name), lambda p: place_key(app, p))
