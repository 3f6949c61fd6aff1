# -*- test-case-name: tests.test_wire_retract_request -*-
"""The body of cmd 115, a user's retraction of its own message: ``msgId``, the server's id of
the message (as cmd 12 and the push give it: a decimal string; a JSON integer is taken too).
Pure code; see docs/wire-protocol.md, "cmd 115: retract one's own message"."""
from jim.errors import BAD_REQUEST, JimError
from jim.model import MAX_INT64

#: the most digits a message id has (2^63 - 1 has 19)
_DIGITS = 19


def message_id(obj):
    """The request's ``msgId`` as an int, 1..2^63-1; JimError(BAD_REQUEST) otherwise."""
    value = obj.get("msgId")
    if value is None:
        raise JimError(BAD_REQUEST, "msgId is required")
    if type(value) is str and value.isdigit() and value.isascii() and len(value) <= _DIGITS:
        value = int(value)
    if type(value) is not int or not 0 < value <= MAX_INT64:
        raise JimError(BAD_REQUEST, "msgId must be a message's id: a positive integer or its"
                       " decimal text")
    return value
