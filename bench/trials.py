"""One trial: a fresh server pinned to its core, one imload run against it, the server stopped.
Every failure becomes part of the trial's record instead of an exception."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

import attrs

from procs import (Children, Paths, free_port, machine_cpu_seconds, pinned, process_cpu_seconds,
                   server_argv, show, tail, tail_text, wait_ready)
from scenarios import Scenario

# Twisted's "[namespace#level]" for error events, and what an uncaught exception prints.
SERVER_ERROR_MARKS = ("#error]", "#critical]", "Unhandled Error", "Traceback (most recent call last)")
LOUD_LOG_BYTES = 10 * 2**20


@attrs.frozen
class Rig:
    """Everything a trial needs that does not change between trials."""

    root: Path
    real: Paths
    shown: Paths
    out_dir: Path
    server_cpu: Optional[int]
    load_cpu: Optional[int]


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
    load = imload_argv(rig, str(rig.shown.imload), scenario, rate, "PORT", "PID")
    return show(srv), show(load)


def imload_argv(rig: Rig, imload: str, scenario: Scenario, rate: Optional[float], port: str,
                pid: str) -> list[str]:
    """imload's command line, pinned to the load generator's CPU."""
    return (pinned(rig.load_cpu) + [imload] + scenario.imload_args(rate)
            + ["--port", port, "--timeout", f"{scenario.timeout:g}", "--server-pid", pid])


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
            trial = Trial(scenario.name, server, index, False, {}, not_ready, _server_tail(workdir))
        else:
            trial = _load(rig, children, scenario, server, index, rate, port, proc, workdir)
    finally:
        children.stop(proc)
        shutil.rmtree(workdir / "data", ignore_errors=True)  # jim's SQLite: large and useless now
        for rotated in workdir.glob("twistd.log.*"):  # keep the last megabyte of log, not them all
            rotated.unlink()
    trial = attrs.evolve(trial, seconds=time.monotonic() - started)
    _save(rig, trial, argv, workdir)
    return trial


def _load(rig: Rig, children: Children, scenario: Scenario, server: str, index: int,
          rate: Optional[float], port: int, proc: subprocess.Popen, workdir: Path) -> Trial:
    argv = imload_argv(rig, str(rig.real.imload), scenario, rate, str(port), str(proc.pid))
    (workdir / "imload.cmd").write_text(show(argv) + "\n")
    busy0, steal0 = machine_cpu_seconds()
    server0, t0 = process_cpu_seconds(proc.pid), time.monotonic()
    code, out, err = children.run(argv, scenario.timeout + 60)
    busy1, steal1 = machine_cpu_seconds()
    server1, wall = process_cpu_seconds(proc.pid), time.monotonic() - t0
    (workdir / "imload.stderr").write_text(err)
    figures = _last_json(out)
    if figures and server0 is not None and server1 is not None:
        # What neither the server nor imload used: other tenants of the machine, which skew a run.
        other = busy1 - busy0 - (server1 - server0) - figures.get("loadgen_cpu_total_s", 0.0)
        figures["other_cpu_pct"] = round(100 * max(0.0, other) / wall, 1)
        figures["steal_pct"] = round(100 * (steal1 - steal0) / wall, 1)
    server_died = proc.poll() is not None
    errors_logged = _count_server_errors(workdir)
    log_bytes = _server_log_bytes(workdir)
    problems = []
    if code != 0:
        problems.append("imload timed out" if code is None else f"imload exited with status {code}")
    if not figures:
        problems.append("imload printed no result")
    if server_died:
        problems.append(f"the server exited (status {proc.returncode}) during the run")
    if errors_logged:
        problems.append(f"the server logged {errors_logged} error line(s)")
    if log_bytes > LOUD_LOG_BYTES:
        problems.append(f"the server wrote {log_bytes / 2**20:.0f} MiB of log during the trial")
    ok = bool(figures) and not server_died and (code == 0 or scenario.failed_runs_count)
    detail = tail_text(err, 12)
    if server_died or errors_logged:
        detail = (detail + "\n--- server log ---\n" + _server_tail(workdir)).strip()
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


def _server_tail(workdir: Path) -> str:
    parts = [tail(workdir / "server.log"), tail(workdir / "twistd.log")]
    return "\n".join(p for p in parts if p)


def _server_logs(workdir: Path) -> list[Path]:
    return [workdir / "server.log", *sorted(workdir.glob("twistd.log*"))]  # twistd rotates at 1 MB


def _count_server_errors(workdir: Path) -> int:
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


def _save(rig: Rig, trial: Trial, server_cmd: list[str], workdir: Path) -> None:
    record = {
        "scenario": trial.scenario, "server": trial.server, "trial": trial.index, "ok": trial.ok,
        "problem": trial.problem, "seconds": round(trial.seconds, 2), "server_command": show(server_cmd),
        "imload_command": _read(workdir / "imload.cmd"), "result": trial.figures, "detail": trial.detail,
    }
    path = rig.out_dir / f"{trial.scenario}-{trial.server}-{trial.index}.json"
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
