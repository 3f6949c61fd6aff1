"""The internal model every dialect maps onto: apps, users, groups and messages.

Values are frozen attrs classes; nothing here does I/O.
"""
from typing import NamedTuple, Optional

import attr

#: the widest integer a store keeps (SQLite integers are signed 64 bits)
MAX_INT64 = 2**63 - 1

SINGLE = "single"
GROUP = "group"


@attr.s(frozen=True, slots=True)
class App:
    """An application: its users, groups and messages are invisible to every other app.

    @ivar secret_hash: hex SHA-256 of the master secret. The secret is 24 random alphanumerics
        (~143 bits), so a fast hash suffices; it is compared in constant time.
    """

    key = attr.ib(type=str)
    secret_hash = attr.ib(type=str)
    name = attr.ib(type=str, default="")
    created = attr.ib(type=int, default=0)


@attr.s(frozen=True, slots=True)
class User:
    """A user of one app. ``password`` is a self-describing hash (see ``jim.core.passwords``)."""

    app = attr.ib(type=str)
    username = attr.ib(type=str)
    password = attr.ib(type=str, repr=False)
    nickname = attr.ib(type=str, default="")
    avatar = attr.ib(type=str, default="")
    signature = attr.ib(type=str, default="")
    created = attr.ib(type=int, default=0)


@attr.s(frozen=True, slots=True)
class Group:
    """A group of one app; ``gid`` is the J-IM ``groupId``."""

    app = attr.ib(type=str)
    gid = attr.ib(type=str)
    name = attr.ib(type=str, default="")
    owner = attr.ib(type=str, default="")
    avatar = attr.ib(type=str, default="")
    created = attr.ib(type=int, default=0)


class Message(NamedTuple):
    """One message of the log. Offline and history are queries over these.

    An immutable value like the others, but a NamedTuple rather than frozen attrs: two are
    built for every chat on the hot path, and a tuple costs a quarter of a frozen attrs
    instance to make.

    @ivar id: the server id, increasing in commit order within a store (0 until stored).
    @ivar target_type: L{SINGLE} (target is a username) or L{GROUP} (target is a gid).
    @ivar msg_type: J-IM msgType: 0 text, 1 image, 2 voice, 3 video, 4 music, 5 news.
    @ivar extras: the message's ``extras`` object as compact JSON text, or None.
    @ivar client_id: the sender's own id for the message, used to acknowledge a resend without
        delivering it twice; None when the client gave none.
    @ivar created: server time of acceptance, epoch milliseconds.
    """

    id: int
    app: str
    sender: str
    target_type: str
    target: str
    msg_type: int
    content: str
    extras: Optional[str] = None
    client_id: Optional[str] = None
    created: int = 0
