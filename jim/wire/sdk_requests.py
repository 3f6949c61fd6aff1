# -*- test-case-name: tests.test_protocols_jim_groups -*-
"""The bodies of jim's own socket requests for JMessage's Web SDK, read into frozen values:
``seq`` (any of them), cmd 111 (a user's own group calls) and cmd 113 (a user's profile).
Pure code; see docs/wire-protocol.md, sections 6.17 and 6.18.

Fields are read strictly, as JMessage's SDK sends them: strings are JSON strings, a gid a
positive integer (or its decimal text), ``usernames`` an array of strings. Anything else is
refused with JimError(BAD_REQUEST) (TOO_MANY for too long a list) naming the field; unknown
fields are ignored. Lengths the core checks anyway (a group's name and description) are left
to it, so that the socket and the REST API refuse the same values in the same words.
"""
import attr

from jim import errors
from jim.errors import JimError
from jim.wire.fields import bad, text

#: the largest ``seq``: the largest integer JavaScript counts exactly (2^53 - 1)
MAX_SEQ = 2**53 - 1
#: the most usernames one call names (REST's limit of a batch)
MAX_USERNAMES = 500
#: a username's most UTF-8 bytes (JMessage's)
USERNAME_BYTES = 128
#: the largest gid
_MAX_GID = 2**63 - 1
#: an ``op`` longer than this is not echoed back (it is no op anyway)
_ECHO_OP_CHARS = 16

CREATE, INFO, UPDATE, ADD, REMOVE, EXIT, LIST = (
    "create", "info", "update", "add", "remove", "exit", "list")
OPS = (CREATE, INFO, UPDATE, ADD, REMOVE, EXIT, LIST)


def seq(obj):
    """The request's ``seq``: an integer 0..2^53-1, or None when there is none."""
    value = obj.get("seq")
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= MAX_SEQ:
        raise bad(f"seq must be an integer from 0 to {MAX_SEQ}")
    return value


def echoed_op(obj):
    """The request's ``op`` as a reply echoes it: a short string, else None. Never raises."""
    value = obj.get("op")
    if type(value) is str and 0 < len(value) <= _ECHO_OP_CHARS and value.isprintable():
        return value
    return None


def username(value, field="username"):
    """A user's name: a string of 1 to 128 UTF-8 bytes."""
    if type(value) is not str or not value or len(value.encode("utf-8", "surrogatepass")) \
            > USERNAME_BYTES:
        raise bad(f"{field} must be a username: a string of 1 to {USERNAME_BYTES} bytes")
    return value


def gid(obj):
    """The request's ``gid``: a positive integer, sent as a number or as its decimal text."""
    value = obj.get("gid")
    if value is None:
        raise bad("gid is required")
    if type(value) is str and value.isdigit() and value.isascii() and len(value) <= 19:
        value = int(value)
    if type(value) is not int or not 0 < value <= _MAX_GID:
        raise bad("gid must be a positive integer")
    return value


def usernames(obj, allow_empty=False):
    """The request's ``usernames``: an array of at most L{MAX_USERNAMES} usernames (at least
    one unless C{allow_empty}; absent is empty)."""
    value = obj.get("usernames")
    if value is None:
        value = []
    if type(value) is not list:
        raise bad("usernames must be an array of usernames")
    if not value and not allow_empty:
        raise bad("usernames must name at least one user")
    if len(value) > MAX_USERNAMES:
        raise JimError(errors.TOO_MANY, f"at most {MAX_USERNAMES} usernames per call")
    return tuple(username(name, "each of usernames") for name in value)


@attr.s(frozen=True, slots=True)
class GroupRequest:
    """A cmd 111: C{op} and the fields it takes (None, or empty, where it takes none)."""

    op = attr.ib()
    gid = attr.ib(default=None)
    name = attr.ib(default=None)
    desc = attr.ib(default=None)
    usernames = attr.ib(default=())


def group_request(obj):
    """A cmd 111 body as a L{GroupRequest}; JimError(BAD_REQUEST or TOO_MANY) otherwise."""
    op = obj.get("op")
    if op is None:
        raise bad(f"op is required: one of {', '.join(OPS)}")
    if op not in OPS:  # a number, a list... is no op either
        raise bad(f"op must be one of {', '.join(OPS)}")
    if op == LIST:
        return GroupRequest(op)
    if op == CREATE:
        return GroupRequest(op, name=text(obj, "name", required=True),
                            desc=text(obj, "desc"), usernames=usernames(obj, allow_empty=True))
    number = gid(obj)
    if op in (INFO, EXIT):
        return GroupRequest(op, number)
    if op == UPDATE:
        name, desc = text(obj, "name"), text(obj, "desc")
        if name is None and desc is None:
            raise bad("update takes name, desc or both")
        return GroupRequest(op, number, name=name, desc=desc)
    return GroupRequest(op, number, usernames=usernames(obj))


def profile_request(obj):
    """A cmd 113 body: the username it asks for."""
    name = obj.get("username")
    if name is None:
        raise bad("username is required")
    return username(name)
