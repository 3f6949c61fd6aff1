# -*- test-case-name: tests.test_core_login_throttle -*-
"""Failed password logins, counted per account and per client address: a slowdown, then a
refusal.

Pure bookkeeping: time is passed in, nothing waits or logs here (L{jim.core.accounts} does).
For one key (an account, an address) with a limit of N failures in a window:

- the window opens at the key's first failure and lasts C{window} seconds; its count starts
  again at the first failure after it;
- fewer than N failures: a login goes ahead at once;
- N to 2N - 1 failures: a login waits first, 1 s after the Nth failure, doubling with each
  further one (at most L{MAX_DELAY});
- 2N failures: the key is locked for C{lockout} seconds from that failure; its password
  logins are refused without hashing. When the lockout ends the key starts afresh.

At most N password checks of one key are in progress at a time (L{LoginThrottle.may_check}):
a login past that waits for one to end (L{jim.core.accounts} keeps the waiters), and then
takes its verdict from the failures counted meanwhile. So guesses sent all at once meet the
limits as guesses sent one after another do (a few more, those in progress when the key is
locked), while right passwords sent together (a user's devices, users behind one NAT) only
queue, as they would for the hashing threads anyway.

A success makes the address known to the account for L{KNOWN_SECONDS}: a login of the account
from an address it logged in from lately is held to that address's failures and to the
account's failures from that address (the same limit as the account's, counted apart), not to
the account's from everywhere. Whoever guesses an account's password from elsewhere then slows
and locks out only the logins from elsewhere, not its user's (L{KnownAddresses}); whoever
guesses from the user's own address (a shared NAT, a proxy) is held to the account's limit
there all the same. A success from an address not known yet forgets the account's failures
(not the address's: one account of its own would otherwise let an address reset its count);
one from a known address forgets the account's failures from there only, so that its user's
logins do not give back the guesses made from elsewhere.

Each key costs a few words; the keys are kept in the order they last failed, so those whose
window and lockout are over are dropped from the front as new failures come in, and past
C{max_keys} the oldest is dropped: O(1) per attempt, bounded memory. A limit of 0 counts
nothing.
"""
import ipaddress
from collections import OrderedDict

import attr

#: the longest wait before a throttled login is checked (below half the default login timeout)
MAX_DELAY = 10.0
#: the most keys one kind of count keeps by default
MAX_KEYS = 100_000
#: how long after its last password login from an address that address stays known to the
#: account (L{KnownAddresses})
KNOWN_SECONDS = 30 * 24 * 3600.0

#: what L{FailureCounts.failed} reports when a key changes state (logged once a window)
SLOWED = "slowed"
LOCKED = "locked"


@attr.s(frozen=True, slots=True)
class Verdict:
    """What a login may do now: C{delay} seconds to wait first, or C{locked_for} > 0 seconds
    during which it is refused."""

    delay = attr.ib(default=0.0)
    locked_for = attr.ib(default=0.0)

    @property
    def refused(self):
        return self.locked_for > 0

    def worst(self, other):
        return Verdict(max(self.delay, other.delay), max(self.locked_for, other.locked_for))


ALLOWED = Verdict()


def delay_after(failures, limit):
    """Seconds a login waits after C{failures} failures in the window, under C{limit}."""
    if not limit or failures < limit:
        return 0.0
    return min(MAX_DELAY, 2.0 ** (failures - limit))


class FailureCounts:
    """The failures of one kind of key (accounts, or addresses)."""

    def __init__(self, limit, window, lockout, max_keys=MAX_KEYS):
        self.limit = limit
        self.window = window
        self.lockout = lockout
        self.max_keys = max_keys
        #: key -> [failures, window end, locked until], in the order of their last failure
        self._keys = OrderedDict()

    def __len__(self):
        return len(self._keys)

    def _current(self, key, now):
        entry = self._keys.get(key)
        if entry is None:
            return None
        failures, window_end, locked_until = entry
        if now >= (locked_until if locked_until else window_end):
            del self._keys[key]  # its window (or lockout) is over: it starts afresh
            return None
        return entry

    def verdict(self, key, now):
        entry = self._current(key, now)
        if entry is None:
            return ALLOWED
        if entry[2]:
            return Verdict(locked_for=entry[2] - now)
        return Verdict(delay=delay_after(entry[0], self.limit))

    def failed(self, key, now):
        """Count a failure; L{SLOWED} or L{LOCKED} when the key just became so, else None."""
        if not self.limit:
            return None
        entry = self._current(key, now)
        if entry is None:
            entry = self._keys[key] = [0, now + self.window, 0.0]
        else:
            self._keys.move_to_end(key)
        if entry[2]:
            return None  # already locked: a login checked before the lockout, failing late
        entry[0] += 1
        self._trim(now)
        if entry[0] >= 2 * self.limit:
            entry[2] = now + self.lockout
            return LOCKED
        return SLOWED if entry[0] == self.limit else None

    def forget(self, key):
        self._keys.pop(key, None)

    def _trim(self, now):
        """Drop the oldest keys past the cap, and those at the front whose time is over."""
        keys = self._keys
        while len(keys) > self.max_keys:
            keys.popitem(last=False)
        while keys:
            key, (_failures, window_end, locked_until) = next(iter(keys.items()))
            if now < (locked_until if locked_until else window_end):
                break
            del keys[key]


class KnownAddresses:
    """The addresses each account logged in from with its password in the last C{seconds}:
    this node's memory, at most C{max_keys} of them, kept in the order they were last used, so
    that those whose time is over are dropped from the front."""

    def __init__(self, seconds=KNOWN_SECONDS, max_keys=MAX_KEYS):
        self.seconds = seconds
        self.max_keys = max_keys
        self._until = OrderedDict()  # (app, username, address) -> known until

    def __len__(self):
        return len(self._until)

    def note(self, key, now):
        self._until.pop(key, None)
        self._until[key] = now + self.seconds
        until = self._until
        while len(until) > self.max_keys:
            until.popitem(last=False)
        while until:
            first, when = next(iter(until.items()))
            if when > now:
                break
            del until[first]

    def known(self, key, now):
        until = self._until.get(key)
        return until is not None and now < until


def address_key(address):
    """The address a client's failures are counted under: its IPv4 address, or the /64 network
    of its IPv6 address (one host usually has a whole /64). Anything else is kept as it is."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(parsed)


def host_of(peer):
    """The host part of a printable peer (C{host:port}, see L{jim.protocols.outbox.peer_of})."""
    if not peer or ":" not in peer:
        return peer or None
    return peer.rsplit(":", 1)[0]


class LoginThrottle:
    """Failed password logins per (app, username) and per client address."""

    def __init__(self, per_user, per_address, window, lockout, max_keys=MAX_KEYS,
                 known_seconds=KNOWN_SECONDS):
        self.users = FailureCounts(per_user, window, lockout, max_keys)
        self.addresses = FailureCounts(per_address, window, lockout, max_keys)
        self.known = KnownAddresses(known_seconds, max_keys)
        #: the failures of each account from each address known to it
        self.known_failures = FailureCounts(per_user, window, lockout, max_keys)
        self._checking = {}  # (app, username) or address -> its password checks in progress

    def verdict(self, app, username, address, now):
        """What a password login of the account from C{address} may do: the worse of the
        account's verdict and the address's; from an address the account logged in from
        lately, the account's failures from there count rather than all of its failures."""
        if address is None:
            return self.users.verdict((app, username), now)
        verdict = self.addresses.verdict(address, now)
        pair = (app, username, address)
        if self.known.known(pair, now):
            return verdict.worst(self.known_failures.verdict(pair, now))
        return verdict.worst(self.users.verdict((app, username), now))

    def failed(self, app, username, address, now):
        """Count a failed password login; [(kind, key, change)] of the keys that changed
        state (L{SLOWED}, L{LOCKED}), for a log line each."""
        changes = []
        change = self.users.failed((app, username), now)
        if change:
            changes.append(("user", f"{app}/{username}", change))
        if address is not None and self.known.known((app, username, address), now):
            change = self.known_failures.failed((app, username, address), now)
            if change:
                changes.append(("user", f"{app}/{username} at its known {address}", change))
        if address is not None:
            change = self.addresses.failed(address, now)
            if change:
                changes.append(("address", address, change))
        return changes

    def succeeded(self, app, username, address, now):
        """A right password: the address is known to the account from now on, and the
        account's failures are forgotten: those from there only when the address was known
        already (the failures of elsewhere still count against elsewhere)."""
        key = (app, username, address)
        if address is not None and self.known.known(key, now):
            self.known_failures.forget(key)
        else:
            self.users.forget((app, username))
        if address is not None:
            self.known.note(key, now)

    def may_check(self, app, username, address):
        """C{None} when a password check of the account from C{address} may start now, else
        the key (the account's, or the address) whose limit of checks in progress is
        reached: the login waits until one of that key's checks ends."""
        key = (app, username)
        if self.users.limit and self._checking.get(key, 0) >= self.users.limit:
            return key
        if address is not None and self.addresses.limit \
                and self._checking.get(address, 0) >= self.addresses.limit:
            return address
        return None

    @staticmethod
    def keys(app, username, address):
        """The keys a password check of the account from C{address} is in progress under: the
        account's, and the address's (L{may_check} names the one that is full)."""
        return ((app, username),) if address is None else ((app, username), address)

    def checking(self, app, username, address):
        """A password check starts (L{may_check} said it may, its verdict was no refusal)."""
        for key in self.keys(app, username, address):
            self._checking[key] = self._checking.get(key, 0) + 1

    def checked(self, app, username, address):
        """A check L{checking} started is over (its failure, if it failed, counted first)."""
        for key in self.keys(app, username, address):
            left = self._checking[key] - 1
            if left:
                self._checking[key] = left
            else:
                del self._checking[key]
