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


class SharedRatesTests(unittest.TestCase):
    """Nodes of a cluster tell one another what they charged, so a limit holds for the
    cluster: L{ChatRates.take_usage} on one node, L{ChatRates.debit} on the others."""

    def setUp(self):
        self.clock = Clock()

    def flood(self, nodes, seconds, per_step, share):
        """Every node offers C{per_step} chats of ann's each 50 ms; every second (when
        C{share}) each node's usage is debited on the others. How many went in all."""
        sent = 0
        for step in range(int(seconds / 0.05)):
            self.clock.advance(0.05)
            sent += sum(allowed(node, per_step) for node in nodes)
            if share and step % 20 == 19:
                usages = [node.take_usage() for node in nodes]
                for node in nodes:
                    for other, usage in zip(nodes, usages):
                        if other is not node:
                            node.debit(usage)
        return sent

    def test_two_nodes_hold_a_user_to_its_rate_across_both(self):
        shared = [ChatRates(self.clock, 10, 0, 0, shared=True) for _ in range(2)]
        alone = [ChatRates(self.clock, 10, 0, 0) for _ in range(2)]
        went = self.flood(shared, 10, 2, share=True)
        # 10 a second for 10 s, the two nodes' first bursts (20 each), and at most a
        # report's worth (10) on each node before the other hears of it
        self.assertGreaterEqual(went, 100)
        self.assertLessEqual(went, 100 + 2 * 20 + 2 * 10)
        self.assertGreaterEqual(self.flood(alone, 10, 2, share=False), 2 * (100 + 20) - 4,
                                "without sharing each node gives its own rate and burst")

    def test_usage_names_what_was_charged_once_then_nothing(self):
        node = ChatRates(self.clock, 10, 100, 1000, shared=True)
        allowed(node, 3, user="ann", address="10.0.0.1")
        allowed(node, 2, user="bob", address="10.0.0.1")
        self.assertEqual(sorted(node.take_usage()), [
            ("address", "10.0.0.1", "", 5), ("app", "app", "", 5), ("user", "app", "ann", 3),
            ("user", "app", "bob", 2)])
        self.assertEqual(node.take_usage(), ())

    def test_a_node_alone_or_without_limits_reports_nothing(self):
        for node in (ChatRates(self.clock, 10, 0, 0), ChatRates(self.clock, 0, 0, 0,
                                                                 shared=True)):
            allowed(node, 5)
            self.assertEqual(node.take_usage(), ())

    def test_a_report_names_the_busiest_buckets_when_there_are_too_many(self):
        self.patch(rates, "SHARE_MOST", 2)
        node = ChatRates(self.clock, 100, 0, 0, shared=True)
        for user, count in (("ann", 1), ("bob", 5), ("cid", 3)):
            allowed(node, count, user=user)
        self.assertEqual(sorted(node.take_usage()), [("user", "app", "bob", 5),
                                                     ("user", "app", "cid", 3)])

    def test_a_debit_refuses_here_what_was_sent_elsewhere_and_is_repaid_in_time(self):
        node = ChatRates(self.clock, 10, 0, 0, shared=True)
        node.debit((("user", "app", "ann", 25), ("address", "10.0.0.9", "", 5)))
        self.assertEqual(allowed(node, 5), 0, "20 of burst less 25: owed, refused")
        self.clock.advance(1.0)  # -5 + 10
        self.assertEqual(allowed(node, 20), 5)
        self.assertEqual(allowed(node, 20, user="bob"), 20, "others were not debited")

    def test_a_debit_owes_at_most_a_burst(self):
        node = ChatRates(self.clock, 10, 0, 0, shared=True)
        node.debit((("user", "app", "ann", 10_000),))
        self.clock.advance(2.0)  # from -20 back to 0
        self.assertEqual(allowed(node, 5), 0)
        self.clock.advance(1.0)
        self.assertEqual(allowed(node, 20), 10)
