"""The one error type of jim, and the table of codes it carries.

A ``JimError`` is raised anywhere inside jim and converted to a reply in exactly one place per
front end: the J-IM session turns it into a status reply (``jim.core.session``), the HTTP
resources into a JSON error body (``jim.web.resource``).

Codes below 100000 are J-IM 3.0 status codes (their wire text lives in ``jim.wire.status``);
899xxx codes are JMessage REST API codes.
"""


class JimError(Exception):
    """A refusal with a stable code, an HTTP status and a human-readable detail.

    @ivar code: the J-IM status code (100xx) or JMessage code (899xxx).
    @ivar detail: what exactly was wrong, in English, safe to show to the client.
    @ivar http_status: the HTTP status used when this error reaches an HTTP client.
    @ivar command: for J-IM replies, the response command number to answer with, when it is not
        the one implied by the request.
    @ivar close: the connection must be closed after the reply (J-IM login failure).
    @ivar extra: more top-level fields for the J-IM reply (e.g. a join ``result``), or None.
    """

    def __init__(self, code, detail, http_status=400, command=None, close=False, extra=None):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.http_status = http_status
        self.command = command
        self.close = close
        self.extra = extra

    def __repr__(self):
        return f"JimError({self.code}, {self.detail!r})"

    __str__ = __repr__


# J-IM 3.0 status codes used as errors (see jim.wire.status for their wire text).
SEND_FAILED = 10002
GET_USER_FAILED = 10004
LOGIN_FAILED = 10008
AUTH_FAILED = 10010
JOIN_FAILED = 10012
GET_MESSAGE_FAILED = 10015
UNKNOWN_CMD = 10017
INVALID = 10020

# JMessage REST codes (the subset the foundation uses; the REST API adds the rest).
SERVER_ERROR = 899000
USER_EXISTS = 899001
NO_SUCH_USER = 899002
BAD_PARAMETER = 899003
MISSING_AUTH = 899007
BASIC_AUTH_FAILED = 899008
NO_SUCH_APP = 899009
FORBIDDEN = 899403  # jim's own, like NOT_FOUND: a cross-site browser request to the API
NOT_FOUND = 899404  # no JMessage code exists for an unknown route
