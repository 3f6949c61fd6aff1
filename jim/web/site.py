"""The HTTP side of the port: the web chat page, J-IM's HTTP API, health and metrics.

Request bodies are capped before they are buffered: a declared or streamed body over the limit
is answered 413 and the connection closed.
"""
import os

import orjson
from twisted.logger import Logger
from twisted.web import http, resource, server, static

from jim import errors
from jim.errors import JimError
from jim.web.jim_api import jim_api
from jim.web.resource import JSON, AsyncResource, NotFound, basic_credentials

STATIC = os.path.join(os.path.dirname(__file__), "static")
_LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")


class Health(AsyncResource):
    def __init__(self, core, store_name):
        super().__init__()
        self.core = core
        self.store_name = store_name

    async def respond(self, request):
        body = {
            "status": "ok",
            "store": self.store_name,
            "sessions": len(self.core.sessions),
            "online_users": len(self.core.hub.online),
        }
        return 200, orjson.dumps(body), JSON


class Metrics(AsyncResource):
    """Prometheus text. Open to loopback clients; others need the default app's credentials."""

    def __init__(self, core):
        super().__init__()
        self.core = core

    async def respond(self, request):
        host = getattr(request.getClientAddress(), "host", None)
        if host not in _LOOPBACK:
            key, secret = basic_credentials(request)
            if key != self.core.accounts.default_app:
                raise JimError(errors.BASIC_AUTH_FAILED, "Basic authentication failed", 401)
            await self.core.accounts.check_app_secret(key, secret)
        text = self.core.metrics.render().encode()
        return 200, text, b"text/plain; version=0.0.4; charset=utf-8"


class Static(static.File):
    childNotFound = NotFound()


class Root(resource.Resource):
    """``/`` is the chat page; named children are the rest."""

    def __init__(self, index_path):
        super().__init__()
        self._index = static.File(index_path, defaultType="text/html; charset=utf-8")

    def getChild(self, name, request):
        if name == b"":
            return self._index
        return NotFound()


class LimitedRequest(server.Request):
    """A request whose body may not exceed the site's C{max_body} bytes."""

    log = Logger()
    _received = 0
    _refused = False

    def gotLength(self, length):
        if length is not None and length > self.channel.site.max_body:
            self._refuse()
        super().gotLength(None if self._refused else length)

    def handleContentChunk(self, data):
        if self._refused:
            return
        self._received += len(data)
        if self._received > self.channel.site.max_body:
            self._refuse()
            return
        super().handleContentChunk(data)

    def process(self):
        if not self._refused:
            super().process()

    def _refuse(self):
        """Answer 413 on the raw transport and close: the body is never read, nor answered."""
        self._refused = True
        # the 413 is the final answer: no "100 Continue" may follow it for a client that asked
        self.requestHeaders.removeHeader(b"expect")
        self.channel.site.metrics.bad_input += 1
        transport = self.channel.transport
        limit = self.channel.site.max_body
        self.log.info("refusing a request body over {limit} bytes", limit=limit)
        body = orjson.dumps(
            {"error": {"code": errors.BAD_PARAMETER, "message": f"body over {limit} bytes"}}
        )
        head = (
            "HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        transport.write(head.encode() + body)
        transport.loseConnection()


class CountedChannel(http.HTTPChannel):
    """An HTTP connection that shows up in the connection metrics."""

    def connectionMade(self):
        super().connectionMade()
        self.site.metrics.connection_opened("http")

    def connectionLost(self, reason):
        self.site.metrics.connection_closed("http")
        super().connectionLost(reason)


class JimSite(server.Site):
    protocol = CountedChannel
    noisy = False
    requestFactory = LimitedRequest
    displayTracebacks = False

    def __init__(self, root, max_body, metrics, clock, timeout=60):
        super().__init__(root, timeout=timeout, reactor=clock)
        self.max_body = max_body
        self.metrics = metrics


def build_site(core, store_name, clock):
    root = Root(os.path.join(STATIC, "index.html"))
    root.putChild(b"static", Static(STATIC))
    root.putChild(b"api", jim_api(core))
    root.putChild(b"healthz", Health(core, store_name))
    root.putChild(b"metrics", Metrics(core))
    return JimSite(root, core.limits.max_body, core.metrics, clock)
