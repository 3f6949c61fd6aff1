# -*- test-case-name: tests.test_core_apps -*-
"""The Apps service: what a server administrator does to the apps one jim hosts (create,
list, change, rotate a master secret, delete), each app isolated from every other.

An app's key and master secret are 24 random letters and digits (what JMessage's clients
insist on); only the secret's hash is kept, so a new secret is shown once, when it is made. A
change holds on every node as soon as it is answered (the app is read again everywhere); a
deleted app's connections are closed on every node and everything of it is forgotten, with
what other apps keep of its users (relations, memberships of groups and chat rooms).
"""
import hmac
import secrets
import string
from urllib.parse import urlsplit

from twisted.logger import Logger

from jim import errors, model
from jim.core import secret_box
from jim.core.accounts import secret_hash
from jim.core.steps import run_each
from jim.core.users import NAME_BYTES, check_text
from jim.errors import JimError
from jim.model import App, Kick

_ALPHANUMERIC = string.ascii_letters + string.digits
#: what an administrator may change of an app (its key never changes; its secret by rotation)
SETTINGS = ("name", "friend_mode", "word_filter", "sdk_register", "callback_url",
            "cross_apps", "rest_rate")
#: the longest callback URL
URL_BYTES = 2048
#: the most apps one app may list in its C{cross_apps}
CROSS_APPS = 100
#: the highest REST rate an app may be given (calls a minute; JMessage's paid plans: 200,000)
MAX_REST_RATE = 10_000_000


def generate_key(length=24):
    """24 random characters of [A-Za-z0-9], the form JMessage's clients insist on."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def admin_secret_matches(expected, given):
    """Is C{given} the administrator's secret? In constant time."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def _check_key(key):
    if type(key) is not str or len(key) != 24 or not (key.isascii() and key.isalnum()):
        raise JimError(errors.BAD_REQUEST, "an appKey is 24 letters and digits")
    return key


def check_settings(changes):
    """The settings of a create or an update, checked: a dict of L{SETTINGS}."""
    out = {}
    for field, value in changes.items():
        if field not in SETTINGS:
            raise JimError(errors.BAD_REQUEST, f"an app has no setting {field!r}; settings:"
                           f" {', '.join(SETTINGS)}")
        if field == "name":
            out[field] = check_text("name", value, NAME_BYTES, single_line=True)
        elif field == "sdk_register":
            if value is not None and type(value) is not bool:
                raise JimError(errors.BAD_REQUEST, "sdk_register is true, false or null")
            out[field] = value
        elif field == "callback_url":
            out[field] = _check_url(value)
        elif field == "cross_apps":
            out[field] = _check_cross_apps(value)
        elif field == "rest_rate":
            if value is not None and (type(value) is not int
                                      or not 0 <= value <= MAX_REST_RATE):
                raise JimError(errors.BAD_REQUEST, f"rest_rate is null (the server's) or 0 to"
                               f" {MAX_REST_RATE} calls a minute (0: no limit)")
            out[field] = value
        else:
            if type(value) is not bool:
                raise JimError(errors.BAD_REQUEST, f"{field} is true or false")
            out[field] = value
    return out


def _check_cross_apps(value):
    if (type(value) is not list or len(value) > CROSS_APPS
            or any(type(key) is not str or not key for key in value)):
        raise JimError(errors.BAD_REQUEST, f"cross_apps is a list of at most {CROSS_APPS} app"
                       " keys")
    return tuple(sorted(set(value)))


def _check_url(value):
    if value is None or value == "":
        return None
    if (type(value) is not str or not value.isascii() or len(value) > URL_BYTES
            or any(c.isspace() or not c.isprintable() for c in value)
            or urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname):
        raise JimError(errors.BAD_REQUEST, f"callback_url is an http:// or https:// URL with"
                       f" a host, ASCII, of at most {URL_BYTES} bytes, or null")
    return value


class Apps:
    log = Logger()

    def __init__(self, store, accounts, bus, clock, box_key=None):
        self.store = store  # the whole IStore: deleting an app forgets it in every area
        self.accounts = accounts
        self.bus = bus
        self.clock = clock
        self.box_key = box_key  # seals master secrets (L{jim.core.secret_box}); None: not kept
        self._deleting = set()  # keys of the apps this node is deleting now
        #: async (deleted app's key, [every other app's key]) -> None: what the other apps keep
        #: of the deleted app's users goes (their memberships of groups and chat rooms);
        #: L{jim.core.core.build_core} sets them
        self.on_delete = []

    async def create(self, settings, key=None):
        """A new app: C{(App, its master secret)}, the secret shown only now. C{key}: the
        appKey to give it (24 letters and digits), or None for a random one."""
        settings = check_settings(settings)
        key = generate_key() if key is None else _check_key(key)
        if key in self._deleting:
            raise JimError(errors.APP_EXISTS, f"app {key!r} is being deleted: try again once"
                           " that is done")
        await self._check_cross_apps(key, settings)
        secret = generate_key()
        app = App(key, secret_hash(secret), created=int(self.clock.seconds() * 1000),
                  secret_box=self._sealed(key, secret), **settings)
        await self.store.apps.add_app(app)
        self.log.info("app {app} created ({name!r})", app=key, name=app.name)
        return app, secret

    def _sealed(self, key, secret):
        return None if self.box_key is None else secret_box.seal(self.box_key, key, secret)

    async def get(self, key):
        app = await self.accounts.app(key)
        if app is None:
            raise JimError(errors.NO_SUCH_APP, f"no app {key!r}")
        return app

    async def list(self, start, count):
        return await self.store.apps.list_apps(start, count)

    async def update(self, key, changes):
        """Change an app's settings; the App after."""
        changes = check_settings(changes)
        if not changes:
            raise JimError(errors.BAD_REQUEST, f"change one of {', '.join(SETTINGS)}")
        await self.get(key)
        await self._check_cross_apps(key, changes)
        return await self.accounts.update_app(key, changes)

    async def _check_cross_apps(self, key, settings):
        """Refuse C{cross_apps} that list the app itself or an app this server does not host.
        (An app deleted later stays listed, and allows nothing: chat needs both apps.)"""
        for other in settings.get("cross_apps", ()):
            if other == key:
                raise JimError(errors.BAD_REQUEST, f"cross_apps lists the app itself ({key!r})")
            if await self.accounts.app(other) is None:
                raise JimError(errors.BAD_REQUEST, f"cross_apps lists {other!r}, which is no"
                               " app of this server")

    async def rotate_secret(self, key):
        """A new master secret for the app (the old one stops working everywhere at once):
        C{(App, the new secret)}."""
        self._not_the_default(key, "given a new secret")
        await self.get(key)
        secret = generate_key()
        app = await self.accounts.update_app(key, {"secret_hash": secret_hash(secret),
                                                   "secret_box": self._sealed(key, secret)})
        self.log.info("app {app}: master secret rotated", app=key)
        return app, secret

    async def delete(self, key):
        """Delete an app. Its record goes first, and every node forgets it: from then on
        nothing can log in to it nor use its credentials. Then its connections are closed on
        every node, everything of it is forgotten, and every node forgets what it holds of
        every app (so that nothing of it outlives it in memory, even under a key given again);
        the store forgets it once more, for what was in flight when it stopped.

        Its users leave the other apps' groups and chat rooms (L{on_delete}), whose members
        are told. Every step runs even after one of those failed; each failure is logged,
        and then one JimError(SERVER_ERROR) says that the app is deleted but not all of that
        was done."""
        self._not_the_default(key, "deleted")
        await self.get(key)
        self._deleting.add(key)
        try:
            await self.store.apps.delete_app(key)
            self.bus.publish(model.Invalidate(model.APPS_AREA, key, key, ""))
            await self.bus.flushed()
            self.bus.publish(Kick(key, model.EVERY_USER, "app deleted"))
            await self.store.forget_app(key)
            await self._forget_entries_about(key)
            failed = await self._leave_other_apps(key)
            for area in model.INVALIDATION_AREAS:
                # every key of every app, because this app was deleted (the key says which:
                # connections are the kick's, not a check of every user's)
                self.bus.publish(model.Invalidate(area, model.EVERY_APP, key, ""))
            await self.bus.flushed()
            await self.store.forget_app(key)
        finally:
            self._deleting.discard(key)
        if failed:
            raise JimError(errors.SERVER_ERROR, f"app {key!r} is deleted, but its users stay in"
                           " some groups or chat rooms of other apps (see the server log)")
        self.log.info("app {app} deleted", app=key)

    async def _leave_other_apps(self, key):
        """Run every step of L{on_delete}; how many failed (each logged)."""
        others = [other for other in await self.accounts.every_app_key() if other != key]
        return await run_each(self.on_delete, (key, others), self.log,
                              "after app {app} was deleted, {step} failed", app=key)

    async def _forget_entries_about(self, key):
        """Forget what the users of every other app keep about the deleted app's users (cross-app
        friendships, blacklists, no-disturb): an app made later under the same key starts
        with none of them. (The caches are flushed after, on every node.)"""
        relations = self.store.relations
        for other in await self.accounts.every_app_key():
            if other == key:
                continue
            for target in await relations.targets_with_prefix(other, model.qualified(key, "")):
                await relations.remove_targeting(other, model.USER_RELATIONS, target)

    def _not_the_default(self, key, what):
        """The default app is the server's (its credentials are in its data directory or
        options, checked at every start): it cannot be deleted or given a new secret here."""
        if key == self.accounts.default_app:
            raise JimError(errors.NOT_ALLOWED, f"the default app cannot be {what}: it is the"
                           " server's (--app-key and --master-secret, or the data directory)")
