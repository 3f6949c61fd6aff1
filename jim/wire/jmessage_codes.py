# -*- test-case-name: tests.test_web_errors,tests.test_protocols_jim_groups -*-
"""JMessage's codes of jim's errors: each neutral code as JMessage's REST API reports it (its
code and HTTP status). The REST API answers them (L{jim.web.errors}); jim's own socket
commands for JMessage's Web SDK carry the code as ``data.code`` of a refusal
(L{jim.protocols.jim_requests}). Pure data.

The codes are JMessage's own (899xxx for the REST API, 855xxx for retraction, 803xxx and
801xxx where the messaging layer has the better one). jim's own additions, for what JMessage
has no code for, are 899403 (a cross-site browser request), 899404 (no such route) and 899405
(a method the route does not take).
"""
from jim import errors

#: neutral code -> (JMessage code, HTTP status)
JMESSAGE = {
    errors.BAD_REQUEST: (899003, 400),
    errors.TOO_MANY: (899013, 403),
    errors.SERVER_ERROR: (899000, 500),
    errors.BUSY: (899030, 503),
    errors.RATE_LIMITED: (899030, 429),
    errors.NOT_FOUND: (899404, 404),
    errors.METHOD_NOT_ALLOWED: (899405, 405),
    errors.BODY_TOO_LARGE: (899003, 413),
    errors.CROSS_SITE: (899403, 403),
    errors.MISSING_AUTH: (899007, 401),
    errors.AUTH_FAILED: (899008, 401),
    errors.NO_SUCH_APP: (899009, 401),
    errors.USER_FORBIDDEN: (801006, 403),
    errors.NOT_ALLOWED: (899003, 403),
    errors.USER_EXISTS: (899001, 403),
    errors.NO_SUCH_USER: (899002, 403),
    errors.NOT_ADMIN: (899016, 403),
    errors.APP_EXISTS: (899003, 403),
    errors.NO_SUCH_GROUP: (899006, 403),
    errors.GROUP_EXISTS: (899003, 403),
    errors.ALREADY_MEMBER: (899011, 403),
    errors.NOT_MEMBER: (899014, 403),
    errors.GROUP_FULL: (899012, 403),
    errors.GROUP_QUOTA: (899015, 403),
    errors.GROUP_PRIVATE: (899003, 403),
    errors.SILENCED: (803012, 403),
    errors.ALREADY_FRIEND: (899070, 403),
    errors.NOT_FRIEND: (899071, 403),
    errors.ALREADY_BLACKLISTED: (899017, 403),
    errors.NOT_BLACKLISTED: (899019, 403),
    errors.ADMIN_NOT_BLACKLISTABLE: (899018, 403),
    errors.BLACKLISTED: (803008, 403),
    errors.NOT_FRIENDS: (803006, 403),
    errors.NODISTURB_USER_ON: (899043, 403),
    errors.NODISTURB_USER_OFF: (899044, 403),
    errors.NODISTURB_GROUP_ON: (899047, 403),
    errors.NODISTURB_GROUP_OFF: (899049, 403),
    errors.NODISTURB_ALL_ON: (899048, 403),
    errors.NODISTURB_ALL_OFF: (899050, 403),
    errors.SHIELD_ON: (899052, 403),
    errors.SHIELD_OFF: (899053, 403),
    errors.CROSS_APP: (899021, 403),
    errors.CROSS_APP_DENIED: (899020, 403),
    # a Web SDK signature (checked on the sockets, cmd 109; no REST route answers these)
    errors.SIGNATURE_INVALID: (899003, 400),
    errors.SIGNATURE_EXPIRED: (899003, 400),
    errors.MESSAGE_TOO_LARGE: (803007, 403),
    errors.NO_SUCH_MESSAGE: (855003, 403),
    errors.RETRACT_TOO_LATE: (855001, 403),
    errors.NOT_SENDER: (855002, 403),
    errors.ALREADY_RETRACTED: (855004, 403),
    errors.NO_SUCH_MEDIA: (899003, 404),
    # JMessage has no code for a storage quota: "parameter invalid", 403 as its other quotas
    errors.MEDIA_QUOTA: (899003, 403),
    errors.NO_SUCH_WORD: (899003, 404),
    errors.NO_SUCH_ROOM: (899081, 403),
    errors.IN_ROOM: (851003, 403),
    errors.NOT_IN_ROOM: (899082, 403),
    errors.ROOM_FULL: (851006, 403),
}


def jmessage_code(error, overrides=None):
    """The JMessage code of a L{jim.errors.JimError}; C{overrides} maps neutral codes to
    another code, or to C{(code, HTTP status)}, where a call has its own."""
    code, _ = JMESSAGE[error.code]
    if overrides and error.code in overrides:
        override = overrides[error.code]
        code = override[0] if type(override) is tuple else override
    return code
