"""The one error type of jim, and its neutral codes.

A L{JimError} is raised anywhere inside jim with a neutral code (what went wrong, in the
domain's words) and converted in exactly one place per front end: the J-IM session turns it
into a J-IM status reply (100xx, by the command that failed), the REST API into JMessage's
error envelope (899xxx, 855xxx, 803xxx with an HTTP status). No code below is a wire value.
"""


class JimError(Exception):
    """A refusal with a neutral code and a human-readable detail.

    @ivar code: one of the constants below.
    @ivar detail: what exactly was wrong, in English, safe to show to the client.
    """

    def __init__(self, code, detail):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    def __repr__(self):
        return f"JimError({self.code!r}, {self.detail!r})"

    __str__ = __repr__


# -- requests and the server ------------------------------------------------------------------
BAD_REQUEST = "bad_request"  # a malformed body, a wrong type, a value out of its limits
TOO_MANY = "too_many"  # a batch longer than its limit
SERVER_ERROR = "server_error"  # jim could not do it (the store failed): retry later
BUSY = "busy"  # too much work queued (password hashing): retry shortly
RATE_LIMITED = "rate_limited"  # over a rate limit: retry later
NOT_FOUND = "not_found"  # no such route
METHOD_NOT_ALLOWED = "method_not_allowed"
BODY_TOO_LARGE = "body_too_large"  # a request body over the route's limit
CROSS_SITE = "cross_site"  # a browser request another site's page made

# -- credentials ------------------------------------------------------------------------------
MISSING_AUTH = "missing_auth"
AUTH_FAILED = "auth_failed"  # wrong credentials (app secret, password, token)
NO_SUCH_APP = "no_such_app"
USER_FORBIDDEN = "user_forbidden"  # a forbidden user logs in or sends
NOT_ALLOWED = "not_allowed"  # a caller asks for what is not its own

# -- users ------------------------------------------------------------------------------------
USER_EXISTS = "user_exists"
NO_SUCH_USER = "no_such_user"
NOT_ADMIN = "not_admin"  # sending as an admin who is not one
APP_EXISTS = "app_exists"

# -- groups -----------------------------------------------------------------------------------
NO_SUCH_GROUP = "no_such_group"
GROUP_EXISTS = "group_exists"
ALREADY_MEMBER = "already_member"
NOT_MEMBER = "not_member"
GROUP_FULL = "group_full"
GROUP_QUOTA = "group_quota"  # the user is in as many groups as allowed
GROUP_PRIVATE = "group_private"  # joining a private group without being added
SILENCED = "silenced"

# -- relations --------------------------------------------------------------------------------
ALREADY_FRIEND = "already_friend"
NOT_FRIEND = "not_friend"
ALREADY_BLACKLISTED = "already_blacklisted"
NOT_BLACKLISTED = "not_blacklisted"
ADMIN_NOT_BLACKLISTABLE = "admin_not_blacklistable"
BLACKLISTED = "blacklisted"  # the receiver blacklisted the sender
NOT_FRIENDS = "not_friends"  # a private message outside friendship in a friend-mode app
NODISTURB_USER_ON = "nodisturb_user_on"
NODISTURB_USER_OFF = "nodisturb_user_off"
NODISTURB_GROUP_ON = "nodisturb_group_on"
NODISTURB_GROUP_OFF = "nodisturb_group_off"
NODISTURB_ALL_ON = "nodisturb_all_on"
NODISTURB_ALL_OFF = "nodisturb_all_off"
SHIELD_ON = "shield_on"
SHIELD_OFF = "shield_off"
CROSS_APP = "cross_app"  # a user or group of another app named where only this app's may be
CROSS_APP_DENIED = "cross_app_denied"  # another app named whose users this app's may not reach
SIGNATURE_INVALID = "signature_invalid"  # a Web SDK signature that is not the app's (or replayed)
SIGNATURE_EXPIRED = "signature_expired"  # a Web SDK signature more than 10 minutes off

# -- messages ---------------------------------------------------------------------------------
MESSAGE_TOO_LARGE = "message_too_large"
NO_SUCH_MESSAGE = "no_such_message"
RETRACT_TOO_LATE = "retract_too_late"
NOT_SENDER = "not_sender"
ALREADY_RETRACTED = "already_retracted"

# -- media ------------------------------------------------------------------------------------
NO_SUCH_MEDIA = "no_such_media"  # no upload of this app has that media id
MEDIA_QUOTA = "media_quota"  # an upload would take the app's kept files past its quota

# -- chat rooms -----------------------------------------------------------------------------
NO_SUCH_ROOM = "no_such_room"
IN_ROOM = "in_room"  # some users to add are members of the room already
NOT_IN_ROOM = "not_in_room"  # some named users are not members of the room
ROOM_FULL = "room_full"  # the room would have more members than its most

# -- sensitive words --------------------------------------------------------------------------
NO_SUCH_WORD = "no_such_word"  # not one of the app's sensitive words

#: the refusals that are jim's doing, not the client's (the rest count as bad input)
SERVER_FAULTS = frozenset((SERVER_ERROR, BUSY))

#: every code, for the front ends' mapping tables (a test checks each one maps everywhere)
CODES = tuple(value for name, value in sorted(globals().items())
              if name.isupper() and isinstance(value, str))
