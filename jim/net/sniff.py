# -*- test-case-name: tests.test_net_sniff -*-
"""One port, many protocols: read the first bytes of a connection and hand it over.

L{classify} is pure: it looks at everything received so far and names a L{Route}, asks for
more bytes (C{None}) or raises L{Unroutable}. L{SniffingProtocol} only buffers, calls it, and
on a verdict builds the child protocol, connects it to the same transport with
C{makeConnection} and replays the buffered bytes, so the child sees the stream from its
first octet as if it had accepted the connection itself.

First bytes and where they go:

    0x16                      TLS, decrypted and sniffed again inside (no TLS inside TLS)
    0x01                      the J-IM TCP protocol (its version octet)
    "GET " "POST " ... head   WebSocket when a header Upgrade names websocket, otherwise HTTP
    anything else             closed

A factory given an L{Admission} counts every connection it accepts by client address, and
refuses (closes at once, before a byte is read) one that its address may not open
(L{jim.net.admission}): a flood from few addresses cannot take every descriptor.
"""
import enum

from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IProtocolFactory, IProtocolNegotiationFactory
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.protocols.tls import TLSMemoryBIOFactory
from zope.interface import implementer

from jim.net.admission import OVER_CAP, SHED_FRACTION, LogThrottle, address_key, peer_id
from jim.net.httphead import head_end
from jim.net.redirect import RedirectFactory
from jim.wire.framing import VERSION
from jim.wire.http_errors import bad_request

__all__ = [
    "HTTP_METHODS",
    "Route",
    "SniffingFactory",
    "SniffingProtocol",
    "Unroutable",
    "classify",
]

#: The TLS record type of a handshake: the first byte of every ClientHello.
TLS_HANDSHAKE = 0x16

#: Request methods that start an HTTP (or WebSocket upgrade) connection.
HTTP_METHODS = (b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"OPTIONS", b"PATCH")
_METHOD_STARTS = tuple(method + b" " for method in HTTP_METHODS)
_LONGEST_METHOD_START = max(len(start) for start in _METHOD_STARTS)

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 16384
#: seconds a refused connection has to finish closing (a TLS close_notify) before it is aborted
DROP_GRACE = 5.0
#: seconds between two log lines about refused connections (the ones between are counted)
REFUSAL_LOG_INTERVAL = 10.0
#: the admission key of a connection that no L{Admission} counted
_UNCOUNTED = object()


class Route(enum.Enum):
    """Where a sniffed connection goes."""

    TLS = "tls"
    JIM = "jim"
    WEBSOCKET = "websocket"
    HTTP = "http"


class Unroutable(Exception):
    """The first bytes fit no route; the connection is closed.

    @ivar reason: why, in English, for the log.
    @ivar reply: bytes written to the peer before the close (None: nothing).
    """

    def __init__(self, reason, reply=None):
        super().__init__(reason)
        self.reason = reason
        self.reply = reply


def _head_too_large(max_bytes, headers=()):
    """Unroutable for an HTTP request head over C{max_bytes}: answered 431, as JMessage's
    errors are (with C{headers}), before the close."""
    reason = f"HTTP request head larger than {max_bytes} bytes"
    return Unroutable(reason, bad_request(b"431 Request Header Fields Too Large", reason,
                                          headers))


def classify(buf, tls_allowed, max_bytes, *, inside_tls=False, scanned=0, headers=()):
    """Name the route for a connection that has received C{buf} so far.

    Pure, and the same for any way the bytes were split: once an answer other than
    C{None} is given, every longer buffer gets the same answer.

    @param buf: every byte received on the connection, from the first.
    @param tls_allowed: whether 0x16 may start TLS (a certificate is configured and this is
        not already the inside of TLS).
    @param max_bytes: an HTTP request head (blank line included) must fit in this many bytes.
    @param inside_tls: only words the refusal of a TLS handshake: "TLS inside TLS".
    @param scanned: how many bytes of C{buf} an earlier call already answered C{None} for: the
        search for the end of an HTTP head starts near there, so a client sending one byte
        at a time costs linear, not quadratic, work.
    @param headers: C{(name, value)} bytes an HTTP answer given here carries.
    @return: a L{Route}, or C{None} when more bytes are needed.
    @raise Unroutable: when no route can take the connection.
    """
    if not buf:
        return None
    first = buf[0]
    if first == TLS_HANDSHAKE:
        if tls_allowed:
            return Route.TLS
        if inside_tls:
            raise Unroutable("TLS inside TLS")
        raise Unroutable("TLS handshake but no certificate configured")
    if first == VERSION:
        return Route.JIM
    if buf.startswith(_METHOD_STARTS):
        return _classify_request_head(buf, max_bytes, scanned, headers)
    if len(buf) < _LONGEST_METHOD_START and any(s.startswith(buf) for s in _METHOD_STARTS):
        if len(buf) > max_bytes:
            raise Unroutable(f"HTTP request head larger than {max_bytes} bytes")
        return None
    raise Unroutable(f"unrecognised first byte 0x{first:02x}")


def _classify_request_head(buf, max_bytes, scanned=0, headers=()):
    end = head_end(buf, max_bytes, scanned)
    if end < 0:
        if len(buf) > max_bytes:
            raise _head_too_large(max_bytes, headers)
        return None
    if not buf.endswith(b"\r\n\r\n", 0, end):
        # neither twisted.web nor autobahn reads a head whose lines end in a bare LF: it
        # would sit unanswered until a timeout
        raise Unroutable("HTTP request head lines must end with CRLF")
    if _asks_for_websocket(buf[:end]):
        return Route.WEBSOCKET
    return Route.HTTP


def _asks_for_websocket(head):
    # J-IM upgrades on any path, so only the Upgrade header decides.
    for line in head.split(b"\n")[1:]:
        name, colon, value = line.partition(b":")
        if not colon or name.strip().lower() != b"upgrade":
            continue
        for token in value.split(b","):
            protocol = token.strip().lower().partition(b"/")[0]
            if protocol == b"websocket":
                return True
    return False


def _describe_peer(addr):
    host = getattr(addr, "host", None)
    port = getattr(addr, "port", None)
    if host is None or port is None:
        return repr(addr)
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


class SniffingProtocol(Protocol):
    """Buffers the first bytes of a connection until L{classify} names a route, then hands
    the connection over and forwards everything else to the child.

    One of these lives as long as its connection, so it carries only slots.

    @ivar peer: the connection's L{peer_id}, as its L{Admission} knows it.
    """

    __slots__ = ("factory", "transport", "connected", "_addr", "_buffer", "_child", "_deadline",
                 "_admitted", "peer")

    log = Logger()

    def __init__(self, factory, addr, admitted=_UNCOUNTED):
        """
        @param admitted: the key under which the factory's L{Admission} counted this
            connection, released when it closes; none if it was not counted.
        """
        self.factory = factory
        self.transport = None
        self.connected = 0
        self._addr = addr
        self.peer = peer_id(getattr(addr, "host", None), getattr(addr, "port", None))
        # bytes while sniffing; None once handed over or dropped
        self._buffer = bytearray()
        self._child = None
        self._deadline = None
        self._admitted = admitted

    def connectionMade(self):
        factory = self.factory
        self._deadline = factory.clock.callLater(factory.timeout, self._sniffTimedOut)

    def dataReceived(self, data):
        child = self._child
        if child is not None:
            child.dataReceived(data)
            return
        buffered = self._buffer
        if buffered is None:
            return
        scanned = len(buffered)
        buffered += data  # a bytearray: appending costs only the new bytes
        factory = self.factory
        try:
            route = classify(
                buffered, factory.tls_allowed, factory.max_bytes, inside_tls=factory.inside_tls,
                scanned=scanned, headers=factory.secure_headers,
            )
        except Unroutable as unroutable:
            if unroutable.reply is not None:
                self.transport.write(unroutable.reply)
            self._drop(unroutable.reason)
            return
        if route is not None:
            self._handOver(route, bytes(buffered))

    def connectionLost(self, reason):
        self._cancelDeadline()
        admitted, self._admitted = self._admitted, _UNCOUNTED
        if admitted is not _UNCOUNTED:
            self.factory.admission.release(admitted, self.peer)
        if (self._buffer is not None and self.factory.inside_tls
                and not reason.check(ConnectionDone, ConnectionLost)):
            # the TLS layer gave up (an old protocol version, no shared cipher, garbage): say
            # so, or an operator whose client cannot connect finds nothing in the log
            self.log.info(
                "TLS with {peer} failed: {error}",
                peer=_describe_peer(self._addr),
                error=reason.getErrorMessage(),
            )
        self._buffer = None
        child, self._child = self._child, None
        if child is not None:
            child.connectionLost(reason)

    def _handOver(self, route, buffered):
        self._cancelDeadline()
        self._buffer = None
        childFactory = self.factory.routes.get(route)
        if childFactory is None:
            self._drop(self.factory.refusals.get(route, f"nothing serves {route.value} here"))
            return
        child = childFactory.buildProtocol(self._addr)
        if child is None:
            self._drop(f"the {route.value} factory refused the connection")
            return
        self._child = child
        if route is Route.HTTP and self.factory.settles is not None:
            self.factory.settles.settle(self.peer)  # HTTP has deadlines of its own
        child.makeConnection(self.transport)
        child.dataReceived(buffered)

    def shed(self):
        """Close this connection at once, to make room for a newer one (L{Admission})."""
        self.factory.note_shed(self._addr)
        if self.transport is not None:
            self.transport.abortConnection()

    def _drop(self, reason):
        self._cancelDeadline()
        self._buffer = None
        self.log.info(
            "closing connection from {peer}: {reason}",
            peer=_describe_peer(self._addr),
            reason=reason,
        )
        # Inside TLS a close sends close_notify and waits for the peer's: one that never
        # answers must not hold the connection forever. (Set first: should the close end the
        # connection at once, connectionLost cancels it.)
        self._deadline = self.factory.clock.callLater(DROP_GRACE, self.transport.abortConnection)
        self.transport.loseConnection()

    def _sniffTimedOut(self):
        self._deadline = None
        buffered = len(self._buffer or b"")
        self._buffer = None
        self.log.info(
            "aborting connection from {peer}: nothing routable after {timeout}s "
            "({buffered} bytes received)",
            peer=_describe_peer(self._addr),
            timeout=self.factory.timeout,
            buffered=buffered,
        )
        self.transport.abortConnection()

    def _cancelDeadline(self):
        deadline, self._deadline = self._deadline, None
        if deadline is not None and deadline.active():
            deadline.cancel()


@implementer(IProtocolFactory, IProtocolNegotiationFactory)
class SniffingFactory(Factory):
    """Builds a L{SniffingProtocol} per connection and owns the table of child factories.

    @ivar routes: L{Route} -> the factory that serves it, as actually used (with the TLS layer
        and the require-TLS substitutes in place).
    @ivar refusals: L{Route} -> why a route that has no factory is closed.
    @ivar tls_allowed: whether 0x16 starts TLS here.
    @ivar inside_tls: whether this factory sniffs the decrypted inside of a TLS connection.
    @ivar secure_headers: what an HTTP answer this factory gives itself carries (inside TLS).
    """

    noisy = False
    log = Logger()

    def __init__(
        self,
        routes,
        clock,
        timeout=DEFAULT_TIMEOUT,
        max_bytes=DEFAULT_MAX_BYTES,
        tls_options=None,
        require_tls=False,
        *,
        inside_tls=False,
        admission=None,
        settles=None,
        secure_headers=(),
    ):
        """
        @param routes: L{Route} -> L{IProtocolFactory}; a route left out is closed.
        @param clock: an L{IReactorTime} for the sniff timeout (and the TLS layer).
        @param timeout: seconds a connection may take to become routable; inside TLS this
            includes the handshake.
        @param max_bytes: the largest HTTP request head looked at.
        @param tls_options: an C{IOpenSSLServerConnectionCreator} (e.g. the result of
            L{jim.net.tls.server_tls_options}); with it, 0x16 is served as TLS and the
            decrypted stream is sniffed again over the same routes.
        @param require_tls: refuse plain text: HTTP is redirected to https, J-IM TCP and
            WebSocket are closed. Needs C{tls_options}.
        @param inside_tls: this factory sniffs decrypted bytes: a TLS handshake is refused as
            TLS inside TLS. Set for the inner factory; also fits an C{ssl:} listening port.
        @param admission: an L{Admission} that counts this factory's connections by address
            and refuses those it must; one may be shared by the factories of every port.
            (A TLS connection's decrypted inside is not counted again.)
        @param settles: the L{Admission} told that a connection handed to HTTP has settled:
            C{admission}'s when not given (a TLS connection's inside tells its outside's).
        @param secure_headers: C{(name, value)} bytes every HTTP answer the sniffer gives
            itself over TLS carries, as the site's do (its C{Strict-Transport-Security}):
            the inner factory's, or this one's when it is C{inside_tls}.
        """
        if timeout <= 0:
            raise ValueError(f"sniff timeout must be positive, not {timeout!r}")
        if max_bytes < _LONGEST_METHOD_START:
            raise ValueError(f"max_bytes must be at least {_LONGEST_METHOD_START}")
        routes = dict(routes)
        for route in routes:
            if not isinstance(route, Route):
                raise TypeError(f"routes are keyed by Route, not {route!r}")
        if tls_options is not None:
            if Route.TLS in routes:
                raise ValueError("give either tls_options or a Route.TLS factory, not both")
            if inside_tls:
                raise ValueError("no TLS inside TLS: inside_tls excludes tls_options")
        if require_tls and tls_options is None and Route.TLS not in routes:
            raise ValueError("require_tls needs tls_options")
        if inside_tls and Route.TLS in routes:
            raise ValueError("no TLS inside TLS: inside_tls excludes a Route.TLS factory")

        self.clock = clock
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.inside_tls = inside_tls
        self.secure_headers = tuple(secure_headers) if inside_tls else ()
        self.admission = admission
        self.settles = settles if settles is not None else admission
        self._refusal_log = LogThrottle(REFUSAL_LOG_INTERVAL)
        self._shed_log = LogThrottle(REFUSAL_LOG_INTERVAL)
        self.refusals = {}
        plain = {route: f for route, f in routes.items() if route is not Route.TLS}
        if tls_options is not None:
            inner = SniffingFactory(plain, clock, timeout, max_bytes, inside_tls=True,
                                    settles=admission, secure_headers=secure_headers)
            routes[Route.TLS] = TLSMemoryBIOFactory(tls_options, False, inner, clock)
        if require_tls:
            for route in (Route.JIM, Route.WEBSOCKET):
                routes.pop(route, None)
                self.refusals[route] = f"plain-text {route.value} refused: TLS is required"
            if Route.HTTP in routes:
                routes[Route.HTTP] = RedirectFactory(max_bytes)
            else:
                self.refusals[Route.HTTP] = "plain-text http refused: TLS is required"
        self.routes = routes
        self.tls_allowed = Route.TLS in routes

    def buildProtocol(self, addr):
        admission = self.admission
        if admission is None:
            return SniffingProtocol(self, addr)
        key = address_key(getattr(addr, "host", None))
        protocol = SniffingProtocol(self, addr, key)
        refusal = admission.admit(key, protocol.peer, protocol.shed)
        if refusal is not None:
            # None: the listening port closes the new socket at once
            self._logRefusal(addr, key, refusal)
            return None
        return protocol

    def note_shed(self, addr):
        """Log (at most every few seconds) that a connection was closed to make room."""
        unlogged = self._shed_log.allow(self.clock.seconds())
        if unlogged is None:
            return
        admission = self.admission
        self.log.warn(
            "closed the connection from {peer}, which had not logged in, to make room: fewer"
            " than {left} descriptors remain ({unlogged} more closed since the last such line,"
            " {open} connections open, {unsettled} not logged in)",
            peer=_describe_peer(addr),
            left=max(1, admission.reserve // SHED_FRACTION),
            unlogged=unlogged,
            open=admission.total,
            unsettled=admission.unsettled(),
        )

    def _logRefusal(self, addr, key, refusal):
        unlogged = self._refusal_log.allow(self.clock.seconds())
        if unlogged is None:
            return
        admission = self.admission
        if refusal == OVER_CAP:
            why = f"its address holds {admission.held(key)} connections, the most allowed"
        else:
            why = (f"fewer than {admission.reserve} descriptors remain, and its address holds"
                   f" {admission.held(key)} connections")
        self.log.warn(
            "refused a connection from {peer}: {why} ({unlogged} more refused since the last"
            " such line, {open} connections open)",
            peer=_describe_peer(addr),
            why=why,
            refusal=refusal,
            unlogged=unlogged,
            open=admission.total,
        )

    def startFactory(self):
        # Children are only ever reached through the sniffer, so it starts them (a Site opens
        # its access log here). doStart is reference-counted: sharing them is safe.
        for childFactory in self.routes.values():
            childFactory.doStart()

    def stopFactory(self):
        for childFactory in reversed(list(self.routes.values())):
            childFactory.doStop()

    def acceptableProtocols(self):
        """ALPN: HTTP/1.1 only; WebSocket upgrades need it and there is no h2 here."""
        return [b"http/1.1"]
