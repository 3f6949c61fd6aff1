"""Child processes of the bench: servers pinned to one core, imload pinned to the other, and a
registry that kills whatever is still running when the bench ends, however it ends."""
from __future__ import annotations

import os
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Optional

import attrs

TWISTD = "from twisted.scripts.twistd import run; run()"
READY_TIMEOUT = 30.0
STOP_GRACE = 10.0
TICKS = os.sysconf("SC_CLK_TCK")


@attrs.frozen
class Paths:
    """Where things are, spelled twice: `real` runs, `shown` goes into the report (no machine paths)."""

    python: str
    shared: str
    imload: str
    imload2: str = ""  # imload with --port2, for the two-node scenarios


def pinned(cpu: Optional[int]) -> list[str]:
    return ["taskset", "-c", str(cpu)] if cpu is not None else []


def choose_cpus() -> tuple[Optional[int], Optional[int]]:
    """The server's core and imload's core; no pinning when there are not two cores to split."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or shutil.which("taskset") is None:
        return None, None
    return cpus[0], cpus[1]


def raise_fd_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to the hard limit; servers inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def server_argv(kind: str, paths: Paths, port: str, workdir: str) -> list[str]:
    """The server command line (run from the repository root, so twistd finds the jim plugin)."""
    if kind == "jim_relay":
        return [paths.python, f"{paths.shared}/jim_relay.py", port, "127.0.0.1"]
    if kind == "ws_relay":
        return [paths.python, f"{paths.shared}/ws_relay.py", port]
    if kind == "jim":
        return [paths.python, "-c", TWISTD, "-n", "--pidfile=", f"--logfile={workdir}/twistd.log",
                "jim", "--listen", f"tcp:{port}:interface=127.0.0.1", "--data", f"{workdir}/data",
                "--open-registration", "--scrypt-cost", "2:1:1", "--rate-limit", "0",
                "--user-rate", "0", "--address-rate", "0", "--app-rate", "0"]
    raise ValueError(f"unknown server kind {kind!r}")


def show(argv: list[str]) -> str:
    """A command line as a reader would type it, quoting only what the shell needs quoted."""
    plain = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=,<>@%+-")
    return " ".join(a if a and set(a) <= plain else shlex.quote(a) for a in argv)


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, stolen): CPU seconds, summed over cores, that this machine's processes used and that
    the hypervisor gave to someone else; both disturb a benchmark."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, _irq, _softirq, steal = (
            int(x) for x in f.readline().split()[1:9])
    # irq and softirq time is left out on both sides: loopback traffic is mostly softirq work that
    # the kernel charges to no process, so it would pass for someone else's load.
    return (user + nice + system) / TICKS, steal / TICKS


def process_cpu_seconds(pid: int) -> Optional[float]:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def foreign_load(seconds: float = 0.5) -> float:
    """Cores' worth of CPU that other processes use right now (the bench runs nothing meanwhile)."""
    before, start = machine_cpu_seconds()[0], time.monotonic()
    time.sleep(seconds)
    return (machine_cpu_seconds()[0] - before) / (time.monotonic() - start)


def settle(limit: float, max_wait: float) -> float:
    """Wait, at most `max_wait` seconds, for the machine to be quieter than `limit` cores."""
    deadline = time.monotonic() + max_wait
    load = foreign_load()
    while load > limit and time.monotonic() < deadline:
        load = foreign_load(1.0)
    return load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail_text(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return tail_text(text, lines)


class Children:
    """Every process the bench started, so that all of them can be stopped on any exit path."""

    def __init__(self) -> None:
        self._live: set[subprocess.Popen] = set()

    def spawn(self, argv: list[str], **kwargs) -> subprocess.Popen:
        # A session of its own: a terminal's Ctrl-C reaches only the bench, which then stops the
        # children in order, and killing the group also reaches anything a child forked.
        proc = subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL, **kwargs)
        self._live.add(proc)
        return proc

    def stop(self, proc: subprocess.Popen, grace: float = STOP_GRACE) -> None:
        if proc not in self._live:
            return
        try:
            # Only a leader not yet reaped is signalled: once reaped, its id may belong to another.
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
                try:
                    proc.wait(grace)
                except subprocess.TimeoutExpired:
                    _signal_group(proc, signal.SIGKILL)
                    proc.wait()
        finally:
            self._live.discard(proc)

    def stop_all(self) -> None:
        for proc in list(self._live):
            self.stop(proc, grace=3.0)

    def run(self, argv: list[str], timeout: float) -> tuple[Optional[int], str, str]:
        """Run to completion; (exit code or None on timeout, stdout, stderr)."""
        proc = self.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=timeout)
            return proc.returncode, out, err
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGINT)  # imload prints what it has on SIGINT
            try:
                out, err = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                out, err = proc.communicate()
            return None, out, err + f"\n(bench: killed after {timeout:.0f} s)"
        finally:
            self.stop(proc, grace=3.0)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def wait_ready(proc: subprocess.Popen, port: int, timeout: float = READY_TIMEOUT) -> Optional[str]:
    """None once the port accepts a connection; else why the server is not serving."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"server exited with status {proc.returncode} before listening"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return None
        except OSError:
            time.sleep(0.05)
    return f"server not listening on port {port} after {timeout:.0f} s"
