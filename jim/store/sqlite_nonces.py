# -*- test-case-name: tests.store_contract.test_nonces -*-
"""The nonce area of L{jim.store.sqlite.SqliteStore}: a claim is one write job, so the claims of
one batch are made in turn and no two of them take the same nonce; the sweep a series of
bounded write jobs. Its SQL is in L{jim.store.sqlite_nonce_queries}."""
from twisted.internet import defer
from zope.interface import implementer

from jim.interfaces import INonceStore
from jim.store import sqlite_nonce_queries as q


@implementer(INonceStore)
class SqliteNonces:
    """@param engine: the L{jim.store.sqlite.SqliteStore} whose threads run the SQL.
    @param clock: provides C{seconds()}, the wall clock a use is told expired by (read when a
        claim is made, on the reactor thread)."""

    def __init__(self, engine, clock):
        self._engine = engine
        self._clock = clock

    def claim(self, app, nonce, expires):
        now = int(self._clock.seconds() * 1000)
        return self._engine.write(q.claim_nonce, app, nonce, expires, now)

    async def _forget(self, before):
        gone = 0
        while True:
            went = await self._engine.write(q.sweep_nonces, before)
            gone += went
            if went < q.SWEEP_BATCH:
                return gone

    def forget_nonces(self, before):
        return defer.ensureDeferred(self._forget(before))
