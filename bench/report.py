"""docs/benchmarks.md from a run's trials: medians, ratios to the relay, targets, raw figures."""
from __future__ import annotations

import statistics
from typing import Iterable, Mapping, Optional

import attrs

from redis_capacity import BATCHES, chats_per_s
from scenarios import THROUGHPUT, Metric, Scenario, Target
from sweep import BISECTIONS, STEPS, SUSTAINED_DELIVERED, SUSTAINED_P99_MS, Sweep
from trials import Trial

PASS, FAIL, UNKNOWN = "PASS", "FAIL", "n/a"
NOISY_PCT = 25  # % of a core used by other processes during a trial: warned about, re-run


@attrs.frozen
class Outcome:
    """What the run produced for one scenario."""

    scenario: Scenario
    trials: tuple[Trial, ...]
    relay_command: str
    jim_command: str
    load_command: str
    note: str = ""
    sweep: Optional[Sweep] = None  # the load sweep that chose an open-loop scenario's rate
    rate: Optional[float] = None  # the rate an open-loop scenario offered


def medians(trials: Iterable[Trial], server: str, metrics: Iterable[Metric]) -> dict:
    valid = [t.figures for t in trials if t.server == server and t.ok]
    result = {}
    for m in metrics:
        values = [f[m.key] for f in valid if isinstance(f.get(m.key), (int, float))]
        result[m.key] = statistics.median(values) if values else None
    return result


def number(value: Optional[float], digits: int) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def ratio(jim: Optional[float], relay: Optional[float]) -> str:
    if jim is None or not relay:
        return "—"
    return f"{jim / relay:.2f}"


def verdict(target: Target, jim: dict, relay: dict, trials: Iterable[Trial] = ()) -> str:
    if target.every_trial:  # each of jim's trials must pass; one without figures fails
        judged = [t for t in trials if t.server == "jim" and not t.skipped]
        if not judged:
            return UNKNOWN
        return PASS if all(t.figures and target.check(t.figures, {}) for t in judged) else FAIL
    result = target.check(jim, relay)
    return UNKNOWN if result is None else (PASS if result else FAIL)


def per_trial(trials: Iterable[Trial], server: str, metric: Metric) -> str:
    shown = []
    for t in sorted((t for t in trials if t.server == server), key=lambda t: t.index):
        value = t.figures.get(metric.key)
        text = number(value, metric.digits) if isinstance(value, (int, float)) else "—"
        shown.append(text if t.ok else f"{text}†")
    return " · ".join(shown) or "—"


def compared(outcome: Outcome, by_name: Mapping[str, Outcome]) -> tuple[dict, dict, tuple[Trial, ...], str]:
    """jim's medians, and those of what it is compared with: the relay of the same scenario, or,
    for a two-node scenario, single-node jim in its baseline scenario of the same run; then that
    side's trials and server name."""
    sc = outcome.scenario
    jim = medians(outcome.trials, "jim", sc.metrics)
    if sc.nodes > 1:
        base = by_name.get(sc.baseline or "")
        trials = base.trials if base else ()
        return jim, medians(trials, "jim", sc.metrics), trials, "jim"
    return jim, medians(outcome.trials, "relay", sc.metrics), outcome.trials, "relay"


def _versus_single_node(outcome: Outcome, by_name: Mapping[str, Outcome]) -> list[str]:
    sc = outcome.scenario
    jim, single, base_trials, _ = compared(outcome, by_name)
    lines = ["| figure | 2 nodes median | single-node jim median | 2 nodes / single-node | "
             "2 nodes per trial | single-node jim per trial |", "|---|---:|---:|---:|---|---|"]
    for m in sc.metrics:
        lines.append(f"| {m.label} | {number(jim[m.key], m.digits)} | {number(single[m.key], m.digits)} | "
                     f"{ratio(jim[m.key], single[m.key]) if m.comparable else '—'} | "
                     f"{per_trial(outcome.trials, 'jim', m)} | "
                     f"{per_trial(base_trials, 'jim', m) if single[m.key] is not None else '—'} |")
    if not base_trials:
        lines += ["", f"({sc.baseline} was not run, so there is nothing to compare with.)"]
    return lines


def _jim_alone(outcome: Outcome, by_name: Mapping[str, Outcome]) -> list[str]:
    """A scenario only jim runs: its figures, and its reference scenario's for scale (no ratio)."""
    sc = outcome.scenario
    jim = medians(outcome.trials, "jim", sc.metrics)
    lines = ["| figure | jim median | jim per trial |", "|---|---:|---|"]
    for m in sc.metrics:
        lines.append(f"| {m.label} | {number(jim[m.key], m.digits)} | {per_trial(outcome.trials, 'jim', m)} |")
    ref = by_name.get(sc.reference or "")
    if ref is not None:
        shown = [m for m in sc.headlines if m in ref.scenario.metrics]
        ref_jim = medians(ref.trials, "jim", shown)
        ref_relay = medians(ref.trials, "relay", shown)
        parts = [f"jim {number(ref_jim[m.key], m.digits)}"
                 + (f", relay {number(ref_relay[m.key], m.digits)}" if ref_relay[m.key] is not None else "")
                 + f" {m.label}" for m in shown if ref_jim[m.key] is not None]
        if parts:
            lines += ["", f"For scale, {ref.scenario.name} in this run (no ratio is taken: the loads "
                      f"differ): {'; '.join(parts)} (medians)."]
    return lines


def scenario_section(outcome: Outcome, targets: Iterable[Target], relay_only: bool,
                     by_name: Mapping[str, Outcome]) -> list[str]:
    sc = outcome.scenario
    relay_name = "jim_relay.py" if sc.relay == "jim_relay" else "ws_relay.py"
    lines = [f"### {sc.name}", "", sc.summary, ""]
    if outcome.note:
        lines += [outcome.note, ""]
    if outcome.sweep:
        lines += sweep_table(outcome.sweep, sc)
    if all(t.skipped for t in outcome.trials):
        reasons = sorted({t.problem for t in outcome.trials} - {outcome.note})
        return lines + [f"Not run: {r}" for r in reasons] + ([""] if reasons else [])
    if sc.nodes > 1:
        lines += ["```", outcome.jim_command, "# load (per trial)", outcome.load_command, "```", ""]
    elif not sc.relay_runs:
        lines += ["```", "# jim", outcome.jim_command, "# load (per trial)", outcome.load_command, "```", ""]
    else:
        lines += ["```", f"# ceiling ({relay_name})", outcome.relay_command]
        if not relay_only:
            lines += ["# jim", outcome.jim_command]
        lines += ["# load (per trial, against each server)", outcome.load_command, "```", ""]
    jim, relay, _, _ = compared(outcome, by_name)
    if sc.nodes > 1:
        lines += _versus_single_node(outcome, by_name)
    elif not sc.relay_runs:
        lines += _jim_alone(outcome, by_name)
    elif relay_only:
        lines += ["| figure | relay median | relay per trial |", "|---|---:|---|"]
        for m in sc.metrics:
            lines.append(f"| {m.label} | {number(relay[m.key], m.digits)} | "
                         f"{per_trial(outcome.trials, 'relay', m)} |")
    else:
        lines += ["| figure | jim median | relay median | jim/relay | jim per trial | relay per trial |",
                  "|---|---:|---:|---:|---|---|"]
        for m in sc.metrics:
            lines.append(f"| {m.label} | {number(jim[m.key], m.digits)} | {number(relay[m.key], m.digits)} | "
                         f"{ratio(jim[m.key], relay[m.key]) if m.comparable else '—'} | "
                         f"{per_trial(outcome.trials, 'jim', m)} | "
                         f"{per_trial(outcome.trials, 'relay', m)} |")
    lines.append("")
    for target in targets:
        if target.scenario == sc.name and not relay_only:
            lines += [f"Target: {target.text} — **{verdict(target, jim, relay, outcome.trials)}**"
                      f"{_both(target, jim, relay)}", ""]
    problems = [t for t in outcome.trials if t.problem and (t.server == "relay" or not relay_only)]
    if problems:
        lines += ["Problems:", ""]
        for t in sorted(problems, key=lambda t: (t.index, t.server)):
            counted = "" if t.skipped else (" (counted)" if t.ok else " (†, left out of the medians)")
            lines.append(f"- trial {t.index} {t.server}{counted}: {t.problem}")
            # imload's chatter is worth showing only when the trial failed or the server broke.
            if t.detail and (not t.ok or "--- server log ---" in t.detail):
                lines += ["", "  ```", *("  " + d for d in t.detail.splitlines()), "  ```"]
        lines.append("")
    failed_steps = [(n, s) for n, s in enumerate(outcome.sweep.steps if outcome.sweep else (), 1)
                    if s.trial.problem]
    if failed_steps:  # a step's problem may be the server's, not the load's: shown in full
        lines += ["Problems in the load sweep:", ""]
        for n, s in failed_steps:
            lines.append(f"- step {n} ({s.rate:,.0f} msgs/s): {s.trial.problem}")
            if s.trial.detail:
                lines += ["", "  ```", *("  " + d for d in s.trial.detail.splitlines()), "  ```"]
        lines.append("")
    return lines


def _all_trials(outcomes: Iterable[Outcome]) -> list[Trial]:
    """Every trial of the run: the scenarios' and their load sweeps' steps."""
    return [t for o in outcomes
            for t in (*o.trials, *(s.trial for s in (o.sweep.steps if o.sweep else ())))]


def sweep_table(found: Sweep, scenario: Scenario) -> list[str]:
    """The load sweep behind an open-loop scenario's rate: every step, sustained or not."""
    server = found.steps[0].trial.server if found.steps else "jim"
    fresh = ("cluster (Redis and both nodes)" if scenario.nodes > 1
             else "relay" if server == "relay" else "jim")
    calibration = "pairs-tcp-2nodes" if scenario.nodes > 1 else "pairs-tcp"
    fractions = ", ".join(f"{f:g}" for f in STEPS)
    lines = [f"Load sweep: one {scenario.name}-shaped open-loop run per step (shorter: the "
             f"command below with `--messages` for a few seconds), each against a fresh {fresh}, "
             f"at {fractions} × {calibration}'s median rate of this run "
             f"({found.closed_rate:,.0f} msgs/s), lowest first, then {BISECTIONS} halvings of the "
             "gap between the highest rate sustained and the lowest not. A step is sustained when "
             f"nothing failed or was logged as an error and its delivered msgs/s (imload's: chats "
             "divided by the time from the first due send to the last delivery) is at least "
             f"{SUSTAINED_DELIVERED:.0%} of the offered rate, with p99 ≤ {SUSTAINED_P99_MS:g} ms; a "
             "step not sustained is run once more. The scenario's trials then offer half of the "
             "highest rate sustained. Server CPU is no measure of load in open loop: a server "
             "that handles what a read brings together spends what it has on smaller batches.", "",
             "| offered msgs/s | delivered msgs/s | p50 (ms) | p99 (ms) | p99.9 (ms) | server CPU (%) "
             "| imload CPU (%) | others' CPU, stolen (%) | sustained |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for step in found.steps:
        f = step.trial.figures
        shown = [number(f.get(k) if isinstance(f.get(k), (int, float)) else None, d)
                 for k, d in (("msgs_per_s", 0), ("p50_ms", 2), ("p99_ms", 2), ("p999_ms", 2),
                              ("server_cpu_pct", 0), ("loadgen_cpu_pct", 0))]
        shown.append(f"{number(f.get('other_cpu_pct'), 0)}, {number(f.get('steal_pct'), 0)}")
        lines.append(f"| {step.rate:,.0f} | {' | '.join(shown)} | "
                     f"{'yes' if step.sustained else 'no: ' + step.unsustained} |")
    lines.append("")
    if found.stopped:
        lines += [f"The sweep ended there: {found.stopped}.", ""]
    elif found.knee is not None:
        lines += ["Every step was sustained: the open-loop capacity may be higher still, and the "
                  "offered rate is at most half of it.", ""]
    return lines


def _both(target: Target, jim: dict, other: dict) -> str:
    """The two figures a two-node target compares, exactly."""
    m = target.figure
    if m is None or jim.get(m.key) is None or other.get(m.key) is None:
        return ""
    shown = f" (2 nodes {number(jim[m.key], m.digits)}, single-node {number(other[m.key], m.digits)}"
    if m.key.endswith("_ms"):
        shown += f"; {jim[m.key] - other[m.key]:+,.2f} ms"
    elif other[m.key]:
        shown += f"; ratio {jim[m.key] / other[m.key]:.3f}"
    return shown + ")"


def summary_table(outcomes: Iterable[Outcome], targets: Iterable[Target], relay_only: bool,
                  by_name: Mapping[str, Outcome], two_nodes: bool = False) -> list[str]:
    """The headline figures of the single-node scenarios (jim against the relay), or of the
    two-node ones (against single-node jim)."""
    targets = list(targets)
    head = ("| scenario | figure | 2 nodes | single-node jim | 2 nodes / single-node | target | result |"
            if two_nodes else "| scenario | figure | jim | relay | jim/relay | target | result |")
    lines = [head, "|---|---|---:|---:|---:|---|---|"]
    for o in outcomes:
        if (o.scenario.nodes > 1) != two_nodes:
            continue
        jim, relay, _, _ = compared(o, by_name)
        mine = [t for t in targets if t.scenario == o.scenario.name]
        text = "; ".join(t.text for t in mine) or "—"
        judged = mine and not relay_only
        result = "**" + "; ".join(verdict(t, jim, relay, o.trials) for t in mine) + "**" if judged else "—"
        for row, m in enumerate(o.scenario.headlines):
            jim_text = "—" if relay_only else number(jim[m.key], m.digits)
            ratio_text = "—" if relay_only else ratio(jim[m.key], relay[m.key])
            first = row == 0  # the scenario's name, target and result go on its first row only
            lines.append(f"| {o.scenario.name if first else ''} | {m.label} | {jim_text} | "
                         f"{number(relay[m.key], m.digits)} | {ratio_text} | {text if first else ''} | "
                         f"{result if first else ''} |")
    return lines


def redis_section(info: dict, outcomes: list[Outcome]) -> list[str]:
    """What one Redis carries: its CPU per chat in the two-node runs, and Redis alone under
    redis-benchmark; then how the design would shard past one Redis."""
    runs = [o for o in outcomes if o.scenario.nodes > 1 and any(t.ok for t in o.trials)]
    capacity = info.get("redis_capacity") or {}
    if not runs and not capacity:
        return []
    fsync = info.get("redis_fsync", "everysec")
    lines = ["## How far one Redis carries", "",
             f"Redis {info.get('redis', '?')}, started per trial with `--appendonly yes --appendfsync "
             f"{fsync}`, no RDB snapshots and no automatic AOF rewrite (no fork during a trial), pinned "
             "to the server core with both jim nodes.", "",
             "| measured | chats/s | Redis CPU (% of one core) | chats/s that would fill Redis's core |",
             "|---|---:|---:|---:|"]
    for o in runs:
        m = medians(o.trials, "jim", (*o.scenario.metrics, THROUGHPUT))  # group runs: chats/s too
        lines.append(f"| {o.scenario.name}: jim's own commands, medians | {number(m.get('msgs_per_s'), 0)} | "
                     f"{number(m.get('redis_cpu_pct'), 0)} | {number(m.get('chats_per_redis_cpu_s'), 0)} |")
    for batch in BATCHES:
        per = "one chat per command" if batch == 1 else f"{batch} chats per command"
        for what, text in (("append", "the message-append script"),
                           ("publish", "PUBLISH of the delivery, one subscriber")):
            run = capacity.get(f"{what}-{batch}", {})
            chats, cpu = (None, None) if run.get("error") else (run.get("chats_per_s"), run.get("redis_cpu_pct"))
            full = chats * 100 / cpu if chats and cpu else None
            lines.append(f"| redis-benchmark, {per}: {text} | {number(chats, 0)} | {number(cpu, 0)} | "
                         f"{number(full, 0)} |")
        both = chats_per_s(capacity, batch)
        if both:
            lines.append(f"| redis-benchmark, {per}: both, one after the other (1 / (1/append + "
                         f"1/publish)) | {number(both, 0)} | | |")
    lines.append("")
    if capacity.get("error"):
        lines += [f"redis-benchmark: {capacity['error']}", ""]
    given, expected = capacity.get("ids_given"), capacity.get("ids_expected")
    if expected and (given or 0) < expected:  # redis-benchmark may send a pipeline's worth more
        lines += [f"> **The append runs stored {given or 0:,} chats, fewer than the {expected:,} "
                  "they sent: the script failed, so their figures are not Redis's cost.**", ""]
    for name, run in capacity.items():
        if isinstance(run, dict) and run.get("error"):
            lines += [f"> **redis-benchmark {name}: {run['error']}; its figures do not count.**", ""]
    pairs = next((o for o in runs if o.scenario.name == "pairs-tcp-2nodes"), None)
    own = medians(pairs.trials, "jim", pairs.scenario.metrics) if pairs else {}
    benchmarked = [(b, chats_per_s(capacity, b)) for b in BATCHES if chats_per_s(capacity, b)]
    said = []
    if own.get("chats_per_redis_cpu_s") and own.get("redis_cpu_pct"):
        said.append(f"at about **{own['chats_per_redis_cpu_s']:,.0f} cross-node 1:1 chats/s** with the "
                    f"commands jim sent in pairs-tcp-2nodes (Redis used {own['redis_cpu_pct']:.0f}% of "
                    f"a core for {number(own.get('msgs_per_s'), 0)} chats/s; this assumes its cost per "
                    "chat stays what it was)")
    if benchmarked:
        said.append("driven to its limit by redis-benchmark, at " + ", ".join(
            f"{rate:,.0f} with {b} chat{'s' if b > 1 else ''} per command" for b, rate in benchmarked))
    if said:
        lines += ["Where one Redis core fills up: " + "; ".join(said) + ". jim batches what waits for "
                  "Redis (an app's appends in one script call, a reactor turn's deliveries to a node "
                  "in one PUBLISH), so the more chats queue up, the less each costs Redis. A group "
                  "chat costs Redis one append and one PUBLISH per other node, whatever the group's "
                  "size. The “chats per second of Redis CPU” of a two-node run divides its chats by "
                  "all of Redis's CPU during the run, logins included.", ""]
    shares = [own.get(k) for k in ("server_cpu_pct", "node_a_cpu_pct", "node_b_cpu_pct", "redis_cpu_pct")]
    if None not in shares:
        total, a, b, redis = shares
        limit = (" The two Python nodes, not Redis, were the cluster's limit here."
                 if total >= 90 and redis < (a + b) / 2 else "")
        lines += [f"In pairs-tcp-2nodes the server core was {total:.0f}% busy: node A {a:.0f}%, "
                  f"node B {b:.0f}%, Redis {redis:.0f}% (medians).{limit}", ""]
    shown = [capacity[f"{w}-1"]["command"] for w in ("append", "publish") if capacity.get(f"{w}-1", {}).get("command")]
    if shown:
        lines += ["```", *shown, "```", "",
                  "redis-benchmark runs once, after the two-node scenarios, against its own fresh "
                  "Redis with the same options, pinned to the server core, while it runs pinned to "
                  "the load core: 50 connections, 16 commands pipelined on each, the append script "
                  "loaded first with `SCRIPT LOAD`, one subscriber (a socket that reads and drops) "
                  "listening to the channel. The arguments are those jim's store and bus code make for a 64-byte "
                  "chat (the hex after EVALSHA is the SHA-1 of jim's append script); `u__rand_int__` spreads the chats over 100 "
                  "conversations. The runs with more chats per command send the same append with "
                  "that many chats in it, and a PUBLISH of that many delivery lines. "
                  "A report whose append runs stored fewer chats than they sent says so.", ""]
    lines += ["### Past one Redis", "",
              "- **Store.** Every key of an app is named `jim:{APP}:…`: the app is a Redis Cluster hash "
              "tag, so all of one app's keys fall in one hash slot and every script, which touches "
              "one app's keys only, runs on one shard. A Redis Cluster, or several Redises with "
              "apps assigned to them, splits the store by app. One app's chats stay on one shard "
              "(its message ids come from one counter), so the figures above are also the ceiling of "
              "a single app. The few keys outside any app (`jim:app:*`, `jim:apps*`, `jim:shared:*`) "
              "are written together by the app scripts and would need a common hash tag of their own.",
              "- **Bus.** Deliveries go to one channel per node (`jim:bus:NODE`); kicks, cache "
              "invalidations and presence to `jim:bus`. On a Redis Cluster a plain PUBLISH reaches "
              "every shard; sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`, Redis 7) keeps each node's "
              "channel on the one shard its name hashes to, so delivery traffic would spread over "
              "the shards with the nodes, and only `jim:bus` would still reach all of them.",
              "- **Not there yet.** jim's Redis client talks to one Redis (or the master Sentinel "
              "names), not to a Redis Cluster, and the bus uses PUBLISH: both would change first.",
              ""]
    return lines


def _durability(fsync: str) -> str:
    if fsync == "always":
        return ("With `appendfsync always` Redis fsyncs each batch of writes before it answers, "
                "as single-node jim's SQLite commits do.")
    return (f"With `appendfsync {fsync}` Redis answers before its AOF reaches the disk (about a "
            "second of acknowledged chats can be lost on power loss), a weaker promise than "
            "single-node jim's `synchronous=FULL` commits.")


def _fewer_trials(info: dict, outcomes: Iterable[Outcome]) -> str:
    """The scenarios that ran fewer trials than the others (a long one, when --runs is not given)."""
    fewer = []
    for o in outcomes:
        ran = len({t.index for t in o.trials if t.server == "jim" and not t.skipped})
        if o.scenario.max_runs is not None and 0 < ran < info["runs"]:
            fewer.append(f"{o.scenario.name} {ran}")
    if not fewer:
        return ""
    return f" ({', '.join(fewer)}, a long scenario, unless `--runs` is given)"


def render(info: dict, outcomes: list[Outcome], targets: Iterable[Target], relay_only: bool) -> str:
    targets = list(targets)
    by_name = {o.scenario.name: o for o in outcomes}
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` (`bench/run.py`) on {info['date']}; do not edit by hand. "
        "How the rig works and how to read it: `bench/README.md`.",
        "",
    ]
    warnings = list(info.get("warnings", ()))
    noisy = max((t.figures.get("other_cpu_pct", 0) for t in _all_trials(outcomes)), default=0)
    if noisy > NOISY_PCT:
        warnings.append(f"Other processes used up to {noisy:.0f}% of a core during some trials "
                        "(the “other processes' CPU” rows); those trials understate both servers.")
    stolen = max((t.figures.get("steal_pct", 0) for t in _all_trials(outcomes)), default=0)
    if stolen > NOISY_PCT:
        warnings.append(f"The hypervisor took up to {stolen:.0f}% of a core during some of the kept "
                        "trials (the “CPU stolen” rows); those trials understate "
                        "both servers, and open-loop latencies most.")
    if warnings:
        lines += [f"> **{w}**" for w in warnings] + [""]
    lines += ["## Summary", "", *summary_table(outcomes, targets, relay_only, by_name), "",
              f"Medians of {info['runs']} trial(s) per server{_fewer_trials(info, outcomes)}; “jim/relay” "
              "divides jim's median by the relay's (above 1 is better for rates and counts, worse for "
              "latency and memory).", ""]
    if any(o.scenario.nodes > 1 for o in outcomes):
        lines += ["Two jim nodes on one Redis, against single-node jim (SQLite) of the same run:", "",
                  *summary_table(outcomes, targets, relay_only, by_name, two_nodes=True), ""]
    lines += [
              "## What is compared", "",
              "- **jim** writes every chat to SQLite (`synchronous=FULL`) and commits before it "
              "acknowledges it. The **relays** (`../shared/bench/jim_relay.py`, "
              "`../shared/bench/ws_relay.py`) store nothing and check nothing: they are the ceiling of "
              "Twisted on this machine, so jim's figures mean most as ratios to theirs.",
              "- jim runs with `--open-registration` (each benchmark user is created at its first "
              "login) and `--scrypt-cost 2:1:1`, which makes that one password hash per user nearly "
              "free; logins in production pay a real scrypt cost. `--rate-limit 0`, `--user-rate 0`, "
              "`--address-rate 0` and `--app-rate 0` turn flood control off, since one user sends "
              "hundreds of chats a second here, all from one address.",
              f"- The server is pinned to CPU {info['server_cpu']} and imload to CPU {info['load_cpu']} "
              "(`taskset`); every trial starts a fresh server (jim with an empty data directory on the "
              "repository's filesystem); relay and jim trials alternate; each figure is a median."]
    if any(o.scenario.nodes > 1 for o in outcomes):
        lines += [f"- **Two nodes** (`*-2nodes`): a fresh `redis-server` (AOF, `appendfsync "
                  f"{info.get('redis_fsync', 'everysec')}`, no automatic AOF rewrite, in the trial's "
                  "directory on the same filesystem) and two jim nodes with the single-node options plus `--store "
                  f"redis://…`, all three pinned to CPU {info['server_cpu']}, the core single-node "
                  "jim has to itself: the cluster gets the same hardware, not more. imload2 (imload "
                  "with jim's options, here `--port2`) puts even users on node A and odd users on node "
                  "B. These trials "
                  "run right after the single-node scenario they are compared with, and only jim "
                  "runs in them. " + _durability(info.get("redis_fsync", "everysec"))]
    alone = [o.scenario.name for o in outcomes if o.scenario.nodes == 1 and not o.scenario.relay_runs]
    if alone:
        lines += [f"- **jim alone** ({', '.join(f'`{n}`' for n in alone)}): the relays know no devices, "
                  "keep no inbox and ignore client ids, so only jim runs these, driven by imload2 "
                  "(imload with jim's options: `--devices`, `--client-ids`, the `storm` mode), and "
                  "their figures stand alone, with no ratio. `devices-tcp` and `ids-tcp` quote "
                  "`pairs-tcp` of the same run for scale."]
    lines += ["", "## Machine", "", "| | |", "|---|---|"]
    keys = ["cpu", "cores", "memory", "kernel", "filesystem", "python", "twisted", "autobahn",
            "revision", "runs", "sizes", "noisy trials re-run", "duration"]
    if any(o.scenario.nodes > 1 for o in outcomes):
        keys[8:8] = ["redis", "redis_fsync"]
    for key in keys:
        lines.append(f"| {key.replace('_', ' ')} | {info.get(key, '—')} |")
    lines += ["", f"imload: `{info['imload_build']}`"]
    if any(o.scenario.uses_imload2 for o in outcomes):
        lines += ["", f"imload2: `{info.get('imload2_build', '')}` (`TMP` a scratch directory)"]
    lines += ["", "Raw JSON of every trial: `bench/out/<run>/` (not committed).", "", "## Scenarios", ""]
    for o in outcomes:
        lines += scenario_section(o, targets, relay_only, by_name)
    lines += redis_section(info, outcomes)
    lines += ["## Reproduce", "", "```", "make bench                                   # everything, "
              "3 trials each", ".venv/bin/python bench/run.py --only pairs-tcp --runs 1   # one scenario",
              ".venv/bin/python bench/run.py --only devices,storm        # multi-device, reconnect storm",
              ".venv/bin/python bench/run.py --only pairs-tcp,ids-tcp    # the resend check's cost",
              "```", "",
              "`PORT` is a free port picked per trial, `PID` the server's process id, `TMP` the trial's "
              "scratch directory. † marks a trial that failed and is left out of the medians.", ""]
    return "\n".join(lines)
