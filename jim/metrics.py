# -*- test-case-name: tests.test_metrics -*-
"""Process-wide counters, gauges and histograms, and their Prometheus exposition.

The hot path only adds to plain attributes and dicts of L{Metrics} (one addition, no lock, no
label lookup); ``prometheus-client`` renders them at scrape time through L{JimCollector}, a
custom collector that reads them as they are then.
"""
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from jim import collector

#: bucket upper bounds for the store commit latency histogram, in seconds
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
#: bucket upper bounds for REST call latency, in seconds
ROUTE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
PROTOCOLS = ("tcp", "ws", "http")


def _bucket(bounds, seconds):
    """The index of the first bucket of C{bounds} that C{seconds} fits, len(bounds) if none."""
    i = 0
    for bound in bounds:
        if seconds <= bound:
            break
        i += 1
    return i


class Metrics:
    """What ``GET /metrics`` reports."""

    def __init__(self):
        self.connections = {}  # protocol -> open connections
        self.connections_total = {}  # protocol -> connections accepted since start
        self.logins = 0
        self.login_failures = 0
        self.messages_in = 0  # messages accepted and stored
        self.messages_out = 0  # message pushes handed to local connections
        self.bad_input = 0  # frames or requests refused as the client's fault
        self.deliveries = 0  # messages and events handed to local connections
        self.bus_values = 0  # values published on the bus
        self.events = {}  # event kind -> recipients it was sent to
        self.refusals = {}  # neutral code -> messages the policy step refused
        self.route_calls = {}  # (route, HTTP status) -> REST calls
        self.route_seconds = {}  # route -> [count per ROUTE_BUCKETS bucket and +Inf, sum]
        self.commit_buckets = [0] * (len(COMMIT_BUCKETS) + 1)
        self.commit_sum = 0.0
        self.commit_count = 0
        self.commit_rows = 0
        self.callback_posts = {}  # (app, outcome) -> POSTs to the app's callback URL
        self.callback_dropped = {}  # app -> backlog items dropped (the backlog was full)
        self.callback_backlog = {}  # app -> backlog items waiting, as this node last counted
        #: None, or a callable answering {protocol: logged-in connections of this node}, read
        #: at each scrape (the core sets it)
        self.signed_in = None
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(JimCollector(self))

    def connection_opened(self, protocol):
        self.connections[protocol] = self.connections.get(protocol, 0) + 1
        self.connections_total[protocol] = self.connections_total.get(protocol, 0) + 1

    def connection_closed(self, protocol):
        self.connections[protocol] = self.connections.get(protocol, 0) - 1

    def observe_commit(self, seconds, rows):
        """Record one store commit of C{rows} writes that took C{seconds}."""
        self.commit_buckets[_bucket(COMMIT_BUCKETS, seconds)] += 1
        self.commit_sum += seconds
        self.commit_count += 1
        self.commit_rows += rows

    def observe_route(self, route, status, seconds):
        """One REST call of C{route} answered with C{status} after C{seconds}."""
        key = (route, status)
        self.route_calls[key] = self.route_calls.get(key, 0) + 1
        buckets = self.route_seconds.get(route)
        if buckets is None:
            buckets = self.route_seconds[route] = [0] * (len(ROUTE_BUCKETS) + 1) + [0.0]
        buckets[_bucket(ROUTE_BUCKETS, seconds)] += 1
        buckets[-1] += seconds

    def count_event(self, kind, recipients):
        self.events[kind] = self.events.get(kind, 0) + recipients

    def count_refusal(self, code):
        self.refusals[code] = self.refusals.get(code, 0) + 1

    def render(self):
        """The Prometheus text exposition (version 0.0.4) of every metric."""
        return generate_latest(self.registry).decode("utf-8")


def _buckets(bounds, counts):
    """prometheus-client's cumulative C{[(upper bound, count), ...]} of per-bucket counts
    (one per bound, then the +Inf one)."""
    cumulative, buckets = 0, []
    for bound, n in zip(bounds, counts):
        cumulative += n
        buckets.append((repr(float(bound)), cumulative))
    buckets.append(("+Inf", cumulative + counts[len(bounds)]))
    return buckets


class JimCollector:
    """Reads a L{Metrics} at scrape time (prometheus-client's custom collector protocol)."""

    def __init__(self, metrics):
        self.metrics = metrics

    def collect(self):
        m = self.metrics
        gauge = GaugeMetricFamily("jim_connections", "Open client connections by protocol.",
                                  labels=["protocol"])
        total = CounterMetricFamily("jim_connections_accepted", "Client connections accepted"
                                    " by protocol.", labels=["protocol"])
        for protocol in PROTOCOLS:
            gauge.add_metric([protocol], m.connections.get(protocol, 0))
            total.add_metric([protocol], m.connections_total.get(protocol, 0))
        yield gauge
        yield total
        if m.signed_in is not None:
            signed_in = m.signed_in()
            sessions = GaugeMetricFamily("jim_sessions", "Logged-in client connections by"
                                         " protocol.", labels=["protocol"])
            for protocol in ("tcp", "ws"):
                sessions.add_metric([protocol], signed_in.get(protocol, 0))
            yield sessions
        for name, text, value in (
            ("jim_logins", "Successful logins.", m.logins),
            ("jim_login_failures", "Refused logins.", m.login_failures),
            ("jim_messages_in", "Messages accepted and stored.", m.messages_in),
            ("jim_messages_out", "Message pushes handed to connections.", m.messages_out),
            ("jim_bad_input", "Frames or requests refused as the client's fault.", m.bad_input),
            ("jim_deliveries", "Messages and events handed to connections of this node.",
             m.deliveries),
            ("jim_bus_values", "Values published on the bus by this node.", m.bus_values),
        ):
            yield CounterMetricFamily(name, text, value=value)
        events = CounterMetricFamily("jim_events", "Event deliveries published, by kind.",
                                     labels=["kind"])
        for kind, n in sorted(m.events.items()):
            events.add_metric([kind], n)
        yield events
        refusals = CounterMetricFamily("jim_policy_refusals", "Messages the policy step"
                                       " refused, by reason.", labels=["reason"])
        for code, n in sorted(m.refusals.items()):
            refusals.add_metric([code], n)
        yield refusals
        yield from _callback_families(m)
        calls = CounterMetricFamily("jim_rest_requests", "REST API calls by route and HTTP"
                                    " status.", labels=["route", "status"])
        for (route, status), n in sorted(m.route_calls.items()):
            calls.add_metric([route, str(status)], n)
        yield calls
        seconds = HistogramMetricFamily("jim_rest_request_seconds", "REST API call latency"
                                        " by route.", labels=["route"])
        for route, counts in sorted(m.route_seconds.items()):
            seconds.add_metric([route], _buckets(ROUTE_BUCKETS, counts), counts[-1])
        yield seconds
        commits = HistogramMetricFamily("jim_store_commit_seconds", "Latency of store commits.")
        commits.add_metric([], _buckets(COMMIT_BUCKETS, m.commit_buckets), m.commit_sum)
        yield commits
        yield CounterMetricFamily("jim_store_commit_rows", "Rows written by store commits.",
                                  value=m.commit_rows)
        passes = collector.stats()
        collections = CounterMetricFamily("jim_gc_collections", "Garbage collector passes by"
                                          " generation.", labels=["generation"])
        collected = CounterMetricFamily("jim_gc_collected", "Objects the garbage collector"
                                        " freed.", labels=["generation"])
        for generation, n, freed in passes:
            collections.add_metric([str(generation)], n)
            collected.add_metric([str(generation)], freed)
        yield collections
        yield collected
        yield GaugeMetricFamily("jim_gc_frozen_objects", "Objects exempted from garbage"
                                " collection.", value=collector.frozen())


def _callback_families(m):
    """The callbacks to app servers (docs/callbacks.md)."""
    posts = CounterMetricFamily("jim_callback_posts", "POSTs to app servers' callback URLs,"
                                " by app and outcome.", labels=["app", "outcome"])
    for (app, outcome), n in sorted(m.callback_posts.items()):
        posts.add_metric([app, outcome], n)
    dropped = CounterMetricFamily("jim_callback_dropped", "Callback items dropped from a full"
                                  " backlog, by app.", labels=["app"])
    for app, n in sorted(m.callback_dropped.items()):
        dropped.add_metric([app], n)
    backlog = GaugeMetricFamily("jim_callback_backlog", "Callback items waiting, by app, as"
                                " this node last counted them.", labels=["app"])
    for app, n in sorted(m.callback_backlog.items()):
        backlog.add_metric([app], n)
    return posts, dropped, backlog
