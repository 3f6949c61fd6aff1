# -*- test-case-name: tests.test_web_errors -*-
"""JMessage's side of jim's errors: each neutral code as the REST API answers it.

JMessage's clients read ``{"error": {"code", "message"}}`` and the HTTP status (reference
section 1.2); the codes are JMessage's own (899xxx for the REST API, 855xxx for retraction,
803xxx and 801xxx where the messaging layer has the better one). jim's own additions, for what
JMessage has no code for, are 899403 (a cross-site browser request), 899404 (no such route)
and 899405 (a method the route does not take).
"""
from jim.wire import jmessage_codes

#: neutral code -> (JMessage code, HTTP status): L{jim.wire.jmessage_codes}, which the
#: socket commands for the Web SDK share
JMESSAGE = jmessage_codes.JMESSAGE


def jmessage_error(error, overrides=None):
    """C{(HTTP status, JMessage code)} of a L{jim.errors.JimError}; C{overrides} maps neutral
    codes to another JMessage code, or C{(code, HTTP status)}, where a route has its own
    (no-disturb's 899045 for a missing group, say)."""
    code, http_status = JMESSAGE[error.code]
    if overrides and error.code in overrides:
        override = overrides[error.code]
        code, http_status = override if type(override) is tuple else (override, http_status)
    return http_status, code
