"""The HTTP side of the port: the web chat page, J-IM's HTTP API, JMessage's REST API, health
and metrics.

Request bodies are capped before they are buffered: a declared or streamed body over the limit
is answered 413 and the connection closed. A request whose head and body have not arrived by its
deadline (L{jim.web.request_deadline}) is answered 408 and the connection closed.
"""
import os

import orjson
from twisted.internet import defer
from twisted.logger import Logger
from twisted.web import http, resource, server, static

from jim import errors
from jim.errors import JimError
from jim.web.access_log import access_line
from jim.web.errors import jmessage_error
from jim.wire.http_errors import bad_request_body, error_body, raw_response
from jim.web.jim_api import jim_api
from jim.web.media import MediaDownloads
from jim.web.admin_api import AdminRouter
from jim.web.rest_v1 import rest_api
from jim.web.sdk import BEARER_CHALLENGE, Sdk, SdkMedia, upload_limit
from jim.web.request_deadline import time_left
from jim.web.resource import (
    BASIC_CHALLENGE, JSON, AsyncResource, NotFound, basic_credentials, check_admin_secret,
    set_page_headers,
)

STATIC = os.path.join(os.path.dirname(__file__), "static")
_LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
HSTS = b"Strict-Transport-Security"
#: seconds a connection closed with an error answer has to take it before it is aborted
CLOSE_GRACE = 5.0


def hsts_value(max_age):
    """The C{Strict-Transport-Security} value for C{max_age} seconds, or None for 0 (off).

    Browsers keep to https for that long after they saw it over TLS; over plain HTTP it is
    never sent (RFC 6797 8.1: a browser would ignore it, and it may be forged there)."""
    return None if not max_age else b"max-age=%d" % max_age


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
            "online_users": self.core.presence.online_users(),
        }
        return 200, orjson.dumps(body), JSON


class Metrics(AsyncResource):
    """Prometheus text. Open to loopback clients; others need the default app's credentials
    or the server administrator's secret (C{Authorization: Bearer})."""

    def __init__(self, core, admin_secret=None):
        super().__init__()
        self.core = core
        self.admin_secret = admin_secret

    async def respond(self, request):
        host = getattr(request.getClientAddress(), "host", None)
        scheme = (request.getHeader(b"authorization") or b"").partition(b" ")[0].lower()
        if host in _LOOPBACK:
            pass
        elif self.admin_secret is not None and scheme == b"bearer":
            check_admin_secret(request, self.admin_secret)
        else:
            key, secret = basic_credentials(request)
            # checked first, so that any other key is refused as a wrong secret is: alike,
            # and at the same cost
            app = await self.core.accounts.check_app_secret(key, secret)
            if app.key != self.core.accounts.default_app:
                raise JimError(errors.AUTH_FAILED, "Basic authentication failed")
        text = self.core.metrics.render().encode()
        return 200, text, b"text/plain; version=0.0.4; charset=utf-8"


class Static(static.File):
    """The web chat page's files. Its scripts are ES modules, which a browser runs only when
    they come with a JavaScript type: the page's types are fixed here, not left to the host's
    C{mime.types}. Each is sent with L{jim.web.resource.PAGE_HEADERS}."""

    childNotFound = NotFound()
    contentTypes = {
        **static.File.contentTypes,
        ".css": "text/css; charset=utf-8",
        ".html": "text/html; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
    }

    def render(self, request):
        set_page_headers(request)
        return super().render(request)


class Root(resource.Resource):
    """``/`` is the chat page; named children are the rest."""

    def __init__(self, index_path):
        super().__init__()
        self._index = Static(index_path, defaultType="text/html; charset=utf-8")

    def getChild(self, name, request):
        if name == b"":
            if request.postpath and any(request.postpath):
                # "//v1/users": a doubled slash, as some clients send (never the page)
                name = request.postpath.pop(0)
                request.prepath.append(name)
                return self.getChildWithDefault(name, request)
            return self._index
        return NotFound()


class LimitedRequest(server.Request):
    """A request whose body may not exceed its limit: the REST route's own (L{body_limit}),
    or the site's C{max_body} for anything else. It is known from the request line, before a
    byte of the body is buffered."""

    log = Logger()
    _received = 0
    _refused = False
    _limit = None

    @property
    def body_received(self):
        """Body bytes received so far."""
        return self._received

    def gotLength(self, length):
        method, path = self.channel.request_line
        site = self.channel.site
        self._limit = site.body_limit(method, path)
        if length is not None and length > self._limit:
            self._refuse()
        elif (self._limit > site.max_body and site.head_check is not None
              and (length is None or length > site.max_body)):
            self._check_head()
        super().gotLength(None if self._refused else length)

    def _check_head(self):
        """A body over the site's C{max_body} (or of no stated length) for a route that takes
        one (an upload): its credentials are checked before the body is read, the connection
        not read meanwhile, so that nobody can make the server take in megabytes without
        them. (A smaller body is read as any other request's, and the route checks them.)"""
        transport = self.channel.transport
        transport.pauseProducing()
        checked = defer.ensureDeferred(self.channel.site.head_check(self))
        checked.addCallbacks(self._head_passed, self._head_refused,
                             callbackArgs=(transport,))

    def _head_passed(self, _, transport):
        if not self._refused:
            transport.resumeProducing()

    def _head_refused(self, failure):
        if self._refused:
            return
        self._refused = True
        self.requestHeaders.removeHeader(b"expect")  # no "100 Continue" after the refusal
        error = failure.value if failure.check(JimError) else None
        if error is None:
            self.log.failure("checking a request's credentials failed", failure)
            error = JimError(errors.SERVER_ERROR, "the credentials could not be checked")
        status, code = jmessage_error(error)
        self.log.info("refusing an upload before its body: {why}", why=error.detail)
        # as the route itself answers a 401: with the challenge
        challenge = []
        if status == 401:
            path = self.channel.request_line[1]
            challenge = [(b"WWW-Authenticate", self.channel.site.challenge(path))]
        self.channel.close_with(b"%d %s" % (status, http.RESPONSES.get(status, b"Refused")),
                                error_body(code, error.detail), challenge)

    def handleContentChunk(self, data):
        if self._refused:
            return
        self._received += len(data)
        if self._received > self._limit:
            self._refuse()
            return
        super().handleContentChunk(data)

    def process(self):
        if not self._refused:
            hsts = self.channel.site.hsts
            if hsts is not None and self.isSecure():
                self.setHeader(HSTS, hsts)
            super().process()

    def _refuse(self):
        """Answer 413 on the raw transport and close: the body is never read, nor answered."""
        self._refused = True
        # the 413 is the final answer: no "100 Continue" may follow it for a client that asked
        self.requestHeaders.removeHeader(b"expect")
        self.channel.site.metrics.bad_input += 1
        limit = self._limit
        self.log.info("refusing a request body over {limit} bytes", limit=limit)
        _, code = jmessage_error(JimError(errors.BODY_TOO_LARGE, ""))
        self.channel.close_with(b"413 Payload Too Large", error_body(code, f"body over {limit} bytes"))


class CountedChannel(http.HTTPChannel):
    """An HTTP connection that shows up in the connection metrics, and knows the request line
    of the request whose head it is reading (its body limit depends on the route).

    Each request must arrive, head and body, by its deadline (L{time_left}), counted from its
    first byte: a late one is answered 408 and its connection closed. No deadline runs while a
    request is being answered, nor between requests (the idle timeout is for that).

    @ivar request_line: C{(method, path)} of the request being read, bytes.
    """

    log = Logger()
    request_line = (b"", b"")
    _in_head = False
    #: whether the next bytes belong to a request being read (False while one is answered)
    _reading = True
    _started = None  # when the request being read began arriving
    _deadline = None  # its timer
    _closing = None  # the abort of a connection closed with an error answer

    def connectionMade(self):
        super().connectionMade()
        self.site.metrics.connection_opened("http")

    def dataReceived(self, data):
        if self._reading and self._deadline is None and data:
            site = self.site
            self._started = site.clock.seconds()
            self._deadline = site.clock.callLater(site.request_timeout, self._checkDeadline)
        super().dataReceived(data)

    def allContentReceived(self):
        self._reading = False
        self._cancelDeadline()
        super().allContentReceived()

    def requestDone(self, request):
        # before the base class replays the bytes of a pipelined request that came meanwhile
        self._reading = True
        super().requestDone(request)

    def _checkDeadline(self):
        self._deadline = None
        site = self.site
        request = self.requests[-1] if self.requests else None
        received = getattr(request, "body_received", 0)
        now = site.clock.seconds()
        left = time_left(self._started, now, received, site.request_timeout, site.min_body_rate)
        if left > 0:  # the body bought more time
            self._deadline = site.clock.callLater(left, self._checkDeadline)
            return
        site.metrics.bad_input += 1
        self.log.info(
            "closing HTTP connection from {peer}: request not received in {seconds:.0f}s"
            " ({received} body bytes)",
            peer=str(self.transport.getPeer()),
            seconds=now - self._started,
            received=received,
        )
        self.close_with(b"408 Request Timeout", bad_request_body(
            f"request not received in time ({site.request_timeout:g} s"
            f" and 1 s per {site.min_body_rate} body bytes)" if site.min_body_rate else
            f"request not received in time ({site.request_timeout:g} s)"))

    def close_with(self, status, body, headers=()):
        """Answer C{status} (bytes: code and reason) with the JSON C{body} (and C{headers},
        C{(name, value)} bytes) on the raw transport and close, whatever request is being
        read; a client that does not take the answer within L{CLOSE_GRACE} seconds is
        aborted."""
        hsts = self.site.hsts
        if hsts is not None and self.isSecure():
            headers = (*headers, (HSTS, hsts))
        self._reading = False  # nothing more is read: no deadline either
        self._cancelDeadline()
        self.transport.write(raw_response(status, body, headers))
        if self._closing is None:
            self._closing = self.site.clock.callLater(CLOSE_GRACE, self.transport.abortConnection)
        # the channel's own close: it unregisters itself as the transport's producer first,
        # without which a TLS transport waits for that before it sends its close_notify
        self.loseConnection()

    def _cancelDeadline(self):
        deadline, self._deadline = self._deadline, None
        if deadline is not None and deadline.active():
            deadline.cancel()

    def lineReceived(self, line):
        if not self._in_head and line:  # a request line (empty lines before one are allowed)
            parts = line.split(b" ")
            if len(parts) == 3:
                self.request_line = (parts[0], parts[1].partition(b"?")[0])
            self._in_head = True
        return super().lineReceived(line)

    def allHeadersReceived(self):
        self._in_head = False  # the next line is the next request's
        super().allHeadersReceived()

    def connectionLost(self, reason):
        self._cancelDeadline()
        closing, self._closing = self._closing, None
        if closing is not None and closing.active():
            closing.cancel()
        self.site.metrics.connection_closed("http")
        super().connectionLost(reason)


class JimSite(server.Site):
    protocol = CountedChannel
    noisy = False
    requestFactory = LimitedRequest
    displayTracebacks = False

    def __init__(self, root, max_body, metrics, clock, timeout=60, route_limit=None,
                 hsts_max_age=0, request_timeout=30.0, min_body_rate=8192, head_check=None,
                 challenge_of=None):
        """
        @param timeout: seconds a connection may stay idle (Twisted's own timeout).
        @param hsts_max_age: seconds of C{Strict-Transport-Security} on every response served
            over TLS; 0 sends none.
        @param request_timeout: seconds a request's head and body have to arrive, from its
            first byte, and C{min_body_rate}: body bytes that add one second to it (0: none).
        @param head_check: None, or C{async head_check(request)}: run once the head of a
            request whose body may exceed C{max_body} has arrived, before its body is read;
            a JimError it raises is the answer, and the connection is closed.
        @param challenge_of: None, or C{challenge_of(path)}: the C{WWW-Authenticate} of a
            401 C{head_check} answers for that path (bytes), when it is not Basic's.
        """
        # no form bodies into request.args: an upload's multipart body is read by its route,
        # off the reactor thread, not parsed whole in memory here
        super().__init__(root, timeout=timeout, reactor=clock, parsePOSTFormSubmission=False,
                         logFormatter=access_line)  # no secret of a URL in the access log
        self.max_body = max_body
        self.metrics = metrics
        self._route_limit = route_limit
        self.hsts = hsts_value(hsts_max_age)
        self.clock = clock
        self.request_timeout = request_timeout
        self.min_body_rate = min_body_rate
        self.head_check = head_check
        self._challenge_of = challenge_of

    def challenge(self, path):
        """The C{WWW-Authenticate} of a 401 answered before the body of a request to
        C{path} (bytes, without its query)."""
        challenge = None if self._challenge_of is None else self._challenge_of(path)
        return BASIC_CHALLENGE if challenge is None else challenge

    def body_limit(self, method, path):
        """The most bytes a request's body may have: its REST route's limit, else
        C{max_body}."""
        if self._route_limit is not None:
            limit = self._route_limit(method, path)
            if limit is not None:
                return limit
        return self.max_body


def build_site(core, store_name, clock, hsts_max_age=0, admin_secret=None):
    """The HTTP side of the port: the chat page, the REST API, the administrator's API (when
    C{admin_secret} is given), the Web SDK's routes and files, health, metrics and media
    downloads."""
    root = Root(os.path.join(STATIC, "index.html"))
    root.putChild(b"static", Static(STATIC))
    root.putChild(b"api", jim_api(core))
    rest = rest_api(core, core.limits.rest_rate, admin_secret)
    root.putChild(b"v1", rest)
    root.putChild(b"v2", rest)
    root.putChild(b"healthz", Health(core, store_name))
    root.putChild(b"metrics", Metrics(core, admin_secret))
    root.putChild(b"media", MediaDownloads(core))
    admin = None if admin_secret is None else AdminRouter(core, admin_secret)
    if admin is not None:
        root.putChild(b"admin", admin)
    sdk_media = SdkMedia(core, rest)
    root.putChild(b"sdk", Sdk(sdk_media, Static(os.path.join(STATIC, "sdk"))))

    def route_limit(method, path):
        limit = rest.body_limit(method, path)
        if limit is None:
            limit = upload_limit(core, method, path)
        return limit if limit is not None or admin is None else admin.body_limit(method, path)

    def head_check(request):
        if _is_sdk(request.channel.request_line[1]):
            return sdk_media.check_before_body(request)
        return rest.check_before_body(request)

    return JimSite(root, core.limits.max_body, core.metrics, clock, route_limit=route_limit,
                   head_check=head_check,
                   challenge_of=lambda path: BEARER_CHALLENGE if _is_sdk(path) else None,
                   hsts_max_age=hsts_max_age, request_timeout=core.limits.http_request_timeout,
                   min_body_rate=core.limits.http_min_body_rate)


def _is_sdk(path):
    """Whether a request line's path (bytes) is under ``/sdk/`` (``//sdk/`` too)."""
    return path.lstrip(b"/").startswith(b"sdk/")
