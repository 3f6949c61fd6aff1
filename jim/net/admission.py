# -*- test-case-name: tests.test_net_admission -*-
"""Who may open one more connection: a cap per client address and a descriptor reserve.

Pure bookkeeping, asked once when a connection is accepted and told once when it closes (by
L{jim.net.sniff.SniffingFactory}); nothing here runs per message.

Two rules, both about descriptors (one per TCP connection, whatever its protocol):

  - no client address holds more than C{per_address} connections at once;
  - when fewer than C{reserve} descriptors remain below the process's limit
    (C{RLIMIT_NOFILE}), an address that already holds C{RESERVE_SHARE} or more connections
    gets no more: the last descriptors are kept for clients that hold few, so that one that
    logs in still gets through while a flood from a few addresses has used up the rest.

And when even the reserve runs out (fewer than C{reserve // SHED_FRACTION} descriptors left,
which a flood from many addresses, each under its share, can bring about), each new connection
closes the oldest connection that has not settled: one still showing its protocol, or a J-IM or
WebSocket connection that has not logged in. A connection settles when it logs in or is handed
to HTTP (whose requests have deadlines of their own); a settled connection is never closed to
make room. Connections are known by their peer's C{host:port} (L{peer_id}), as every layer
above the sniffer (TLS included) sees it.

An IPv4-mapped IPv6 address (C{::ffff:192.0.2.1}, what a dual-stack socket reports for an
IPv4 client) counts as its IPv4 address; an IPv6 address counts whatever way it is written.
"""
import ipaddress
import math
import os
from collections import OrderedDict

__all__ = [
    "OVER_CAP",
    "RESERVE",
    "RESERVE_SHARE",
    "Admission",
    "LogThrottle",
    "address_key",
    "descriptor_limit",
    "open_descriptors",
    "peer_id",
]

#: the most connections an address may still open once the descriptor reserve is reached
RESERVE_SHARE = 16

#: the reserve's fraction left at which new connections make room by closing unsettled ones
SHED_FRACTION = 4

#: why a connection was refused
OVER_CAP = "over_cap"
RESERVE = "reserve"


def peer_id(host, port):
    """How a connection is known to L{Admission.settle}: C{host:port} of its peer, as
    L{jim.protocols.outbox.peer_of} prints it."""
    return f"{host}:{port}"


def address_key(host):
    """The address that a peer's C{host} counts as, or C{None} when it has none (a unix
    socket).

    The canonical text of an IP address; an IPv4-mapped IPv6 address is its IPv4 address; an
    IPv6 zone (C{%eth0}) is dropped. A host that is no IP address is returned as it is.
    """
    if host is None:
        return None
    try:
        ip = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return host
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


class Admission:
    """The open connections, counted by address, and whether one more may be opened.

    @ivar total: connections open (admitted and not yet released).
    """

    def __init__(self, per_address, capacity=None, reserve=0, share=RESERVE_SHARE):
        """
        @param per_address: the most connections one address may hold.
        @param capacity: how many connections the process has descriptors for (its limit
            less those it holds for other things); C{None}: no limit known, no reserve.
        @param reserve: descriptors below C{capacity} kept for addresses that hold fewer
            than C{share} connections; 0 for none.
        """
        if per_address < 1:
            raise ValueError(f"per_address must be at least 1, not {per_address!r}")
        if reserve < 0:
            raise ValueError(f"reserve must be 0 or more, not {reserve!r}")
        self.per_address = per_address
        self.capacity = capacity
        self.reserve = reserve
        self.share = share
        self.total = 0
        #: connections closed to make room since the start
        self.shed = 0
        self._counts = {}
        self._unsettled = OrderedDict()  # peer id -> close(), oldest first

    def held(self, key):
        """How many open connections C{key} holds."""
        return self._counts.get(key, 0)

    def low(self):
        """Whether fewer than C{reserve} descriptors remain."""
        return (self.capacity is not None and self.reserve > 0
                and self.capacity - self.total < self.reserve)

    def crowded(self):
        """Whether even the reserve is nearly used up: fewer than C{reserve // SHED_FRACTION}
        descriptors (at least one) remain."""
        return (self.capacity is not None and self.reserve > 0
                and self.capacity - self.total < max(1, self.reserve // SHED_FRACTION))

    def admit(self, key, peer=None, close=None):
        """Count one more connection from C{key} and return C{None}, or return why it is
        refused (L{OVER_CAP}, L{RESERVE}) and count nothing. C{key} is an L{address_key};
        C{None} (no address) is only counted in the total.

        With a C{peer} (its L{peer_id}) and C{close} (a callable that closes it at once), the
        connection is unsettled until L{settle}d: when it is admitted while L{crowded}, the
        oldest unsettled connection is closed to make room (its release comes when it has
        closed)."""
        held = self._counts.get(key, 0)
        if key is not None:
            if held >= self.per_address:
                return OVER_CAP
            if held >= self.share and self.low():
                return RESERVE
        self._counts[key] = held + 1
        self.total += 1
        if self._unsettled and self.crowded():
            _, close_oldest = self._unsettled.popitem(last=False)
            self.shed += 1
            close_oldest()
        if peer is not None and close is not None:
            self._unsettled[peer] = close
        return None

    def settle(self, peer):
        """The connection of C{peer} logged in (or is HTTP): it is never closed to make room.
        A peer that is not (or no longer) unsettled is ignored."""
        self._unsettled.pop(peer, None)

    def unsettled(self):
        """How many admitted connections are not settled."""
        return len(self._unsettled)

    def release(self, key, peer=None):
        """One connection that L{admit} counted for C{key} (from C{peer}) has closed."""
        held = self._counts.get(key, 0)
        if held <= 0:
            raise KeyError(f"no open connection counted for {key!r}")
        if held == 1:
            del self._counts[key]
        else:
            self._counts[key] = held - 1
        self.total -= 1
        if peer is not None:
            self._unsettled.pop(peer, None)


class LogThrottle:
    """At most one log line per C{interval} seconds for a recurring event, with how many
    went unlogged in between."""

    def __init__(self, interval):
        self.interval = interval
        self._next = -math.inf
        self._unlogged = 0

    def allow(self, now):
        """For an event at C{now}: how many earlier events went unlogged if this one is to be
        logged, or C{None} if it is not."""
        if now < self._next:
            self._unlogged += 1
            return None
        self._next = now + self.interval
        unlogged, self._unlogged = self._unlogged, 0
        return unlogged


def descriptor_limit():
    """The process's soft limit of open descriptors (C{ulimit -n}), or C{None} if there is
    none or it cannot be read."""
    try:
        import resource
    except ImportError:  # not a Unix
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    return soft


def open_descriptors():
    """How many descriptors the process has open now, or 0 if that cannot be read (only
    Linux's C{/proc/self/fd} and BSD's C{/dev/fd} are asked)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return max(0, len(os.listdir(folder)) - 1)  # less the one listdir opened
        except OSError:
            continue
    return 0
