# -*- test-case-name: tests.integration.test_sdk_resource,tests.test_web_sdk -*-
"""``/sdk/``: what JMessage's Web SDK asks of the HTTP side for a signed-in user
(docs/web-sdk.md, "The SDK's HTTP routes"), and the SDK's own files.

- ``POST /sdk/resource?type=image|voice|file`` and ``GET /sdk/resource?mediaId=...`` are
  ``/v1/resource`` (L{jim.web.rest_v1.resources}: the same handlers, answers and refusals)
  in the name of the user whose reconnect token (the cmd 6 reply's ``token``) the request
  carries as ``Authorization: Bearer <token>``: the token's app is the app. A token that is
  not authentic, has expired, or whose user is gone, forbidden or has another password now
  is refused (401, 899008), as the socket's token login refuses it. An upload's body limit
  is /v1/resource's, and its token is checked before its body is read (L{check_before_body});
  every call takes one of the app's REST rate.
- any other ``GET /sdk/<name>`` serves the file of that name in C{jim/web/static/sdk/}, if
  there is one (404 otherwise).
"""
import time

import orjson
from twisted.web import resource

from jim import errors
from jim.errors import JimError
from jim.web.resource import JSON, AsyncResource, NotFound
from jim.web.rest_v1 import resources
from jim.web.rest_v1.router import Call, normalise

#: the path of the media route, and the metrics' names of its two calls
RESOURCE_PATH = "/sdk/resource"
_UPLOAD, _LINK = f"POST {RESOURCE_PATH}", f"GET {RESOURCE_PATH}"
#: the C{WWW-Authenticate} of a refused token
BEARER_CHALLENGE = b'Bearer realm="jim"'
_SCHEME = "bearer"


def bearer_token(request):
    """The token of an C{Authorization: Bearer <token>} header; JimError(AUTH_FAILED) when
    there is none (a missing token is refused as a bad one is)."""
    header = (request.getHeader(b"authorization") or b"").decode("latin-1")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != _SCHEME or not token:
        raise JimError(errors.AUTH_FAILED, "Authorization: Bearer <token> is required: the"
                       " token of the login reply (cmd 6)")
    return token


def upload_limit(core, method, path):
    """The body limit of a request line (bytes) that names the upload, else None."""
    if method == b"POST" and normalise(path.decode("latin-1")) == RESOURCE_PATH:
        return resources.upload_body_limit(core.limits)
    return None


class SdkMedia(AsyncResource):
    """``/sdk/resource``: an upload (POST) or a download link (GET) for a token's user."""

    challenge = BEARER_CHALLENGE

    def __init__(self, core, rest):
        super().__init__()
        self.core = core
        self.rest = rest  # the REST API's router, whose rate buckets these calls take from

    async def check_before_body(self, request):
        """The token of an upload whose body is over the site's C{max_body}, checked as soon
        as its head has arrived: without a good one, not a byte of the body is read."""
        await self.core.accounts.token_user(bearer_token(request))

    async def respond(self, request):
        if request.method == b"POST":
            name, handler = _UPLOAD, resources.upload.handler
        elif request.method == b"GET":
            name, handler = _LINK, resources.download.handler
        else:
            request.setHeader(b"Allow", b"GET, POST")
            raise JimError(errors.METHOD_NOT_ALLOWED, f"{request.method.decode('latin-1')}"
                           f" is not allowed on {RESOURCE_PATH}")
        started = time.perf_counter()
        status = 500
        try:
            app_key, user = await self.core.accounts.token_user(bearer_token(request))
            app = await self.core.accounts.app(app_key)
            if app is None:  # deleted since the token was checked
                raise JimError(errors.AUTH_FAILED, "invalid or expired token")
            self.rest.charge(request, app, user.username)
            status, answer = await handler(Call(self.core, app, {}, request, b""))
        except JimError as e:
            status = self.error(request, e)[0]
            raise
        finally:
            self.core.metrics.observe_route(name, status, time.perf_counter() - started)
        return status, orjson.dumps(answer), JSON


class Sdk(resource.Resource):
    """``/sdk/``: L{SdkMedia} at ``resource``; any other name, a file of C{files} (a
    L{jim.web.site.Static} of the SDK's folder) when it has one of that name."""

    def __init__(self, media, files):
        super().__init__()
        self.media = media
        self.files = files

    def getChild(self, name, request):
        if any(request.postpath):  # nothing is deeper than one name
            return NotFound()
        if name == b"resource":
            return self.media
        if not name or name.startswith(b"."):
            return NotFound()
        found = self.files.getChild(name, request)
        isfile = getattr(found, "isfile", None)
        return found if isfile is not None and isfile() else NotFound()

    def render(self, request):  # /sdk itself
        return NotFound().render(request)
