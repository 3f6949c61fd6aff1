# -*- test-case-name: tests.integration.test_admin_apps,tests.integration.test_admin_console -*-
"""The server administrator's HTTP API (``/admin/v1/apps``): the apps one jim hosts.

Authenticated by the administrator's secret (C{--admin-secret}, or the one generated into the
data directory): C{Authorization: Bearer <secret>}, or Basic with the user name C{admin}.
Answers and errors have the REST API's shapes (JMessage's error envelope). See
docs/admin-api.md.

C{GET /admin} (and C{/admin/}) is the admin console's page, open to anyone: it holds no data
and no secret, and everything it shows comes from the APIs with the credentials the operator
types in (docs/admin-console.md). Its scripts are under C{/static/admin/}.
"""
import os

from jim import errors
from jim.web.resource import check_admin_secret, set_page_headers
from jim.web.rest_v1 import params, shapes
from jim.web.rest_v1.router import Router, normalise, route

_BODY = 16 * 1024
#: an app the path names that does not exist is a 404 here (the REST API's 401 is about
#: credentials)
_NAMED = {errors.NO_SUCH_APP: (899009, 404)}
#: the admin console's page
CONSOLE_PAGE = os.path.join(os.path.dirname(__file__), "static", "admin", "index.html")


def _app(app, secret=None):
    out = {"appKey": app.key, "name": app.name, "created": shapes.clock_time(app.created),
           "friend_mode": app.friend_mode, "word_filter": app.word_filter,
           "sdk_register": app.sdk_register, "callback_url": app.callback_url,
           "cross_apps": list(app.cross_apps), "rest_rate": app.rest_rate}
    if secret is not None:
        out["masterSecret"] = secret
    return out


@route("POST", "/admin/v1/apps", body_limit=_BODY)
async def create_app(call):
    """A new app: C{{"name", "appKey"?, "friend_mode"?, "word_filter"?, "sdk_register"?,
    "callback_url"?, "cross_apps"?, "rest_rate"?}}; 201 with its appKey and masterSecret (shown only now)."""
    body = dict(params.obj(call.json(default={})))
    key = body.pop("appKey", None)
    app, secret = await call.core.apps.create(body, key)
    return 201, _app(app, secret)


@route("GET", "/admin/v1/apps")
async def list_apps(call):
    start, count = params.page(call)
    total, apps = await call.core.apps.list(start, count)
    return 200, {"total": total, "start": start, "count": len(apps),
                 "apps": [_app(app) for app in apps]}


@route("GET", "/admin/v1/apps/{key}", codes=_NAMED)
async def get_app(call):
    return 200, _app(await call.core.apps.get(call.params["key"]))


@route("PUT", "/admin/v1/apps/{key}", body_limit=_BODY, codes=_NAMED)
async def update_app(call):
    """Change an app's settings; 200 with the app."""
    app = await call.core.apps.update(call.params["key"], params.obj(call.json()))
    return 200, _app(app)


@route("POST", "/admin/v1/apps/{key}/secret", codes=_NAMED)
async def rotate_secret(call):
    """A new master secret; the old one stops working at once, on every node."""
    app, secret = await call.core.apps.rotate_secret(call.params["key"])
    return 200, _app(app, secret)


@route("DELETE", "/admin/v1/apps/{key}", codes=_NAMED)
async def delete_app(call):
    """Delete an app: its users are disconnected, everything of it is forgotten."""
    await call.core.apps.delete(call.params["key"])
    return 204, None


class AdminRouter(Router):
    """The routes above, for the administrator only."""

    prefixes = ("/admin/",)

    def __init__(self, core, secret):
        super().__init__(core, [create_app, list_apps, get_app, update_app, rotate_secret,
                                delete_app])
        self._secret = secret
        with open(CONSOLE_PAGE, "rb") as page:
            self._console = page.read()

    async def respond(self, request):
        if (request.method in (b"GET", b"HEAD")
                and normalise(request.path.decode("latin-1")) == "/admin"):
            set_page_headers(request)
            return 200, self._console, b"text/html; charset=utf-8"
        return await super().respond(request)

    async def authenticate(self, request):
        check_admin_secret(request, self._secret)
        return None
