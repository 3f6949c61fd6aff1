"""Logins (password, token, open registration), forbidden users, app secrets."""
import hmac

import attr
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.core import accounts
from jim.core.accounts import password_stamp, secret_hash
from jim.core.passwords import parse
from jim.errors import JimError
from jim.model import APPS_AREA, App, Invalidate, User

from tests.support.fakes import APP_KEY, APP_SECRET, HeldRunner, RecordingRunner, make_core


class LoginTestsMixin:
    def login(self, username=None, password=None, token=None, app_key=None):
        return self.successResultOf(
            defer.ensureDeferred(self.fx.accounts.login(app_key, username, password, token))
        )

    def refused(self, username=None, password=None, token=None, app_key=None,
                code=errors.AUTH_FAILED):
        d = defer.ensureDeferred(self.fx.accounts.login(app_key, username, password, token))
        error = self.failureResultOf(d, JimError).value
        self.assertEqual(error.code, code, error.detail)
        return error

    def stored(self, username, app=APP_KEY):
        return self.successResultOf(self.fx.memory.users.get_user(app, username))

    def settled(self, coroutine):
        return self.successResultOf(defer.ensureDeferred(coroutine))


class PasswordLoginTests(LoginTestsMixin, SynchronousTestCase):
    def setUp(self):
        self.runner = RecordingRunner()
        self.fx = make_core(run=self.runner)
        self.alice = self.fx.add_user("alice", "wonderland")

    def test_password(self):
        self.assertEqual(self.login("alice", "wonderland"), (APP_KEY, self.alice))

    def test_named_default_app(self):
        self.assertEqual(self.login("alice", "wonderland", app_key=APP_KEY)[1], self.alice)

    def test_wrong_password_and_unknown_user_look_alike(self):
        wrong = self.refused("alice", "wonderlant")
        unknown = self.refused("bob", "wonderland")
        self.assertEqual((wrong.code, wrong.detail), (unknown.code, unknown.detail))
        # the unknown user costs a hash too, so timing does not tell them apart
        self.assertEqual(self.runner.calls, ["verify_password", "verify_password"])

    def test_missing_fields(self):
        self.refused("alice")
        self.refused(password="wonderland")
        self.refused()

    def test_an_unknown_app_looks_like_a_wrong_password(self):
        """Which app keys exist is not told: an unknown appKey is refused as a known app's
        stranger is, with the same detail and after the same password hash."""
        wrong = self.refused("alice", "wonderlant")
        unknown_app = self.refused("alice", "wonderland", app_key="nosuchapp")
        self.assertEqual((unknown_app.code, unknown_app.detail), (wrong.code, wrong.detail))
        self.assertEqual(self.runner.calls, ["verify_password", "verify_password"])
        missing = self.refused("alice", app_key="nosuchapp")
        self.assertEqual(missing.detail, self.refused("alice").detail)

    def test_an_unknown_app_registers_nobody(self):
        self.fx.accounts.open_registration = True
        unknown_app = self.refused("carol", "pw", app_key="nosuchapp")
        self.assertEqual(unknown_app.detail, "wrong userId or password")
        self.assertIsNone(self.stored("carol", app="nosuchapp"))

    def test_users_are_per_app(self):
        self.fx.memory.apps.add_app(App("otherapp", secret_hash("x")))
        self.refused("alice", "wonderland", app_key="otherapp")

    def test_no_registration_when_closed(self):
        self.refused("bob", "pw")
        self.assertIsNone(self.stored("bob"))

    def test_weak_hash_replaced(self):
        fx = self.fx = make_core(cost=(4, 1, 1))
        fx.add_user("carol", "pw", cost=(2, 1, 1))
        self.login("carol", "pw")
        self.assertEqual(parse(self.stored("carol").password)[:3], (4, 1, 1))
        self.login("carol", "pw")

    def test_the_logged_in_user_is_remembered(self):
        self.assertIsNone(self.fx.core.users.cached(APP_KEY, "alice"))
        self.login("alice", "wonderland")
        self.assertEqual(self.fx.core.users.cached(APP_KEY, "alice"), self.alice)


class ForbiddenTests(LoginTestsMixin, SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(token_ttl=60)
        self.mallory = self.fx.add_user("mallory", "pw", forbidden=True)

    def test_password_login_refused(self):
        error = self.refused("mallory", "pw", code=errors.USER_FORBIDDEN)
        self.assertIn("mallory", error.detail)

    def test_wrong_password_is_only_a_failed_login(self):
        self.refused("mallory", "px", code=errors.AUTH_FAILED)

    def test_token_login_refused(self):
        token = self.fx.accounts.token_for(self.mallory)
        self.refused(token=token, code=errors.USER_FORBIDDEN)

    def test_forbidding_and_allowing(self):
        self.fx.add_user("alice", "pw")
        self.settled(self.fx.core.users.forbid(APP_KEY, "alice", True))
        self.refused("alice", "pw", code=errors.USER_FORBIDDEN)
        self.settled(self.fx.core.users.forbid(APP_KEY, "alice", False))
        self.assertEqual(self.login("alice", "pw")[1].username, "alice")


class BusyTests(LoginTestsMixin, SynchronousTestCase):
    def test_a_login_refused_while_hashing_is_backed_up(self):
        runner = HeldRunner()
        self.fx = make_core(run=runner)
        self.fx.add_user("alice", "pw")
        first = defer.ensureDeferred(self.fx.accounts.login(None, "alice", "pw"))
        runner.release()
        self.successResultOf(first)  # now one hash has taken a measurable time
        self.fx.passwords.max_wait = 0.0
        waiting = defer.ensureDeferred(self.fx.accounts.login(None, "alice", "pw"))
        self.refused("alice", "pw", code=errors.BUSY)
        runner.release()
        self.assertEqual(self.successResultOf(waiting)[1].username, "alice")


class RegistrationTests(LoginTestsMixin, SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(open_registration=True)
        self.fx.clock.advance(12.5)

    def test_first_login_registers(self):
        app, user = self.login("dave", "pw1")
        self.assertEqual(
            (app, user.username, user.nickname, user.ctime, user.mtime),
            (APP_KEY, "dave", "dave", 12500, 12500),
        )
        stored = self.stored("dave")
        self.assertEqual(stored, user)
        self.assertNotIn("pw1", stored.password)
        self.assertIsNotNone(parse(stored.password))

    def test_then_same_password(self):
        self.login("dave", "pw1")
        self.assertEqual(self.login("dave", "pw1")[1].username, "dave")
        self.refused("dave", "pw2")

    def test_empty_password(self):
        self.refused("dave", "")
        self.assertIsNone(self.stored("dave"))

    def test_existing_user_keeps_password(self):
        self.fx.add_user("erin", "old")
        self.refused("erin", "new")
        self.login("erin", "old")

    def test_the_longest_jim_name_registers(self):
        """A J-IM userId may have 128 UTF-8 bytes, a nickname 64: the user registers all the
        same, without a nickname (J-IM shows the userId where there is none)."""
        for name in ("n" * 65, "名" * 42 + "xx"):
            app, user = self.login(name, "pw")
            self.assertEqual((user.username, user.nickname), (name, ""))
            self.assertEqual(self.stored(name), user)
        self.assertEqual(self.login("n" * 64, "pw")[1].nickname, "n" * 64)


class TokenLoginTests(LoginTestsMixin, SynchronousTestCase):
    def setUp(self):
        self.runner = RecordingRunner()
        self.fx = make_core(run=self.runner, token_ttl=60)
        self.alice = self.fx.add_user("alice", "wonderland")
        self.token = self.fx.accounts.token_for(self.alice)

    def test_token(self):
        self.assertEqual(self.login(token=self.token), (APP_KEY, self.alice))
        self.assertEqual(self.login("alice", token=self.token)[1], self.alice)
        self.assertEqual(self.runner.calls, [])  # no hashing for a token

    def test_claim(self):
        claim = self.fx.accounts.check_token(self.token)
        self.assertEqual(claim, (APP_KEY, "alice", password_stamp(self.alice)))
        self.assertTrue(self.fx.accounts.token_is_current(self.alice, claim))

    def test_a_token_with_an_unknown_app_looks_like_a_bad_token(self):
        forged = self.refused(token="x" + self.token)
        unknown_app = self.refused(token=self.token, app_key="nosuchapp")
        self.assertEqual(unknown_app.detail, forged.detail)
        self.assertEqual(self.runner.calls, [])

    def test_token_of_another_user(self):
        self.refused("bob", token=self.token)

    def test_expired(self):
        self.fx.clock.advance(61)
        self.refused(token=self.token)
        self.assertIsNone(self.fx.accounts.check_token(self.token))

    def test_other_app(self):
        self.fx.memory.apps.add_app(App("otherapp", secret_hash("x")))
        self.refused(token=self.token, app_key="otherapp")
        other = self.fx.accounts.token_for(attr.evolve(self.alice, app="otherapp"))
        self.refused(token=other)

    def test_user_gone(self):
        token = self.fx.accounts.token_for(User(APP_KEY, "ghost", self.alice.password))
        self.refused(token=token)

    def test_tampered(self):
        self.refused(token=self.token[:-2] + "xx")

    def test_password_changed(self):
        """A token earned with the old password is refused; one earned with the new works."""
        user = self.settled(self.fx.core.users.set_password(APP_KEY, "alice", "looking-glass"))
        self.refused(token=self.token)
        self.refused("alice", token=self.token)
        self.assertFalse(self.fx.accounts.token_is_current(
            user, self.fx.accounts.check_token(self.token)))
        self.assertEqual(self.login(token=self.fx.accounts.token_for(user))[1], user)

    def test_the_same_password_set_again_still_ends_old_tokens(self):
        """The stamp is of the stored hash, which a new salt changes."""
        self.settled(self.fx.core.users.set_password(APP_KEY, "alice", "wonderland"))
        self.refused(token=self.token)

    def test_a_profile_change_leaves_tokens_alone(self):
        self.settled(self.fx.core.users.update(APP_KEY, "alice", {"nickname": "Alice"}))
        self.assertEqual(self.login(token=self.token)[1].nickname, "Alice")


class AppSecretTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core()

    def check(self, key, secret):
        return defer.ensureDeferred(self.fx.accounts.check_app_secret(key, secret))

    def test_right_secret(self):
        app = self.successResultOf(self.check(APP_KEY, APP_SECRET))
        self.assertEqual(app.key, APP_KEY)
        self.assertEqual(self.fx.accounts.known.get(APP_KEY), app)

    def test_wrong_secret(self):
        error = self.failureResultOf(self.check(APP_KEY, APP_SECRET + "x"), JimError).value
        self.assertEqual(error.code, errors.AUTH_FAILED)

    def test_an_unknown_app_looks_like_a_wrong_secret(self):
        wrong = self.failureResultOf(self.check(APP_KEY, APP_SECRET + "x"), JimError).value
        unknown = self.failureResultOf(self.check("nope", APP_SECRET), JimError).value
        self.assertEqual((unknown.code, unknown.detail), (wrong.code, wrong.detail))
        self.assertIsNone(self.fx.accounts.known.get("nope"))

    def test_an_unknown_app_costs_the_same_comparison(self):
        """The secret given with an unknown appKey is hashed and compared in constant time
        against a stand-in, as a known app's wrong secret is against the app's."""
        compared = []
        real = hmac.compare_digest

        def recording(given, expected):
            compared.append((len(given), len(expected)))
            return real(given, expected)

        self.patch(accounts.hmac, "compare_digest", recording)
        self.failureResultOf(self.check(APP_KEY, APP_SECRET + "x"), JimError)
        self.failureResultOf(self.check("nope", APP_SECRET + "x"), JimError)
        self.assertEqual(compared, [(64, 64), (64, 64)])

    def test_no_secret_passes_for_an_unknown_app(self):
        for secret in ("", "0" * 64, APP_SECRET):
            self.failureResultOf(self.check("nope", secret), JimError)

    def test_app_cached(self):
        calls = []
        real = self.fx.memory.apps.get_app

        def counting(key):
            calls.append(key)
            return real(key)

        self.patch(self.fx.memory.apps, "get_app", counting)
        self.successResultOf(self.check(APP_KEY, APP_SECRET))
        self.successResultOf(self.check(APP_KEY, APP_SECRET))
        self.assertEqual(calls, [APP_KEY])

    def test_an_app_another_node_changed_is_read_again(self):
        self.successResultOf(self.check(APP_KEY, APP_SECRET))
        self.successResultOf(self.fx.memory.apps.update_app(
            APP_KEY, {"secret_hash": secret_hash("rotated-secret")}))
        # cached: the old secret still passes until the change is announced
        self.successResultOf(self.check(APP_KEY, APP_SECRET))
        self.fx.bus.publish(Invalidate(APPS_AREA, APP_KEY, APP_KEY, "another-node"))
        error = self.failureResultOf(self.check(APP_KEY, APP_SECRET), JimError).value
        self.assertEqual(error.code, errors.AUTH_FAILED)
        self.assertEqual(self.successResultOf(self.check(APP_KEY, "rotated-secret")).key, APP_KEY)

    def test_a_read_older_than_a_change_made_here_is_not_kept(self):
        """A read of the app that started before this node rotated its secret, and ended
        after: the record it read (the old secret) is not cached over the new one."""
        old = self.successResultOf(self.fx.memory.apps.get_app(APP_KEY))
        self.fx.bus.publish(Invalidate(APPS_AREA, APP_KEY, APP_KEY, "another-node"))
        held = defer.Deferred()
        self.patch(self.fx.memory.apps, "get_app", lambda key: held)
        reading = self.check(APP_KEY, APP_SECRET)
        self.successResultOf(defer.ensureDeferred(self.fx.core.accounts.update_app(
            APP_KEY, {"secret_hash": secret_hash("rotated-secret")})))
        held.callback(old)
        self.successResultOf(reading)  # (checked against what it read)
        error = self.failureResultOf(self.check(APP_KEY, APP_SECRET), JimError).value
        self.assertEqual(error.code, errors.AUTH_FAILED)
        self.assertEqual(self.successResultOf(self.check(APP_KEY, "rotated-secret")).key, APP_KEY)

    def test_secret_hash(self):
        self.assertEqual(len(secret_hash("x")), 64)
        self.assertNotEqual(secret_hash("x"), secret_hash("y"))
