"""Process-wide counters, gauges and one latency histogram, rendered in Prometheus text format
(with the garbage collector's own counters).

Plain attributes and dicts: incrementing a counter on the hot path costs one addition.
"""
from jim import collector

#: bucket upper bounds for the store commit latency histogram, in seconds
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    """What ``GET /metrics`` reports."""

    def __init__(self):
        self.connections = {}  # protocol -> open connections
        self.connections_total = {}  # protocol -> connections accepted since start
        self.logins = 0
        self.login_failures = 0
        self.messages_in = 0  # chats accepted and stored
        self.messages_out = 0  # pushes of a chat written to a connection
        self.bad_input = 0  # frames or requests refused as malformed
        self.commit_buckets = [0] * (len(COMMIT_BUCKETS) + 1)
        self.commit_sum = 0.0
        self.commit_count = 0
        self.commit_rows = 0

    def connection_opened(self, protocol):
        self.connections[protocol] = self.connections.get(protocol, 0) + 1
        self.connections_total[protocol] = self.connections_total.get(protocol, 0) + 1

    def connection_closed(self, protocol):
        self.connections[protocol] = self.connections.get(protocol, 0) - 1

    def observe_commit(self, seconds, rows):
        """Record one store commit of C{rows} writes that took C{seconds}."""
        i = 0
        for bound in COMMIT_BUCKETS:
            if seconds <= bound:
                break
            i += 1
        self.commit_buckets[i] += 1
        self.commit_sum += seconds
        self.commit_count += 1
        self.commit_rows += rows

    def render(self):
        """The Prometheus text exposition (version 0.0.4) of every metric."""
        out = []

        def head(name, kind, text):
            out.append(f"# HELP {name} {text}")
            out.append(f"# TYPE {name} {kind}")

        head("jim_connections", "gauge", "Open client connections by protocol.")
        for proto in ("tcp", "ws", "http"):
            out.append(f'jim_connections{{protocol="{proto}"}} {self.connections.get(proto, 0)}')
        head("jim_connections_total", "counter", "Client connections accepted by protocol.")
        for proto in ("tcp", "ws", "http"):
            n = self.connections_total.get(proto, 0)
            out.append(f'jim_connections_total{{protocol="{proto}"}} {n}')
        head("jim_logins_total", "counter", "Successful logins.")
        out.append(f"jim_logins_total {self.logins}")
        head("jim_login_failures_total", "counter", "Refused logins.")
        out.append(f"jim_login_failures_total {self.login_failures}")
        head("jim_messages_in_total", "counter", "Chat messages accepted and stored.")
        out.append(f"jim_messages_in_total {self.messages_in}")
        head("jim_messages_out_total", "counter", "Chat pushes written to connections.")
        out.append(f"jim_messages_out_total {self.messages_out}")
        head("jim_bad_input_total", "counter", "Frames or requests refused as malformed.")
        out.append(f"jim_bad_input_total {self.bad_input}")
        head("jim_store_commit_seconds", "histogram", "Latency of store commits.")
        cumulative = 0
        for bound, n in zip(COMMIT_BUCKETS, self.commit_buckets):
            cumulative += n
            out.append(f'jim_store_commit_seconds_bucket{{le="{bound}"}} {cumulative}')
        cumulative += self.commit_buckets[-1]
        out.append(f'jim_store_commit_seconds_bucket{{le="+Inf"}} {cumulative}')
        out.append(f"jim_store_commit_seconds_sum {self.commit_sum:.6f}")
        out.append(f"jim_store_commit_seconds_count {self.commit_count}")
        head("jim_store_commit_rows_total", "counter", "Rows written by store commits.")
        out.append(f"jim_store_commit_rows_total {self.commit_rows}")
        head("jim_gc_collections_total", "counter", "Garbage collector passes by generation.")
        passes = collector.stats()
        for generation, collections, _ in passes:
            out.append(f'jim_gc_collections_total{{generation="{generation}"}} {collections}')
        head("jim_gc_collected_total", "counter", "Objects the garbage collector freed.")
        for generation, _, collected in passes:
            out.append(f'jim_gc_collected_total{{generation="{generation}"}} {collected}')
        head("jim_gc_frozen_objects", "gauge", "Objects exempted from garbage collection.")
        out.append(f"jim_gc_frozen_objects {collector.frozen()}")
        return "\n".join(out) + "\n"
