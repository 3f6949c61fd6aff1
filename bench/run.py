"""`make bench`: jim against the raw-relay ceilings, written to docs/benchmarks.md.

Each scenario runs N trials per server, relay and jim alternating, each trial against a fresh
server pinned to one core while imload drives it from the other. See bench/README.md.

    python bench/run.py                        # everything, 3 trials each -> docs/benchmarks.md
    python bench/run.py --only pairs,hold --runs 1
    python bench/run.py --quick --relay-only   # a smoke run of the harness against the relays
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import attrs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import cluster  # noqa: E402
import redis_capacity  # noqa: E402
from imload_build import (IMLOAD2_BUILD, IMLOAD2_SHOWN, IMLOAD_BUILD, IMLOAD_SHOWN,  # noqa: E402
                          SHARED_SHOWN, build_imload, build_imload2)
from procs import Children, Paths, choose_cpus, raise_fd_limit, settle  # noqa: E402
from report import NOISY_PCT, Outcome, render  # noqa: E402
from scenarios import FULL, QUICK, Scenario, Sizes, all_scenarios, all_targets, sweep_step  # noqa: E402
from sweep import Step, Sweep, run_sweep  # noqa: E402
from trials import Rig, Trial, commands, run_trial, skipped  # noqa: E402

QUIET_CORES = 0.15  # other processes' load, in cores, below which a trial may start


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, help="trials per scenario and server (default 3; 1 with --quick)")
    p.add_argument("--only", default="", help="comma-separated scenarios: names (pairs-tcp), "
                   "stems (pairs, hold), protocols (tcp, ws) or 2nodes (the two-node ones, with the "
                   "single-node ones they are compared with)")
    p.add_argument("--quick", action="store_true", help="small runs, 1 trial: a smoke test")
    p.add_argument("--relay-only", action="store_true", help="run only the ceiling relays")
    p.add_argument("--latency-rate", type=float, help="offered msgs/s for the latency scenarios, "
                   "without a load sweep (default: half of the highest rate the sweep finds sustained)")
    p.add_argument("--output", type=Path, help="report path (default: docs/benchmarks.md for a full "
                   "run, else bench/out/<run>/benchmarks.md)")
    p.add_argument("--max-minutes", type=float, default=40.0,
                   help="skip trials that would start after this much time (default 40)")
    p.add_argument("--settle", type=float, default=20.0, help="seconds to wait, at most, before each "
                   "trial for other processes to leave the CPUs alone (default 20)")
    p.add_argument("--retry-noisy", type=int, default=1, help="times to re-run a trial during which "
                   f"other processes or the hypervisor took over {NOISY_PCT}%% of a core (default 1)")
    p.add_argument("--redis-fsync", choices=("everysec", "always"), default="everysec",
                   help="appendfsync of the two-node scenarios' Redis (default everysec)")
    p.add_argument("--render", type=Path, metavar="RUN_DIR", help="only write the report again from "
                   "a finished run's bench/out/<run>/run.json (to try a change to the report)")
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "bench",
                   help="directory holding imload.c and the relays (default ../shared/bench)")
    p.add_argument("--python", default=default_python(), help="interpreter for the servers")
    args = p.parse_args(argv)
    args.runs_given = args.runs is not None  # else a scenario may run fewer (Scenario.max_runs)
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.runs < 1:
        p.error("--runs must be at least 1")
    return args


def default_python() -> str:
    """The project's virtualenv: this interpreter when it is one, else the repository's .venv."""
    if sys.prefix != sys.base_prefix:
        return sys.executable
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _words(s: Scenario) -> tuple[str, ...]:
    """What --only may call a scenario: its name, its stem, its protocol, 2nodes if it is one."""
    return (s.name, s.name.split("-")[0], s.proto) + (("2nodes",) if s.nodes > 1 else ())


def select(scenarios: tuple[Scenario, ...], only: str) -> list[Scenario]:
    """The scenarios --only names, in run order, with what they need: latency-tcp takes its rate
    from pairs-tcp and latency-tcp-2nodes from pairs-tcp-2nodes, a two-node scenario is
    compared with its single-node baseline, and a scenario that offers another's rate needs
    that one."""
    wanted = {w.strip() for w in only.split(",") if w.strip()}
    unknown = {w for w in wanted if not any(w in _words(s) for s in scenarios)}
    if unknown:
        raise SystemExit(f"bench: unknown scenario(s): {', '.join(sorted(unknown))}")
    names = {s.name for s in scenarios if not wanted or wanted & set(_words(s))}
    names |= {s.same_rate_as for s in scenarios if s.name in names and s.same_rate_as}
    if any(s.name in names and s.open_loop and s.nodes > 1 for s in scenarios):
        names.add("pairs-tcp-2nodes")  # a cluster's latency takes its rate from its pairs rate
    for s in scenarios:
        if s.name in names and s.baseline:
            names.add(s.baseline)
    return [s for s in scenarios if s.name in names]


def shown_python(python: str) -> str:
    try:
        return str(Path(python).relative_to(ROOT))  # keep the venv's own name, not the resolved one
    except ValueError:
        return "python3"


def machine_info(args: argparse.Namespace, rig: Rig, sizes: Sizes) -> dict:
    probe = ("import platform, twisted, autobahn; print(platform.python_implementation(), "
             "platform.python_version()); print(twisted.__version__); print(autobahn.__version__)")
    out = subprocess.run([args.python, "-c", probe], capture_output=True, text=True).stdout.splitlines()
    python, twisted, autobahn = (out + ["?", "?", "?"])[:3]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _mem_total(),
        "kernel": f"{platform.system()} {platform.release()}",
        "filesystem": _filesystem(),
        "python": python,
        "twisted": twisted,
        "autobahn": autobahn,
        "revision": _revision(),
        "runs": args.runs,
        "sizes": "quick (smoke test)" if sizes is QUICK else "full",
        "server_cpu": rig.server_cpu if rig.server_cpu is not None else "(unpinned)",
        "load_cpu": rig.load_cpu if rig.load_cpu is not None else "(unpinned)",
        "imload_build": IMLOAD_BUILD,
        "imload2_build": IMLOAD2_BUILD,
        "redis": _redis_version(),
        "redis_fsync": rig.redis_fsync,
        "warnings": [],
    }


def _redis_version() -> str:
    if shutil.which("redis-server") is None:
        return "(not installed)"
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    words = [w for w in out.split() if w.startswith("v=")]
    return words[0][2:] if words else out.strip() or "?"


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _mem_total() -> str:
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "?"


def _filesystem() -> str:
    done = subprocess.run(["stat", "-f", "-c", "%T", str(ROOT)], capture_output=True, text=True)
    return done.stdout.strip() or "?"


def _revision() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "(no commit yet)"


def latency_load(args: argparse.Namespace, rig: Rig, children: Children, scenario: Scenario,
                 outcomes: list[Outcome], sizes: Sizes,
                 deadline: float) -> tuple[Optional[float], str, Optional[Sweep]]:
    """The rate an open-loop scenario offers: half of the highest rate its server sustains in a
    load sweep (bench/sweep.py) whose steps are fractions of the calibrating server's median
    closed-loop rate (pairs-tcp, or pairs-tcp-2nodes for the cluster): jim's, or the relay's if
    relay-only. Then the note the report shows, and the sweep."""
    if args.latency_rate:
        return args.latency_rate, f"Offered rate: {args.latency_rate:,.0f} msgs/s (given with --latency-rate).", None
    server = "relay" if args.relay_only else "jim"
    name = "pairs-tcp-2nodes" if scenario.nodes > 1 else "pairs-tcp"
    pairs = next((o for o in outcomes if o.scenario.name == name), None)
    rates = [t.figures["msgs_per_s"] for t in (pairs.trials if pairs else ())
             if t.server == server and t.ok and t.figures.get("msgs_per_s")]
    if not rates:
        return None, f"Skipped: no successful {server} {name} trial to take the rate from.", None
    closed = statistics.median(rates)
    step = sweep_step(scenario, sizes.sweep_seconds)
    found = run_sweep(lambda index, rate: one_trial(args, rig, children, step, server, index, rate,
                                                    0), closed, deadline)
    who = "the cluster" if scenario.nodes > 1 else server
    if found.knee is None and found.steps and found.steps[-1].sustained is False \
            and "budget" not in found.stopped:
        return None, f"Skipped: {who} sustained none of the load sweep's rates.", found
    if found.knee is None:
        return None, "Skipped: the run's time budget was spent during the load sweep.", found
    rate = found.knee / 2
    both = ", offered identically to both servers" if scenario.relay_runs and not args.relay_only else ""
    return rate, (f"Offered rate: {rate:,.0f} msgs/s, half of the highest open-loop rate {who} "
                  f"sustained in the load sweep below ({found.knee:,.0f} msgs/s){both}."), found


def same_rate(scenario: Scenario, outcomes: list[Outcome]) -> tuple[Optional[float], str]:
    """The rate the scenario C{scenario.same_rate_as} offered in this run, and the note."""
    other = next((o for o in outcomes if o.scenario.name == scenario.same_rate_as), None)
    if other is None or other.rate is None:
        return None, f"Skipped: {scenario.same_rate_as} offered no rate in this run."
    return other.rate, (f"Offered rate: {other.rate:,.0f} msgs/s, the rate {scenario.same_rate_as} "
                        "offered in this run.")


def run_scenario(args, rig: Rig, children: Children, scenario: Scenario, rate: Optional[float],
                 note: str, deadline: float, trials: list[Trial]) -> int:
    """Run the scenario's trials, alternating servers; returns how many noisy trials were re-run."""
    servers = ("jim",) if not scenario.relay_runs else ("relay",) if args.relay_only else ("relay", "jim")
    runs = trial_count(args, scenario)
    reruns = 0
    for index in range(1, runs + 1):
        for server in servers:
            if scenario.open_loop and rate is None:
                trials.append(skipped(scenario, server, index, note))
                continue
            if time.monotonic() > deadline:
                trials.append(skipped(scenario, server, index, "skipped: the run's time budget is spent"))
                continue
            trial = one_trial(args, rig, children, scenario, server, index, rate, runs)
            for _ in range(args.retry_noisy):
                others = trial.figures.get("other_cpu_pct", 0)
                stolen = trial.figures.get("steal_pct", 0)
                if max(others, stolen) <= NOISY_PCT or time.monotonic() > deadline:
                    break
                who = "other processes" if others >= stolen else "the hypervisor"
                print(f"bench: {who} took {max(others, stolen):.0f}% of a core; running that "
                      "trial again", flush=True)
                reruns += 1
                earlier = _set_aside(rig, trial, f"{who} took {max(others, stolen):.0f}% of a core")
                trial = one_trial(args, rig, children, scenario, server, index, rate, runs)
                if earlier:
                    trial = attrs.evolve(trial, problem="; ".join(p for p in (trial.problem, earlier) if p))
            trials.append(trial)
    return reruns


def trial_count(args: argparse.Namespace, scenario: Scenario) -> int:
    """--runs when given; else the default, or fewer for a scenario that says so (storm-tcp)."""
    if args.runs_given or scenario.max_runs is None:
        return args.runs
    return min(args.runs, scenario.max_runs)


def _set_aside(rig: Rig, trial: Trial, why: str) -> str:
    """Keep a noisy trial's record next to the one that replaces it; what went wrong in it, if
    anything (a failure in a re-run trial may still be the server's, not the noise's)."""
    record = rig.out_dir / f"{trial.scenario}-{trial.server}-{trial.index}.json"
    n = 1
    while record.with_name(f"{record.stem}-noisy{n}.json").exists():
        n += 1
    if record.exists():
        record.rename(record.with_name(f"{record.stem}-noisy{n}.json"))
    if not trial.problem:
        return ""
    return f"an earlier attempt, re-run because {why}, had: {trial.problem}"


def one_trial(args, rig: Rig, children: Children, scenario: Scenario, server: str, index: int,
              rate: Optional[float], runs: int) -> Trial:
    which = f"trial {index}/{runs}" if runs else f"step {index}"  # (a sweep's steps: no count)
    print(f"bench: {scenario.name:<18} {server:<5} {which} ...", end=" ", flush=True)
    load = settle(QUIET_CORES, args.settle)
    if load > QUIET_CORES:
        print(f"(busy machine: {load:.0%} of a core in use by others)", end=" ", flush=True)
    run = cluster.run_cluster_trial if scenario.nodes > 1 else run_trial
    trial = run(rig, children, scenario, server, index, rate)
    h = scenario.headlines[0]
    value = trial.figures.get(h.key)
    figure = f"{value:,.{h.digits}f} {h.label}" if isinstance(value, (int, float)) else "no figure"
    print(f"{figure} ({trial.seconds:.0f} s){'' if trial.ok else '  FAILED: ' + trial.problem}", flush=True)
    return trial


def run_all(args, rig: Rig, chosen: list[Scenario], sizes: Sizes, deadline: float,
            info: dict) -> tuple[list[Outcome], int, bool]:
    """Every chosen scenario in order, and Redis alone (into info) right after the last two-node
    one; (outcomes, noisy trials re-run, interrupted)."""
    children = Children()
    outcomes: list[Outcome] = []
    reruns = 0
    last_two_node = next((s.name for s in reversed(chosen) if s.nodes > 1), None)
    try:
        for scenario in chosen:
            rate, note, found = None, "", None
            if scenario.same_rate_as:
                rate, note = same_rate(scenario, outcomes)
            elif scenario.open_loop:
                # each server at half its own open-loop capacity, found by a load sweep
                rate, note, found = latency_load(args, rig, children, scenario, outcomes, sizes,
                                                 deadline)
            runnable = rate is not None or not scenario.open_loop
            relay_cmd, jim_cmd, load_cmd = "", "", ""
            if runnable and scenario.nodes > 1:
                jim_cmd, load_cmd = cluster.commands(rig, scenario, rate)
            elif runnable and not scenario.relay_runs:
                jim_cmd, load_cmd = commands(rig, scenario, "jim", rate)
            elif runnable:
                relay_cmd, load_cmd = commands(rig, scenario, "relay", rate)
                jim_cmd = commands(rig, scenario, "jim", rate)[0]
            trials: list[Trial] = []
            try:
                reruns += run_scenario(args, rig, children, scenario, rate, note, deadline, trials)
            finally:  # an interrupted scenario still reports the trials it finished
                outcomes.append(Outcome(scenario, tuple(trials), relay_cmd, jim_cmd, load_cmd, note,
                                        found, rate))
            if scenario.name == last_two_node:
                info["redis_capacity"] = redis_alone(args, rig, children, deadline)
    except KeyboardInterrupt:
        print("\nbench: interrupted; stopping servers", flush=True)
        return outcomes, reruns, True
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave servers running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        children.stop_all()
    return outcomes, reruns, False


def redis_alone(args, rig: Rig, children: Children, deadline: float) -> dict:
    if time.monotonic() > deadline:
        return {"error": "skipped: the run's time budget is spent"}
    print("bench: Redis alone (redis-benchmark) ...", end=" ", flush=True)
    result = redis_capacity.measure(rig, children, args.python)
    per_s = redis_capacity.chats_per_s(result)
    print(f"{per_s:,.0f} chats/s" if per_s else result.get("error", "failed"), flush=True)
    return result


def save_run(path: Path, info: dict, sizes: Sizes, relay_only: bool, outcomes: list[Outcome]) -> None:
    record = {"info": info, "quick": sizes is QUICK, "relay_only": relay_only, "outcomes": [
        {"scenario": o.scenario.name, "relay_command": o.relay_command, "jim_command": o.jim_command,
         "load_command": o.load_command, "note": o.note,
         "trials": [attrs.asdict(t) for t in o.trials],
         "sweep": attrs.asdict(o.sweep) if o.sweep else None, "rate": o.rate} for o in outcomes]}
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def _sweep_of(saved: Optional[dict]) -> Optional[Sweep]:
    if not saved:
        return None
    steps = tuple(Step(s["rate"], Trial(**s["trial"]), s["unsustained"]) for s in saved["steps"])
    return Sweep(saved["closed_rate"], steps, saved["knee"], saved.get("stopped", ""))


def rerender(run_dir: Path, output: Optional[Path]) -> int:
    record = json.loads((run_dir / "run.json").read_text())
    sizes = QUICK if record["quick"] else FULL
    by_name = {s.name: s for s in all_scenarios(sizes)}
    outcomes = [Outcome(by_name[o["scenario"]], tuple(Trial(**t) for t in o["trials"]), o["relay_command"],
                        o["jim_command"], o["load_command"], o["note"], _sweep_of(o.get("sweep")),
                        o.get("rate"))
                for o in record["outcomes"] if o["scenario"] in by_name]
    output = output or run_dir / "benchmarks.md"
    output.write_text(render(record["info"], outcomes, all_targets(sizes), record["relay_only"]))
    print(f"bench: wrote {_relative(output)} from {_relative(run_dir)}/run.json")
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    if args.render:
        return rerender(args.render, args.output)
    sizes = QUICK if args.quick else FULL
    scenarios = all_scenarios(sizes)
    chosen = select(scenarios, args.only)
    if any(s.open_loop for s in chosen) and not args.latency_rate and not any(s.name == "pairs-tcp" for s in chosen):
        chosen.insert(0, scenarios[0])  # latency-tcp takes its rate from pairs-tcp
    warnings = []
    if args.relay_only:  # the relays have no devices and keep no inbox
        chosen = [s for s in chosen if not s.jim_only]
    if any(s.nodes > 1 for s in chosen) and (args.relay_only or shutil.which("redis-server") is None):
        chosen = [s for s in chosen if s.nodes == 1]
        if not args.relay_only:
            warnings.append("redis-server is not installed (Debian: redis-server): the two-node "
                            "scenarios were not run.")
    raise_fd_limit()
    # SIGTERM (make interrupted, CI cancelled) must unwind like Ctrl-C so no server is left behind.
    signal.signal(signal.SIGTERM, _interrupt)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = HERE / "out" / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    server_cpu, load_cpu = choose_cpus()
    imload = build_imload(args.shared)
    imload2 = build_imload2(args.shared) if any(s.uses_imload2 for s in chosen) else ""
    rig = Rig(ROOT, Paths(args.python, str(args.shared), str(imload), str(imload2)),
              Paths(shown_python(args.python), SHARED_SHOWN, IMLOAD_SHOWN, IMLOAD2_SHOWN),
              out_dir, server_cpu, load_cpu, args.redis_fsync)
    info = machine_info(args, rig, sizes)
    info["warnings"] += warnings
    if server_cpu is None:
        info["warnings"].append("Not pinned: fewer than two CPUs or no taskset; figures are not comparable.")
    started = time.monotonic()
    outcomes, reruns, interrupted = run_all(args, rig, chosen, sizes, started + args.max_minutes * 60, info)
    minutes = (time.monotonic() - started) / 60
    info["duration"] = f"{minutes:.1f} min"
    info["noisy trials re-run"] = reruns
    if interrupted:
        info["warnings"].append("Interrupted: this report is partial.")
    full = not (args.quick or args.only or args.relay_only or interrupted)
    output = args.output or (ROOT / "docs" / "benchmarks.md" if full else out_dir / "benchmarks.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    save_run(out_dir / "run.json", info, sizes, args.relay_only, outcomes)
    output.write_text(render(info, outcomes, all_targets(sizes), args.relay_only))
    print(f"bench: wrote {_relative(output)} in {minutes:.1f} min; raw results in {_relative(out_dir)}/")
    return 130 if interrupted else 0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
