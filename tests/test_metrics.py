"""The /metrics exposition: jim's plain counters, read by prometheus-client at scrape time."""
import unittest

from prometheus_client.parser import text_string_to_metric_families

from jim.metrics import Metrics
from tests.support.fakes import make_core


def samples(metrics):
    """{(sample name, frozenset of labels): value} of one scrape."""
    out = {}
    for family in text_string_to_metric_families(metrics.render()):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


class MetricsTests(unittest.TestCase):
    def test_counters_are_read_at_scrape_time(self):
        metrics = Metrics()
        self.assertEqual(samples(metrics)[("jim_messages_in_total", frozenset())], 0)
        metrics.messages_in += 3
        metrics.deliveries += 5
        found = samples(metrics)
        self.assertEqual(found[("jim_messages_in_total", frozenset())], 3)
        self.assertEqual(found[("jim_deliveries_total", frozenset())], 5)

    def test_connections_by_protocol(self):
        metrics = Metrics()
        metrics.connection_opened("tcp")
        metrics.connection_opened("tcp")
        metrics.connection_closed("tcp")
        found = samples(metrics)
        self.assertEqual(found[("jim_connections", frozenset({("protocol", "tcp")}))], 1)
        self.assertEqual(
            found[("jim_connections_accepted_total", frozenset({("protocol", "tcp")}))], 2)

    def test_events_and_refusals_by_label(self):
        metrics = Metrics()
        metrics.count_event("members_added", 4)
        metrics.count_event("members_added", 1)
        metrics.count_refusal("blacklisted")
        found = samples(metrics)
        self.assertEqual(found[("jim_events_total", frozenset({("kind", "members_added")}))], 5)
        self.assertEqual(
            found[("jim_policy_refusals_total", frozenset({("reason", "blacklisted")}))], 1)

    def test_rest_calls_by_route_status_and_latency(self):
        metrics = Metrics()
        metrics.observe_route("GET /v1/users", 200, 0.003)
        metrics.observe_route("GET /v1/users", 200, 20.0)
        metrics.observe_route("GET /v1/users", 403, 0.0001)
        found = samples(metrics)
        route = ("route", "GET /v1/users")
        self.assertEqual(found[("jim_rest_requests_total",
                                frozenset({route, ("status", "200")}))], 2)
        self.assertEqual(found[("jim_rest_requests_total",
                                frozenset({route, ("status", "403")}))], 1)
        self.assertEqual(found[("jim_rest_request_seconds_bucket",
                                frozenset({route, ("le", "0.001")}))], 1)
        self.assertEqual(found[("jim_rest_request_seconds_bucket",
                                frozenset({route, ("le", "0.005")}))], 2)
        self.assertEqual(found[("jim_rest_request_seconds_bucket",
                                frozenset({route, ("le", "+Inf")}))], 3)
        self.assertAlmostEqual(found[("jim_rest_request_seconds_sum", frozenset({route}))],
                               20.0031)

    def test_commit_histogram(self):
        metrics = Metrics()
        metrics.observe_commit(0.0004, 10)
        metrics.observe_commit(2.0, 1)
        found = samples(metrics)
        self.assertEqual(found[("jim_store_commit_seconds_bucket",
                                frozenset({("le", "0.0005")}))], 1)
        self.assertEqual(found[("jim_store_commit_seconds_bucket",
                                frozenset({("le", "+Inf")}))], 2)
        self.assertEqual(found[("jim_store_commit_seconds_count", frozenset())], 2)
        self.assertEqual(found[("jim_store_commit_rows_total", frozenset())], 11)

    def test_each_metric_is_described_once(self):
        text = Metrics().render()
        helps = [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")]
        self.assertEqual(len(helps), len(set(helps)))


class CallbackMetricsTests(unittest.TestCase):
    def test_callbacks_by_app(self):
        metrics = Metrics()
        metrics.callback_posts[("app1", "ok")] = 3
        metrics.callback_posts[("app1", "refused")] = 1
        metrics.callback_dropped["app1"] = 7
        metrics.callback_backlog["app1"] = 42
        found = samples(metrics)
        app = ("app", "app1")
        self.assertEqual(found[("jim_callback_posts_total",
                                frozenset({app, ("outcome", "ok")}))], 3)
        self.assertEqual(found[("jim_callback_posts_total",
                                frozenset({app, ("outcome", "refused")}))], 1)
        self.assertEqual(found[("jim_callback_dropped_total", frozenset({app}))], 7)
        self.assertEqual(found[("jim_callback_backlog", frozenset({app}))], 42)


class SignedInTests(unittest.TestCase):
    def test_logged_in_connections_by_protocol_are_counted_at_scrape_time(self):
        fx = make_core(users=("alice", "bob", "carol"))
        found = samples(fx.metrics)
        self.assertEqual(found[("jim_sessions", frozenset({("protocol", "tcp")}))], 0)
        alice, _ = fx.login("alice")
        fx.login("bob", terminal="ws")
        fx.login("carol", terminal="ws")
        fx.connect("tcp")  # not logged in: not counted
        found = samples(fx.metrics)
        self.assertEqual(found[("jim_sessions", frozenset({("protocol", "tcp")}))], 1)
        self.assertEqual(found[("jim_sessions", frozenset({("protocol", "ws")}))], 2)
        alice.close("bye")
        found = samples(fx.metrics)
        self.assertEqual(found[("jim_sessions", frozenset({("protocol", "tcp")}))], 0)
