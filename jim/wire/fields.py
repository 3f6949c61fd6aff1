"""The checks of a request's fields that every dialect's parsing shares (the REST API's params,
the socket requests of jim.wire.sdk_requests): a refusal is JimError(BAD_REQUEST) naming the
field."""
from jim import errors
from jim.errors import JimError


def bad(detail):
    """The refusal of a request: C{detail} says what is wrong with it."""
    return JimError(errors.BAD_REQUEST, detail)


def text(mapping, field, required=False, default=None):
    """The string under C{field}: C{default} when absent or null (refused if C{required}),
    refused when of another JSON type."""
    value = mapping.get(field)
    if value is None:
        if required:
            raise bad(f"{field} is required")
        return default
    if type(value) is not str:
        raise bad(f"{field} must be a string")
    return value
