# -*- test-case-name: tests.test_protocols_turnwrite -*-
"""Bytes written to a plain TCP connection during one reactor turn leave together at the end
of the turn, straight to the socket when nothing is queued ahead of them.

Twisted's C{FileDescriptor.write} only queues: the bytes leave on a later reactor iteration,
after the descriptor was registered for writability (one C{epoll_ctl}), reported writable by
the next poll and unregistered again (another C{epoll_ctl}). A chat server answers nearly every
frame with one or two small frames, so for it that round costs more than the chat itself: at a
few thousand chats a second it roughly doubles the reactor's iterations and system calls (see
C{docs/architecture.md}, "One send per connection per turn").

L{TurnWriter} keeps what each connection is sent during a turn and, from a C{callLater(0)} (the
first thing the reactor runs after the current turn's events), joins it into one C{send}. If
the socket takes it all, Twisted never sees it; whatever it does not take (or anything at all
while Twisted still holds unsent bytes for that connection, which must leave first) goes
through C{transport.write} as usual, so flow control, C{pauseProducing} and error handling
stay Twisted's. Only plain TCP transports take the short way; TLS and every other transport
are written to at once, as before.

Whether Twisted holds unsent bytes for a connection is asked of its reactor through the public
C{IReactorFDSet.getWriters}: a TCP connection is registered for writability exactly while its
buffer is not empty (or it is closing, which is checked first), so a connection among the
writers has bytes queued ahead of this turn's. The writers are listed once a flush. An aborted
connection is the exception (Twisted stops watching it but keeps its bytes): its protocol
L{abandon}s it, and nothing more is sent to it.
"""
from twisted.internet import tcp


_TCP_SERVER = tcp.Server  # (one global look-up a write, not two)


class TurnWriter:
    """Coalesces the writes of one reactor turn per connection (see the module docstring).

    @param clock: the reactor (C{callLater}); the flush runs at the start of the next turn.
    """

    def __init__(self, clock):
        self._clock = clock
        self._pending = {}  # transport -> [bytes] written this turn, in order
        self._abandoned = set()  # transports being aborted: nothing more leaves for them
        self._call = None

    def write(self, transport, data):
        """Write C{data} to C{transport} after what was written to it before."""
        if type(transport) is not _TCP_SERVER:
            transport.write(data)
            return
        queued = self._pending.get(transport)
        if queued is not None:
            queued.append(data)
            return
        self._pending[transport] = [data]
        if self._call is None:
            self._call = self._clock.callLater(0, self.flush)

    def flush(self):
        """Send everything written this turn."""
        self._call = None
        pending, self._pending = self._pending, {}
        if not pending:
            return
        writers = _Writers()
        abandoned = self._abandoned
        for transport, chunks in pending.items():
            if not abandoned or transport not in abandoned:
                _send(transport, chunks, writers)

    def flush_one(self, transport):
        """Send what C{transport} was written this turn now (before closing it)."""
        chunks = self._pending.pop(transport, None)
        if chunks is not None and transport not in self._abandoned:
            _send(transport, chunks, _Writers())

    def discard(self, transport):
        """Forget what a lost connection was written this turn (and that it was abandoned)."""
        self._pending.pop(transport, None)
        self._abandoned.discard(transport)

    def abandon(self, transport):
        """A connection being aborted (C{abortConnection}): what it was written this turn,
        and whatever it is written until its L{discard}, never leaves. (Twisted stops watching
        an aborted connection for writability while it still holds its bytes, so the flush
        would take it for one with nothing queued and send to its socket.) One already
        disconnected has no discard to come, and nothing to abandon."""
        self._pending.pop(transport, None)
        if getattr(transport, "connected", False):
            self._abandoned.add(transport)


class _Writers:
    """The descriptors a reactor watches for writability, asked once (a flush's)."""

    def __init__(self):
        self._reactor = None
        self._writers = None

    def __contains__(self, transport):
        reactor = transport.reactor
        if reactor is not self._reactor:  # (one reactor in practice: asked once)
            self._reactor = reactor
            self._writers = set(reactor.getWriters())
        return transport in self._writers


def _send(transport, chunks, writers):
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if transport.connected and not transport.disconnecting and transport not in writers:
        try:
            sent = transport.socket.send(data)
        except OSError:
            # EAGAIN: the socket buffer is full; anything else (a reset peer): Twisted's own
            # write path meets the same error on its next attempt and closes the connection
            sent = 0
        if sent == len(data):
            return
        data = data[sent:]
    transport.write(data)
