"""One trial: a fresh server pinned to its core, one imload run against it, the server stopped.
Every failure becomes part of the trial's record instead of an exception."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Mapping, Optional, Sequence

import attrs

from procs import (Children, Paths, free_port, machine_cpu_seconds, pinned, process_cpu_seconds,
                   server_argv, show, tail, tail_text, wait_ready)
from scenarios import Scenario

# Twisted's "[namespace#level]" for error events, and what an uncaught exception prints.
SERVER_ERROR_MARKS = ("#error]", "#critical]", "Unhandled Error", "Traceback (most recent call last)")
LOUD_LOG_BYTES = 10 * 2**20
LABELS = {"node_a": "node A", "node_b": "node B", "redis": "Redis server"}


@attrs.frozen
class Rig:
    """Everything a trial needs that does not change between trials."""

    root: Path
    real: Paths
    shown: Paths
    out_dir: Path
    server_cpu: Optional[int]
    load_cpu: Optional[int]
    redis_fsync: str = "everysec"  # the two-node scenarios' Redis: --appendfsync


@attrs.frozen
class Trial:
    scenario: str
    server: str  # "jim" or "relay"
    index: int
    ok: bool
    figures: dict  # imload's JSON object; empty when imload printed none
    problem: str = ""  # one line: what went wrong
    detail: str = ""  # stderr / server log tail behind the problem
    seconds: float = 0.0
    skipped: bool = False


def server_kind(scenario: Scenario, server: str) -> str:
    return "jim" if server == "jim" else scenario.relay


def commands(rig: Rig, scenario: Scenario, server: str, rate: Optional[float]) -> tuple[str, str]:
    """The server and imload command lines as the report shows them."""
    srv = pinned(rig.server_cpu) + server_argv(server_kind(scenario, server), rig.shown, "PORT", "TMP")
    load = imload_argv(rig, imload_of(rig.shown, scenario), scenario, rate, "PORT", "PID")
    return show(srv), show(load)


def imload_of(paths: Paths, scenario: Scenario) -> str:
    """The load generator a single-node scenario runs: imload, or imload2 for jim's options."""
    return str(paths.imload2 if scenario.patched else paths.imload)


def imload_argv(rig: Rig, imload: str, scenario: Scenario, rate: Optional[float], port: str,
                pid: str, port2: Optional[str] = None) -> list[str]:
    """imload's command line, pinned to the load generator's CPU."""
    ports = ["--port", port] + (["--port2", port2] if port2 else [])
    return (pinned(rig.load_cpu) + [imload] + scenario.imload_args(rate)
            + ports + ["--timeout", f"{scenario.timeout:g}", "--server-pid", pid])


def skipped(scenario: Scenario, server: str, index: int, why: str) -> Trial:
    return Trial(scenario.name, server, index, False, {}, why, skipped=True)


def run_trial(rig: Rig, children: Children, scenario: Scenario, server: str, index: int,
              rate: Optional[float]) -> Trial:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"{scenario.name}-{server}-{index}-", dir=rig.out_dir))
    port = free_port()
    argv = pinned(rig.server_cpu) + server_argv(server_kind(scenario, server), rig.real, str(port),
                                                str(workdir))
    with open(workdir / "server.log", "wb") as log:
        proc = children.spawn(argv, cwd=rig.root, stdout=log, stderr=subprocess.STDOUT)
    try:
        not_ready = wait_ready(proc, port)
        if not_ready:
            children.stop(proc)
            trial = Trial(scenario.name, server, index, False, {}, not_ready, server_tail(workdir))
        else:
            argv_load = imload_argv(rig, imload_of(rig.real, scenario), scenario, rate, str(port), str(proc.pid))
            trial = measure(children, scenario, server, index, argv_load, {"server": proc}, workdir,
                            [workdir])
    finally:
        children.stop(proc)
        shutil.rmtree(workdir / "data", ignore_errors=True)  # jim's SQLite: large and useless now
        trim_logs(workdir)
    trial = attrs.evolve(trial, seconds=time.monotonic() - started)
    save(rig, trial, show(argv), workdir)
    return trial


def trim_logs(log_dir: Path) -> None:
    for rotated in log_dir.glob("twistd.log.*"):  # keep the last megabyte of log, not them all
        rotated.unlink()


def measure(children: Children, scenario: Scenario, server: str, index: int, argv: list[str],
            servers: Mapping[str, subprocess.Popen], workdir: Path, log_dirs: Sequence[Path]) -> Trial:
    """One imload run against running servers (one, or a cluster's processes by name), with the
    CPU each of them and the rest of the machine used meanwhile, and what went wrong."""
    (workdir / "imload.cmd").write_text(show(argv) + "\n")
    busy0, steal0 = machine_cpu_seconds()
    cpu0, t0 = {n: process_cpu_seconds(p.pid) for n, p in servers.items()}, time.monotonic()
    code, out, err = children.run(argv, scenario.timeout + 60)
    busy1, steal1 = machine_cpu_seconds()
    cpu1, wall = {n: process_cpu_seconds(p.pid) for n, p in servers.items()}, time.monotonic() - t0
    (workdir / "imload.stderr").write_text(err)
    figures = _last_json(out)
    used = {n: cpu1[n] - cpu0[n] for n in servers if cpu0[n] is not None and cpu1[n] is not None}
    if figures and len(used) == len(servers):
        # What neither the server nor imload used: other tenants of the machine, which skew a run.
        other = busy1 - busy0 - sum(used.values()) - figures.get("loadgen_cpu_total_s", 0.0)
        figures["other_cpu_pct"] = round(100 * max(0.0, other) / wall, 1)
        figures["steal_pct"] = round(100 * (steal1 - steal0) / wall, 1)
        if len(servers) > 1:  # imload saw one of them (--server-pid); the bench sees them all
            for name, seconds in used.items():
                figures[f"{name}_cpu_s"] = round(seconds, 2)
                figures[f"{name}_cpu_pct"] = round(100 * seconds / wall, 1)
            figures["server_cpu_pct"] = round(100 * sum(used.values()) / wall, 1)
    died = {n: p.returncode for n, p in servers.items() if p.poll() is not None}
    errors_logged = sum(count_server_errors(d) for d in log_dirs)
    log_bytes = sum(_server_log_bytes(d) for d in log_dirs)
    problems = []
    if code != 0:
        problems.append("imload timed out" if code is None else f"imload exited with status {code}")
    if not figures:
        problems.append("imload printed no result")
    for name, status in died.items():
        problems.append(f"the {LABELS.get(name, name)} exited (status {status}) during the run")
    if errors_logged:
        problems.append(f"the server logged {errors_logged} error line(s)")
    if log_bytes > LOUD_LOG_BYTES:
        problems.append(f"the server wrote {log_bytes / 2**20:.0f} MiB of log during the trial")
    ok = bool(figures) and not died and (code == 0 or scenario.failed_runs_count)
    detail = tail_text(err, 12)
    if died or errors_logged:
        detail = (detail + "\n--- server log ---\n" + "\n".join(server_tail(d) for d in log_dirs)).strip()
    return Trial(scenario.name, server, index, ok, figures, "; ".join(problems), detail)


def _last_json(stdout: str) -> dict:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return {}
    return {}


def server_tail(workdir: Path) -> str:
    parts = [tail(workdir / "server.log"), tail(workdir / "twistd.log")]
    return "\n".join(p for p in parts if p)


def _server_logs(workdir: Path) -> list[Path]:
    return [workdir / "server.log", *sorted(workdir.glob("twistd.log*"))]  # twistd rotates at 1 MB


def count_server_errors(workdir: Path) -> int:
    count = 0
    for path in _server_logs(workdir):
        try:
            with open(path, errors="replace") as f:
                count += sum(1 for line in f if any(m in line for m in SERVER_ERROR_MARKS))
        except OSError:
            pass
    return count


def _server_log_bytes(workdir: Path) -> int:
    return sum(p.stat().st_size for p in _server_logs(workdir) if p.exists())


def save(rig: Rig, trial: Trial, server_cmd: str, workdir: Path) -> None:
    record = {
        "scenario": trial.scenario, "server": trial.server, "trial": trial.index, "ok": trial.ok,
        "problem": trial.problem, "seconds": round(trial.seconds, 2), "server_command": server_cmd,
        "imload_command": _read(workdir / "imload.cmd"), "result": trial.figures, "detail": trial.detail,
    }
    path = rig.out_dir / f"{trial.scenario}-{trial.server}-{trial.index}.json"
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
