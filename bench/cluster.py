"""A two-node trial: a fresh redis-server and two jim nodes sharing it (store and bus), all three
pinned to the server core, then one imload2 run with node A's port as --port and node B's as
--port2 (pinned to the load core), then everything stopped. Every failure becomes part of the
trial's record, as in trials.py."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

import attrs

from procs import Children, Paths, free_port, pinned, server_argv, show, tail, wait_ready
from scenarios import Scenario
from trials import (Rig, Trial, count_server_errors, imload_argv, measure, save, server_tail,
                    trim_logs)

NODES = (("node_a", "a"), ("node_b", "b"))  # name in the figures, directory in the trial's workdir


def redis_argv(port: str, workdir: str, fsync: str) -> list[str]:
    """A private Redis in the trial's directory: AOF only, and no fork during a run. Neither an
    RDB snapshot nor an automatic AOF rewrite: a fresh Redis rewrites its AOF once it reaches
    64 MB, which a trial of about 145,000 chats does, and the rewriting child, pinned to the
    server core with the rest, takes about a second of it (latency-tcp-2nodes' p99 rose by
    5-10 ms in the trials it hit)."""
    return ["redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", workdir,
            "--appendonly", "yes", "--appendfsync", fsync, "--save", "",
            "--auto-aof-rewrite-percentage", "0"]


def node_argv(paths: Paths, port: str, node_dir: str, redis_port: str) -> list[str]:
    """The single-node jim command line, plus the shared Redis as store (and so as bus)."""
    return server_argv("jim", paths, port, node_dir) + ["--store", f"redis://127.0.0.1:{redis_port}/0"]


def commands(rig: Rig, scenario: Scenario, rate: Optional[float]) -> tuple[str, str]:
    """The Redis and node command lines (one block, with comments) and imload2's, as shown."""
    pin = pinned(rig.server_cpu)
    lines = ["# Redis: store and bus of both nodes",
             show(pin + redis_argv("REDIS_PORT", "TMP", rig.redis_fsync)),
             "# node A, then node B once A is listening"]
    lines += [show(pin + node_argv(rig.shown, f"PORT_{sub.upper()}", f"TMP/{sub}", "REDIS_PORT"))
              for _, sub in NODES]
    load = imload_argv(rig, str(rig.shown.imload2), scenario, rate, "PORT_A", "PID_A", "PORT_B")
    return "\n".join(lines), show(load)


def run_cluster_trial(rig: Rig, children: Children, scenario: Scenario, server: str, index: int,
                      rate: Optional[float]) -> Trial:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"{scenario.name}-{server}-{index}-", dir=rig.out_dir))
    procs: dict[str, subprocess.Popen] = {}
    ports: dict[str, int] = {}
    argvs: list[list[str]] = []
    node_dirs = [workdir / sub for _, sub in NODES]
    try:
        not_ready = _start(rig, children, workdir, procs, ports, argvs)
        if not_ready:
            trial = Trial(scenario.name, server, index, False, {}, not_ready, _tails(workdir, node_dirs))
        else:
            load = imload_argv(rig, str(rig.real.imload2), scenario, rate, str(ports["node_a"]),
                               str(procs["node_a"].pid), str(ports["node_b"]))
            trial = _with_redis_rate(measure(children, scenario, server, index, load, procs,
                                             workdir, node_dirs))
            _keep_redis_info(ports["redis"], workdir)
    finally:
        errors_before = sum(count_server_errors(d) for d in node_dirs)
        for name in ("node_b", "node_a", "redis"):
            if name in procs:
                children.stop(procs[name])
        stopping = sum(count_server_errors(d) for d in node_dirs) - errors_before
        for d in node_dirs:
            shutil.rmtree(d / "data", ignore_errors=True)
            trim_logs(d)
        shutil.rmtree(workdir / "appendonlydir", ignore_errors=True)  # Redis's AOF
    if stopping > 0 and not trial.skipped:
        why = f"the nodes logged {stopping} error line(s) while stopping"
        trial = attrs.evolve(trial, problem="; ".join(p for p in (trial.problem, why) if p))
    trial = attrs.evolve(trial, seconds=time.monotonic() - started)
    save(rig, trial, "\n".join(show(a) for a in argvs), workdir)
    return trial


def _start(rig: Rig, children: Children, workdir: Path, procs: dict, ports: dict,
           argvs: list) -> Optional[str]:
    """Redis, then node A, then node B, each once the one before listens; None when all do.
    (Nodes started at the same instant on an empty Redis race to create the shared default
    app, and the loser exits.)"""
    pin = pinned(rig.server_cpu)
    ports["redis"] = free_port()
    argv = pin + redis_argv(str(ports["redis"]), str(workdir), rig.redis_fsync)
    started = _spawn(children, argv, workdir / "redis.log", workdir, procs, "redis", argvs)
    not_ready = wait_ready(started, ports["redis"])
    if not_ready:
        return f"Redis: {not_ready}"
    for name, sub in NODES:
        (workdir / sub).mkdir()
        ports[name] = free_port()
        argv = pin + node_argv(rig.real, str(ports[name]), str(workdir / sub), str(ports["redis"]))
        started = _spawn(children, argv, workdir / sub / "server.log", rig.root, procs, name, argvs)
        not_ready = wait_ready(started, ports[name])
        if not_ready:
            return f"node {sub.upper()}: {not_ready}"
    return None


def _spawn(children: Children, argv: list[str], log_path: Path, cwd: Path, procs: dict, name: str,
           argvs: list) -> subprocess.Popen:
    argvs.append(argv)
    with open(log_path, "wb") as log:
        procs[name] = children.spawn(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    return procs[name]


def _with_redis_rate(trial: Trial) -> Trial:
    """Chats per second of Redis CPU: the chat rate at which Redis would fill its core, if its
    cost per chat stayed what it was in this run."""
    chats, seconds = trial.figures.get("sent"), trial.figures.get("redis_cpu_s")
    if not chats or not seconds:
        return trial
    return attrs.evolve(trial, figures={**trial.figures, "chats_per_redis_cpu_s": round(chats / seconds)})


def _keep_redis_info(port: int, workdir: Path) -> None:
    """Redis's own account of the run (commands, CPU, memory), next to the trial's logs."""
    if shutil.which("redis-cli"):
        done = subprocess.run(["redis-cli", "-p", str(port), "INFO", "everything"],
                              capture_output=True, text=True, timeout=10)
        (workdir / "redis-info.txt").write_text(done.stdout)


def _tails(workdir: Path, node_dirs: list[Path]) -> str:
    parts = [tail(workdir / "redis.log", 5)] + [server_tail(d) for d in node_dirs if d.exists()]
    return "\n".join(p for p in parts if p)
