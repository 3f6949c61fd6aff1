"""A login checks its password on a thread. A forbid, a new password or a deletion that lands
meanwhile must win: the login is refused, nothing stale goes back into the caches, and a
stronger hash made at that login never brings the old password back."""
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim.core.passwords import verify_password
from jim.store.memory import MemoryStore
from tests.support.fakes import APP_KEY, HeldRunner, make_core, send


def first_code(client):
    return [body.get("code") for _, body in client.take()][0]


class LoginRaceTests(SynchronousTestCase):
    def setUp(self):
        self.runner = HeldRunner()
        self.fx = make_core(run=self.runner, users=["alice", "bob"])
        self.users = self.fx.core.users

    def log_in(self, name, password="secret"):
        """A connection whose login waits for its password check (held)."""
        session, client = self.fx.connect()
        send(session, 5, {"cmd": 5, "userId": name, "password": password})
        return session, client

    def release_one(self, index):
        d, f, args = self.runner.pending.pop(index)
        d.callback(f(*args))

    def test_forbidden_while_its_password_is_checked(self):
        _, client = self.log_in("alice")
        self.successResultOf(defer.ensureDeferred(self.users.forbid(APP_KEY, "alice", True)))
        self.runner.release()
        self.assertEqual(first_code(client), 10008)
        self.assertTrue(client.closes)
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))
        self.assertTrue(self.users.cached(APP_KEY, "alice").forbidden)  # not undone

    def test_a_new_password_while_the_old_one_is_checked(self):
        _, client = self.log_in("alice")  # pending[0]: its check of "secret"
        changed = defer.ensureDeferred(self.users.set_password(APP_KEY, "alice", "newpassword"))
        self.release_one(1)  # the new password's hash is done first
        self.successResultOf(changed)
        self.runner.release()  # then the login's check of the old one
        self.assertEqual(first_code(client), 10008)
        self.assertFalse(self.fx.core.presence.is_online(APP_KEY, "alice"))
        _, new = self.log_in("alice", "newpassword")
        self.runner.release()
        self.assertEqual(first_code(new), 10007)
        _, old = self.log_in("alice", "secret")
        self.runner.release()
        self.assertEqual(first_code(old), 10008)

    def test_deleted_while_its_password_is_checked(self):
        bob, bob_client = self.log_in("bob")
        self.runner.release()
        bob_client.take()
        _, client = self.log_in("alice")
        self.successResultOf(defer.ensureDeferred(self.users.delete(APP_KEY, "alice")))
        self.runner.release()
        self.assertEqual(first_code(client), 10008)
        self.assertIsNone(self.users.cached(APP_KEY, "alice"))
        send(bob, 11, {"cmd": 11, "chatType": 2, "to": "alice", "content": "hi"})
        self.assertEqual([b["code"] for c, b in bob_client.take() if c == 12], [10002])


class HeldForgetStore(MemoryStore):
    """A MemoryStore whose first C{forget_app} waits for C{go}: an app's deletion stopped
    after its record went and its connections were told to close, its users still known."""

    def __init__(self):
        super().__init__()
        self.go = defer.Deferred()
        self._waited = False

    def forget_app(self, key):
        if self._waited:
            return super().forget_app(key)
        self._waited = True
        return self.go.addCallback(lambda _: super(HeldForgetStore, self).forget_app(key))


class AppDeletionRaceTests(SynchronousTestCase):
    def test_its_app_deleted_while_its_password_is_checked(self):
        """The app goes (its record, then its connections) while a login's password is
        checked, which ends before the users it knew are forgotten: the login is refused, and
        nothing of it stays online, nor gets a token."""
        runner = HeldRunner()
        store = HeldForgetStore()
        fx = make_core(run=runner, store=store)
        core = fx.core
        app, _ = self.successResultOf(defer.ensureDeferred(core.apps.create({"name": "Doomed"})))
        registering = defer.ensureDeferred(core.users.register(app.key, "alice", "secret"))
        runner.release()
        self.successResultOf(registering)
        session, client = fx.connect()
        send(session, 5, {"cmd": 5, "appKey": app.key, "userId": "alice", "password": "secret"})
        self.assertEqual(len(runner.pending), 1)  # its password being checked
        deleting = defer.ensureDeferred(core.apps.delete(app.key))
        runner.release()  # the check ends after the kick, before the users are forgotten
        store.go.callback(None)
        self.successResultOf(deleting)
        replies = client.take()
        self.assertEqual([body.get("code") for _, body in replies], [10008])
        self.assertNotIn("token", str(replies))
        self.assertTrue(client.closes)
        self.assertFalse(core.presence.is_online(app.key, "alice"))


class RehashRaceTests(SynchronousTestCase):
    def test_two_devices_logging_in_while_the_hash_is_made_stronger_both_get_in(self):
        """Two logins of a user whose stored hash is weaker than the cost, checked together:
        the first makes the stronger hash; the second, whose own stronger hash then finds the
        record changed, is not taken for a login with a changed password."""
        runner = HeldRunner()
        fx = make_core(run=runner, cost=(4, 1, 1))
        fx.add_user("alice", cost=(2, 1, 1))
        clients = []
        for _ in range(2):
            session, client = fx.connect()
            send(session, 5, {"cmd": 5, "userId": "alice", "password": "secret"})
            clients.append(client)
        runner.release()
        self.assertEqual([first_code(client) for client in clients], [10007, 10007])
        stored = self.successResultOf(fx.memory.users.get_user(APP_KEY, "alice")).password
        self.assertTrue(verify_password("secret", stored))

    def test_a_stronger_hash_never_brings_the_old_password_back(self):
        runner = HeldRunner()
        fx = make_core(run=runner, cost=(4, 1, 1))
        fx.add_user("alice", cost=(2, 1, 1))  # weaker than the cost: rehashed at login
        session, client = fx.connect()
        send(session, 5, {"cmd": 5, "userId": "alice", "password": "secret"})
        d, f, args = runner.pending.pop(0)
        d.callback(f(*args))  # the check passes; the stronger hash of "secret" is made...
        self.assertEqual(len(runner.pending), 1)
        changed = defer.ensureDeferred(fx.core.users.set_password(APP_KEY, "alice", "newpass"))
        d, f, args = runner.pending.pop(1)
        d.callback(f(*args))  # ...while a new password is set and stored
        self.successResultOf(changed)
        runner.release()
        stored = self.successResultOf(fx.memory.users.get_user(APP_KEY, "alice")).password
        self.assertTrue(verify_password("newpass", stored))
        self.assertFalse(verify_password("secret", stored))
        self.assertEqual(first_code(client), 10008)  # that login does not stand either
