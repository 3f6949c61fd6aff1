# -*- test-case-name: tests.test_core_accounts -*-
"""Apps and logins: which app a client belongs to, and who it is.

A login names a user and proves it with a password (scrypt, on threads) or a reconnect token
(HMAC, no hashing). An unknown user is registered by its first login only when open
registration is on. Failures never say whether the user exists; a forbidden user may not log
in, and a token stops working when its user's password changes.

Failed password logins are counted per account and per client address
(L{jim.core.login_throttle}): past a limit a login waits before its password is checked,
then is refused (RATE_LIMITED) without hashing. Token logins are never throttled: they cost
no hash, and a locked account's users who hold a token still get in.
"""
import collections
import hashlib
import hmac

from twisted.internet import defer, task
from twisted.logger import Logger

from jim import errors, model
from jim.core.login_throttle import LoginThrottle
from jim.core.passwords import salt_of
from jim.core.users import check_profile
from jim.errors import JimError
from jim.model import Invalidate


def secret_hash(secret):
    """How an app's master secret is kept: hex SHA-256 (the secret itself is random)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(app, secret):
    """Constant-time check of a master secret against an app."""
    return hmac.compare_digest(secret_hash(secret), app.secret_hash)


#: what a secret given with an unknown appKey is compared against, so that refusing it costs
#: what refusing a known app's wrong secret does (no secret hashes to this)
_NO_SUCH_APP_HASH = "0" * 64


def password_stamp(user):
    """What a reconnect token keeps of the password it was earned with: a digest of the
    password hash's salt. A new password has a new salt, so every token issued before it
    fails; a stronger hash of the same password keeps the salt (L{Users.rehash}), and tokens."""
    salt = salt_of(user.password)
    seed = user.password.encode("utf-8") if salt is None else salt
    return hashlib.sha256(seed).hexdigest()[:16]


def _first_profile(username):
    """The profile of a user registered by its first login: its username as its nickname,
    when a nickname may be that (a J-IM userId may have 128 bytes, a nickname only 64)."""
    try:
        return check_profile({"nickname": username})
    except JimError:
        return {}


def _login_failed(detail):
    return JimError(errors.AUTH_FAILED, detail)


class Accounts:
    log = Logger()

    def __init__(self, store, users, passwords, tokens, clock, default_app, open_registration,
                 throttle=None, bus=None):
        self.store = store  # the apps area
        self.users = users
        self.bus = bus  # tells the other nodes of a changed app (None: there are none)
        self.passwords = passwords
        self.tokens = tokens
        self.clock = clock
        self.default_app = default_app
        self.open_registration = open_registration
        #: failed password logins (per node); the default counts but never slows anyone
        self.throttle = throttle if throttle is not None else LoginThrottle(0, 0, 1.0, 1.0)
        #: key -> App: the apps memory holds; the hot path reads it directly
        self.known = self._apps = {}
        self._changes = 0  # invalidations so far: a read older than one is not kept
        self._turns = {}  # throttle key -> Deferreds of logins waiting for one of its checks
        # verified against when the user does not exist, at the configured cost, so an unknown
        # username takes as long to refuse as a wrong password
        n, r, p = passwords.cost
        self._no_such_user = f"scrypt${n}${r}${p}${'A' * 22}==${'A' * 43}="

    async def app(self, key):
        """The App with this key (cached), or None."""
        app = self._apps.get(key)
        if app is None:
            changes = self._changes
            app = await self.store.get_app(key)
            # kept unless a change came meanwhile: the read may be older than it
            if app is not None and changes == self._changes:
                self._apps[key] = app
        return app

    async def update_app(self, key, changes):
        """Change an app's settings (see L{jim.interfaces.IAppStore.update_app}): every node
        reads it again. The App after the change."""
        app = await self.store.update_app(key, changes)
        self._changes += 1  # a read of the app begun before this one is not kept over it
        self._apps[key] = app
        if self.bus is not None:
            self.bus.publish(Invalidate(model.APPS_AREA, key, key, self.bus.node))
        self.log.info("app {app} changed: {changes}", app=key, changes=sorted(changes))
        return app

    def registers(self, app):
        """Does a password login of an unknown user register it in C{app} (its SDK
        self-registration switch, or the server's C{--open-registration})?"""
        return self.open_registration if app.sdk_register is None else app.sdk_register

    def on_bus(self, value):
        """Forget an app another node changed (its secret, its friend mode): the next call
        reads it again."""
        if value.area == model.APPS_AREA and (self.bus is None
                                              or value.origin != self.bus.node):
            self._changes += 1
            if value.app == model.EVERY_APP:
                self._apps.clear()
            else:
                self._apps.pop(value.key, None)

    async def every_app_key(self):
        """The key of every app this server hosts (read a page at a time; not a hot path)."""
        keys, start = [], 0
        while True:
            total, page = await self.store.list_apps(start, 500)
            keys += [app.key for app in page]
            start += len(page)
            if not page or start >= total:
                return keys

    async def check_app_secret(self, key, secret):
        """The App if C{secret} is its master secret; else JimError AUTH_FAILED, the same for
        an unknown appKey as for a wrong secret (which app keys exist is not told), after the
        same constant-time comparison."""
        app = await self.app(key)
        expected = _NO_SUCH_APP_HASH if app is None else app.secret_hash
        if not hmac.compare_digest(secret_hash(secret), expected) or app is None:
            raise JimError(errors.AUTH_FAILED, "Basic authentication failed")
        return app

    async def login(self, app_key, username, password=None, token=None, address=None):
        """Authenticate a login from client C{address} (its IP, see
        L{jim.core.login_throttle.address_key}; None: not counted per address); returns
        (app key, User). JimError(AUTH_FAILED) for every refusal but a forbidden user's
        (USER_FORBIDDEN), a busy server's (BUSY) and a throttled one's (RATE_LIMITED)."""
        app_key = app_key or self.default_app
        if not token:
            if not username or password is None:
                raise _login_failed("userId and password (or token) are required")
            user = await self._throttled(app_key, username, password, address)
        elif await self.app(app_key) is None:
            await self._unknown_app_login(username, password, token)
        else:
            user = await self._token_login(app_key, username, token)
        # A forbid, a new password or a deletion (of the user, or of its app) may have landed
        # while the password was checked (on a thread): what counts is the user and its app
        # as they are now. The caller binds the connection before it awaits anything else, so
        # a kick from now on reaches it (an app's deletion forgets its record everywhere
        # before it closes its connections). Password stamps are compared, not hashes:
        # another login may have stored a stronger hash of the same password meanwhile, which
        # keeps its salt (L{password_stamp}).
        current = await self.users.find(app_key, user.username)
        if current is None or password_stamp(current) != password_stamp(user) \
                or await self.app(app_key) is None:
            raise _login_failed("wrong userId or password" if not token
                                else "invalid or expired token")
        if current.forbidden:
            raise JimError(errors.USER_FORBIDDEN, f"{current.username!r} is forbidden")
        return app_key, current

    async def _throttled(self, app_key, username, password, address):
        """A password login, waited for or refused as its account's and its address's failed
        logins say; a wrong password counts against both, a right one clears the account. It
        first waits its turn while as many checks of its account, or of its address, are in
        progress as either's limit (L{jim.core.login_throttle})."""
        throttle = self.throttle
        keys = throttle.keys(app_key, username, address)
        since = self.clock.seconds()
        waited = False  # (a login that took a turn passes it on if it does not use it)
        while True:
            full = throttle.may_check(app_key, username, address)
            if full is None:
                break
            turn = defer.Deferred()
            self._turns.setdefault(full, collections.deque()).append(turn)
            await turn
            waited = True
            if self.clock.seconds() - since > self.passwords.max_wait:
                # as long as the hashing queue lets a login wait: refused as it refuses one
                self._next_turn(keys)
                raise JimError(errors.BUSY, "too many logins in progress; retry shortly")
        verdict = throttle.verdict(app_key, username, address, self.clock.seconds())
        if verdict.refused:
            if waited:  # its turn goes to the next login waiting, refused as well
                self._next_turn(keys)
            raise JimError(errors.RATE_LIMITED,
                           f"too many failed logins; retry in {max(1, round(verdict.locked_for))} s")
        throttle.checking(app_key, username, address)
        try:
            if verdict.delay:
                await task.deferLater(self.clock, verdict.delay)
            return await self._checked(app_key, username, password, address)
        finally:
            throttle.checked(app_key, username, address)
            self._next_turn(keys)  # each has room for one more check now

    def _next_turn(self, keys):
        """Let the first login waiting on each of C{keys} try again."""
        for key in keys:
            waiting = self._turns.get(key)
            if waiting:
                turn = waiting.popleft()
                if not waiting:
                    del self._turns[key]
                turn.callback(None)

    async def _checked(self, app_key, username, password, address):
        throttle = self.throttle
        try:
            if await self.app(app_key) is None:
                # refused as a known app refuses a stranger, and as slowly: which app keys
                # exist is not told
                await self.passwords.verify(password, self._no_such_user, address)
                raise _login_failed("wrong userId or password")
            user = await self._password_login(app_key, username, password, address)
        except JimError as e:
            if e.code == errors.AUTH_FAILED:
                for kind, key, change in throttle.failed(app_key, username, address,
                                                         self.clock.seconds()):
                    self.log.warn("failed logins: {kind} {key} {change}", kind=kind, key=key,
                                  change=change)
            raise
        throttle.succeeded(app_key, username, address, self.clock.seconds())
        return user

    async def _unknown_app_login(self, username, password, token):
        self.check_token(token)  # a token of no app: checked all the same, then refused
        raise _login_failed("invalid or expired token")

    async def _password_login(self, app_key, username, password, address=None):
        user = await self.users.find(app_key, username)
        if user is None:
            app = await self.app(app_key)
            if app is not None and self.registers(app):
                return await self._register(app_key, username, password, address)
            await self.passwords.verify(password, self._no_such_user, address)
            raise _login_failed("wrong userId or password")
        if not await self.passwords.verify(password, user.password, address):
            raise _login_failed("wrong userId or password")
        if self.passwords.needs_rehash(user.password):
            user = await self.users.rehash(user, password) or user
        return user

    async def _token_login(self, app_key, username, token):
        claim = self.check_token(token)
        if claim is None or claim[0] != app_key:
            raise _login_failed("invalid or expired token")
        if username and username != claim[1]:
            raise _login_failed("token belongs to another user")
        user = await self.users.find(app_key, claim[1])
        if user is None or not self.token_is_current(user, claim):
            raise _login_failed("invalid or expired token")
        return user

    async def _register(self, app_key, username, password, address=None):
        if len(password) < 1:
            raise _login_failed("a password is required to register")
        hashed = await self.passwords.hash(password, source=address)
        try:
            user = await self.users.register(app_key, username, None, _first_profile(username),
                                             hashed=hashed)
        except JimError as e:
            if e.code != errors.USER_EXISTS:
                raise
            # registered by a concurrent login: check the password against that one
            user = await self.users.get(app_key, username)
            if not await self.passwords.verify(password, user.password, address):
                raise _login_failed("wrong userId or password") from None
            return user
        self.log.info("registered {user} in app {app} at first login", user=username,
                      app=app_key)
        return user

    def token_for(self, user):
        """A reconnect token for a logged-in user."""
        return self.tokens.issue(user.app, user.username, password_stamp(user),
                                 self.clock.seconds())

    def token_is_current(self, user, claim):
        """Whether a token's claim (L{check_token}) was earned with C{user}'s password."""
        return hmac.compare_digest(password_stamp(user), claim[2])

    def check_token(self, token):
        """(app, username, password stamp) of an authentic, unexpired token, else None."""
        return self.tokens.check(token, self.clock.seconds())

    async def token_user(self, token):
        """C{(app, User)} of a reconnect token, the user as it is now: JimError(AUTH_FAILED)
        for a token that is not authentic or has expired, or whose app or user is gone,
        whose user is forbidden, or whose password has changed since it was issued."""
        claim = self.check_token(token) if token else None
        user = None
        if claim is not None and await self.app(claim[0]) is not None:
            user = await self.users.find(claim[0], claim[1])
        if user is None or not self.token_is_current(user, claim) or user.forbidden:
            raise JimError(errors.AUTH_FAILED, "invalid or expired token")
        return claim[0], user
