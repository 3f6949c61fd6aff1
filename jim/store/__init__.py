# -*- test-case-name: tests.store_contract -*-
"""Implementations of L{jim.interfaces.IStore}, and the few rules every one of them shares.

C{memory.MemoryStore} is the reference and the test fake; C{sqlite.SqliteStore} is the durable
single-node store. See C{docs/storage.md}.
"""
import functools

import attr
from twisted.internet import defer

from jim import errors, model
from jim.cursors import (  # noqa: F401 (the stores' names for them)
    conversation_of, conversation_to, group_conversation, private_conversation,
)
from jim.errors import JimError


def answered(method):
    """Run C{method} now and hand its result (or its JimError) over as a fired Deferred: how
    the memory store answers."""

    @functools.wraps(method)
    def answer(*args, **kwargs):
        try:
            return defer.succeed(method(*args, **kwargs))
        except JimError as refusal:
            return defer.fail(refusal)

    return answer

#: the fields of each value an update may change (the key fields never change)
USER_CHANGES = frozenset(model.PROFILE_FIELDS + ("password", "mtime", "forbidden", "admin"))
GROUP_CHANGES = frozenset(("name", "desc", "avatar", "flag", "max_members", "mtime"))
MEMBER_CHANGES = frozenset(("role", "silenced"))
ROOM_CHANGES = frozenset(("name", "description", "owner", "max_members", "mtime"))
ROOM_MEMBER_CHANGES = frozenset(("silenced",))
APP_CHANGES = frozenset(("secret_hash", "name", "friend_mode", "word_filter", "sdk_register",
                         "callback_url", "cross_apps", "rest_rate", "secret_box"))


def check_changes(kind, changes, allowed):
    """Refuse C{changes} (a dict) that name a field of a C{kind} (a class) outside C{allowed}
    with ValueError: a caller's bug, never a client's."""
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"{kind.__name__} fields that cannot change: {sorted(unknown)}")


def changed(value, changes, allowed):
    """C{value} with C{changes} (a dict) applied; ValueError for a field outside C{allowed}
    (L{check_changes})."""
    check_changes(type(value), changes, allowed)
    return attr.evolve(value, **changes)


def check_page(start, count):
    """Refuse a list page no store could honour the same way."""
    if not (0 <= start <= model.MAX_INT64 and 0 <= count <= model.MAX_INT64):
        raise JimError(errors.BAD_REQUEST, f"bad page: start {start}, count {count}")


def with_id(message, new_id):
    """The message with its server id (C{_replace} costs three times as much; this runs for
    every chat)."""
    return model.Message._make((new_id,) + message[1:])


def check_paging(offset, count, begin=None, end=None):
    """Refuse history arguments no store could honour the same way: a negative page, or
    numbers wider than a store's 64-bit integers."""
    if not (0 <= count <= model.MAX_INT64
            and (offset is None or 0 <= offset <= model.MAX_INT64)
            and all(t is None or -model.MAX_INT64 - 1 <= t <= model.MAX_INT64
                    for t in (begin, end))):
        raise JimError(errors.BAD_REQUEST, f"bad history page: offset {offset}, count {count},"
                       f" begin {begin}, end {end}")


def check_limit(limit):
    """Refuse an offline C{limit} no store could honour the same way (None: no limit)."""
    if limit is not None and not 0 <= limit <= model.MAX_INT64:
        raise JimError(errors.BAD_REQUEST, f"bad offline limit {limit}")


def check_audience(event, audience):
    """Refuse an event no store could keep the same way: without users to keep it for, with a
    user named twice, or of a kind that is not kept (L{model.INBOX_EVENT_KINDS}). The
    audience as a tuple."""
    audience = tuple(audience)
    if not audience or len(set(audience)) != len(audience):
        raise JimError(errors.BAD_REQUEST, "an event is kept for at least one user, each once")
    if event.kind not in model.INBOX_EVENT_KINDS:
        raise JimError(errors.BAD_REQUEST, f"events of kind {event.kind!r} are not kept")
    return audience


def next_room_id(last):
    """The id a new chat room gets when the highest its app ever gave is C{last} (0: none
    yet): never below L{model.FIRST_ROOM_ID}, never one given before."""
    return max(model.FIRST_ROOM_ID - 1, last) + 1


def next_gid(last):
    """The gid a new group gets when the highest its app ever had is C{last} (0: none yet):
    never below L{model.FIRST_GID}, never one given before."""
    return max(model.FIRST_GID - 1, last) + 1


def page(ordered, offset, count):
    """Cut one history page out of a conversation ordered oldest first: the latest C{count}
    with C{offset} None, else C{count} from C{offset}."""
    if count == 0:
        return []
    if offset is None:
        return ordered[-count:]
    return ordered[offset : offset + count]


# -- refusals every store of an area makes alike -------------------------------------------


def no_such_room(room_id):
    return JimError(errors.NO_SUCH_ROOM, f"no chat room {room_id}")


def in_room(room_id):
    return JimError(errors.IN_ROOM, f"some of the users are in chat room {room_id} already")


def not_in_room(room_id):
    return JimError(errors.NOT_IN_ROOM, f"some of the users are not in chat room {room_id}")


def room_full(room_id, most):
    return JimError(errors.ROOM_FULL, f"chat room {room_id} has at most {most} members")


def members_page(start, count):
    """Refuse a page of members no store could honour the same way (C{count} None: all)."""
    check_page(start, 0 if count is None else count)


def no_such_word(word):
    return JimError(errors.NO_SUCH_WORD, f"no sensitive word {word!r}")


def too_many_words(most):
    return JimError(errors.TOO_MANY, f"an app has at most {most} sensitive words")


def report_scope_has(scope, message):
    """Whether a report C{scope} (L{jim.interfaces.IReportStore}) takes C{message}."""
    if scope is None:
        return True
    kind, name = scope
    if kind == "user":
        return message.sender == name or (message.target_type == model.SINGLE
                                          and message.target == name)
    return message.target_type == kind and message.target == name
