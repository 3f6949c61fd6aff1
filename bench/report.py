"""docs/benchmarks.md from a run's trials: medians, ratios to the relay, targets, raw figures."""
from __future__ import annotations

import statistics
from typing import Iterable, Optional

import attrs

from scenarios import Metric, Scenario, Target
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


def verdict(target: Target, jim: dict, relay: dict) -> str:
    result = target.check(jim, relay)
    return UNKNOWN if result is None else (PASS if result else FAIL)


def per_trial(trials: Iterable[Trial], server: str, metric: Metric) -> str:
    shown = []
    for t in sorted((t for t in trials if t.server == server), key=lambda t: t.index):
        value = t.figures.get(metric.key)
        text = number(value, metric.digits) if isinstance(value, (int, float)) else "—"
        shown.append(text if t.ok else f"{text}†")
    return " · ".join(shown) or "—"


def scenario_section(outcome: Outcome, targets: Iterable[Target], relay_only: bool) -> list[str]:
    sc = outcome.scenario
    servers = ("relay",) if relay_only else ("jim", "relay")
    relay_name = "jim_relay.py" if sc.relay == "jim_relay" else "ws_relay.py"
    lines = [f"### {sc.name}", "", sc.summary, ""]
    if outcome.note:
        lines += [outcome.note, ""]
    if all(t.skipped for t in outcome.trials):
        reasons = sorted({t.problem for t in outcome.trials} - {outcome.note})
        return lines + [f"Not run: {r}" for r in reasons] + ([""] if reasons else [])
    lines += ["```", f"# ceiling ({relay_name})", outcome.relay_command]
    if not relay_only:
        lines += ["# jim", outcome.jim_command]
    lines += ["# load (per trial, against each server)", outcome.load_command, "```", ""]
    jim = medians(outcome.trials, "jim", sc.metrics)
    relay = medians(outcome.trials, "relay", sc.metrics)
    if relay_only:
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
            lines += [f"Target: {target.text} — **{verdict(target, jim, relay)}**", ""]
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
    return lines


def summary_table(outcomes: Iterable[Outcome], targets: Iterable[Target], relay_only: bool) -> list[str]:
    targets = list(targets)
    lines = ["| scenario | figure | jim | relay | jim/relay | target | result |",
             "|---|---|---:|---:|---:|---|---|"]
    for o in outcomes:
        jim = medians(o.trials, "jim", o.scenario.metrics)
        relay = medians(o.trials, "relay", o.scenario.metrics)
        mine = [t for t in targets if t.scenario == o.scenario.name]
        text = "; ".join(t.text for t in mine) or "—"
        judged = mine and not relay_only
        result = "**" + "; ".join(verdict(t, jim, relay) for t in mine) + "**" if judged else "—"
        for row, m in enumerate(o.scenario.headlines):
            jim_text = "—" if relay_only else number(jim[m.key], m.digits)
            ratio_text = "—" if relay_only else ratio(jim[m.key], relay[m.key])
            first = row == 0  # the scenario's name, target and result go on its first row only
            lines.append(f"| {o.scenario.name if first else ''} | {m.label} | {jim_text} | "
                         f"{number(relay[m.key], m.digits)} | {ratio_text} | {text if first else ''} | "
                         f"{result if first else ''} |")
    return lines


def render(info: dict, outcomes: list[Outcome], targets: Iterable[Target], relay_only: bool) -> str:
    targets = list(targets)
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` (`bench/run.py`) on {info['date']}; do not edit by hand. "
        "How the rig works and how to read it: `bench/README.md`.",
        "",
    ]
    warnings = list(info.get("warnings", ()))
    noisy = max((t.figures.get("other_cpu_pct", 0) for o in outcomes for t in o.trials), default=0)
    if noisy > NOISY_PCT:
        warnings.append(f"Other processes used up to {noisy:.0f}% of a core during some trials "
                        "(the “other processes' CPU” rows); those trials understate both servers.")
    stolen = max((t.figures.get("steal_pct", 0) for o in outcomes for t in o.trials), default=0)
    if stolen > NOISY_PCT:
        warnings.append(f"The hypervisor took up to {stolen:.0f}% of a core during some of the kept "
                        "trials (the “CPU stolen” rows); those trials understate "
                        "both servers, and open-loop latencies most.")
    if warnings:
        lines += [f"> **{w}**" for w in warnings] + [""]
    lines += ["## Summary", "", *summary_table(outcomes, targets, relay_only), "",
              f"Medians of {info['runs']} trial(s) per server; “jim/relay” divides jim's median by the "
              "relay's (above 1 is better for rates and counts, worse for latency and memory).", "",
              "## What is compared", "",
              "- **jim** writes every chat to SQLite (`synchronous=FULL`) and commits before it "
              "acknowledges it. The **relays** (`../shared/bench/jim_relay.py`, "
              "`../shared/bench/ws_relay.py`) store nothing and check nothing: they are the ceiling of "
              "Twisted on this machine, so jim's figures mean most as ratios to theirs.",
              "- jim runs with `--open-registration` (each benchmark user is created at its first "
              "login) and `--scrypt-cost 2:1:1`, which makes that one password hash per user nearly "
              "free; logins in production pay a real scrypt cost. `--rate-limit 0` turns flood "
              "control off, since one user sends thousands of chats a second here.",
              f"- The server is pinned to CPU {info['server_cpu']} and imload to CPU {info['load_cpu']} "
              "(`taskset`); every trial starts a fresh server (jim with an empty data directory on the "
              "repository's filesystem); relay and jim trials alternate; each figure is a median.",
              "", "## Machine", "", "| | |", "|---|---|"]
    for key in ("cpu", "cores", "memory", "kernel", "filesystem", "python", "twisted", "autobahn",
                "revision", "runs", "sizes", "noisy trials re-run", "duration"):
        lines.append(f"| {key} | {info.get(key, '—')} |")
    lines += ["", f"imload: `{info['imload_build']}`; raw JSON of every trial: `bench/out/<run>/` "
              "(not committed).", "", "## Scenarios", ""]
    for o in outcomes:
        lines += scenario_section(o, targets, relay_only)
    lines += ["## Reproduce", "", "```", "make bench                                   # everything, "
              "3 trials each", ".venv/bin/python bench/run.py --only pairs-tcp --runs 1   # one scenario",
              "```", "",
              "`PORT` is a free port picked per trial, `PID` the server's process id, `TMP` the trial's "
              "scratch directory. † marks a trial that failed and is left out of the medians.", ""]
    return "\n".join(lines)
