# -*- test-case-name: tests.test_core_web_sdk -*-
"""The Web SDK's signed configuration (docs/web-sdk.md): before its users log in, a page proves
that its app server let it use an appKey, with a signature the app server made from the app's
master secret, a time and a random string. jim checks both forms JMessage's Web SDKs send:

- v1 (the 2015 SDK): C{appKey}, C{timestamp} (seconds), C{randomStr}, C{signature}: the MD5,
  upper-case hex, of C{appKey=..&timestamp=..&randomStr=..&masterSecrect=..};
- v2 (2016 on): C{appkey}, C{timestamp} (milliseconds), C{random_str}, C{signature}: the MD5
  of C{appkey=..&timestamp=..&random_str=..&key=..}.

A random string has 8 to 64 characters (JMessage asks 20 to 36 of v2's, and its own example
has 15).

Hex digits compare in either case, in constant time. A signature holds for 10 minutes after its
timestamp (and one from more than 10 minutes ahead of the server's clock is refused too), and
its random string once: a replay within that time is refused on every node (the store's
L{jim.interfaces.INonceStore}). The same refusal answers an unknown appKey and a wrong
signature: which app keys exist is not told.
"""
import hashlib
import hmac

import attr
from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from jim import errors
from jim.core import secret_box
from jim.errors import JimError

V1 = "v1"
V2 = "v2"
#: how long a signature holds after its timestamp (ms), each way
WINDOW_MS = 10 * 60 * 1000
#: seconds between two sweeps of used random strings
SWEEP_SECONDS = 3600
#: a random string's length, either form
RANDOM_LENGTHS = range(8, 65)


@attr.s(frozen=True, slots=True)
class SignedConfig:
    """A page's configuration: its form (L{V1} or L{V2}), app, time (ms), random string and
    signature."""

    form = attr.ib()
    app = attr.ib()
    timestamp_ms = attr.ib()
    random = attr.ib()
    signature = attr.ib()
    #: the timestamp exactly as sent: the signed text has it so
    timestamp_text = attr.ib()


def _bad(detail):
    return JimError(errors.BAD_REQUEST, detail)


def parse_config(obj):
    """The L{SignedConfig} of a configuration's fields (a dict), or JimError(BAD_REQUEST)."""
    if "appKey" in obj or "randomStr" in obj:
        form, names = V1, ("appKey", "timestamp", "randomStr", "signature")
    else:
        form, names = V2, ("appkey", "timestamp", "random_str", "signature")
    values = []
    for name in names:
        value = obj.get(name)
        if type(value) is int and name == "timestamp" and not isinstance(value, bool):
            value = str(value)
        if type(value) is not str or not value or len(value) > 128:
            raise _bad(f"{name} is required: a string of at most 128 characters")
        values.append(value)
    app, stamp, random, signature = values
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 15:
        raise _bad("timestamp is a number of seconds (v1) or milliseconds (v2)")
    if len(random) not in RANDOM_LENGTHS:
        raise _bad(f"{names[2]} is 8 to 64 characters")
    timestamp_ms = int(stamp) * (1000 if form == V1 else 1)
    return SignedConfig(form, app, timestamp_ms, random, signature, stamp)


def expected_signature(config, secret):
    """The signature the app server makes for C{config} with the master C{secret}."""
    if config.form == V1:
        text = (f"appKey={config.app}&timestamp={config.timestamp_text}"
                f"&randomStr={config.random}&masterSecrect={secret}")
        return hashlib.md5(text.encode("utf-8")).hexdigest().upper()
    text = (f"appkey={config.app}&timestamp={config.timestamp_text}"
            f"&random_str={config.random}&key={secret}")
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def signature_matches(config, secret):
    """Whether C{config}'s signature is the one C{secret} makes (hex in either case)."""
    given = config.signature.lower().encode("ascii", "replace")
    return hmac.compare_digest(given, expected_signature(config, secret).lower().encode())


class WebSdk:
    """Checks pages' signed configurations against the apps' sealed master secrets; forgets
    the random strings whose signatures expired, hourly."""

    log = Logger()

    def __init__(self, accounts, nonces, clock, box_key):
        self.accounts = accounts
        self.nonces = nonces  # the store's INonceStore
        self.clock = clock
        self.box_key = box_key
        self._sweeper = None

    async def sweep(self):
        """Forget the random strings of expired signatures; how many."""
        return await self.nonces.forget_nonces(int(self.clock.seconds() * 1000))

    def _sweep_logged(self):
        d = defer.ensureDeferred(self.sweep())
        d.addErrback(lambda f: self.log.warn("web sdk: forgetting used random strings failed:"
                                             " {why}", why=f.getErrorMessage()))
        return d

    def start(self):
        self._sweeper = LoopingCall(self._sweep_logged)
        self._sweeper.clock = self.clock
        self._sweeper.start(SWEEP_SECONDS, now=False)

    def stop(self):
        if self._sweeper is not None and self._sweeper.running:
            self._sweeper.stop()
        self._sweeper = None

    async def configure(self, obj):
        """The L{SignedConfig} of a page's configuration C{obj} once checked; else JimError:
        BAD_REQUEST (malformed), SIGNATURE_INVALID (no such app, a wrong signature, a random
        string used already, an app whose secret jim does not keep) or SIGNATURE_EXPIRED."""
        config = parse_config(obj)
        now = int(self.clock.seconds() * 1000)
        app = await self.accounts.app(config.app)
        secret = None
        if app is not None and self.box_key is not None:
            secret = secret_box.opened(self.box_key, app.key, app.secret_box)
        if app is not None and secret is None:
            # told to the operator, not to the page: which app keys exist is not told
            self.log.warn("web sdk: a page signed for app {app}, whose master secret was set"
                          " before jim kept it sealed: give the app a new secret (or restart"
                          " with --master-secret) to use signatures", app=app.key)
        if secret is None or not signature_matches(config, secret):
            raise JimError(errors.SIGNATURE_INVALID, "the signature is not the app's")
        if abs(now - config.timestamp_ms) > WINDOW_MS:
            raise JimError(errors.SIGNATURE_EXPIRED, "the signature's timestamp is more than"
                           " 10 minutes from now: make a new one")
        if not await self.nonces.claim(app.key, config.random,
                                       config.timestamp_ms + WINDOW_MS):
            raise JimError(errors.SIGNATURE_INVALID, "this random string was used already:"
                           " make a new signature")
        return config
