"""The IM domain as values: apps, users, relations, groups, messages, events, and what the core
hands to the bus (deliveries, kicks, cache invalidations).

Nothing here knows a dialect (J-IM, JMessage) or does I/O. Values are frozen attrs classes, but
for L{Message}, L{Draft} and L{Delivery}, NamedTuples: they are built for every chat on the hot
path, and a tuple costs a quarter of a frozen attrs instance to make.
"""
from typing import NamedTuple, Optional

import attr

#: the widest integer a store keeps (SQLite integers are signed 64 bits)
MAX_INT64 = 2**63 - 1

# -- target and sender kinds ------------------------------------------------------------------

SINGLE = "single"
GROUP = "group"
CHATROOM = "chatroom"
TARGET_TYPES = (SINGLE, GROUP, CHATROOM)

#: a message sent by a user (a socket client), or by an app server in a registered admin's name
FROM_USER = "user"
FROM_ADMIN = "admin"

# -- message types (JMessage's) ----------------------------------------------------------------

TEXT = "text"
IMAGE = "image"
VOICE = "voice"
VIDEO = "video"
FILE = "file"
LOCATION = "location"
CUSTOM = "custom"
MSG_TYPES = (TEXT, IMAGE, VOICE, VIDEO, FILE, LOCATION, CUSTOM)

# -- users ------------------------------------------------------------------------------------

GENDER_UNKNOWN, GENDER_MALE, GENDER_FEMALE = 0, 1, 2
#: the fields of a user's profile an update may change (besides password, forbidden, admin)
PROFILE_FIELDS = ("nickname", "avatar", "birthday", "signature", "gender", "region", "address",
                  "extras")

# -- groups -----------------------------------------------------------------------------------

#: JMessage's group flags: a private group is joined only by being added, a public one also
#: by asking (J-IM's join, cmd 7, creates public groups)
PRIVATE = 1
PUBLIC = 2
OWNER = "owner"
ADMIN = "admin"
MEMBER = "member"
#: the first gid handed to a group created without one (JMessage's gids look like 10055201)
FIRST_GID = 10_000_000
#: the first chat room id an app gives (JMessage's are of this size too)
FIRST_ROOM_ID = 10_000_000

# -- relations ---------------------------------------------------------------------------------

#: a relation kind names what an owner (a username) keeps about a target
FRIEND = "friend"  # target: a username; note_name and others are the owner's notes
BLACKLIST = "blacklist"  # target: a username whose private messages the owner refuses
NODISTURB_USER = "nodisturb_user"  # target: a username
NODISTURB_GROUP = "nodisturb_group"  # target: a gid, as text
NODISTURB_ALL = "nodisturb_all"  # target: "" (global no-disturb is on)
SHIELD = "shield"  # target: a gid, as text; the owner does not receive that group's messages
RELATION_KINDS = (FRIEND, BLACKLIST, NODISTURB_USER, NODISTURB_GROUP, NODISTURB_ALL, SHIELD)
#: the kinds whose target is a username (the rest name a group, or nothing)
USER_RELATIONS = (FRIEND, BLACKLIST, NODISTURB_USER)


def _app_keys(keys):
    """App keys as an L{App} keeps them: sorted, each once."""
    return tuple(sorted(set(keys)))


@attr.s(frozen=True, slots=True)
class App:
    """An application: its users, groups and messages are invisible to every other app.

    @ivar secret_hash: hex SHA-256 of the master secret. The secret is 24 random alphanumerics
        (~143 bits), so a fast hash suffices; it is compared in constant time.
    @ivar friend_mode: private messages go only between friends.
    @ivar word_filter: the app's sensitive words are masked in text messages.
    @ivar sdk_register: clients may register users by logging in (JMessage's SDK
        self-registration), or None: the server's C{--open-registration} decides.
    @ivar callback_url: the app server's URL jim POSTs the app's messages and its users'
        online and offline changes to (JMessage's message callback), or None: none.
    @ivar cross_apps: the keys of the apps whose users this app's users may chat with
        (JMessage's cross-app chat), sorted, each once. Two apps' users chat only when each
        app lists the other (L{cross_allowed}).
    @ivar rest_rate: the REST API calls a minute the app may make (0: no limit), or None: the
        server's C{--rest-rate}.
    @ivar secret_box: the master secret, sealed (L{jim.core.secret_box}), for the Web SDK's
        signatures; None for an app whose secret was set before jim kept it.
    """

    key = attr.ib(type=str)
    secret_hash = attr.ib(type=str, repr=False)
    name = attr.ib(type=str, default="")
    created = attr.ib(type=int, default=0)
    friend_mode = attr.ib(type=bool, default=False)
    word_filter = attr.ib(type=bool, default=False)
    sdk_register = attr.ib(type=Optional[bool], default=None)
    callback_url = attr.ib(type=Optional[str], default=None)
    cross_apps = attr.ib(type=tuple, default=(), converter=_app_keys)
    rest_rate = attr.ib(type=Optional[int], default=None)
    secret_box = attr.ib(type=Optional[str], default=None, repr=False)


def cross_allowed(app, other):
    """May the users of C{app} and of C{other} (two L{App}s) chat? Only when each lists the
    other in its C{cross_apps}."""
    return other.key in app.cross_apps and app.key in other.cross_apps


#: between an app key and a username in a L{qualified} name (no username holds one)
QUALIFIER = ":"


def qualified(app_key, username):
    """How another app's user is named inside an app's data: C{<appkey>:<username>}. A
    username never holds a C{:} (L{jim.core.users.check_name}), so the name is taken by no
    user of the app, and names that user of that app alone."""
    return f"{app_key}{QUALIFIER}{username}"


def unqualified(name, home):
    """C{(app key, username)} of a name in app C{home}'s data: a L{qualified} name's app and
    user, or C{(home, name)}."""
    app_key, sep, username = name.rpartition(QUALIFIER)
    return (app_key, username) if sep else (home, name)


@attr.s(frozen=True, slots=True)
class User:
    """A user of one app, with JMessage's whole profile.

    @ivar password: a self-describing hash (see C{jim.core.passwords}), never the password.
    @ivar birthday: C{yyyy-MM-dd}, or "".
    @ivar extras: the app's own fields, as compact JSON text of an object, or None.
    @ivar ctime: epoch ms of registration; C{mtime} of the last change to the profile.
    @ivar forbidden: may not log in nor send.
    @ivar admin: an admin of the app (JMessage's ``/v1/admins``): may send as C{FROM_ADMIN}.
    """

    app = attr.ib(type=str)
    username = attr.ib(type=str)
    password = attr.ib(type=str, repr=False)
    nickname = attr.ib(type=str, default="")
    avatar = attr.ib(type=str, default="")
    birthday = attr.ib(type=str, default="")
    signature = attr.ib(type=str, default="")
    gender = attr.ib(type=int, default=GENDER_UNKNOWN)
    region = attr.ib(type=str, default="")
    address = attr.ib(type=str, default="")
    extras = attr.ib(type=Optional[str], default=None)
    ctime = attr.ib(type=int, default=0)
    mtime = attr.ib(type=int, default=0)
    forbidden = attr.ib(type=bool, default=False)
    admin = attr.ib(type=bool, default=False)


@attr.s(frozen=True, slots=True)
class Relation:
    """One thing an C{owner} keeps about a C{target}: a friend, a blacklisted user, a
    no-disturb setting, a group shield (see the C{*} kinds above).

    @ivar note_name: friends only: the owner's name for the friend (<= 64 bytes).
    @ivar others: friends only: the owner's note about the friend (<= 250 bytes).
    """

    app = attr.ib(type=str)
    kind = attr.ib(type=str)
    owner = attr.ib(type=str)
    target = attr.ib(type=str)
    note_name = attr.ib(type=str, default="")
    others = attr.ib(type=str, default="")
    ctime = attr.ib(type=int, default=0)


# -- media -------------------------------------------------------------------------------------

#: what an uploaded file is (JMessage's resource types); each is a message type too
MEDIA_KINDS = (IMAGE, VOICE, FILE)


@attr.s(frozen=True, slots=True)
class Media:
    """An uploaded file of one app: what is known of it. Its bytes are kept apart, named by
    C{content_hash} (the same bytes uploaded twice are kept once).

    @ivar media_id: the id clients name it by (C{qiniu/image/j/<32 hex>.png}): unique in
        every app, derived from the app, the kind and the bytes (and, for a file, its name).
    @ivar content_hash: hex SHA-256 of the bytes.
    @ivar kind: one of L{MEDIA_KINDS}.
    @ivar crc32: CRC-32 of the bytes, unsigned.
    @ivar format: an image's C{jpg}, C{png}, C{gif} or C{bmp}; a voice's audio format
        (C{amr}, C{mp3}...); a file's extension, lower case, or "".
    @ivar width: images only: pixels (0 for the other kinds); C{height} likewise.
    @ivar fname: the client's file name without any folder, for display only.
    @ivar ctime: epoch ms of the first upload.
    """

    app = attr.ib(type=str)
    media_id = attr.ib(type=str)
    content_hash = attr.ib(type=str)
    kind = attr.ib(type=str)
    size = attr.ib(type=int)
    crc32 = attr.ib(type=int)
    format = attr.ib(type=str, default="")
    width = attr.ib(type=int, default=0)
    height = attr.ib(type=int, default=0)
    fname = attr.ib(type=str, default="")
    ctime = attr.ib(type=int, default=0)


@attr.s(frozen=True, slots=True)
class Upload:
    """What a front end read of an uploaded file besides its bytes (L{Media}'s fields that the
    core cannot compute): the client's file name and the format, and an image's size."""

    fname = attr.ib(type=str, default="")
    format = attr.ib(type=str, default="")
    width = attr.ib(type=int, default=0)
    height = attr.ib(type=int, default=0)


@attr.s(frozen=True, slots=True)
class Group:
    """A group of one app.

    @ivar gid: a positive integer, JMessage's gid.
    @ivar alias: the J-IM ``groupId`` of a group J-IM created under a name that is not a
        number ("g1"); None otherwise (J-IM's "100" is gid 100).
    @ivar flag: L{PRIVATE} or L{PUBLIC}.
    """

    app = attr.ib(type=str)
    gid = attr.ib(type=int)
    name = attr.ib(type=str, default="")
    desc = attr.ib(type=str, default="")
    avatar = attr.ib(type=str, default="")
    owner = attr.ib(type=str, default="")
    flag = attr.ib(type=int, default=PRIVATE)
    max_members = attr.ib(type=int, default=500)
    ctime = attr.ib(type=int, default=0)
    mtime = attr.ib(type=int, default=0)
    alias = attr.ib(type=Optional[str], default=None)


@attr.s(frozen=True, slots=True)
class Room:
    """A chat room of one app: its messages reach the members online when they are sent, and
    are never kept as offline messages.

    @ivar id: a positive integer (JMessage's chatroom_id), from L{FIRST_ROOM_ID} on.
    """

    app = attr.ib(type=str)
    id = attr.ib(type=int)
    name = attr.ib(type=str, default="")
    description = attr.ib(type=str, default="")
    owner = attr.ib(type=str, default="")
    max_members = attr.ib(type=int, default=10_000)
    ctime = attr.ib(type=int, default=0)
    mtime = attr.ib(type=int, default=0)


@attr.s(frozen=True, slots=True)
class RoomMember:
    """A user's place in a chat room: whether it may speak, and when it came in (epoch ms)."""

    username = attr.ib(type=str)
    silenced = attr.ib(type=bool, default=False)
    joined = attr.ib(type=int, default=0)


def silence_place(area, number):
    """The place a group (C{area} L{GROUPS_AREA}, C{number} its gid) or a chat room
    (L{ROOMS_AREA}, its id) is to the silences kept of users who left it
    (L{jim.interfaces.ISilenceStore})."""
    return f"{area}:{int(number)}"


@attr.s(frozen=True, slots=True)
class Member:
    """A user's place in a group: its role and whether it may speak."""

    username = attr.ib(type=str)
    role = attr.ib(type=str, default=MEMBER)
    silenced = attr.ib(type=bool, default=False)
    joined = attr.ib(type=int, default=0)


class Message(NamedTuple):
    """One message of the log. Offline and history are queries over these.

    @ivar id: the server id, increasing in commit order within a store (0 until stored).
    @ivar app: the app whose log keeps it: the sender's. A cross-app message is kept twice,
        once in each app (see L{jim.core.cross_apps}); in each, the other app's user is
        named by a L{qualified} name (the C{target} of the sender's copy, the C{sender} of
        the receiver's).
    @ivar target_type: L{SINGLE} (target is a username), L{GROUP} (a gid, as decimal text) or
        L{CHATROOM}.
    @ivar msg_type: one of L{MSG_TYPES}.
    @ivar body: the message body (JMessage's ``msg_body``), a parsed JSON object: a text's is
        C{{"text": ...}}. Never changed once built.
    @ivar extras: the sender's ``extras`` object as compact JSON text, or None.
    @ivar client_id: the sender's own id for the message, used to acknowledge a resend without
        delivering it twice; None when the client gave none.
    @ivar created: server time of acceptance, epoch milliseconds.
    @ivar from_type: L{FROM_USER} or L{FROM_ADMIN}.
    @ivar target_app: the target's app when it is not C{app} (the sender's copy of a cross-app
        message), else None.
    @ivar no_offline: not kept for recipients who are offline.
    @ivar no_notification: recipients' devices show no notification for it.
    @ivar retracted: taken back by its sender: gone from history and offline lists.
    """

    id: int
    app: str
    sender: str
    target_type: str
    target: str
    msg_type: str
    body: dict
    extras: Optional[str] = None
    client_id: Optional[str] = None
    created: int = 0
    from_type: str = FROM_USER
    target_app: Optional[str] = None
    no_offline: bool = False
    no_notification: bool = False
    retracted: bool = False


class Resent(NamedTuple):
    """What an append that stores a client id only once answers when its sender sent that
    client id to that target before (L{jim.interfaces.IMessageStore.add_message_once_then}):
    the first message with it. Nothing was stored."""

    message: Message


class Draft(NamedTuple):
    """A message as a front end asks the core to send it: the core adds its sender, app, id
    and time (the server decides who speaks, and when).

    @ivar target: a username, or a gid as decimal text.
    """

    target_type: str
    target: str
    msg_type: str
    body: dict
    extras: Optional[str] = None
    client_id: Optional[str] = None
    from_type: str = FROM_USER
    no_offline: bool = False
    no_notification: bool = False
    target_app: Optional[str] = None


# -- events --------------------------------------------------------------------------------------

GROUP_CREATED = "group_created"
MEMBERS_ADDED = "members_added"
MEMBERS_REMOVED = "members_removed"
MEMBER_LEFT = "member_left"
GROUP_UPDATED = "group_updated"
GROUP_DISSOLVED = "group_dissolved"
OWNER_TRANSFERRED = "owner_transferred"
MEMBER_SILENCED = "member_silenced"
FRIEND_ADDED = "friend_added"
FRIEND_REMOVED = "friend_removed"
FRIEND_UPDATED = "friend_updated"
BLACKLIST_CHANGED = "blacklist_changed"
NODISTURB_CHANGED = "nodisturb_changed"
USER_UPDATED = "user_updated"
USER_FORBIDDEN = "user_forbidden"
USER_DELETED = "user_deleted"
PASSWORD_CHANGED = "password_changed"
MESSAGE_RETRACTED = "message_retracted"
#: a user's first connection came up / its last went down (J-IM's cmd 9 and 10 per group)
USER_ONLINE = "user_online"
USER_OFFLINE = "user_offline"
#: a device of the user logged in again (or, with one device a user, another device did):
#: this connection is replaced (JMessage's 872008)
LOGGED_IN_ELSEWHERE = "logged_in_elsewhere"
EVENT_KINDS = (
    GROUP_CREATED, MEMBERS_ADDED, MEMBERS_REMOVED, MEMBER_LEFT, GROUP_UPDATED, GROUP_DISSOLVED,
    OWNER_TRANSFERRED, MEMBER_SILENCED, FRIEND_ADDED, FRIEND_REMOVED, FRIEND_UPDATED,
    BLACKLIST_CHANGED, NODISTURB_CHANGED, USER_UPDATED, USER_FORBIDDEN, USER_DELETED,
    PASSWORD_CHANGED,
    MESSAGE_RETRACTED, USER_ONLINE, USER_OFFLINE, LOGGED_IN_ELSEWHERE,
)
#: the kinds of event kept in their users' inboxes, so that a device offline when one happened
#: gets it at its next sync; the others (presence, and the reasons a connection is closed) only
#: mean something to the connections there are when they happen
INBOX_EVENT_KINDS = frozenset(EVENT_KINDS) - {
    USER_ONLINE, USER_OFFLINE, LOGGED_IN_ELSEWHERE, USER_FORBIDDEN, USER_DELETED,
    PASSWORD_CHANGED,
}


@attr.s(frozen=True, slots=True)
class UserCard:
    """What an event shows of a user: enough for a client to draw it without asking."""

    username = attr.ib(type=str)
    nickname = attr.ib(type=str, default="")
    avatar = attr.ib(type=str, default="")
    signature = attr.ib(type=str, default="")
    online = attr.ib(type=bool, default=False)
    #: the kind of connection it came online with ("tcp", "ws", ...), for presence events
    terminal = attr.ib(type=Optional[str], default=None)


@attr.s(frozen=True, slots=True)
class Event:
    """Something that happened, for the users it concerns (see L{EVENT_KINDS}).

    @ivar id: unique per app. An event kept in the inbox (C{kept}) has an id of the inbox's
        sequence, the one message ids come from, so that a device's cursor orders it among
        the messages; any other has a time-based id, increasing on each node and above every
        inbox id (see L{jim.core.events.Events}).
    @ivar actor: who did it: a username, or "" for the app server (REST).
    @ivar gid: the group it happened in, or None.
    @ivar users: the users it was done to (added, removed, befriended...), as cards.
    @ivar group_name: the group's name, for group events.
    @ivar new_owner: L{OWNER_TRANSFERRED} and a L{MEMBER_LEFT} owner: who owns it now.
    @ivar message_ids: L{MESSAGE_RETRACTED}: the messages taken back.
    @ivar flag: L{MEMBER_SILENCED}: True on, False off; L{BLACKLIST_CHANGED} and
        L{FRIEND_*}: True added, False removed.
    @ivar target_type, target: L{MESSAGE_RETRACTED}: the conversation of the messages.
    @ivar kept: it is in its users' inboxes (L{jim.interfaces.IEventStore}): a device that
        was offline gets it at its next sync, and its id counts in the device's cursor.
    """

    kind = attr.ib(type=str)
    app = attr.ib(type=str)
    id = attr.ib(type=int, default=0)
    actor = attr.ib(type=str, default="")
    gid = attr.ib(type=Optional[int], default=None)
    users = attr.ib(type=tuple, default=(), converter=tuple)
    created = attr.ib(type=int, default=0)
    group_name = attr.ib(type=str, default="")
    new_owner = attr.ib(type=str, default="")
    message_ids = attr.ib(type=tuple, default=(), converter=tuple)
    flag = attr.ib(type=Optional[bool], default=None)
    target_type = attr.ib(type=Optional[str], default=None)
    target = attr.ib(type=Optional[str], default=None)
    description = attr.ib(type=str, default="")
    kept = attr.ib(type=bool, default=False)


# -- what crosses the bus -----------------------------------------------------------------------


class Delivery(NamedTuple):
    """A message or an event for some users of one app, on whatever node they are connected.
    A NamedTuple, like L{Message}: one is made for every message.

    @ivar item: the L{Message} or L{Event}, or a run of messages (L{RUN}).
    @ivar recipients: usernames of C{app}, a tuple.
    @ivar exclude: the id of one connection that must not get it (the one that sent it).
    @ivar alias: the J-IM name of the group it concerns, when it has one (L{Group.alias}).
    """

    app: str
    item: object
    recipients: tuple
    exclude: Optional[str] = None
    alias: Optional[str] = None


#: The type of a L{Delivery}'s item that is a run of messages, not one L{Message} or L{Event}:
#: a plain tuple of two or more Messages of the delivery's app for the same recipients, one
#: run's in id order (L{jim.core.message_runs}: the chats of one read, from one sender to one
#: user), though a node may hand consecutive parts of several runs out as one
#: (L{jim.bus.redis}). Told apart by C{type(item) is RUN}, never isinstance: a Message, a
#: NamedTuple, is a tuple too.
RUN = tuple


@attr.s(frozen=True, slots=True)
class Kick:
    """Close every connection of a user (but C{keep}; only those of C{device}, a device key
    of L{jim.core.devices}, when it is set), telling it why with C{event}."""

    app = attr.ib(type=str)
    username = attr.ib(type=str)
    reason = attr.ib(type=str)
    event = attr.ib(type=Optional[Event], default=None)
    keep = attr.ib(type=Optional[str], default=None)
    device = attr.ib(type=Optional[str], default=None)


#: what an invalidation names: a cached user, a user's relations, a group (record and
#: members), an app, an app's sensitive words
USERS_AREA = "users"
RELATIONS_AREA = "relations"
GROUPS_AREA = "groups"
APPS_AREA = "apps"
WORDS_AREA = "words"  # an app's sensitive words (its key is the app's)
ROOMS_AREA = "rooms"  # a chat room's record and members (its key: the room id, as text)


#: every area an invalidation may name
INVALIDATION_AREAS = (USERS_AREA, RELATIONS_AREA, GROUPS_AREA, APPS_AREA, WORDS_AREA,
                      ROOMS_AREA)
#: a Kick's username that means every user of its app (no username is empty)
EVERY_USER = ""

#: an Invalidate's app that means every app (and every key) of its area
EVERY_APP = "\0"  # no app key can hold a NUL (a command line cannot)


@attr.s(frozen=True, slots=True)
class Invalidate:
    """Forget what is cached about C{key} of C{area} in C{app}: it changed on node C{origin}.
    With C{app} L{EVERY_APP}, forget everything cached of the area: the node may have missed
    changes (its bus was away; C{key} empty), or an app was deleted (C{key} is its key)."""

    area = attr.ib(type=str)
    app = attr.ib(type=str)
    key = attr.ib(type=str)
    origin = attr.ib(type=str, default="")


#: what a chat rate's usage names (L{jim.core.rates}): a user (C{app}, C{username}), a client
#: address (C{address}, "") or an app (C{app}, "")
RATE_KINDS = ("user", "address", "app")


@attr.s(frozen=True, slots=True)
class RateUsage:
    """The chats node C{origin} counted against chat rates since its last such report:
    C{entries}, a tuple of C{(kind, name, username, count)} (L{RATE_KINDS}; C{username} is ""
    but for a user). Every other node takes them off its own buckets, so that the rates hold
    for the cluster, not for each node."""

    origin = attr.ib(type=str)
    entries = attr.ib(type=tuple)


BUS_VALUES = (Delivery, Kick, Invalidate, RateUsage)


#: an hour, in epoch ms: the report area's figures are kept per hour (UTC)
REPORT_HOUR_MS = 3_600_000


def report_hour(ms):
    """The start of the hour (epoch ms, UTC) C{ms} is in."""
    return ms - ms % REPORT_HOUR_MS
