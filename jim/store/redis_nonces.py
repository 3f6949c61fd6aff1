# -*- test-case-name: tests.store_contract.test_nonces -*-
"""The nonce area of the Redis store (L{jim.interfaces.INonceStore}).

Keys (named by L{jim.store.redis_keys.key}, each the app's: it has the app's hash tag, so
forgetting the app forgets them):

    jim:{app}:nonce:<nonce>  STRING  "1", expiring (PX) when the nonce's use does

A claim is C{SET ... NX PX}: one command, so of the claims of every node only the first sets
the key, and Redis expires it itself when the use ends. The time left is the claiming node's
clock's. A claim whose use has already expired keeps nothing: it is refused only while the
nonce is in use (C{EXISTS}).
"""
from zope.interface import implementer

from jim.interfaces import INonceStore
from jim.store.redis_keys import deferred, key


@implementer(INonceStore)
class RedisNonces:
    """@param clock: provides C{seconds()}, the wall clock the time left of a use is counted
    from."""

    def __init__(self, client, clock):
        self._client = client
        self._clock = clock

    @deferred
    async def claim(self, app, nonce, expires):
        name = key(app, "nonce", nonce)
        left = expires - int(self._clock.seconds() * 1000)
        if left <= 0:
            return not await self._client.call("EXISTS", name)
        return await self._client.call("SET", name, "1", "NX", "PX", left) is not None

    @deferred
    async def forget_nonces(self, before):
        """Nothing to do: Redis forgets each nonce itself when its use expires; 0."""
        return 0
