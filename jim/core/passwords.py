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
import time

from twisted.internet import defer
from twisted.python.failure import Failure

from jim import errors
from jim.core.fair_queue import FairQueue
from jim.errors import JimError

_PREFIX = "scrypt"
_KEY_BYTES = 32
MAX_MEMORY = 512 * 1024 * 1024  # maxmem of hashlib.scrypt: check_cost refuses costs above it
MAX_P = 64  # p multiplies the time of every hash


def check_cost(cost, max_memory=MAX_MEMORY):
    """Raise ValueError, saying why, unless hashing at C{cost} = (N, r, p) works: N a power of
    2 above 1, r and p positive, p at most L{MAX_P}, and within what OpenSSL's scrypt accepts
    under C{max_memory}."""
    n, r, p = cost
    if n < 2 or n & (n - 1) or r < 1 or p < 1:
        raise ValueError("N must be a power of 2 above 1, r and p positive")
    if p > MAX_P:
        raise ValueError(f"p must be 1 to {MAX_P}, not {p}")
    if 16 * r < 64 and n >= 1 << (16 * r):
        # OpenSSL refuses N >= 2^(16 r): with r = 1, N must stay below 65536
        raise ValueError(f"with r = {r}, N must be below {1 << (16 * r)}")
    needed = 128 * r * (n + 2 + p)  # what OpenSSL's scrypt allocates, checked against maxmem
    if needed > max_memory:
        raise ValueError(
            f"{n}:{r}:{p} needs {needed} bytes (128 * r * (N + p + 2)); "
            f"at most {max_memory} ({max_memory // (1024 * 1024)} MiB) is allowed"
        )


def _b64(raw):
    return base64.b64encode(raw).decode("ascii")


def hash_password(password, cost, salt=None):
    """The self-describing scrypt hash of C{password} (str) at C{cost} = (N, r, p)."""
    n, r, p = cost
    salt = os.urandom(16) if salt is None else salt
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=MAX_MEMORY, dklen=_KEY_BYTES
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


def salt_of(stored):
    """The salt of a stored hash, or None if it is not one of ours."""
    parsed = parse(stored)
    return None if parsed is None else parsed[3]


def verify_password(password, stored):
    """True if C{password} matches C{stored}; constant-time comparison of the derived keys."""
    parsed = parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, key = parsed
    try:
        candidate = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=MAX_MEMORY, dklen=len(key)
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

    Login hashes wait in a L{FairQueue}: the lines of the client addresses they came from
    (their C{source}) are served in turn, at most C{threads} hashes at once, so one address
    flooding wrong passwords cannot make everyone else wait behind its hashes. An address
    holding C{per_source} hashes (queued or running) has its next login refused at once
    (JimError(BUSY), "from your address"); and a login whose hash would wait longer than
    C{max_wait} seconds (judged from the hashes that would run before it in the turns of the
    addresses, how long one takes and how many C{threads} work) is refused at once too: a flood of logins from many addresses must
    not become an ever longer queue of scrypt work that outlives the clients who asked for it.

    Bulk hashes (an app server registering users in a batch) queue instead of being refused,
    and take at most C{threads - 1} threads (one, with a single thread): logins always have a
    thread of their own.

    How long one hash takes is read from C{timer} (seconds, monotonic) on the hashing thread,
    around the hash alone: the time a hash waited for its thread is not counted.
    """

    def __init__(self, cost, run=None, threads=1, max_wait=15.0, timer=time.perf_counter,
                 per_source=4):
        self.cost = tuple(cost)
        self._run = run if run is not None else defer.maybeDeferred
        self.threads = threads
        self.max_wait = max_wait
        self.timer = timer
        self.pending = 0  # login hashes queued or running
        self.seconds = 0.0  # moving average of one hash
        self._bulk = defer.DeferredSemaphore(max(1, threads - 1))
        self._queue = FairQueue(per_source)
        self._running = 0
        self._pumping = False

    def expected_wait(self, source=None):
        """Seconds a new login hash of C{source} would wait: behind every queued hash for the
        server's own work (None), else behind one hash of each address with work waiting for
        each hash its own address already holds (the lines are served in turn). So an address
        flooding logins finds its own wait too long and is refused, while a newcomer from
        another address waits for a few hashes and is not."""
        free = max(1, self.threads - self._bulk.limit + self._bulk.tokens)
        ahead = self.pending
        if source is not None:
            ahead = min(ahead, (self._queue.held(source) + 1) * max(1, self._queue.sources()))
        return ahead * self.seconds / free

    def _timed(self, f, *args):
        """Run C{f} and say how long it took (on the hashing thread, so the wait is not
        counted)."""
        started = self.timer()
        result = f(*args)
        return result, self.timer() - started

    def _submit(self, source, f, *args):
        if self._queue.full(source):
            return defer.fail(JimError(
                errors.BUSY, "too many logins in progress from your address; retry shortly"))
        if self.pending and self.expected_wait(source) > self.max_wait:
            return defer.fail(JimError(errors.BUSY, "too many logins in progress; retry shortly"))
        self.pending += 1
        d = defer.Deferred()
        self._queue.push(source, (d, f, args))
        self._pump()
        return d

    def _pump(self):
        """Start queued hashes, in their sources' turns, while a thread is free."""
        if self._pumping:
            return  # a hash that finished at once, inside the loop below: the loop goes on
        self._pumping = True
        try:
            while self._running < self.threads and len(self._queue):
                source, (d, f, args) = self._queue.pop()
                self._running += 1
                ran = defer.maybeDeferred(self._run, self._timed, f, *args)
                ran.addBoth(self._finished, source, d)
        finally:
            self._pumping = False

    def _finished(self, result, source, d):
        self._running -= 1
        self.pending -= 1
        self._queue.done(source)
        result = self._measured(result)
        self._pump()
        if isinstance(result, Failure):
            d.errback(result)
        else:
            d.callback(result)

    def _measured(self, result):
        if isinstance(result, Failure):
            return result
        value, took = result
        self.seconds = took if not self.seconds else 0.8 * self.seconds + 0.2 * took
        return value

    def hash(self, password, salt=None, source=None):
        """The hash of C{password} (with C{salt}: when a stronger hash replaces a weaker one,
        it keeps the user's salt), queued in the line of C{source} (a client address; None:
        the server's own work)."""
        return self._submit(source, hash_password, password, self.cost, salt)

    def hash_in_bulk(self, password):
        """A hash for a batch of registrations: queued, never refused, and never on the
        thread logins need."""
        return self._bulk.run(self._bulk_hash, password)

    def _bulk_hash(self, password):
        return self._run(self._timed, hash_password, password, self.cost).addBoth(self._measured)

    def verify(self, password, stored, source=None):
        return self._submit(source, verify_password, password, stored)

    def needs_rehash(self, stored):
        return weaker_than(stored, self.cost)
