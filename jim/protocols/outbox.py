"""Flow control shared by the J-IM adapters: stop reading a peer that stops reading, and drop
it once more than the outbox limit is queued for it.

The protocol registers itself with its transport as a streaming producer; the transport then
tells it when its write buffer is full (``pauseProducing``) and drained (``resumeProducing``).
While congested, the peer's own requests are not read (their replies would only queue too),
and every byte queued for it is counted: a slow consumer must not grow the server's memory
without bound. What it misses stays in the history.
"""
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from zope.interface import implementer

log = Logger()


def peer_of(transport):
    """A printable address of the other end of C{transport}, for logs."""
    address = transport.getPeer()
    host = getattr(address, "host", None)
    return f"{host}:{address.port}" if host is not None else str(address)


@implementer(IPushProducer)
class OutboxMixin:
    _congested = False  # the transport asked us to stop producing
    _backlog = 0  # bytes queued since then
    _reading_paused = False  # the session asked us to stop reading

    def outbox_limit(self):
        raise NotImplementedError

    def abort(self):
        """Drop the connection at once, discarding what is queued for it."""
        self.transport.abortConnection()

    def outbox_allows(self, size):
        """Count C{size} more bytes for the peer; False (and the connection aborted) if that
        takes a congested peer over the outbox limit."""
        if not self._congested:
            return True
        self._backlog += size
        limit = self.outbox_limit()
        if self._backlog <= limit:
            return True
        session = getattr(self, "session", None)
        log.warn(
            "dropping slow reader {peer} ({user}): over {limit} bytes queued",
            peer=self.peer,
            user=None if session is None else session.username,
            limit=limit,
        )
        self._congested = False
        self.abort()
        return False

    # -- IClient flow control ------------------------------------------------------------------

    def pause_reading(self):
        self._reading_paused = True
        self.transport.pauseProducing()

    def resume_reading(self):
        self._reading_paused = False
        if not self._congested:
            self.transport.resumeProducing()

    # -- IPushProducer -------------------------------------------------------------------------

    def pauseProducing(self):
        # Twisted calls this at every write while the buffer is full: the count starts at the
        # first call only, and restarts once the buffer drained (resumeProducing).
        if not self._congested:
            self._congested = True
            self._backlog = 0
        self.transport.pauseProducing()

    def resumeProducing(self):
        self._congested = False
        self._backlog = 0
        if not self._reading_paused:
            self.transport.resumeProducing()

    def stopProducing(self):
        pass
