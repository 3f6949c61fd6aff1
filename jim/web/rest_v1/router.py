# -*- test-case-name: tests.integration.test_rest_http,tests.test_docs_rest_api -*-
"""The REST API's router: per-method dispatch, path parameters, per-route body limits, app
authentication, a per-app rate limit, and per-route metrics.

A route is a method, a path pattern (``/v1/users/{username}/friends``) and an async handler
that takes a L{Call} and returns C{(HTTP status, JSON-able body or None)}. Paths are matched
after the quirks JMessage's clients bring are undone (reference section 1.3): ``//`` is one
slash, and a trailing slash is ignored. An unknown path is a 404, a known path with another
method a 405 with ``Allow``; both in JMessage's error envelope.
"""
import math
import re
import time
from urllib.parse import unquote

import attr
import orjson
from twisted.logger import Logger

from jim import errors
from jim.core.rate_buckets import RateLimits
from jim.errors import JimError
from jim.web.errors import jmessage_error
from jim.wire.http_errors import error_body
from jim.web.rest_v1.params import name as name_param
from jim.web.resource import (
    JSON, AsyncResource, basic_credentials, check_admin_secret, query_arg,
)

#: the largest body a route takes unless it says otherwise. A route's limit wins over the
#: site's --max-body, which bounds every other request (a REST path no route has included)
DEFAULT_BODY_LIMIT = 64 * 1024
_PARAMETER = re.compile(r"\{([a-z_]+)\}")


@attr.s(frozen=True, slots=True)
class Route:
    """One route. C{codes}: JMessage codes this route answers some neutral codes with.
    C{body_limit}: bytes, or a function of the server's L{jim.config.Limits} that gives them.
    C{streams}: the handler reads the body itself (C{Call.request.content}, off the reactor
    thread): C{Call.body} is empty."""

    method = attr.ib(type=bytes)
    pattern = attr.ib(type=str)
    handler = attr.ib()
    body_limit = attr.ib(default=DEFAULT_BODY_LIMIT)
    codes = attr.ib(factory=dict)
    streams = attr.ib(default=False)

    def limit(self, limits):
        """The body limit in bytes, under the server's C{limits}."""
        return self.body_limit(limits) if callable(self.body_limit) else self.body_limit

    @property
    def name(self):
        return f"{self.method.decode()} {self.pattern}"


def route(method, pattern, body_limit=DEFAULT_BODY_LIMIT, codes=None, streams=False):
    """A decorator: C{handler} becomes a L{Route} (collected by the module's L{routes_of})."""

    def made(handler):
        return Route(method.encode(), pattern, handler, body_limit, codes or {}, streams)

    return made


def routes_of(module):
    """Every L{Route} defined at the top of C{module}, in source order."""
    return [value for value in vars(module).values() if isinstance(value, Route)]


#: methods that change nothing: their answer does not wait for the bus
_READS = (b"GET", b"HEAD")
#: the header that names the app a request of the server administrator acts for
ADMIN_APP_HEADER = b"x-app-key"


def normalise(path):
    """A request path as routes are matched: no empty segments (``//`` or a trailing slash)."""
    return "/" + "/".join(segment for segment in path.split("/") if segment)


def _compile(pattern):
    regex = "^" + _PARAMETER.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", pattern) + "$"
    literal = len([s for s in pattern.split("/") if s and not s.startswith("{")])
    return re.compile(regex), literal


@attr.s(slots=True)
class Call:
    """What a handler gets: the app, the core, the path parameters, the query and the body."""

    core = attr.ib()
    app = attr.ib()  # the App the credentials are of
    params = attr.ib()  # path parameters, percent-decoded
    request = attr.ib()
    body = attr.ib()  # the raw body (bytes)

    def json(self, default=None):
        """The body as JSON, whatever the Content-Type; C{default} when it is empty."""
        if not self.body.strip():
            return default
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as e:
            raise JimError(errors.BAD_REQUEST, f"the body is not valid JSON: {e.msg}") from None

    def query(self, name):
        return query_arg(self.request, name)


class Router(AsyncResource):
    """The REST API: every route of C{routes}, authenticated by each app's Basic credentials."""

    log = Logger()

    def __init__(self, core, routes, rate_per_minute=0, admin_secret=None):
        super().__init__()
        self.core = core
        #: the server administrator's secret, which acts for any app (L{authenticate})
        self.admin_secret = admin_secret
        self.routes = list(routes)
        self.limits = RateLimits(rate_per_minute, core.clock)
        self._compiled = sorted(
            ((*_compile(r.pattern), r) for r in self.routes),
            key=lambda entry: -entry[1])

    #: the path prefixes of this router's routes
    prefixes = ("/v1", "/v2", "//")

    def body_limit(self, method, path):
        """The body limit of the route a request line names (C{method}, C{path}: bytes, the
        path without its query), or None when it names none."""
        text = path.decode("latin-1")
        if not text.startswith(self.prefixes):
            return None
        found, _, _ = self.match(method, normalise(text))
        return None if found is None else found.limit(self.core.limits)

    async def check_before_body(self, request):
        """The app credentials of a request whose route takes a large body (an upload),
        checked as soon as its head has arrived (L{jim.web.site.LimitedRequest}): a caller
        without them is refused before a byte of the body is read, and the route checks
        them again as any other."""
        if self.admin_secret is not None and request.getHeader(ADMIN_APP_HEADER) is not None:
            await self._for_the_administrator(request)
            return
        key, secret = basic_credentials(request)
        await self.core.accounts.check_app_secret(key, secret)

    def match(self, method, path):
        """C{(route, params, [])} for a request, or C{(None, None, allowed methods)} when no
        route of this method takes the path."""
        allowed = []
        for regex, _, candidate in self._compiled:
            found = regex.match(path)
            if found is None:
                continue
            if candidate.method == method:
                return candidate, found.groupdict(), []
            allowed.append(candidate.method)
        return None, None, sorted(set(allowed))

    async def respond(self, request):
        started = time.perf_counter()
        status = 500
        name = "unmatched"
        try:
            path = normalise(request.path.decode("latin-1"))
            found, raw, allowed = self.match(request.method, path)
            if found is None:
                if allowed:
                    request.setHeader(b"Allow", b", ".join(allowed))
                    raise JimError(errors.METHOD_NOT_ALLOWED, f"{request.method.decode('latin-1')}"
                                   f" is not allowed on {path}")
                raise JimError(errors.NOT_FOUND, f"no such resource: {path}")
            request.jim_route = found
            name = found.name
            params = {key: _decoded(value) for key, value in raw.items()}
            app = await self.authenticate(request)
            if "username" in params:  # a user named in the path: any name up to 128 bytes
                name_param(params["username"])
            # (the site refused a body over the route's limit before reading it)
            body = b""
            if request.content is not None and not found.streams:
                body = request.content.read()
            try:
                status, answer = await found.handler(Call(self.core, app, params, request,
                                                          body))
            finally:
                if request.method not in _READS:
                    # every node sees what changed (a refusal may keep part of a call) before
                    # the caller hears of it
                    await self.core.bus.flushed()
        except JimError as e:
            status = self.error(request, e)[0]  # as the error is answered: the route's codes
            raise
        finally:
            self.core.metrics.observe_route(name, status, time.perf_counter() - started)
        if answer is None:
            # no body, so no Content-Type (Twisted would add text/html to an empty 201)
            request.defaultContentType = None
            return status, b"", None
        return status, orjson.dumps(answer), JSON

    async def authenticate(self, request):
        """The App whose credentials the request carries (C{Authorization: Basic appKey:
        masterSecret}), or that the server administrator names (C{Authorization: Bearer
        <admin secret>} and C{X-App-Key: appKey}), within its rate; JimError else."""
        if self.admin_secret is not None and request.getHeader(ADMIN_APP_HEADER) is not None:
            app = await self._for_the_administrator(request)
        else:
            key, secret = basic_credentials(request)
            app = await self.core.accounts.check_app_secret(key, secret)
        self._rate(request, app.key, app.rest_rate)
        return app

    async def _for_the_administrator(self, request):
        """The app the administrator's request names, once its secret is checked: the
        administrator may do anything the app's server may."""
        check_admin_secret(request, self.admin_secret)
        key = request.getHeader(ADMIN_APP_HEADER).decode("latin-1").strip()
        app = await self.core.accounts.app(key) if key else None
        if app is None:
            raise JimError(errors.NO_SUCH_APP, f"no app {key[:32]!r} on this server")
        return app

    def charge(self, request, app, username):
        """Take one call of the L{jim.model.App}'s REST rate (its own, or the server's) for a
        request a user of it makes outside this router (``/sdk/resource``), from a bucket of
        that user's: one user cannot spend the app server's calls."""
        self._rate(request, (app.key, username), app.rest_rate)

    def _rate(self, request, who, per_minute=None):
        """Take one call of the app's rate (C{who}: the app's key, or one of its users'):
        its own (C{per_minute}) or the server's."""
        if per_minute is None:
            per_minute = self.limits.per_window
        allowed, remaining, wait = self.limits.take(who, per_minute)
        if per_minute:
            request.setHeader(b"X-Rate-Limit-Limit", str(per_minute).encode())
            request.setHeader(b"X-Rate-Limit-Remaining", str(remaining).encode())
            request.setHeader(b"X-Rate-Limit-Reset", str(math.ceil(wait)).encode())
        if not allowed:
            whose = "this app" if type(who) is str else "this user"
            raise JimError(errors.RATE_LIMITED, f"over {per_minute} calls a minute"
                           f" for {whose}; retry in {wait:.1f} s")

    def error(self, request, error):
        found = getattr(request, "jim_route", None)
        http_status, code = jmessage_error(error, found.codes if found is not None else None)
        return http_status, error_body(code, error.detail), JSON


def _decoded(segment):
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError:
        raise JimError(errors.BAD_REQUEST, "a path segment is not UTF-8") from None
