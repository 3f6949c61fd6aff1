"""Failed password logins at an address the account logged in from (docs/configuration.md,
"Logins", --login-failures-per-user): through J-IM cmd 5 on a core with a Clock, what a client
at each address sees. A login at a known address is held to the account's failures from there
only (the same limits, counted apart: L{jim.core.login_throttle.LoginThrottle.known_failures}),
while a login at an address not known to the account is held to all of the account's
failures, those made at its known addresses too. A success at a known address forgives the
failures from there only; one at an address not known yet forgives the account's, and makes
that address known. An address stays known for 30 days after its last password login."""
from twisted.trial.unittest import SynchronousTestCase

from jim.config import Limits
from jim.core.login_throttle import KNOWN_SECONDS, MAX_DELAY
from tests.support.fakes import make_core, send

WINDOW, LOCKOUT = 600.0, 900.0
HOME = "10.1.1.1:5000"  # where alice logs in from: known once she did
OFFICE = "10.2.2.2:5000"  # another address she logged in from
ELSEWHERE = "10.6.6.6:5000"  # never hers
THERE = "10.7.7.7:5000"  # nor this one

OK, FAILED = 10007, 10008
WRONG = "wrong userId or password"
LOCKED = "too many failed logins"


class KnownAddressCase(SynchronousTestCase):
    def setUp(self):
        # the limit per address is far away: only the account's counts are at work
        limits = Limits(login_failures_user=2, login_failures_address=1000,
                        login_window=WINDOW, login_lockout=LOCKOUT)
        self.fx = make_core(limits=limits, users=["alice", "bob"])

    def attempt(self, password, peer, user="alice"):
        """A password login of C{user} from C{peer}, the clock moved on (half a second at a
        time) until it is answered: C{(code, detail, seconds it waited)}."""
        session, client = self.fx.connect()
        client.peer = peer
        send(session, 5, {"cmd": 5, "userId": user, "password": password})
        waited = 0.0
        while True:
            replies = [body for command, body in client.take() if command == 6]
            if replies:
                [reply] = replies
                return reply["code"], reply.get("detail", ""), waited
            self.assertLess(waited, MAX_DELAY, "a login is never held longer")
            self.fx.clock.advance(0.5)
            waited += 0.5

    def succeeds(self, peer, waited=0.0):
        self.assertEqual(self.attempt("secret", peer), (OK, "", waited))

    def fails(self, peer, waited=0.0, user="alice"):
        self.assertEqual(self.attempt("wrong", peer, user), (FAILED, WRONG, waited))

    def locked_out(self, peer, password="secret"):
        code, detail, waited = self.attempt(password, peer)
        self.assertEqual((code, waited), (FAILED, 0.0))
        self.assertIn(LOCKED, detail)


class KnownAddressTests(KnownAddressCase):
    def test_guesses_at_a_known_address_slow_then_lock_the_logins_from_there(self):
        """Someone behind alice's own address guesses her password: held to the account's
        limit there (slowed from the 2nd failure, locked at the 4th), and, counting among the
        account's failures, they slow and lock the logins from unknown addresses as well; not
        those from another address alice logged in from."""
        self.succeeds(HOME)
        self.succeeds(OFFICE)
        self.fails(HOME)
        self.fails(HOME)
        self.fails(HOME, waited=1.0)  # 2 failures from there: slowed
        self.fails(HOME, waited=2.0)  # the 4th: locked from there...
        self.locked_out(HOME)
        self.locked_out(ELSEWHERE)  # ...and wherever alice never logged in from
        self.succeeds(OFFICE)  # her other address has failures of its own: none
        self.fx.clock.advance(LOCKOUT)
        self.succeeds(HOME)

    def test_guesses_from_elsewhere_do_not_count_at_a_known_address(self):
        """Failures at unknown addresses slow and lock every unknown address, but a login at
        alice's known address counts only the failures made there, which then slow and lock
        it at the account's limit."""
        self.succeeds(HOME)
        self.fails(ELSEWHERE)
        self.fails(ELSEWHERE)  # 2 failures of the account: slowed where it is not known...
        self.fails(HOME)  # ...not at home, where none was made: 3 of the account, 1 there
        self.fails(THERE, waited=2.0)  # 4 of the account: locked where it is not known
        self.locked_out(THERE)
        self.locked_out(ELSEWHERE)
        self.fails(HOME)  # 1 from there: still not slowed
        self.fails(HOME, waited=1.0)  # 2 from there: slowed, as the account's limit says
        self.fails(HOME, waited=2.0)  # 4 from there: locked there too
        self.locked_out(HOME)
        self.fx.clock.advance(LOCKOUT)
        self.succeeds(HOME)

    def test_a_success_at_a_known_address_forgives_the_failures_from_there_only(self):
        self.succeeds(HOME)
        self.fails(ELSEWHERE)
        self.fails(HOME)
        self.fails(HOME)
        self.succeeds(HOME, waited=1.0)  # 2 from there: slowed; then forgiven there...
        self.fails(HOME)  # ...so that this one is not slowed
        # ...but not for the account: 1 from elsewhere and 3 from home lock it elsewhere
        self.locked_out(ELSEWHERE)
        self.fails(HOME)
        self.fails(HOME, waited=1.0)

    def test_a_success_at_an_unknown_address_forgives_the_accounts_failures(self):
        """A login at an address not known yet is held to all of the account's failures,
        and its success forgives them (not those counted at a known address, which are
        counted apart) and makes the address known."""
        self.succeeds(HOME)
        self.fails(HOME)
        self.fails(ELSEWHERE)
        self.succeeds(THERE, waited=1.0)  # 2 of the account: slowed; then forgiven
        self.fails(ELSEWHERE)  # the account's first again: not slowed
        self.fails(HOME)  # the 2nd from home (the one before the success still counts)...
        self.fails(HOME, waited=1.0)  # ...so the 3rd there is slowed
        self.fails(ELSEWHERE, waited=2.0)  # 4 of the account: locked where it is not known
        self.locked_out(ELSEWHERE)
        self.succeeds(THERE)  # known since its success: none of those were made there

    def test_known_to_the_account_not_to_the_address(self):
        """An address is known to the accounts that logged in from it: bob, who never logged
        in from alice's home, is held there to all of his failures."""
        self.succeeds(HOME)
        self.fails(ELSEWHERE, user="bob")
        self.fails(ELSEWHERE, user="bob")
        self.assertEqual(self.attempt("secret", HOME, "bob"), (OK, "", 1.0))

    def test_an_address_is_known_for_30_days_after_its_last_password_login(self):
        self.succeeds(HOME)
        self.fx.clock.advance(KNOWN_SECONDS - 60)
        for waited in (0.0, 0.0, 1.0, 2.0):  # guesses from elsewhere lock the account...
            self.fails(ELSEWHERE, waited=waited)
        self.locked_out(ELSEWHERE)
        self.fails(HOME)  # ...but alice's home is held to its own failures (none)
        self.fx.clock.advance(60)  # 30 days since she last logged in from there
        self.locked_out(HOME)  # no longer known: held to the account's failures

    def test_an_ipv6_address_is_known_by_its_64_bit_network(self):
        """Failures are counted per /64 of an IPv6 address, and so is an address known: a
        login from another host of the network alice logged in from is held to the failures
        made there."""
        self.succeeds("2001:db8:1:2::10:5000")
        for waited in (0.0, 0.0, 1.0, 2.0):
            self.fails("2001:db8:9:9::66:5000", waited=waited)
        self.locked_out("2001:db8:9:9::77:5000")
        self.succeeds("2001:db8:1:2:aaaa::1:5000")
