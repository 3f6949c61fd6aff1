# -*- test-case-name: tests.store_contract.test_nonces -*-
"""The nonce area of L{jim.store.memory.MemoryStore}: a dict per app of each nonce's expiry,
told apart from a use still running by this process's clock."""
import time

from zope.interface import implementer

from jim.interfaces import INonceStore
from jim.store import answered


def epoch_ms():
    """The wall clock, in epoch ms."""
    return int(time.time() * 1000)


@implementer(INonceStore)
class MemoryNonces:
    """@param now: the clock a use is told expired by (epoch ms)."""

    def __init__(self, now=epoch_ms):
        self._now = now
        self._nonces = {}  # app -> {nonce: expires}

    @answered
    def claim(self, app, nonce, expires):
        mine = self._nonces.setdefault(app, {})
        if nonce in mine and mine[nonce] > self._now():
            return False
        mine[nonce] = expires
        return True

    @answered
    def forget_nonces(self, before):
        gone = 0
        for app, mine in list(self._nonces.items()):
            for nonce in [nonce for nonce, expires in mine.items() if expires < before]:
                del mine[nonce]
                gone += 1
            if not mine:
                del self._nonces[app]
        return gone

    @answered
    def forget_app(self, app):
        """Forget the app's nonces (L{jim.interfaces.IStore.forget_app})."""
        self._nonces.pop(app, None)
