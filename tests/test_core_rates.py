"""Chat rates per user, per address and per app (L{jim.core.rates.ChatRates})."""
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.trial import unittest

from jim import errors
from jim.core import rates
from jim.core.rates import ChatRates


def allowed(limiter, count, app="app", user="ann", address="10.0.0.1"):
    """How many of C{count} chats at this instant may go."""
    return sum(limiter.charge(app, user, address) is None for _ in range(count))


class ChatRatesTests(unittest.TestCase):
    def setUp(self):
        self.clock = Clock()

    def test_a_user_has_a_burst_of_two_seconds_then_the_rate(self):
        limiter = ChatRates(self.clock, 10, 0, 0)
        self.assertEqual(allowed(limiter, 50), 20)
        self.clock.advance(0.5)
        self.assertEqual(allowed(limiter, 50), 5)
        self.clock.advance(10)
        self.assertEqual(allowed(limiter, 50), 20, "never more than the burst")

    def test_the_refusal_says_which_limit_and_is_rate_limited(self):
        for kind, limits in (("user ann", (1, 0, 0)), ("address 10.0.0.1", (0, 1, 0)),
                             ("app app", (0, 0, 1))):
            limiter = ChatRates(self.clock, *limits)
            allowed(limiter, 2)
            refusal = limiter.charge("app", "ann", "10.0.0.1")
            self.assertEqual(refusal.code, errors.RATE_LIMITED)
            self.assertIn(kind, refusal.detail)

    def test_users_share_their_address_and_app_but_not_their_own_limit(self):
        limiter = ChatRates(self.clock, 5, 12, 0)
        self.assertEqual(allowed(limiter, 20, user="ann"), 10)
        self.assertEqual(allowed(limiter, 20, user="bob"), 10)
        self.assertEqual(allowed(limiter, 20, user="cid"), 4, "the address has 24 in all")
        self.assertEqual(allowed(limiter, 20, user="dan", address="10.0.0.2"), 10)

    def test_a_refused_chat_uses_up_no_other_limit(self):
        limiter = ChatRates(self.clock, 3, 100, 0)  # ann's own 6 run out first
        self.assertEqual(allowed(limiter, 10, user="ann"), 6)
        # the address was charged for the 6 that went, not the 4 refused: 194 of 200 left
        others = sum(allowed(limiter, 6, user=f"user{n}") for n in range(40))
        self.assertEqual(others, 194)

    def test_zero_switches_a_limit_off(self):
        limiter = ChatRates(self.clock, 0, 0, 0)
        self.assertFalse(limiter.enabled)
        self.assertEqual(allowed(limiter, 10_000), 10_000)
        self.assertEqual(len(limiter), 0, "nothing is kept when nothing is limited")

    def test_idle_buckets_are_forgotten_as_the_table_grows(self):
        self.patch(rates, "SWEEP_AT", 100)
        limiter = ChatRates(self.clock, 5, 0, 0)
        for n in range(99):
            limiter.charge("app", f"user{n}", "a")
        self.clock.advance(rates.BURST_SECONDS)
        limiter.charge("app", "latecomer", "a")  # the hundredth: a sweep
        self.assertEqual(len(limiter), 1)
        for n in range(1000):
            self.clock.advance(0.01)
            limiter.charge("app", f"other{n}", "a")
        # 100 new users a second, each idle after 2 s: about 200 live buckets, and a sweep
        # whenever the table reaches twice what the last sweep left
        self.assertLessEqual(len(limiter), 2 * 201, "bounded by the live ones, not the users seen")

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.tuples(st.floats(0, 1.5), st.sampled_from(["ann", "bob"]),
                              st.sampled_from(["10.0.0.1", "10.0.0.2"])), max_size=60),
           st.integers(1, 5), st.integers(0, 8), st.integers(0, 8))
    def test_matches_a_reference_model(self, chats, user_rate, address_rate, app_rate):
        clock = Clock()
        limiter = ChatRates(clock, user_rate, address_rate, app_rate)
        model = {}  # key -> (tokens, when)

        def level(key, rate, now):
            tokens, when = model.get(key, (2.0 * rate, now))
            return min(2.0 * rate, tokens + (now - when) * rate)

        for pause, user, address in chats:
            clock.advance(pause)
            now = clock.seconds()
            keys = [(("u", user), user_rate), (("a", address), address_rate),
                    (("app",), app_rate)]
            levels = [(key, rate, level(key, rate, now)) for key, rate in keys if rate]
            expected = all(tokens >= 1.0 for _, _, tokens in levels)
            if expected:
                for key, _, tokens in levels:
                    model[key] = (tokens - 1.0, now)
            got = limiter.charge("app", user, address) is None
            self.assertEqual(got, expected, (pause, user, address))
