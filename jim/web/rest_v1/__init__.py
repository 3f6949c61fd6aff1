"""JMessage's REST API v1, its two /v2 member calls and its Report API v2, on jim's core.

Every route lives in one of the modules below, declared with L{router.route}; L{ROUTES} is
all of them, which docs/rest-api.md and docs/openapi.yaml describe (a test keeps them in step).
"""
from jim.web.rest_v1 import (
    cross, groups, messages, relations, reports, resources, rooms, users, words,
)
from jim.web.rest_v1.router import Router, routes_of

ROUTES = [route
          for module in (users, relations, cross, groups, rooms, messages, resources, words,
                         reports)
          for route in routes_of(module)]


def rest_api(core, rate_per_minute, admin_secret=None):
    """The resource that answers every REST route (mounted at /v1 and /v2); with the server
    administrator's secret, which acts for any app (L{Router.authenticate})."""
    return Router(core, ROUTES, rate_per_minute, admin_secret)
