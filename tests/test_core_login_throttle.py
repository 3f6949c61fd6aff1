"""Failed password logins per account and per address: slowed after N in the window, locked
out at 2N, forgotten when their time is over; bounded memory. Then the same through a J-IM
login on a core with a Clock."""
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from jim.config import Limits
from jim.core.login_throttle import (
    LOCKED, MAX_DELAY, SLOWED, FailureCounts, KnownAddresses, LoginThrottle, Verdict,
    address_key, delay_after, host_of,
)
from tests.support.fakes import APP_KEY, HeldRunner, make_core, send

WINDOW, LOCKOUT = 60.0, 300.0


class FailureCountsTests(SynchronousTestCase):
    def test_slowed_after_the_limit_then_locked_at_twice_it(self):
        counts = FailureCounts(3, WINDOW, LOCKOUT)
        changes = [counts.failed("k", 1.0) for _ in range(6)]
        self.assertEqual(changes, [None, None, SLOWED, None, None, LOCKED])
        self.assertEqual(counts.verdict("k", 1.0).locked_for, LOCKOUT)
        self.assertTrue(counts.verdict("k", 1.0 + LOCKOUT - 0.5).refused)
        self.assertEqual(counts.verdict("k", 1.0 + LOCKOUT).delay, 0)  # afresh
        self.assertFalse(counts.verdict("k", 1.0 + LOCKOUT).refused)
        self.assertEqual(len(counts), 0)

    def test_the_delay_grows(self):
        counts = FailureCounts(3, WINDOW, LOCKOUT)
        delays = []
        for _ in range(5):
            delays.append(counts.verdict("k", 0).delay)
            counts.failed("k", 0)
        self.assertEqual(delays, [0, 0, 0, 1.0, 2.0])
        self.assertEqual(delay_after(40, 3), MAX_DELAY)

    def test_the_window_ends(self):
        counts = FailureCounts(2, WINDOW, LOCKOUT)
        counts.failed("k", 0)
        counts.failed("k", 10)
        self.assertEqual(counts.verdict("k", WINDOW - 1).delay, 1.0)
        self.assertEqual(counts.verdict("k", WINDOW).delay, 0)
        self.assertIsNone(counts.failed("k", WINDOW))  # one failure of a new window

    def test_a_zero_limit_counts_nothing(self):
        counts = FailureCounts(0, WINDOW, LOCKOUT)
        for _ in range(100):
            self.assertIsNone(counts.failed("k", 0))
        self.assertEqual(len(counts), 0)
        self.assertFalse(counts.verdict("k", 0).refused)

    def test_memory_is_capped_oldest_first(self):
        counts = FailureCounts(1, WINDOW, LOCKOUT, max_keys=3)
        for key in "abcd":
            counts.failed(key, 0)
        self.assertEqual(len(counts), 3)
        self.assertEqual(counts.verdict("a", 0).delay, 0)  # forgotten
        self.assertEqual(counts.verdict("d", 0).delay, 1.0)

    def test_keys_whose_time_is_over_are_dropped(self):
        counts = FailureCounts(5, WINDOW, LOCKOUT)
        for i in range(1000):
            counts.failed(f"k{i}", float(i))
        self.assertLessEqual(len(counts), WINDOW + 1)


class ThrottleTests(SynchronousTestCase):
    def test_the_worse_of_account_and_address(self):
        throttle = LoginThrottle(2, 4, WINDOW, LOCKOUT)
        for user in ("a", "b", "c", "d"):
            throttle.failed("app", user, "10.0.0.1", 0)
        throttle.failed("app", "x", "10.0.0.2", 0)
        throttle.failed("app", "x", "10.0.0.2", 0)
        self.assertEqual(throttle.verdict("app", "e", "10.0.0.1", 0).delay, 1.0)  # address
        self.assertEqual(throttle.verdict("app", "x", "10.0.0.3", 0).delay, 1.0)  # account
        self.assertEqual(throttle.verdict("app", "e", "10.0.0.3", 0).delay, 0)
        self.assertEqual(throttle.verdict("other", "x", None, 0).delay, 0)  # per app

    def test_a_success_clears_the_account_not_the_address(self):
        throttle = LoginThrottle(2, 2, WINDOW, LOCKOUT)
        changes = throttle.failed("app", "x", "10.0.0.1", 0)
        changes += throttle.failed("app", "x", "10.0.0.1", 0)
        self.assertEqual(changes, [("user", "app/x", SLOWED), ("address", "10.0.0.1", SLOWED)])
        throttle.succeeded("app", "x", None, 0)
        self.assertEqual(throttle.verdict("app", "x", None, 0).delay, 0)
        self.assertEqual(throttle.verdict("app", "x", "10.0.0.1", 0).delay, 1.0)

    def test_an_address_the_account_logged_in_from_is_held_to_its_own_failures(self):
        throttle = LoginThrottle(2, 10, WINDOW, LOCKOUT, known_seconds=100.0)
        throttle.succeeded("app", "x", "10.0.0.1", 0)
        for _ in range(4):  # guesses from elsewhere lock the account...
            throttle.failed("app", "x", "10.0.0.9", 1)
        self.assertTrue(throttle.verdict("app", "x", "10.0.0.9", 2).refused)
        self.assertTrue(throttle.verdict("app", "x", "10.0.0.2", 2).refused)
        self.assertTrue(throttle.verdict("app", "x", None, 2).refused)
        # ...but not for its user, where it logged in; nor for another account there
        self.assertEqual(throttle.verdict("app", "x", "10.0.0.1", 2), Verdict())
        self.assertFalse(throttle.verdict("other", "x", "10.0.0.1", 2).refused)
        # its user's logins there do not lift the lock for elsewhere
        throttle.succeeded("app", "x", "10.0.0.1", 3)
        self.assertTrue(throttle.verdict("app", "x", "10.0.0.9", 4).refused)
        # the address's own failures still count there
        for _ in range(10):
            throttle.failed("app", "y", "10.0.0.1", 5)
        self.assertEqual(throttle.verdict("app", "x", "10.0.0.1", 5).delay, 1.0)
        # an address is known for a while after the last success from it
        self.assertFalse(throttle.verdict("app", "x", "10.0.0.1", 102.0).refused)
        self.assertTrue(throttle.verdict("app", "x", "10.0.0.1", 104.0).refused)

    def test_guesses_from_a_known_address_meet_the_accounts_limit_there(self):
        """Someone behind the user's own NAT (or proxy) guessing at its account: held to the
        account's limit from that address, even with no limit per address."""
        throttle = LoginThrottle(2, 0, WINDOW, LOCKOUT)
        throttle.succeeded("app", "x", "10.0.0.1", 0)
        changes = []
        for _ in range(4):
            changes += throttle.failed("app", "x", "10.0.0.1", 1)
        self.assertIn(("user", "app/x at its known 10.0.0.1", LOCKED), changes)
        self.assertTrue(throttle.verdict("app", "x", "10.0.0.1", 2).refused)
        # a success there clears those from there only
        throttle = LoginThrottle(2, 0, WINDOW, LOCKOUT)
        throttle.succeeded("app", "x", "10.0.0.1", 0)
        for address in ("10.0.0.1", "10.0.0.1", "10.0.0.9", "10.0.0.9"):
            throttle.failed("app", "x", address, 1)
        self.assertEqual(throttle.verdict("app", "x", "10.0.0.1", 2).delay, 1.0)
        throttle.succeeded("app", "x", "10.0.0.1", 2)
        self.assertEqual(throttle.verdict("app", "x", "10.0.0.1", 2), Verdict())
        self.assertTrue(throttle.verdict("app", "x", "10.0.0.9", 2).refused)  # all four count

    def test_known_addresses_are_bounded_and_forgotten_in_time(self):
        known = KnownAddresses(seconds=10.0, max_keys=3)
        for n in range(5):
            known.note(("app", f"u{n}", "10.0.0.1"), float(n))
        self.assertEqual(len(known), 3)
        self.assertFalse(known.known(("app", "u0", "10.0.0.1"), 5.0))  # the oldest dropped
        self.assertTrue(known.known(("app", "u4", "10.0.0.1"), 5.0))
        known.note(("app", "u9", "10.0.0.1"), 50.0)  # the others' time is over: gone
        self.assertEqual(len(known), 1)
        self.assertFalse(known.known(("app", "u9", "10.0.0.1"), 60.0))

    def test_addresses(self):
        self.assertEqual(host_of("127.0.0.2:4000"), "127.0.0.2")
        self.assertEqual(host_of("::1:4000"), "::1")
        self.assertEqual(address_key("10.1.2.3"), "10.1.2.3")
        self.assertEqual(address_key("::ffff:10.1.2.3"), "10.1.2.3")
        self.assertEqual(address_key("2001:db8::1"), address_key("2001:db8::ffff"))
        self.assertEqual(address_key("2001:db8::1"), "2001:db8::/64")
        self.assertIsNone(address_key(None))
        self.assertEqual(address_key("UNIXAddress(None)"), "UNIXAddress(None)")


class Model:
    """The throttle as its docstring says, from each key's whole history: no eviction, no
    expiry bookkeeping."""

    def __init__(self, limit):
        self.limit = limit
        self.history = {}  # key -> times of its failures (since its last success)

    def state(self, key, now):
        """(failures in the current window, locked until) replaying the key's failures."""
        count, window_end, locked_until = 0, None, None
        for t in self.history.get(key, []):
            if locked_until is not None:
                if t < locked_until:
                    continue  # refused logins fail late: not counted
                count, window_end, locked_until = 0, None, None
            if window_end is None or t >= window_end:
                count, window_end = 0, t + WINDOW
            count += 1
            if count >= 2 * self.limit:
                locked_until = t + LOCKOUT
        if locked_until is not None:
            return (0, locked_until) if now < locked_until else (0, None)
        if window_end is None or now >= window_end:
            return 0, None
        return count, None

    def verdict(self, key, now):
        count, locked_until = self.state(key, now)
        if locked_until is not None:
            return 0.0, locked_until - now
        return (min(MAX_DELAY, 2.0 ** (count - self.limit)) if count >= self.limit else 0.0), 0.0


events = st.lists(
    st.tuples(
        st.sampled_from(["fail", "fail", "fail", "check", "success"]),
        st.sampled_from(["a", "b", "c"]),
        st.floats(min_value=0, max_value=120),
    ),
    max_size=80,
)


class PropertyTests(SynchronousTestCase):
    @settings(max_examples=300)
    @given(limit=st.integers(min_value=1, max_value=4), steps=events,
           max_keys=st.sampled_from([1, 2, 1000]))
    def test_matches_the_model(self, limit, steps, max_keys):
        """With room for every key, the throttle says what the model says; with less, it
        never keeps more than its cap."""
        counts = FailureCounts(limit, WINDOW, LOCKOUT, max_keys=max_keys)
        model = Model(limit)
        now = 0.0
        for action, key, step in steps:
            now += step
            if action == "fail":
                model.history.setdefault(key, []).append(now)
                counts.failed(key, now)
            elif action == "success":
                model.history.pop(key, None)
                counts.forget(key)
            verdict = counts.verdict(key, now)
            expected_delay, expected_locked = model.verdict(key, now)
            if max_keys >= 3:
                self.assertEqual((verdict.delay, verdict.locked_for),
                                 (expected_delay, expected_locked))
            self.assertLessEqual(len(counts), max_keys)


class LoginTests(SynchronousTestCase):
    """Through J-IM cmd 5 on a core with a Clock."""

    def setUp(self):
        limits = Limits(login_failures_user=2, login_failures_address=100, login_window=WINDOW,
                        login_lockout=LOCKOUT)
        self.fx = make_core(limits=limits, users=["alice"])

    def login(self, password, user="alice", peer=None):
        session, client = self.fx.connect()
        if peer is not None:
            client.peer = peer
        send(session, 5, {"cmd": 5, "userId": user, "password": password})
        return client

    def reply(self, client):
        replies = [body for command, body in client.take() if command == 6]
        return replies[0] if replies else None

    def test_slowed_then_refused_then_a_success_clears(self):
        for _ in range(2):
            self.assertEqual(self.reply(self.login("wrong"))["code"], 10008)
        slowed = self.login("wrong")  # 2 failures: it waits 1 s before its check
        self.assertIsNone(self.reply(slowed))
        self.fx.clock.advance(1.0)
        self.assertEqual(self.reply(slowed)["code"], 10008)
        slowed = self.login("wrong")
        self.fx.clock.advance(1.9)
        self.assertIsNone(self.reply(slowed))
        self.fx.clock.advance(0.1)
        self.assertEqual(self.reply(slowed)["code"], 10008)  # the 4th: locked out
        locked = self.reply(self.login("secret"))  # refused without waiting, right password
        self.assertEqual(locked["code"], 10008)
        self.assertIn("too many failed logins; retry in", locked["msg"] + str(locked))
        self.fx.clock.advance(LOCKOUT)
        self.assertEqual(self.reply(self.login("secret"))["code"], 10007)
        self.assertEqual(self.reply(self.login("wrong"))["code"], 10008)
        self.assertEqual(self.reply(self.login("secret"))["code"], 10007)
        self.assertEqual(self.reply(self.login("wrong"))["code"], 10008)  # cleared: 1 failure
        self.assertEqual(self.reply(self.login("secret"))["code"], 10007)  # not slowed

    def test_unknown_users_count_against_the_address(self):
        limits = Limits(login_failures_user=100, login_failures_address=2,
                        login_window=WINDOW, login_lockout=LOCKOUT)
        self.fx = make_core(limits=limits, users=["alice"])
        for name in ("u1", "u2", "u3", "u4"):
            client = self.login("x", user=name)
            self.fx.clock.advance(MAX_DELAY)
            self.assertEqual(self.reply(client)["code"], 10008)
        locked = self.reply(self.login("secret"))  # same address (the fake's 127.0.0.1)
        self.assertIn("too many failed logins", str(locked))

    def test_a_lockout_by_guesses_from_elsewhere_spares_its_user(self):
        self.assertEqual(self.reply(self.login("secret"))["code"], 10007)  # from 127.0.0.1
        for _ in range(4):  # guesses from another address lock the account
            client = self.login("wrong", peer="10.6.6.6:5000")
            self.fx.clock.advance(MAX_DELAY)
            self.assertEqual(self.reply(client)["code"], 10008)
        refused = self.reply(self.login("secret", peer="10.7.7.7:5000"))
        self.assertIn("too many failed logins", str(refused))
        self.assertEqual(self.reply(self.login("secret"))["code"], 10007)  # where she was

    def test_a_token_login_is_never_throttled(self):
        token = self.reply(self.login("secret"))["token"]
        for _ in range(4):
            client = self.login("wrong", peer="10.6.6.6:5000")
            self.fx.clock.advance(MAX_DELAY)
            self.reply(client)
        self.assertIn("retry in", str(self.reply(self.login("secret", peer="10.6.6.6:5000"))))
        session, client = self.fx.connect()
        client.peer = "10.6.6.6:5000"
        send(session, 5, {"cmd": 5, "userId": "alice", "token": token})
        self.assertEqual(self.reply(client)["code"], 10007)


class ConcurrentGuessTests(SynchronousTestCase):
    def setUp(self):
        self.runner = HeldRunner()
        limits = Limits(login_failures_user=2, login_failures_address=3, login_window=WINDOW,
                        login_lockout=LOCKOUT)
        self.fx = make_core(run=self.runner, users=["alice", "bob"], limits=limits)

    def send_all(self, count, user="alice", password="wrong"):
        clients = []
        for _ in range(count):
            session, client = self.fx.connect()
            send(session, 5, {"cmd": 5, "userId": user, "password": password})
            clients.append(client)
        return clients

    def settle(self):
        """Let every held hash and every delay run, until nothing is left waiting."""
        for _ in range(20):
            self.runner.release()
            self.fx.clock.advance(MAX_DELAY)
        self.assertEqual(self.runner.pending, [])

    def codes(self, clients):
        return [[b["code"] for c, b in client.take() if c == 6] for client in clients]

    def test_guesses_sent_at_once_are_held_to_the_account_limits(self):
        """Twelve wrong guesses at one account sent together, their hashes held: two are
        checked at a time, the rest wait their turn; once four have failed the account is
        locked, so the waiting ones are refused unchecked, and so is the right password."""
        clients = self.send_all(12)
        self.assertEqual(len(self.runner.pending), 2)
        self.assertEqual(self.codes(clients), [[]] * 12)  # nobody refused, the rest wait
        self.settle()
        # the four that lock it, and at most one more, let in while the fourth was checked
        self.assertIn(len(self.runner.calls), (4, 5))
        self.assertEqual(self.codes(clients), [[10008]] * 12)
        [locked] = [b for c, b in self.send_all(1, password="secret")[0].take() if c == 6]
        self.assertIn("too many failed logins; retry in", str(locked))

    def test_guesses_at_many_accounts_from_one_address_meet_its_limits(self):
        """Guesses at twelve accounts (one each) from one address, sent together: three are
        checked at a time; once the address has six failures it is locked."""
        clients = []
        for n in range(12):
            clients += self.send_all(1, user=f"nobody{n:02d}")
        self.assertEqual(len(self.runner.pending), 3)
        self.settle()
        self.assertLessEqual(len(self.runner.calls), 6 + 3)
        self.assertEqual(self.codes(clients), [[10008]] * 12)

    def test_right_passwords_sent_together_only_queue(self):
        """A user's twelve devices logging in at once with the right password all get in:
        the checks take turns, nobody is slowed or refused."""
        clients = self.send_all(12, password="secret")
        self.assertEqual(len(self.runner.pending), 2)
        self.settle()
        self.assertEqual(self.codes(clients), [[10007]] * 12)


    def test_a_turn_waited_for_too_long_is_refused_as_busy(self):
        """Logins that waited for their turn longer than the hashing queue lets one wait are
        refused as busy, and the next in line hears it at once."""
        clients = self.send_all(4, password="secret")
        self.fx.clock.advance(self.fx.core.accounts.passwords.max_wait + 1)
        self.runner.release()
        replies = [[b for c, b in client.take() if c == 6] for client in clients]
        self.assertEqual([r[0]["code"] for r in replies], [10007, 10007, 10008, 10008])
        for late in replies[2:]:
            self.assertIn("too many logins in progress", str(late))


class HashQueueLoginTests(SynchronousTestCase):
    def test_an_address_over_its_hashes_is_refused_at_once(self):
        runner = HeldRunner()
        fx = make_core(run=runner, users=["alice"], limits=Limits(logins_per_address=2))
        clients = []
        for _ in range(3):
            session, client = fx.connect()
            send(session, 5, {"cmd": 5, "userId": "alice", "password": "wrong"})
            clients.append(client)
        third = [body for command, body in clients[2].take() if command == 6]
        self.assertEqual(third[0]["code"], 10008)
        self.assertIn("too many logins in progress from your address", str(third[0]))
        self.assertTrue(clients[2].closes)
        runner.release()
        for client in clients[:2]:
            self.assertEqual([b["code"] for c, b in client.take() if c == 6], [10008])
        self.assertEqual(fx.passwords.pending, 0)
