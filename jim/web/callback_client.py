# -*- test-case-name: tests.test_web_callback_client,tests.integration.test_callbacks -*-
"""The HTTP side of callbacks to app servers (L{jim.interfaces.ICallbackClient}): the backlog's
items in JMessage's shapes (L{jim.wire.callbacks}), and the POST, with Twisted's own
L{Agent}.

A POST has a connect timeout and a timeout for the whole of it (connecting, sending, the
answer's head and body). HTTPS URLs are checked as a browser would check them (Twisted's
default policy: the system's trust roots, the host name). Redirects are not followed (a 3xx
is an answer that is not 2xx: the POST is made again later). The answer's body is read and
dropped, at most C{max_response_bytes} of it: past that the connection is closed. Each POST
has a connection of its own (it carries a batch of items: one connection per batch).
"""
from twisted.internet import defer, protocol
from twisted.logger import Logger
from twisted.web.client import Agent, HTTPConnectionPool, ResponseNeverReceived
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from jim import __version__
from jim.interfaces import ICallbackClient
from jim.wire import callbacks as wire


@implementer(IBodyProducer)
class _Bytes:
    """A request body that is all there at once."""

    def __init__(self, data):
        self._data = data
        self.length = len(data)

    def startProducing(self, consumer):
        consumer.write(self._data)
        return defer.succeed(None)

    def pauseProducing(self):
        pass

    def resumeProducing(self):
        pass

    def stopProducing(self):
        pass


class _Discard(protocol.Protocol):
    """Reads an answer's body and drops it; past C{most} bytes, closes the connection."""

    def __init__(self, most):
        self.left = most
        self.done = defer.Deferred(self._stop)

    def dataReceived(self, data):
        self.left -= len(data)
        if self.left < 0:
            self._stop(None)

    def _stop(self, _):
        if self.transport is not None:
            self.transport.stopProducing()

    def connectionLost(self, reason):
        if not self.done.called:
            self.done.callback(None)


@implementer(ICallbackClient)
class CallbackClient:
    """POSTs to app servers' callback URLs.

    @param connect_timeout: seconds to connect (and, for HTTPS, no more: the TLS handshake
        counts in C{timeout}).
    @param timeout: seconds a whole POST may take.
    @param max_response_bytes: the most of an answer's body read.
    @param agent: an L{twisted.web.iweb.IAgent} (tests); Twisted's L{Agent} by default.
    """

    log = Logger()

    def __init__(self, reactor, connect_timeout=5.0, timeout=20.0, max_response_bytes=65536,
                 agent=None):
        self._reactor = reactor
        self.timeout = timeout
        self._most = max_response_bytes
        if agent is None:
            pool = HTTPConnectionPool(reactor, persistent=False)
            agent = Agent(reactor, connectTimeout=connect_timeout, pool=pool)
        self._agent = agent
        self._user_agent = f"jim/{__version__}"

    def message(self, message, from_name, target_name):
        return wire.item(wire.message_object(message, from_name, target_name))

    def status(self, app, username, online, time):
        return wire.item(wire.status_object(app, username, online, time))

    def post(self, app, kind, texts):
        data = wire.body(kind, texts)
        timestamp = int(self._reactor.seconds() * 1000)
        headers = Headers({"User-Agent": [self._user_agent]})
        for name, value in wire.headers(app.key, app.secret_hash, timestamp, data).items():
            headers.addRawHeader(name, value)
        d = defer.ensureDeferred(self._post(app.callback_url, headers, data))
        d.addTimeout(self.timeout, self._reactor)
        return d

    async def _post(self, url, headers, data):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {url!r}")
        try:
            response = await self._agent.request(b"POST", url.encode("ascii"), headers,
                                                 _Bytes(data))
        except ResponseNeverReceived as e:
            if any(reason.check(defer.CancelledError) for reason in e.reasons):
                raise defer.CancelledError() from None  # timed out (or stopped)
            raise
        body = _Discard(self._most)
        response.deliverBody(body)
        await body.done
        return response.code
