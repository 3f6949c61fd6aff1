"""Logins (password, token, open registration) and app secrets."""
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim.core.accounts import secret_hash
from jim.core.passwords import parse
from jim.errors import JimError
from jim.model import App
from jim.wire.jimjson import LoginRequest

from tests.support.fakes import APP_KEY, APP_SECRET, RecordingRunner, make_core


def request(user_id=None, password=None, token=None, app_key=None):
    return LoginRequest(user_id, password, token, app_key)


class LoginTestsMixin:
    def login(self, *args, **kwargs):
        return self.successResultOf(
            defer.ensureDeferred(self.fx.accounts.login(request(*args, **kwargs)))
        )

    def refused(self, *args, **kwargs):
        d = defer.ensureDeferred(self.fx.accounts.login(request(*args, **kwargs)))
        error = self.failureResultOf(d, JimError).value
        self.assertEqual(error.code, 10008)
        self.assertTrue(error.close)
        return error


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
        self.assertEqual(wrong.detail, unknown.detail)
        self.assertEqual(wrong.http_status, unknown.http_status)
        # the unknown user costs a hash too, so timing does not tell them apart
        self.assertEqual(self.runner.calls, ["verify_password", "verify_password"])

    def test_missing_fields(self):
        self.refused("alice")
        self.refused(password="wonderland")
        self.refused()

    def test_unknown_app(self):
        error = self.refused("alice", "wonderland", app_key="nosuchapp")
        self.assertIn("nosuchapp", error.detail)

    def test_users_are_per_app(self):
        self.fx.memory.add_app(App("otherapp", secret_hash("x")))
        self.refused("alice", "wonderland", app_key="otherapp")

    def test_no_registration_when_closed(self):
        self.refused("bob", "pw")
        self.assertIsNone(self.successResultOf(self.fx.memory.get_user(APP_KEY, "bob")))

    def test_weak_hash_replaced(self):
        fx = self.fx = make_core(cost=(4, 1, 1))
        fx.add_user("carol", "pw", cost=(2, 1, 1))
        self.login("carol", "pw")
        stored = self.successResultOf(fx.memory.get_user(APP_KEY, "carol")).password
        self.assertEqual(parse(stored)[:3], (4, 1, 1))
        self.login("carol", "pw")


class RegistrationTests(LoginTestsMixin, SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(open_registration=True)
        self.fx.clock.advance(12.5)

    def test_first_login_registers(self):
        app, user = self.login("dave", "pw1")
        self.assertEqual(
            (app, user.username, user.nickname, user.created), (APP_KEY, "dave", "dave", 12500)
        )
        stored = self.successResultOf(self.fx.memory.get_user(APP_KEY, "dave"))
        self.assertEqual(stored, user)
        self.assertNotIn("pw1", stored.password)
        self.assertIsNotNone(parse(stored.password))

    def test_then_same_password(self):
        self.login("dave", "pw1")
        self.assertEqual(self.login("dave", "pw1")[1].username, "dave")
        self.refused("dave", "pw2")

    def test_empty_password(self):
        self.refused("dave", "")
        self.assertIsNone(self.successResultOf(self.fx.memory.get_user(APP_KEY, "dave")))

    def test_existing_user_keeps_password(self):
        self.fx.add_user("erin", "old")
        self.refused("erin", "new")
        self.login("erin", "old")


class TokenLoginTests(LoginTestsMixin, SynchronousTestCase):
    def setUp(self):
        self.runner = RecordingRunner()
        self.fx = make_core(run=self.runner, token_ttl=60)
        self.alice = self.fx.add_user("alice", "wonderland")
        self.token = self.fx.accounts.token_for(APP_KEY, "alice")

    def test_token(self):
        self.assertEqual(self.login(token=self.token), (APP_KEY, self.alice))
        self.assertEqual(self.login("alice", token=self.token)[1], self.alice)
        self.assertEqual(self.runner.calls, [])  # no hashing for a token

    def test_token_of_another_user(self):
        self.refused("bob", token=self.token)

    def test_expired(self):
        self.fx.clock.advance(61)
        self.refused(token=self.token)

    def test_other_app(self):
        self.fx.memory.add_app(App("otherapp", secret_hash("x")))
        self.refused(token=self.token, app_key="otherapp")
        other = self.fx.accounts.token_for("otherapp", "alice")
        self.refused(token=other)

    def test_user_gone(self):
        token = self.fx.accounts.token_for(APP_KEY, "ghost")
        self.refused(token=token)

    def test_tampered(self):
        self.refused(token=self.token[:-2] + "xx")


class AppSecretTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core()

    def check(self, key, secret):
        return defer.ensureDeferred(self.fx.accounts.check_app_secret(key, secret))

    def test_right_secret(self):
        app = self.successResultOf(self.check(APP_KEY, APP_SECRET))
        self.assertEqual(app.key, APP_KEY)

    def test_wrong_secret(self):
        error = self.failureResultOf(self.check(APP_KEY, APP_SECRET + "x"), JimError).value
        self.assertEqual((error.code, error.http_status), (899008, 401))

    def test_unknown_app(self):
        error = self.failureResultOf(self.check("nope", APP_SECRET), JimError).value
        self.assertEqual((error.code, error.http_status), (899009, 401))

    def test_app_cached(self):
        calls = []
        real = self.fx.memory.get_app

        def counting(key):
            calls.append(key)
            return real(key)

        self.patch(self.fx.memory, "get_app", counting)
        self.successResultOf(self.check(APP_KEY, APP_SECRET))
        self.successResultOf(self.check(APP_KEY, APP_SECRET))
        self.assertEqual(calls, [APP_KEY])

    def test_secret_hash(self):
        self.assertEqual(len(secret_hash("x")), 64)
        self.assertNotEqual(secret_hash("x"), secret_hash("y"))
