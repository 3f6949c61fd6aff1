# -*- test-case-name: tests.test_net_listen -*-
"""Listening endpoints with jim's listen backlog.

Twisted listens with a backlog of 50 unless told otherwise. A burst of connections (every
client of a restarted node coming back at once) overflows a queue that short: the kernel drops
the SYNs it has no room for and the clients retry after one second, then three, then seven.
jim asks for a longer queue (C{--backlog}, by default C{jim.config.Config.backlog}: 1024)
through the endpoint description's own C{backlog} parameter, which Twisted's C{tcp:}, C{tcp6:},
C{ssl:} and C{unix:} endpoints take. The kernel caps it at C{net.core.somaxconn}
(docs/operations.md).
"""
import re

from twisted.internet.endpoints import serverFromString

__all__ = ["MAX_BACKLOG", "listening_endpoint", "with_backlog"]

#: the largest backlog Linux took before 5.4 (a 16-bit field); more is never needed here
MAX_BACKLOG = 65535

#: endpoint types whose parsers take a C{backlog} parameter
_WITH_BACKLOG = frozenset({"tcp", "tcp6", "ssl", "unix"})
#: a colon that separates two fields of an endpoint description (a backslash escapes one)
_SEPARATOR = re.compile(r"(?<!\\):")


def with_backlog(description, backlog):
    """The endpoint description C{description} with C{backlog=} added.

    An endpoint type that takes no backlog (an adopted C{systemd:} socket, a plugin's) and a
    description that already names one are left as they are: what the operator wrote wins.
    """
    fields = _SEPARATOR.split(description)
    if fields[0].lower() not in _WITH_BACKLOG:
        return description
    if any(field.startswith("backlog=") for field in fields[1:]):
        return description
    return f"{description}:backlog={backlog:d}"


def listening_endpoint(reactor, description, backlog):
    """The server endpoint that C{description} names, listening with C{backlog}."""
    return serverFromString(reactor, with_backlog(description, backlog))
