"""J-IM's custom TCP protocol: frames in, frames out; everything else is the connection's
J-IM session (L{jim.protocols.jim_session.Session}), which talks to the core.

Flow control (a reader that stops reading) is L{jim.protocols.outbox.OutboxMixin}'s.
"""
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from zope.interface import implementer

from jim.protocols.jim_session import Session
from jim.interfaces import IClient
from jim.protocols.outbox import OutboxMixin, peer_of
from jim.protocols.turnwrite import TurnWriter
from jim.wire import framing, jimjson, status

#: how long a closing connection may take to flush before it is aborted
CLOSE_GRACE = 5.0


@implementer(IClient)
class JimTcpProtocol(OutboxMixin, Protocol):
    terminal = "tcp"
    log = Logger()

    def __init__(self, core, writer):
        self.core = core
        self.writer = writer
        self.session = None
        self.decoder = None
        self.peer = "?"
        self._closing = None

    def connectionMade(self):
        transport = self.transport
        self.peer = peer_of(transport)
        try:
            transport.setTcpNoDelay(True)  # pushes are small: don't wait for delayed ACKs
        except AttributeError:
            pass  # not a TCP transport (TLS wrapper or a test transport)
        self.decoder = framing.FrameDecoder(self.core.limits.max_body)
        transport.registerProducer(self, True)
        self.core.metrics.connection_opened("tcp")
        self.session = Session(self.core, self)

    def dataReceived(self, data):
        if self.decoder is None:  # spent by a framing error: what follows is not frames
            return
        try:
            frames = self.decoder.feed(data)
        except framing.FrameError as e:
            self.decoder = None
            for cmd, _seq, body in e.frames:  # the good frames before the bad bytes
                self.session.frame_received(cmd, body)
            self.core.metrics.bad_input += 1
            self.log.info("closing {peer}: {detail}", peer=self.peer, detail=e.detail)
            body = jimjson.reply(status.UNKNOWN, e.code, detail=e.detail)
            self.writer.write(self.transport, framing.encode(status.UNKNOWN, body))
            # through the session: its user is offline from now on, not when the peer is gone
            self.session.close(e.detail)
            return
        if len(frames) == 1:
            cmd, _seq, body = frames[0]
            self.session.frame_received(cmd, body)
        elif frames:
            self.session.frames_received(frames)

    def connectionLost(self, reason):
        self.writer.discard(self.transport)
        if self._closing is not None and self._closing.active():
            self._closing.cancel()
        self._closing = None
        if self.session is not None:
            self.core.metrics.connection_closed("tcp")
            self.session.connection_lost()

    # -- IClient -------------------------------------------------------------------------------

    encoding = "jim-tcp"

    def send(self, command, body):
        if self.outbox_allows(len(body)):
            self.writer.write(self.transport, framing.encode(command, body))

    def send_all(self, command, bodies):
        data = b"".join([framing.encode(command, body) for body in bodies])
        if self.outbox_allows(len(data)):
            self.writer.write(self.transport, data)

    def encode(self, frames):
        if len(frames) == 1:  # a message: one frame
            return framing.encode(*frames[0])
        return b"".join([framing.encode(command, body) for command, body in frames])

    def send_encoded(self, data):
        # every push of a fan-out comes here: the usual case, a peer that keeps up, without
        # the outbox's call
        if not self._congested or self.outbox_allows(len(data)):
            self.writer.write(self.transport, data)

    def outbox_limit(self):
        return self.core.limits.outbox

    def abort(self):
        self.writer.abandon(self.transport)
        self.transport.abortConnection()

    def close(self, reason):
        if self._closing is not None:
            return
        self.log.debug("closing {peer}: {reason}", peer=self.peer, reason=reason)
        self.writer.flush_one(self.transport)  # what it was sent goes before the FIN
        # a registered producer holds off TLS shutdown until it is unregistered
        self.transport.unregisterProducer()
        self.transport.loseConnection()
        self._closing = self.core.clock.callLater(CLOSE_GRACE, self.transport.abortConnection)


class JimTcpFactory(Factory):
    """Builds a L{JimTcpProtocol} per connection, all sharing one core and one
    L{TurnWriter}."""
    noisy = False

    def __init__(self, core):
        self.core = core
        self.writer = TurnWriter(core.clock)

    def buildProtocol(self, addr):
        return JimTcpProtocol(self.core, self.writer)
