# -*- test-case-name: tests.test_web_rest_params -*-
"""Reading what JMessage's clients send: bodies of the right shape, query booleans in every
spelling they use, pages, gids and usernames (reference sections 1.3 and 5)."""
import re

from jim import errors
from jim.errors import JimError
from jim.model import MAX_INT64
from jim.wire.fields import bad, text  # noqa: F401 (the REST handlers' names for them)

#: JMessage's usernames: 4 to 128 bytes, a letter or digit, then letters, digits, _ . - @
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-@]{3,127}")
#: the most entries of one list page (users, admins, groups)
PAGE_MAX = 500
_TRUE = ("true", "1")
_FALSE = ("false", "0")


def username(value, field="username"):
    """A new user's name, as JMessage allows them."""
    if type(value) is not str or not USERNAME.fullmatch(value):
        raise bad(f"{field} must be 4 to 128 letters, digits, _ . - or @, starting with a"
                  " letter or digit")
    return value


def name(value, field="username"):
    """A name of an existing user: a non-empty string (it may predate JMessage's rules)."""
    if type(value) is not str or not value or len(value.encode("utf-8")) > 128:
        raise bad(f"{field} must be a username")
    return value


def names(value, field="usernames", limit=None, allow_empty=False):
    """A JSON array of usernames, at most C{limit} of them."""
    if type(value) is not list or (not value and not allow_empty):
        raise bad(f"the body must be a JSON array of {field}")
    if limit is not None and len(value) > limit:
        raise JimError(errors.TOO_MANY, f"at most {limit} {field} per call")
    return [name(item, field) for item in value]


def gid(value, field="gid"):
    """A gid: a positive integer, sent as a number or as its decimal text."""
    if type(value) is str and value.isdigit() and value.isascii() and len(value) <= 19:
        value = int(value)
    if type(value) is not int or not 0 < value < 2**63:
        raise bad(f"{field} must be a positive integer")
    return value


def gids(value, field="gids"):
    if type(value) is not list:
        raise bad(f"{field} must be a JSON array of gids")
    return [gid(item, field) for item in value]


def boolean(text, field):
    """A query flag: true/false in any case (Python sends True/False), or 1/0."""
    if text is None:
        raise bad(f"{field} is required")
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise bad(f"{field} must be true or false")


def page(call, most=PAGE_MAX):
    """C{(start, count)} of a list call: start >= 0, 0 < count <= C{most} (500)."""
    start = _integer(call.query("start"), "start", 0)
    count = _integer(call.query("count"), "count", None)
    if count is None:
        raise bad("count is required")
    if start < 0 or not 0 < count <= most:
        raise bad(f"start must be >= 0 and count 1 to {most}")
    return start, count


def _integer(text, field, default):
    if text is None or text.strip() == "":
        return default
    text = text.strip()
    digits = text[1:] if text.startswith("-") else text  # one sign at most: "--1" is no number
    if not (digits.isdigit() and digits.isascii()) or len(digits) > 19 \
            or int(digits) > MAX_INT64:
        raise bad(f"{field} must be an integer")
    return int(text)


def obj(value, what="the body"):
    if type(value) is not dict:
        raise bad(f"{what} must be a JSON object")
    return value


def only(mapping, keys, what="the body"):
    """C{mapping}, refused when it has a key that is not one of C{keys}: a misspelt key would
    otherwise pass for a call that asks for nothing."""
    unknown = sorted(set(mapping) - set(keys))
    if unknown:
        taken = " and ".join((", ".join(keys[:-1]), keys[-1])) if len(keys) > 1 else keys[0]
        raise bad(f"{what} takes {taken}, not {', '.join(unknown)}")
    return mapping


def array(mapping, field, what=None):
    """The JSON array under C{field} of an object (a refusal names it C{what}, C{field} by
    default). Absent or null, it is empty, as other optional fields are absent when null; any
    other value that is no array is refused: 0, "", false and {} are no empty list."""
    value = mapping.get(field)
    if value is None:
        return []
    if type(value) is not list:
        raise bad(f"{what or field} must be a JSON array")
    return value


