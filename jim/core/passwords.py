"""Password hashing with scrypt, in self-describing strings.

A stored hash reads ``scrypt$N$r$p$<salt b64>$<key b64>``, so users keep logging in after the
configured cost changes; a hash weaker than the configured cost is replaced at the next login.
Hashing runs on threads (hashlib.scrypt releases the GIL) through an injected runner, so the
reactor never blocks on it.
"""
import base64
import hashlib
import hmac
import os

from twisted.internet import defer

from jim.errors import JimError
from jim.wire import status

_PREFIX = "scrypt"
_KEY_BYTES = 32
_MAX_MEM = 512 * 1024 * 1024


def _b64(raw):
    return base64.b64encode(raw).decode("ascii")


def hash_password(password, cost, salt=None):
    """The self-describing scrypt hash of C{password} (str) at C{cost} = (N, r, p)."""
    n, r, p = cost
    salt = os.urandom(16) if salt is None else salt
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEM, dklen=_KEY_BYTES
    )
    return f"{_PREFIX}${n}${r}${p}${_b64(salt)}${_b64(key)}"


def parse(stored):
    """(N, r, p, salt, key) of a stored hash, or None if it is not one of ours."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _PREFIX:
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        return n, r, p, base64.b64decode(parts[4]), base64.b64decode(parts[5])
    except ValueError:
        return None


def verify_password(password, stored):
    """True if C{password} matches C{stored}; constant-time comparison of the derived keys."""
    parsed = parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, key = parsed
    try:
        candidate = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEM, dklen=len(key)
        )
    except (ValueError, TypeError, OverflowError, MemoryError):
        return False  # parameters scrypt refuses (N not a power of two, no key, ...)
    return hmac.compare_digest(candidate, key)


def weaker_than(stored, cost):
    """True if C{stored} was made with less work than C{cost} asks for."""
    parsed = parse(stored)
    if parsed is None:
        return True
    n, r, p = parsed[:3]
    return n * r * p < cost[0] * cost[1] * cost[2]


class Passwords:
    """Hash and verify on threads. C{run} is C{(f, *args) -> Deferred}, e.g. deferToThreadPool.

    At most C{max_pending} hashes wait or run at once; beyond that a login is refused at once
    (10008, "busy") instead of queueing without bound: a flood of logins must not become an
    ever longer queue of scrypt work.
    """

    def __init__(self, cost, run=None, max_pending=64):
        self.cost = tuple(cost)
        self._run = run if run is not None else defer.maybeDeferred
        self.max_pending = max_pending
        self.pending = 0

    def _submit(self, f, *args):
        if self.pending >= self.max_pending:
            return defer.fail(
                JimError(status.LOGIN_FAILED, "too many logins in progress; retry shortly", 503)
            )
        self.pending += 1
        d = self._run(f, *args)
        d.addBoth(self._finished)
        return d

    def _finished(self, result):
        self.pending -= 1
        return result

    def hash(self, password):
        return self._submit(hash_password, password, self.cost)

    def verify(self, password, stored):
        return self._submit(verify_password, password, stored)

    def needs_rehash(self, stored):
        return weaker_than(stored, self.cost)
