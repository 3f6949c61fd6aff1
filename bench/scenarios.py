"""What `make bench` measures: each scenario's imload arguments, the figures it reports and the
targets jim is held to. Pure data and arithmetic; no processes are started here."""
from __future__ import annotations

import math
from typing import Callable, Optional

import attrs

PAIRS, WINDOW, SIZE = 100, 20, 64
GROUP_MEMBERS, GROUP_SENDERS, GROUP_WINDOW = 50, 5, 10
HOLD_CONNECTIONS, HOLD_KIB_PER_CONN = 19_000, 16.0
DEVICES = 2  # devices-tcp: connections (devices) per user
STORM_CONNECTIONS = HOLD_CONNECTIONS  # storm-tcp: devices dropped at once (one process holds them)
STORM_SENDERS, STORM_MESSAGES = 20, 3  # storm-tcp: users sending, chats owed to each device
STORM_RUNS = 1  # storm-tcp's trials unless --runs is given: about 45 s each at full size
PERSISTED_RATIO = 0.3  # pairs-tcp msgs/s against the relay's, in the same run
FANOUT_RATIO = 0.3  # group-tcp deliveries/s against the relay's, in the same run
LATENCY_P99_MS = 10.0  # at half of the max sustainable open-loop rate (bench/sweep.py)
CROSS_NODE_RATIO = 0.5  # two-node msgs/s against single-node jim's
CROSS_NODE_P99_EXTRA_MS = 5.0  # two-node p99 at most this much above single-node jim's


@attrs.frozen
class Metric:
    """One figure read from imload's JSON output."""

    key: str
    label: str
    digits: int
    comparable: bool = True  # False: a property of the rig, not of the server; no jim/relay ratio


THROUGHPUT = Metric("msgs_per_s", "msgs/s", 0)
DELIVERIES = Metric("deliveries_per_s", "deliveries/s", 0)
P50 = Metric("p50_ms", "p50 latency (ms)", 2)
P99 = Metric("p99_ms", "p99 latency (ms)", 2)
P999 = Metric("p999_ms", "p99.9 latency (ms)", 2)
HELD = Metric("logged_in", "connections logged in at the end", 0)
KIB_PER_CONN = Metric("rss_per_conn_kb", "server RSS per connection (KiB)", 2)
RSS_BEFORE = Metric("server_rss_before_kb", "server RSS before the ramp (KiB)", 0)
RSS_AFTER = Metric("server_rss_after_kb", "server RSS while holding (KiB)", 0)
SERVER_CPU = Metric("server_cpu_pct", "server CPU (% of one core)", 0)
LOADGEN_CPU = Metric("loadgen_cpu_pct", "imload CPU (% of one core)", 0)
# Measured by the bench around each imload run: the machine's busy time that neither side used,
# and the time the hypervisor ran someone else. Both should be near 0 in a clean run.
OTHER_CPU = Metric("other_cpu_pct", "other processes' CPU (% of one core)", 0, comparable=False)
STEAL = Metric("steal_pct", "CPU stolen by the hypervisor (% of one core)", 0, comparable=False)
NOISE = (OTHER_CPU, STEAL)
# Two-node scenarios: each process's share of the server core, measured by the bench, and what
# Redis carries per second of its own CPU (the rate at which it would fill its core).
CLUSTER_CPU = Metric("server_cpu_pct", "server core: both nodes and Redis (% of one core)", 0)
NODE_A_CPU = Metric("node_a_cpu_pct", "node A CPU (% of one core)", 0, comparable=False)
NODE_B_CPU = Metric("node_b_cpu_pct", "node B CPU (% of one core)", 0, comparable=False)
REDIS_CPU = Metric("redis_cpu_pct", "Redis CPU (% of one core)", 0, comparable=False)
REDIS_RATE = Metric("chats_per_redis_cpu_s", "chats per second of Redis CPU", 0, comparable=False)
CLUSTER_FIGURES = (CLUSTER_CPU, NODE_A_CPU, NODE_B_CPU, REDIS_CPU, REDIS_RATE)
# storm-tcp: times from the moment imload closed every device connection, and what was owed
RESYNC_S = Metric("resync_seconds", "seconds from the drop to the last device synced", 2)
ACKED_S = Metric("acked_seconds", "seconds from the drop to the last ack answered", 2)
RELOGIN_S = Metric("relogin_seconds", "seconds from the drop to the last device logged in", 2)
RESYNC_RATE = Metric("resync_per_s", "devices resynced per second", 0)
OWN_P50 = Metric("own_resync_p50_ms", "one device, its reconnect to synced: p50 (ms)", 1)
OWN_P99 = Metric("own_resync_p99_ms", "one device, its reconnect to synced: p99 (ms)", 1)
RESYNCED = Metric("synced", "devices resynced", 0)
ACKED = Metric("acked", "devices whose ack moved their cursor to the last id listed", 0)
OWED = Metric("owed", "chats owed (sent to the devices, never acked)", 0)
LISTED = Metric("synced_messages", "chats listed again by the syncs", 0)
MISSING = Metric("missing", "owed chats not listed again", 0)
FIRST_LOGINS = Metric("connect_seconds", "seconds to log every device in before the storm", 1)
STORM_CPU = Metric("server_cpu_pct", "server CPU from the drop to the end (% of one core)", 0)
STORM_RSS = Metric("server_rss_after_kb", "server RSS at the end (KiB)", 0)


@attrs.frozen
class Sizes:
    """How big each run is: the full benchmark, or a quick smoke run for development."""

    messages: int
    ws_messages: int
    group_messages: int
    hold_connections: int
    hold_seconds: int
    latency_seconds: float
    devices_messages: int  # devices-tcp: chats per pair
    storm_connections: int
    sweep_seconds: float  # one step of a latency scenario's load sweep (bench/sweep.py)


FULL = Sizes(2000, 2000, 1000, HOLD_CONNECTIONS, 20, 10.0, 1000, STORM_CONNECTIONS, 4.0)
QUICK = Sizes(300, 200, 200, 2000, 3, 5.0, 200, 2000, 2.0)


@attrs.frozen
class Scenario:
    """One load shape, run against jim and against the ceiling relay for its protocol."""

    name: str
    proto: str
    relay: str  # "jim_relay" or "ws_relay"
    summary: str
    metrics: tuple[Metric, ...]
    headlines: tuple[Metric, ...]  # the figures the summary table shows
    timeout: float  # imload's --timeout for the whole run, in seconds
    imload_args: Callable[[Optional[float]], list[str]]  # offered rate (open loop) -> arguments
    open_loop: bool = False
    # 2: jim as two nodes sharing one Redis, imload's odd users on the second node; the figures
    # are compared with single-node jim's in the `baseline` scenario of the same run.
    nodes: int = 1
    baseline: Optional[str] = None
    # A hold run that loses connections exits non-zero yet its figures are the result itself.
    failed_runs_count: bool = False
    # Only jim runs it: the relays have no devices and keep no inbox. No ratio is shown; the
    # `reference` scenario's figures of the same run are quoted for scale.
    jim_only: bool = False
    reference: Optional[str] = None
    patched: bool = False  # imload's options that jim's patch adds: run by bench/imload2
    max_runs: Optional[int] = None  # trials when --runs is not given (fewer than the others')
    # an open-loop scenario that offers the rate that scenario of the same run offered (no sweep)
    same_rate_as: Optional[str] = None

    @property
    def uses_imload2(self) -> bool:
        return self.patched or self.nodes > 1

    @property
    def relay_runs(self) -> bool:
        return self.nodes == 1 and not self.jim_only


def _pairs(proto: str, messages: int) -> Callable[[Optional[float]], list[str]]:
    def build(rate: Optional[float]) -> list[str]:
        return ["pairs", "--proto", proto, "--pairs", str(PAIRS), "--messages", str(messages),
                "--window", str(WINDOW), "--size", str(SIZE)]
    return build


def latency_messages(rate: float, seconds: float) -> int:
    """Messages per pair so that the open-loop run at `rate` lasts at least `seconds`."""
    return max(1, math.ceil(seconds * rate / PAIRS))


def _open_loop(seconds: float) -> Callable[[Optional[float]], list[str]]:
    def build(rate: Optional[float]) -> list[str]:
        if rate is None or rate <= 0:
            raise ValueError("the open-loop scenario needs an offered rate")
        offered = max(1, round(rate))
        return ["pairs", "--proto", "tcp", "--pairs", str(PAIRS),
                "--messages", str(latency_messages(offered, seconds)),
                "--window", str(WINDOW), "--size", str(SIZE), "--rate", str(offered)]
    return build


def sweep_step(scenario: Scenario, seconds: float) -> Scenario:
    """The open-loop C{scenario} shortened to C{seconds} a run: one step of its load sweep
    (bench/sweep.py), recorded under its own name."""
    return attrs.evolve(scenario, name=f"{scenario.name}-sweep", imload_args=_open_loop(seconds),
                        timeout=60)


def _group(proto: str, messages: int) -> Callable[[Optional[float]], list[str]]:
    def build(rate: Optional[float]) -> list[str]:
        return ["group", "--proto", proto, "--group", "g1", "--members", str(GROUP_MEMBERS),
                "--senders", str(GROUP_SENDERS), "--messages", str(messages),
                "--window", str(GROUP_WINDOW), "--join"]
    return build


def _hold(connections: int, seconds: int) -> Callable[[Optional[float]], list[str]]:
    def build(rate: Optional[float]) -> list[str]:
        return ["hold", "--connections", str(connections), "--ramp", "5000", "--hold", str(seconds),
                "--heartbeat", "10", "--sources", "8", "--keep-going"]
    return build


def _devices(messages: int) -> Callable[[Optional[float]], list[str]]:
    def build(rate: Optional[float]) -> list[str]:
        return _pairs("tcp", messages)(rate) + ["--devices", str(DEVICES)]
    return build


def _client_ids(messages: int) -> Callable[[Optional[float]], list[str]]:
    def build(rate: Optional[float]) -> list[str]:
        return _pairs("tcp", messages)(rate) + ["--client-ids"]
    return build


def _storm(connections: int) -> Callable[[Optional[float]], list[str]]:
    def build(rate: Optional[float]) -> list[str]:
        return ["storm", "--connections", str(connections), "--senders", str(STORM_SENDERS),
                "--messages", str(STORM_MESSAGES), "--window", str(WINDOW), "--size", str(SIZE),
                "--ramp", "5000", "--sources", "8"]
    return build


def all_scenarios(sizes: Sizes) -> tuple[Scenario, ...]:
    """Every scenario, in the order they run (latency-tcp needs pairs-tcp's result first; each
    two-node scenario runs right after the single-node one it is compared with)."""
    pair_figures = (THROUGHPUT, P50, P99, SERVER_CPU, LOADGEN_CPU, *NOISE)
    group_figures = (DELIVERIES, P50, P99, SERVER_CPU, LOADGEN_CPU, *NOISE)
    latency_figures = (P50, P99, P999, THROUGHPUT, SERVER_CPU, LOADGEN_CPU, *NOISE)
    two_nodes = ("Two jim nodes share one Redis (store and bus); imload's even users connect to "
                 "node A, its odd users to node B")
    return (
        Scenario("pairs-tcp", "tcp", "jim_relay",
                 "1:1 chat over J-IM TCP framing, closed loop: 100 pairs, at most 20 chats per pair "
                 "not yet delivered; throughput counted at the receivers.",
                 pair_figures, (THROUGHPUT,), 180, _pairs("tcp", sizes.messages)),
        Scenario("pairs-tcp-2nodes", "tcp", "jim_relay",
                 f"pairs-tcp across a cluster. {two_nodes}, so every sender is on A and its "
                 "receiver on B: each chat is stored in Redis and crosses the bus.",
                 (THROUGHPUT, P50, P99, *CLUSTER_FIGURES, LOADGEN_CPU, *NOISE), (THROUGHPUT,), 180,
                 _pairs("tcp", sizes.messages), nodes=2, baseline="pairs-tcp"),
        Scenario("latency-tcp", "tcp", "jim_relay",
                 "1:1 chat, open loop at half of the highest rate jim sustained in a load sweep (see "
                 "below), offered identically to both servers; latency counts from the intended send "
                 "time (no coordinated omission).",
                 latency_figures, (P99,), 120, _open_loop(sizes.latency_seconds), open_loop=True),
        Scenario("latency-tcp-2nodes", "tcp", "jim_relay",
                 f"latency-tcp across a cluster, open loop at half of the highest rate the cluster "
                 f"sustained in a load sweep of its own (its half load), and compared with "
                 f"single-node jim offered the same rate (latency-tcp-same-load). {two_nodes}.",
                 (P50, P99, P999, THROUGHPUT, *CLUSTER_FIGURES, LOADGEN_CPU, *NOISE), (P99,), 180,
                 _open_loop(sizes.latency_seconds), open_loop=True, nodes=2,
                 baseline="latency-tcp-same-load"),
        Scenario("latency-tcp-same-load", "tcp", "jim_relay",
                 "Single-node jim offered the rate latency-tcp-2nodes offered the cluster, so "
                 "that crossing nodes is judged at the same offered load (the reference's "
                 "T6-cluster). Only jim runs it; latency-tcp is single-node jim at its own half "
                 "load.",
                 latency_figures, (P99,), 120, _open_loop(sizes.latency_seconds), open_loop=True,
                 jim_only=True, reference="latency-tcp", same_rate_as="latency-tcp-2nodes"),
        Scenario("group-tcp", "tcp", "jim_relay",
                 "Group fan-out over TCP: 50 members join one group, 5 of them send; a chat counts "
                 "once all 49 other members received it.",
                 group_figures, (DELIVERIES,), 120, _group("tcp", sizes.group_messages)),
        Scenario("group-tcp-2nodes", "tcp", "jim_relay",
                 f"group-tcp across a cluster. {two_nodes}, so members alternate between the nodes "
                 "and each chat crosses the bus once, to the other node.",
                 (DELIVERIES, P50, P99, *CLUSTER_FIGURES, LOADGEN_CPU, *NOISE), (DELIVERIES,), 120,
                 _group("tcp", sizes.group_messages), nodes=2, baseline="group-tcp"),
        Scenario("pairs-ws", "ws", "ws_relay",
                 "pairs-tcp over WebSocket text frames carrying the same J-IM JSON.",
                 pair_figures, (THROUGHPUT,), 240, _pairs("ws", sizes.ws_messages)),
        Scenario("group-ws", "ws", "ws_relay",
                 "group-tcp over WebSocket.",
                 group_figures, (DELIVERIES,), 120, _group("ws", sizes.group_messages)),
        Scenario("devices-tcp", "tcp", "jim_relay",
                 f"Multi-device 1:1 chat over TCP: pairs-tcp with each user logged in on {DEVICES} "
                 "connections, each a device of its own (`deviceId` d0, d1). A chat from user 2k's "
                 "first connection reaches both connections of 2k+1 and the other one of 2k "
                 "(multi-device sync): three pushes a chat, and a chat leaves its pair's window of 20 "
                 "once all three arrived. msgs/s counts chats, deliveries/s every push. Only jim runs "
                 "it (the relays know no devices): there is no relay ratio.",
                 (THROUGHPUT, DELIVERIES, P50, P99, SERVER_CPU, LOADGEN_CPU, *NOISE),
                 (THROUGHPUT, DELIVERIES), 180, _devices(sizes.devices_messages),
                 jim_only=True, reference="pairs-tcp", patched=True),
        Scenario("ids-tcp", "tcp", "jim_relay",
                 "pairs-tcp with a client id of its own in every chat (`\"id\"`, as browser and SDK "
                 "clients send one): each chat is checked for a resend before it is stored. Only jim "
                 "runs it (the relays ignore the id): there is no relay ratio.",
                 pair_figures, (THROUGHPUT,), 180, _client_ids(sizes.messages),
                 jim_only=True, reference="pairs-tcp", patched=True),
        Scenario("hold-tcp", "tcp", "jim_relay",
                 "Idle logged-in TCP connections: ramp at 5,000/s from 8 source addresses, hold with "
                 "10 s heartbeats, then count who is still logged in and the server's RSS growth.",
                 (HELD, KIB_PER_CONN, RSS_BEFORE, RSS_AFTER, SERVER_CPU, *NOISE), (HELD, KIB_PER_CONN),
                 sizes.hold_seconds + 120, _hold(sizes.hold_connections, sizes.hold_seconds),
                 failed_runs_count=True),
        Scenario("storm-tcp", "tcp", "jim_relay",
                 f"Reconnect storm: {sizes.storm_connections:,} devices log in over TCP (`\"acks\":true`, "
                 "a `deviceId` each; ramp 5,000/s from 8 source addresses), then "
                 f"{STORM_SENDERS} more users send each device {STORM_MESSAGES} chats, pushed to it and "
                 "never acknowledged. imload then closes every device connection at once; each "
                 "reconnects (256 connects and logins in flight), logs in again with the token of its "
                 "first login, syncs (cmd 101 until `more` is false) and acknowledges what it was "
                 "listed (cmd 103). A chat owed and not listed again, listed twice or not the "
                 "device's fails the trial. Only jim runs it (the relays keep no inbox).",
                 (RESYNC_S, ACKED_S, RELOGIN_S, RESYNC_RATE, OWN_P50, OWN_P99, RESYNCED, ACKED, OWED,
                  LISTED, MISSING, FIRST_LOGINS, STORM_CPU, STORM_RSS, LOADGEN_CPU, *NOISE),
                 (RESYNC_S, MISSING), 300, _storm(sizes.storm_connections),
                 failed_runs_count=True, jim_only=True, patched=True, max_runs=STORM_RUNS),
    )


@attrs.frozen
class Target:
    """A figure jim must reach; `check` gets jim's and the relay's medians (dicts by metric key),
    or, for a two-node scenario, the cluster's and single-node jim's."""

    scenario: str
    text: str
    check: Callable[[dict, dict], Optional[bool]]
    figure: Optional[Metric] = None  # shown next to the verdict, both sides, for two-node targets
    every_trial: bool = False  # judged on each of jim's counted trials, not on the medians


def _ratio_at_least(key: str, floor: float) -> Callable[[dict, dict], Optional[bool]]:
    def check(jim: dict, relay: dict) -> Optional[bool]:
        if jim.get(key) is None or not relay.get(key):
            return None
        return jim[key] / relay[key] >= floor
    return check


def _p99_below(limit_ms: float) -> Callable[[dict, dict], Optional[bool]]:
    def check(jim: dict, relay: dict) -> Optional[bool]:
        return None if jim.get("p99_ms") is None else jim["p99_ms"] < limit_ms
    return check


def _p99_within(extra_ms: float) -> Callable[[dict, dict], Optional[bool]]:
    def check(jim: dict, single: dict) -> Optional[bool]:
        if jim.get("p99_ms") is None or single.get("p99_ms") is None:
            return None
        return jim["p99_ms"] <= single["p99_ms"] + extra_ms
    return check


def _held(connections: int, kib: float) -> Callable[[dict, dict], Optional[bool]]:
    def check(jim: dict, relay: dict) -> Optional[bool]:
        if jim.get("logged_in") is None or jim.get("rss_per_conn_kb") is None:
            return None
        return jim["logged_in"] >= connections and jim["rss_per_conn_kb"] < kib
    return check


def _resynced(devices: int) -> Callable[[dict, dict], Optional[bool]]:
    def check(jim: dict, relay: dict) -> Optional[bool]:
        if any(jim.get(k) is None for k in ("synced", "acked", "missing")):
            return None
        return jim["synced"] >= devices and jim["acked"] >= devices and jim["missing"] == 0
    return check


def all_targets(sizes: Sizes) -> tuple[Target, ...]:
    held = sizes.hold_connections
    return (
        Target("pairs-tcp", f"persisted msgs/s ≥ {PERSISTED_RATIO:.0%} of the relay's",
               _ratio_at_least("msgs_per_s", PERSISTED_RATIO)),
        Target("latency-tcp", f"p99 < {LATENCY_P99_MS:g} ms at the offered rate (half of jim's max "
               "sustainable rate unless --latency-rate)",
               _p99_below(LATENCY_P99_MS)),
        Target("group-tcp", f"deliveries/s ≥ {FANOUT_RATIO:.0%} of the relay's",
               _ratio_at_least("deliveries_per_s", FANOUT_RATIO)),
        Target("pairs-tcp-2nodes", f"cross-node msgs/s ≥ {CROSS_NODE_RATIO:g} × single-node "
               "jim's pairs-tcp", _ratio_at_least("msgs_per_s", CROSS_NODE_RATIO), THROUGHPUT),
        Target("latency-tcp-2nodes", f"cross-node p99 ≤ single-node jim's p99 at the same offered "
               f"rate (latency-tcp-same-load) + {CROSS_NODE_P99_EXTRA_MS:g} ms",
               _p99_within(CROSS_NODE_P99_EXTRA_MS), P99),
        Target("hold-tcp", f"{held:,} connections held at < {HOLD_KIB_PER_CONN:g} KiB each",
               _held(held, HOLD_KIB_PER_CONN)),
        Target("storm-tcp", f"all {sizes.storm_connections:,} devices resynced and acked every chat "
               "they were owed, in every trial", _resynced(sizes.storm_connections), every_trial=True),
    )
