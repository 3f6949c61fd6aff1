"""Test clients that speak J-IM over real sockets: TCP frames and WebSocket text messages.

Both queue what the server sends as ``(command, json)`` and offer ``await client.expect(cmd)``,
which waits (bounded) for the next frame with that command number, keeping the others.
"""
import json

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol, wrapClientTLS
from twisted.internet.protocol import Protocol

from jim.wire import framing

TIMEOUT = 10.0


class _Inbox:
    """Frames received, and the waiters for particular commands."""

    def __init__(self):
        self.frames = []
        self.waiters = []
        self.closed = defer.Deferred()

    def put(self, command, obj):
        for i, (want, d) in enumerate(self.waiters):
            if want is None or want == command:
                del self.waiters[i]
                d.callback((command, obj))
                return
        self.frames.append((command, obj))

    def take(self, command, timeout):
        for i, (cmd, obj) in enumerate(self.frames):
            if command is None or cmd == command:
                del self.frames[i]
                return defer.succeed((cmd, obj))
        d = defer.Deferred()
        entry = (command, d)
        self.waiters.append(entry)

        def gone(failure):
            if entry in self.waiters:
                self.waiters.remove(entry)
            return failure

        d.addTimeout(timeout, reactor)
        d.addErrback(gone)
        return d

    def lost(self):
        if not self.closed.called:
            self.closed.callback(None)


class _ClientMixin:
    async def expect(self, command=None, timeout=TIMEOUT):
        """The next frame with this command (any if None): its JSON."""
        cmd, obj = await self.inbox.take(command, timeout)
        return obj

    async def request(self, cmd, obj, reply, timeout=TIMEOUT):
        self.send(cmd, obj)
        return await self.expect(reply, timeout)

    async def login(self, user, password="secret", **extra):
        reply = await self.request(5, {"cmd": 5, "userId": user, "password": password, **extra}, 6)
        assert reply["code"] == 10007, reply
        return reply

    async def sync_all(self):
        """Sync (cmd 101) page by page until no more wait: the ids of the messages listed,
        in order (a page's events are skipped; the next page is after its C{upto})."""
        listed, request = [], {"cmd": 101}
        while True:
            data = (await self.request(101, request, 102))["data"]
            listed += [int(m["id"]) for m in data["messages"]]
            if not data["more"]:
                return listed
            request = {"cmd": 101, "after": data["upto"]}

    async def disconnect(self, timeout=TIMEOUT):
        """Close from this side and wait until the connection is gone."""
        if not self.inbox.closed.called:
            self.close()
            await self.wait_closed(timeout)

    def wait_closed(self, timeout=TIMEOUT):
        d = defer.Deferred()
        self.inbox.closed.addBoth(lambda _: d.callback(None) if not d.called else None)
        return d.addTimeout(timeout, reactor)


class TcpClient(Protocol, _ClientMixin):
    def __init__(self):
        self.inbox = _Inbox()
        self.decoder = framing.FrameDecoder(max_body=16 * 1024 * 1024)
        self.raw = []

    def dataReceived(self, data):
        self.raw.append(data)
        for cmd, _seq, body in self.decoder.feed(data):
            self.inbox.put(cmd, json.loads(body))

    def connectionLost(self, reason):
        self.inbox.lost()

    def send(self, cmd, obj):
        body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.transport.write(framing.encode(cmd, body))

    def write(self, data):
        self.transport.write(data)

    def close(self):
        self.transport.loseConnection()


class WsClientProtocol(WebSocketClientProtocol, _ClientMixin):
    def __init__(self):
        super().__init__()
        self.inbox = _Inbox()
        self.opened = defer.Deferred()

    def onOpen(self):
        self.opened.callback(self)

    def onMessage(self, payload, isBinary):
        obj = json.loads(payload)
        self.inbox.put(obj.get("command"), obj)

    def onClose(self, wasClean, code, reason):
        if not self.opened.called:
            self.opened.errback(ConnectionError(f"WebSocket closed: {code} {reason}"))
        self.inbox.lost()

    def send(self, cmd, obj):
        self.sendMessage(json.dumps(obj).encode())

    def close(self):
        self.sendClose(1000)


def _endpoint(port, tls, source=None):
    """To 127.0.0.1:C{port}; from the loopback address C{source} (e.g. "127.0.0.2": Linux
    routes all of 127/8 to lo) when given, so that a test has clients of several addresses."""
    bind = None if source is None else (source, 0)
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=TIMEOUT, bindAddress=bind)
    if tls is not None:
        endpoint = wrapClientTLS(tls, endpoint)
    return endpoint


async def tcp_client(port, tls=None, testcase=None, source=None):
    """A connected TcpClient; C{tls} is client TLS options (e.g. optionsForClientTLS).

    With C{testcase}, the client disconnects when the test ends (before the server stops).
    """
    client = await connectProtocol(_endpoint(port, tls, source), TcpClient())
    if testcase is not None:
        testcase.addCleanup(client.disconnect)
    return client


async def ws_client(port, query="", tls=None, path="/", testcase=None, source=None):
    """A connected, opened WebSocket client (disconnected at the end of C{testcase})."""
    scheme = "wss" if tls is not None else "ws"
    url = f"{scheme}://127.0.0.1:{port}{path}" + (f"?{query}" if query else "")
    factory = WebSocketClientFactory(url)
    factory.protocol = WsClientProtocol
    protocol = await _endpoint(port, tls, source).connect(factory)
    await protocol.opened.addTimeout(TIMEOUT, reactor)
    if testcase is not None:
        testcase.addCleanup(protocol.disconnect)
    return protocol
