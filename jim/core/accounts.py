"""Apps and logins: which app a client belongs to, and who it is.

A login names a user and proves it with a password (scrypt, on threads) or a reconnect token
(HMAC, no hashing). An unknown user is registered by its first login only when open
registration is on. Failures never say whether the user exists.
"""
import hashlib
import hmac

from twisted.logger import Logger

from jim import errors
from jim.errors import JimError
from jim.model import User
from jim.wire import status



def secret_hash(secret):
    """How an app's master secret is kept: hex SHA-256 (the secret itself is random)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(app, secret):
    """Constant-time check of a master secret against an app."""
    return hmac.compare_digest(secret_hash(secret), app.secret_hash)


def _login_failed(detail):
    return JimError(status.LOGIN_FAILED, detail, http_status=401, close=True)


class Accounts:
    log = Logger()

    def __init__(self, store, passwords, tokens, clock, default_app, open_registration):
        self.store = store
        self.passwords = passwords
        self.tokens = tokens
        self.clock = clock
        self.default_app = default_app
        self.open_registration = open_registration
        self._apps = {}
        # verified against when the user does not exist, at the configured cost, so an unknown
        # username takes as long to refuse as a wrong password
        n, r, p = passwords.cost
        self._no_such_user = f"scrypt${n}${r}${p}${'A' * 22}==${'A' * 43}="

    async def app(self, key):
        """The App with this key (cached), or None."""
        app = self._apps.get(key)
        if app is None:
            app = await self.store.get_app(key)
            if app is not None:
                self._apps[key] = app
        return app

    async def check_app_secret(self, key, secret):
        """The App if C{secret} is its master secret; JimError 899008/899009 otherwise."""
        app = await self.app(key)
        if app is None:
            raise JimError(errors.NO_SUCH_APP, "Appkey not exit", http_status=401)
        if not secret_matches(app, secret):
            raise JimError(errors.BASIC_AUTH_FAILED, "Basic authentication failed", 401)
        return app

    async def login(self, request):
        """Authenticate a J-IM login request; returns (app key, User).

        Raises JimError(10008, close=True) for every refusal.
        """
        app_key = request.app_key or self.default_app
        if await self.app(app_key) is None:
            raise _login_failed(f"unknown appKey {app_key!r}")
        if request.token:
            return app_key, await self._token_login(app_key, request)
        if not request.user_id or request.password is None:
            raise _login_failed("userId and password (or token) are required")
        user = await self.store.get_user(app_key, request.user_id)
        if user is None:
            if self.open_registration:
                return app_key, await self._register(app_key, request)
            await self.passwords.verify(request.password, self._no_such_user)
            raise _login_failed("wrong userId or password")
        if not await self.passwords.verify(request.password, user.password):
            raise _login_failed("wrong userId or password")
        if self.passwords.needs_rehash(user.password):
            new = await self.passwords.hash(request.password)
            await self.store.set_password(app_key, user.username, new)
        return app_key, user

    async def _token_login(self, app_key, request):
        claim = self.tokens.check(request.token, self.clock.seconds())
        if claim is None or claim[0] != app_key:
            raise _login_failed("invalid or expired token")
        if request.user_id and request.user_id != claim[1]:
            raise _login_failed("token belongs to another user")
        user = await self.store.get_user(app_key, claim[1])
        if user is None:
            raise _login_failed("invalid or expired token")
        return user

    async def _register(self, app_key, request):
        if len(request.password) < 1:
            raise _login_failed("a password is required to register")
        hashed = await self.passwords.hash(request.password)
        user = User(
            app_key,
            request.user_id,
            hashed,
            nickname=request.user_id,
            created=int(self.clock.seconds() * 1000),
        )
        try:
            await self.store.add_user(user)
        except JimError as e:
            if e.code != errors.USER_EXISTS:
                raise
            # registered by a concurrent login: check the password against that one
            user = await self.store.get_user(app_key, request.user_id)
            if not await self.passwords.verify(request.password, user.password):
                raise _login_failed("wrong userId or password") from None
            return user
        self.log.info(
            "registered {user} in app {app} at first login", user=request.user_id, app=app_key
        )
        return user

    def token_for(self, app_key, username):
        return self.tokens.issue(app_key, username, self.clock.seconds())
