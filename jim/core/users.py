# -*- test-case-name: tests.test_core_users -*-
"""The Users service: registration, profiles, passwords, the forbidden flag, admins.

It owns the users area of the store and the cache of users the hot path reads (is the target
of a chat a user? is its sender forbidden?). A change made here is in the cache at once, other
nodes are told to forget theirs (an L{Invalidate} on the bus), and a forbidden user, or one
whose password changed, is disconnected everywhere with the matching event (a L{Kick}).
"""
import datetime
import re

import attr
import orjson
from twisted.logger import Logger

from jim import errors, model
from jim.core.cache import Bounded, SharedLoads
from jim.core.events import card
from jim.core.passwords import salt_of
from jim.core.steps import run_each
from jim.errors import JimError
from jim.model import Invalidate, Kick, User

#: byte limits of the profile's text fields (JMessage's, reference section 5)
NAME_BYTES = 64
TEXT_BYTES = 250
EXTRAS_BYTES = 512
PASSWORD_BYTES = (4, 128)
_BIRTHDAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?")


def _bytes(value):
    return len(value.encode("utf-8"))


def check_text(field, value, limit, single_line=False):
    if type(value) is not str:
        raise JimError(errors.BAD_REQUEST, f"{field} must be a string")
    if _bytes(value) > limit:
        raise JimError(errors.BAD_REQUEST, f"{field} is longer than {limit} bytes")
    if single_line and ("\n" in value or "\r" in value):
        raise JimError(errors.BAD_REQUEST, f"{field} may not contain line breaks")
    return value


def check_name(value, what):
    """The name of a group or a chat room (C{what}), as given: one line of 1 to
    L{NAME_BYTES} bytes."""
    name = check_text("name", value, NAME_BYTES, single_line=True)
    if not name:
        raise JimError(errors.BAD_REQUEST, f"a {what}'s name may not be empty")
    return name


def named_once(usernames, what):
    """The users a membership call names (members of a C{what}), once each, in order;
    JimError(BAD_REQUEST) for none."""
    names = list(dict.fromkeys(usernames))
    if not names:
        raise JimError(errors.BAD_REQUEST, f"name at least one {what}")
    return names


def check_profile(changes):
    """The profile fields of C{changes} (a dict from a front end), checked and normalised:
    JimError(BAD_REQUEST) naming the first field that breaks its rule."""
    out = {}
    for field, value in changes.items():
        if field not in model.PROFILE_FIELDS:
            raise JimError(errors.BAD_REQUEST, f"{field} is not a profile field")
        if field == "nickname":
            out[field] = check_text(field, value, NAME_BYTES, single_line=True)
        elif field == "gender":
            if type(value) is not int or value not in (0, 1, 2):
                raise JimError(errors.BAD_REQUEST, "gender must be 0, 1 or 2")
            out[field] = value
        elif field == "birthday":
            out[field] = _birthday(value)
        elif field == "extras":
            out[field] = _extras(value)
        else:
            out[field] = check_text(field, value, TEXT_BYTES)
    return out


def _birthday(value):
    """JMessage's birthday: C{yyyy-MM-dd} in (C{yyyy-MM-dd HH:mm:ss} is taken too: it is how
    the date comes back out), kept as C{yyyy-MM-dd}; "" for none."""
    if value is None or value == "":
        return ""
    if type(value) is not str or not _BIRTHDAY.fullmatch(value):
        raise JimError(errors.BAD_REQUEST, "birthday must be a yyyy-MM-dd date")
    try:
        if len(value) > 10:
            datetime.time.fromisoformat(value[11:])
        return datetime.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise JimError(errors.BAD_REQUEST, f"birthday {value!r} is no date") from None


def _extras(value):
    if value is None:
        return None
    if type(value) is not dict:
        raise JimError(errors.BAD_REQUEST, "extras must be a JSON object")
    try:
        text = orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        raise JimError(errors.BAD_REQUEST, "extras cannot be stored as JSON") from None
    if _bytes(text) > EXTRAS_BYTES:
        raise JimError(errors.BAD_REQUEST, f"extras are longer than {EXTRAS_BYTES} bytes")
    return text


def check_password(password):
    if type(password) is not str:
        raise JimError(errors.BAD_REQUEST, "password must be a string")
    low, high = PASSWORD_BYTES
    if not low <= _bytes(password) <= high:
        raise JimError(errors.BAD_REQUEST, f"password must be {low} to {high} bytes")
    return password


class Users:
    log = Logger()

    def __init__(self, store, passwords, presence, events, bus, cache_size=100_000):
        self.store = store
        self.passwords = passwords
        self.presence = presence
        self.events = events
        self.bus = bus
        #: (app, username) -> User: what memory holds. The hot path reads it directly (a call
        #: saved per message); only this service writes it.
        self.known = self._cache = Bounded(cache_size)
        self._loads = SharedLoads()
        # entries changed or dropped so far: a read that a change overtook is not kept
        self._changes = 0
        #: async (app, username) -> [usernames] told of a profile change besides the user;
        #: L{jim.core.core.build_core} sets it (the Relations service is made after this one)
        self.watchers = None
        #: async (app, username) -> None, run before a user is deleted (memberships, relations)
        self.on_delete = []

    # -- reading -----------------------------------------------------------------------------

    def cached(self, app, username):
        """The User if it is in memory (the hot path asks this), else None."""
        return self._cache.get((app, username))

    async def find(self, app, username):
        """The User or None."""
        user = self._cache.get((app, username))
        if user is None:
            user = await self._loads.load((app, username, self._changes),
                                          lambda: self._read(app, username))
        return user

    async def _read(self, app, username):
        changes = self._changes
        user = await self.store.get_user(app, username)
        if user is not None and changes == self._changes:
            self._cache[(app, username)] = user
        return user

    async def get(self, app, username):
        user = await self.find(app, username)
        if user is None:
            raise JimError(errors.NO_SUCH_USER, f"no user {username!r}")
        return user

    async def get_many(self, app, usernames):
        """{username: User} of those of C{usernames} that exist."""
        found = {}
        missing = []
        for name in dict.fromkeys(usernames):
            user = self._cache.get((app, name))
            if user is None:
                missing.append(name)
            else:
                found[name] = user
        if missing:
            for user in await self.store.get_users(app, missing):
                found[user.username] = user
        return found

    async def require_all(self, app, usernames):
        """{username: User} of every one of C{usernames}; JimError(NO_SUCH_USER) naming those
        that do not exist."""
        found = await self.get_many(app, usernames)
        missing = [name for name in dict.fromkeys(usernames) if name not in found]
        if missing:
            raise JimError(errors.NO_SUCH_USER, f"no such user: {', '.join(missing[:20])}")
        return found

    async def list(self, app, start, count, admin=False):
        return await self.store.list_users(app, start, count, admin)

    def online(self, app, username):
        return self.presence.is_online(app, username)

    # -- changing ------------------------------------------------------------------------------

    async def register(self, app, username, password, profile=None, admin=False, hashed=None,
                       bulk=False):
        """Create a user (an admin with C{admin}); C{hashed}: its password hash, made already;
        C{bulk}: one of a batch, whose hash waits behind logins rather than being refused."""
        if model.QUALIFIER in username:  # it names another app's user (jim.core.cross_apps)
            raise JimError(errors.BAD_REQUEST, f"a username may not hold"
                           f" {model.QUALIFIER!r}")
        profile = check_profile(profile or {})
        if hashed is None:
            check_password(password)
            if await self.find(app, username) is not None:  # no hash for a name that is taken
                raise JimError(errors.USER_EXISTS, f"user {username!r} exists")
            if bulk:
                hashed = await self.passwords.hash_in_bulk(password)
            else:
                hashed = await self.passwords.hash(password)
        now = self.events.now_ms()
        user = User(app, username, hashed, ctime=now, mtime=now, admin=admin, **profile)
        await self.store.add_user(user)
        self._changed(user)
        self.log.info("registered {kind} {user} in app {app}",
                      kind="admin" if admin else "user", user=username, app=app)
        return user

    async def update(self, app, username, changes):
        """Change profile fields; tells the user's connections and its watchers."""
        changes = check_profile(changes)
        if not changes:
            raise JimError(errors.BAD_REQUEST, "name the profile fields to change")
        await self.get(app, username)
        changes["mtime"] = self.events.now_ms()
        user = await self.store.update_user(app, username, changes)
        self._changed(user)
        audience = [username] + await self.watchers(app, username)
        await self.events.send(self.events.make(model.USER_UPDATED, app, actor=username,
                                                users=[card(user)]), audience)
        return user

    async def set_password(self, app, username, password):
        """Replace a password; every connection of the user is closed, told why, and
        reconnect tokens issued before stop working."""
        check_password(password)
        await self.get(app, username)
        hashed = await self.passwords.hash(password)
        user = await self.store.update_user(app, username, {"password": hashed})
        self._changed(user)
        event = self.events.make(model.PASSWORD_CHANGED, app, users=[card(user)])
        self.bus.publish(Kick(app, username, "password changed", event))
        self.log.info("password of {user} in app {app} changed", user=username, app=app)
        return user

    async def rehash(self, user, password):
        """Store a hash of C{password} at today's cost, with the same salt, in place of
        C{user}'s weaker one (a login just checked C{password} against it): no checks, nobody
        disconnected, every reconnect token still good. Only if that hash is still the user's:
        a password changed meanwhile stays changed. The user with its stronger hash, or None
        when it was not replaced."""
        hashed = await self.passwords.hash(password, salt_of(user.password))
        if await self.store.replace_password(user.app, user.username, user.password, hashed):
            stronger = attr.evolve(user, password=hashed)
            self._changed(stronger)
            return stronger
        self._changes += 1  # the user changed meanwhile: what memory holds is read again
        self._cache.pop((user.app, user.username), None)
        return None

    async def forbid(self, app, username, forbidden):
        """Set the forbidden flag; a forbidden user is disconnected and may not log in."""
        user = await self.get(app, username)
        if user.forbidden != forbidden:
            user = await self.store.update_user(app, username, {"forbidden": forbidden})
            self._changed(user)
        if forbidden:
            event = self.events.make(model.USER_FORBIDDEN, app, users=[card(user)])
            self.bus.publish(Kick(app, username, "forbidden", event))
        self.log.info("{user} of app {app} {state}", user=username, app=app,
                      state="forbidden" if forbidden else "allowed")
        return user

    async def delete(self, app, username):
        """Delete a user: it is gone at once (no login finds it, no message reaches it), then
        its connections are told and closed, then its memberships and relations go. (Its
        messages stay in their conversations; a user registered later under the same name
        does not see them: see L{jim.core.messages.Messages.history}.)

        Every cleanup step of L{on_delete} runs, even after one failed. The user stays
        deleted; each failure is logged, and then one JimError(SERVER_ERROR) says the
        cleanup is incomplete."""
        user = await self.get(app, username)
        await self.store.delete_user(app, username)
        self._changes += 1
        self._cache.pop((app, username), None)
        self.bus.publish(Invalidate(model.USERS_AREA, app, username, self.bus.node))
        event = self.events.make(model.USER_DELETED, app, users=[card(user)])
        self.bus.publish(Kick(app, username, "user deleted", event))
        failed = await run_each(self.on_delete, (app, username), self.log,
                                "cleaning up after user {user} of app {app} failed in {step}",
                                user=username, app=app)
        if failed:
            raise JimError(errors.SERVER_ERROR, f"user {username!r} is deleted, but {failed} of"
                           f" {len(self.on_delete)} cleanup steps failed (see the server log)")
        self.log.info("deleted user {user} of app {app}", user=username, app=app)

    def _changed(self, user):
        self._changes += 1
        self._cache[(user.app, user.username)] = user
        self.bus.publish(Invalidate(model.USERS_AREA, user.app, user.username, self.bus.node))

    def on_bus(self, value):
        """Forget what another node changed."""
        if type(value) is Invalidate and value.area == model.USERS_AREA \
                and value.origin != self.bus.node:
            self._changes += 1
            if value.app == model.EVERY_APP:
                self._cache.clear()
            else:
                self._cache.pop((value.app, value.key), None)
