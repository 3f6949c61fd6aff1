"""The base of jim's HTTP resources: async rendering and the one place errors become responses.

A resource defines ``async def respond(request)`` returning ``(status, body_bytes,
content_type)``. Any L{JimError} is answered with JMessage's envelope and the HTTP status of its
code (L{jim.web.errors}); anything else is logged with its traceback and answered 500 without
details.
"""
import base64
import binascii

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web import http, resource, server

from jim import errors
from jim.core.apps import admin_secret_matches
from jim.errors import JimError
from jim.web.errors import jmessage_error
from jim.wire.http_errors import error_body

#: what every page jim serves is sent with (the web chat's and the JS SDK's files, the admin
#: console): no other site may frame it (clickjacking), its type is the one sent, and no other
#: site is told where it was
PAGE_HEADERS = ((b"Content-Security-Policy", b"frame-ancestors 'none'"),
                (b"X-Frame-Options", b"DENY"), (b"X-Content-Type-Options", b"nosniff"),
                (b"Referrer-Policy", b"no-referrer"))


def set_page_headers(request):
    for name, value in PAGE_HEADERS:
        request.setHeader(name, value)

JSON = b"application/json; charset=utf-8"
#: the challenge of every 401 (the app's Basic credentials)
BASIC_CHALLENGE = b'Basic realm="jim"'


class AsyncResource(resource.Resource):
    isLeaf = True
    log = Logger()
    #: the C{WWW-Authenticate} of its 401 answers
    challenge = BASIC_CHALLENGE

    async def respond(self, request):
        """C{(status, body, content type)}, or None when it answered the request itself."""
        raise NotImplementedError

    def error(self, request, error):
        """Turn a JimError into (status, body, content type); subclasses may choose the shape."""
        http_status, code = jmessage_error(error)
        return http_status, error_body(code, error.detail), JSON

    def render(self, request):
        request.notifyFinish().addErrback(_mark_gone, request)
        d = defer.ensureDeferred(self._respond(request))
        d.addErrback(self._unexpected, request)
        return server.NOT_DONE_YET

    async def _respond(self, request):
        try:
            answer = await self.respond(request)
        except JimError as e:
            answer = self.error(request, e)
            if answer[0] == http.UNAUTHORIZED:
                request.setHeader(b"WWW-Authenticate", self.challenge)
        if answer is not None:
            self._finish(request, *answer)

    def _unexpected(self, failure, request):
        self.log.failure("{method} {uri} failed", failure, method=request.method, uri=request.uri)
        http_status, code = jmessage_error(JimError(errors.SERVER_ERROR, ""))
        self._finish(request, http_status, error_body(code, "internal server error"), JSON)

    @staticmethod
    def _finish(request, code, body, content_type):
        if request.finished or getattr(request, "jim_gone", False):
            return
        request.setResponseCode(code, _PHRASES.get(code))
        if content_type is not None:
            request.setHeader(b"Content-Type", content_type)
        request.setHeader(b"Cache-Control", b"no-store")
        request.write(body)
        request.finish()


#: reason phrases Twisted does not know
_PHRASES = {429: b"Too Many Requests"}


def _mark_gone(failure, request):
    request.jim_gone = True  # the client went away: nothing may be written any more


#: what browsers send in Sec-Fetch-Site for a request another site's page made
_OTHER_SITES = (b"cross-site", b"same-site")


def refuse_cross_site(request):
    """Refuse (403) a request another site's page made a browser send. The API acts on Basic
    credentials, which a browser remembers once given and sends with any request to this
    host: without this, any page could send chats or close connections in an app's name.
    Callers that are not browsers send no C{Sec-Fetch-Site} and are not affected."""
    if request.getHeader(b"sec-fetch-site") in _OTHER_SITES:
        raise JimError(errors.CROSS_SITE, "cross-site browser requests are refused")


def basic_credentials(request):
    """(user, password) from an ``Authorization: Basic`` header; JimError 899007 if absent.
    A request another site's page made a browser send is refused first (L{refuse_cross_site}):
    whatever acts on Basic credentials is protected alike."""
    refuse_cross_site(request)
    header = (request.getHeader(b"authorization") or b"").decode("latin-1")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise JimError(errors.MISSING_AUTH, "Missing authen info")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise JimError(errors.AUTH_FAILED, "Basic authentication failed") from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise JimError(errors.AUTH_FAILED, "Basic authentication failed")
    return user, password


def check_admin_secret(request, secret):
    """Refuse (JimError) a request that does not carry the server administrator's C{secret}:
    C{Authorization: Bearer <secret>}, or Basic with the user name C{admin}; compared in
    constant time, after another site's page's request is refused (L{refuse_cross_site})."""
    refuse_cross_site(request)
    header = (request.getHeader(b"authorization") or b"").decode("latin-1")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        given = value.strip()
    elif scheme.lower() == "basic":
        user, given = basic_credentials(request)
        if user != "admin":
            given = None
    else:
        raise JimError(errors.MISSING_AUTH, "Missing authen info: the administrator's"
                       " secret, as Authorization: Bearer <secret>")
    if not given or not admin_secret_matches(secret, given):
        raise JimError(errors.AUTH_FAILED, "the administrator's secret is wrong")


def query_arg(request, name):
    """The first value of the query argument C{name} as text; None when it is missing."""
    values = request.args.get(name.encode())
    if not values:
        return None
    try:
        return values[0].decode("utf-8")
    except UnicodeDecodeError:
        raise JimError(errors.BAD_REQUEST, f"{name} is not UTF-8") from None


class NotFound(AsyncResource):
    """404 with the JSON error envelope, for any path nothing else serves."""

    async def respond(self, request):
        raise JimError(errors.NOT_FOUND, "no such resource")


class Directory(resource.Resource):
    """A node of the URL tree: itself, like its unknown children, a JSON 404 to any method."""

    def getChild(self, name, request):
        return NotFound()

    def render(self, request):
        return NotFound().render(request)
