"""J-IM over WebSocket (autobahn): JSON text or binary messages in, text messages out.

The upgrade is accepted on any path; ``?username=&password=&token=&appKey=`` in the URL (and
``platform=&deviceId=``, jim's device fields) logs in right after it, as J-IM's demo page expects. The server pings idle connections and counts
pongs as activity, so a page that never sends heartbeats stays connected while it is alive.
"""
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.logger import Logger
from zope.interface import implementer

from jim.protocols.jim_session import Session
from jim.interfaces import IClient
from jim.protocols.outbox import OutboxMixin, peer_of
from jim.protocols.ws_deflate import accept_deflate
from jim.wire import status

_CLOSE_NORMAL = 1000
#: close codes autobahn fails a connection with for what the client sent: a protocol error,
#: a data type it cannot take, invalid UTF-8 text, a message over --max-body
_CLOSED_FOR_BAD_INPUT = frozenset({1002, 1003, 1007, 1009})
#: seconds a connection closed in order (queued bytes flushed, then a FIN; over TLS, a
#: close_notify answered) may take before it is aborted: a peer that stops reading, or never
#: answers close_notify, does not hold it open
CLOSE_GRACE = 5.0


log = Logger()


@implementer(IClient)
class JimWebSocketProtocol(OutboxMixin, WebSocketServerProtocol):
    # No Logger attribute named "log" here: autobahn logs every frame through self.log at
    # debug level, and a twisted.logger.Logger in its place would turn those into events.
    terminal = "ws"

    session = None
    peer = "?"
    _login = None
    _closed_by_jim = False
    _drop_deadline = None

    def onConnect(self, request):
        params = request.params
        username = _first(params, "username")
        token = _first(params, "token")
        if username or token:
            login = {"cmd": status.LOGIN_REQ, "userId": username}
            password = _first(params, "password")
            if password is not None:
                login["password"] = password
            if token:
                login["token"] = token
            app_key = _first(params, "appKey")
            if app_key:
                login["appKey"] = app_key
            for field in ("platform", "deviceId"):
                value = _first(params, field)
                if value:
                    login[field] = value
            self._login = login
        return None  # no subprotocol, no extensions

    def onOpen(self):
        self.peer = peer_of(self.transport)
        try:
            self.transport.setTcpNoDelay(True)
        except AttributeError:
            pass
        core = self.factory.core
        self.transport.registerProducer(self, True)  # learn when the peer stops reading
        core.metrics.connection_opened("ws")
        self.session = Session(core, self)
        if self._login is not None:
            login, self._login = self._login, None
            self.session.command_received(status.LOGIN_REQ, login)

    def onMessage(self, payload, isBinary):
        self.session.text_received(payload)

    def onPong(self, payload):
        if self.session is not None:
            self.session.last_seen = self.factory.core.clock.seconds()

    def sendCloseFrame(self, code=None, reasonUtf8=None, isReply=False):
        """Every close passes here: ours, the reply to the client's, and autobahn's own when it
        fails the connection (a message over --max-body, invalid UTF-8). Nothing sent after it
        reaches the client, so the session ends now, and its user is offline from now on, not
        when the close handshake is over (up to its timeout later)."""
        was_open = self.state == self.STATE_OPEN
        super().sendCloseFrame(code=code, reasonUtf8=reasonUtf8, isReply=isReply)
        session = self.session
        if not was_open or self._closed_by_jim or session is None or session.closed:
            return  # jim's own close (L{close}): the session, or the service stopping, saw to it
        reason = (reasonUtf8 or b"").decode("utf-8", "replace") or f"close code {code}"
        if not isReply:  # autobahn failed the connection
            if code in _CLOSED_FOR_BAD_INPUT:
                self.factory.core.metrics.bad_input += 1
            log.info("closing {peer}: {reason}", peer=self.peer, reason=reason)
        session.close(reason)

    def dropConnection(self, abort=False):
        """autobahn ends a close handshake that is over with an abort, which throws away what
        is still queued and resets the connection. That loses jim's own close frame when the
        peer's close frame is what the connection failed for (a code RFC 6455 forbids, a 1-byte
        payload): autobahn queues its 1002, then takes that same frame for the peer's answer to
        it and aborts. So a handshake that is over (C{wasClean}) ends in order instead: the
        close frame is flushed, then the FIN. Timeouts still abort (they are not clean)."""
        if abort and self.wasClean:
            abort = False
        if not abort and self.state != self.STATE_CLOSED and self._drop_deadline is None:
            self._drop_deadline = self.factory.core.clock.callLater(
                CLOSE_GRACE, self.transport.abortConnection)
        super().dropConnection(abort=abort)

    def connectionLost(self, reason):
        deadline, self._drop_deadline = self._drop_deadline, None
        if deadline is not None and deadline.active():
            deadline.cancel()
        # autobahn cancels its wait for the peer's close frame only when that frame comes: a
        # connection failed (1002, 1007...) and then closed would keep it for 5 s more
        waiting, self.closeHandshakeTimeoutCall = self.closeHandshakeTimeoutCall, None
        if waiting is not None:
            waiting.cancel()
        super().connectionLost(reason)

    def onClose(self, wasClean, code, reason):
        if self.session is not None:
            self.factory.core.metrics.connection_closed("ws")
            session, self.session = self.session, None
            session.connection_lost()

    # -- IClient -------------------------------------------------------------------------------

    def send(self, command, body):
        # nothing may follow our close frame; a reader that stopped reading is dropped. One
        # text frame, not sendMessage, which would hold replies (a long history page) to the
        # limit meant for what clients send.
        if self.state == self.STATE_OPEN and self.outbox_allows(len(body)):
            if self.websocket_extensions_in_use and len(body) < self._compressed_up_to:
                # permessage-deflate: autobahn compresses it; its size check is on the
                # compressed size, which this one is far below, so it never refuses
                # after the compressor has taken the message in
                self.sendMessage(body)
            else:
                self.sendFrame(opcode=1, payload=body)

    @property
    def _compressed_up_to(self):
        # deflate adds at most 5 bytes a 16 KiB block and a few more: 1 KiB to spare
        return self.maxMessagePayloadSize - 1024 if self.maxMessagePayloadSize else 1 << 62

    encoding = "jim-ws"

    def encode(self, frames):
        return tuple(body for _, body in frames)  # one text frame each: no command byte

    def send_encoded(self, data):
        for body in data:
            self.send(None, body)

    def send_all(self, command, bodies):
        for body in bodies:
            self.send(command, body)

    def outbox_limit(self):
        return self.factory.core.limits.outbox

    def close(self, reason):
        log.debug("closing {peer}: {reason}", peer=self.peer, reason=reason)
        self._closed_by_jim = True
        self.sendClose(_CLOSE_NORMAL, reason[:100])


def _first(params, name):
    values = params.get(name)
    return values[0] if values else None


class JimWebSocketFactory(WebSocketServerFactory):
    protocol = JimWebSocketProtocol
    noisy = False

    def __init__(self, core, deflate="off", deflate_window_bits=15):
        super().__init__(server="jim")
        self.core = core
        limits = core.limits
        accept = accept_deflate(deflate, deflate_window_bits, limits.max_body)
        if accept is not None:  # permessage-deflate (see ws_deflate): off unless chosen
            self.setProtocolOptions(perMessageCompressionAccept=accept)
        self.setProtocolOptions(
            maxFramePayloadSize=limits.max_body,
            maxMessagePayloadSize=limits.max_body,
            openHandshakeTimeout=limits.sniff_timeout,
            closeHandshakeTimeout=5,
            autoPingInterval=max(limits.idle_timeout / 2, 1),
            autoPingTimeout=max(limits.idle_timeout / 4, 1),
            webStatus=False,
            # a protocol error is answered with a close frame naming it (1002, 1007...), not
            # by dropping the connection; a valid close code is echoed (RFC 6455 5.5.1)
            failByDrop=False,
            echoCloseCodeReason=True,
        )
