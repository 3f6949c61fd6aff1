"""Accounts.token_user: the user of a reconnect token as it is now, what the socket's cmd 3
and the SDK's HTTP routes accept (a Clock drives time)."""
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim import errors
from jim.core.accounts import secret_hash
from jim.errors import JimError
from jim.model import App
from tests.support.fakes import APP_KEY, make_core


class TokenUserTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(token_ttl=60)
        self.alice = self.fx.add_user("alice", "wonderland")
        self.token = self.fx.accounts.token_for(self.alice)

    def user_of(self, token):
        return self.successResultOf(defer.ensureDeferred(self.fx.accounts.token_user(token)))

    def refused(self, token):
        failure = self.failureResultOf(defer.ensureDeferred(
            self.fx.accounts.token_user(token)), JimError)
        self.assertEqual((failure.value.code, failure.value.detail),
                         (errors.AUTH_FAILED, "invalid or expired token"))

    def settled(self, coroutine):
        return self.successResultOf(defer.ensureDeferred(coroutine))

    def test_the_user_as_it_is_now(self):
        self.assertEqual(self.user_of(self.token), (APP_KEY, self.alice))
        self.settled(self.fx.core.users.update(APP_KEY, "alice", {"nickname": "Alice"}))
        self.assertEqual(self.user_of(self.token)[1].nickname, "Alice")

    def test_none_forged_or_expired(self):
        for token in (None, "", "x" + self.token, self.token[:-2] + "xx", "a.b"):
            self.refused(token)
        self.fx.clock.advance(61)
        self.refused(self.token)

    def test_a_user_forbidden_deleted_or_with_a_new_password(self):
        self.settled(self.fx.core.users.forbid(APP_KEY, "alice", True))
        self.refused(self.token)
        self.settled(self.fx.core.users.forbid(APP_KEY, "alice", False))
        self.assertEqual(self.user_of(self.token)[0], APP_KEY)
        user = self.settled(self.fx.core.users.set_password(APP_KEY, "alice", "glass"))
        self.refused(self.token)
        fresh = self.fx.accounts.token_for(user)
        self.assertEqual(self.user_of(fresh)[1], user)
        self.settled(self.fx.core.users.delete(APP_KEY, "alice"))
        self.refused(fresh)

    def test_an_unknown_app(self):
        """A token of an app that does not exist (or no longer does) is refused, even when
        the store still has its user."""
        theirs = self.fx.add_user("alice", "wonderland", app="otherapp")
        other = self.fx.accounts.token_for(theirs)
        self.refused(other)
        self.fx.memory.apps.add_app(App("otherapp", secret_hash("x")))
        self.assertEqual(self.user_of(other), ("otherapp", theirs))
