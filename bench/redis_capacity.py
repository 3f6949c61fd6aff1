"""How many chats a second one Redis carries, measured on Redis alone: redis-benchmark (pinned to
the load core) replays, against a fresh redis-server pinned to the server core, the two commands a
cross-node 1:1 chat costs Redis: jim's message-append script (jim/store/redis_message_scripts.py)
with one chat, as jim sends it when it is not batching, and the PUBLISH of its delivery to the
receiver's node, which one subscriber listens to. Redis's own CPU during each run is read from
/proc, to show that its core was the limit."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

from cluster import redis_argv
from procs import Children, free_port, pinned, process_cpu_seconds, show, wait_ready
from trials import Rig

APP = "jim:{bench}"
BODY = "14522884745:0:5:".ljust(64, "x")  # imload's 64-byte chat text
MESSAGE = ('["u0","single","u1","text",{"text":"' + BODY + '"},null,null,1796514074650,"user",'
           'null,false,false,false]')
# The append script's arguments for one chat, as jim's store sends them (KEYS: the id counter, the
# messages, the client ids, the conversation's history; ARGV: no offline marks, no given id, the
# message, its history entry's head, no client id). 100 conversations, one hash of messages.
APPEND_ARGS = ["4", f"{APP}:message-id", f"{APP}:messages", f"{APP}:message-client-ids",
               f"{APP}:history:s:2:u__rand_int__:v", "0", "", MESSAGE, "09223373833368850458:", ""]
CHANNEL = "jim:bus:node-b"
DELIVERY = ('delivery {"app":"bench","to":["u1"],"exclude":"node-a:1","alias":null,"message":[1,'
            '"bench",' + MESSAGE[1:] + "}")
REQUESTS = {"append": 300_000, "publish": 1_000_000}
CLIENTS, PIPELINE, KEYSPACE = 50, 16, 100


def available() -> Optional[str]:
    """None when redis-server, redis-benchmark and redis-cli are all there, else what is missing."""
    missing = [t for t in ("redis-server", "redis-benchmark", "redis-cli") if shutil.which(t) is None]
    return f"not installed: {', '.join(missing)} (Debian: redis-server, redis-tools)" if missing else None


def benchmark_argv(port: str, what: str, sha: str) -> list[str]:
    command = ["EVALSHA", sha, *APPEND_ARGS] if what == "append" else ["PUBLISH", CHANNEL, DELIVERY]
    return ["redis-benchmark", "-p", port, "-n", str(REQUESTS[what]), "-c", str(CLIENTS),
            "-P", str(PIPELINE), "-r", str(KEYSPACE), "--csv", *command]


def append_script(python: str, root: Path) -> str:
    """The message-append script's Lua source, from the jim of this checkout."""
    probe = "from jim.store.redis_message_scripts import APPEND; print(APPEND.source, end='')"
    return subprocess.run([python, "-c", probe], cwd=root, capture_output=True, text=True,
                          check=True).stdout


def measure(rig: Rig, children: Children, python: str) -> dict:
    """{"append": {...}, "publish": {...}, "fsync": ...}: each run's command (as shown), requests
    per second and Redis's CPU (% of one core); {"error": why} if it could not run."""
    why = available()
    if why:
        return {"error": why}
    source = append_script(python, rig.root)
    sha = hashlib.sha1(source.encode()).hexdigest()
    workdir = Path(tempfile.mkdtemp(prefix="redis-capacity-", dir=rig.out_dir))
    port = free_port()
    argv = pinned(rig.server_cpu) + redis_argv(str(port), str(workdir), rig.redis_fsync)
    with open(workdir / "redis.log", "wb") as log:
        redis = children.spawn(argv, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    subscriber = None
    result: dict = {"fsync": rig.redis_fsync,
                    "redis_command": show(pinned(rig.server_cpu) + redis_argv("PORT", "TMP", rig.redis_fsync))}
    try:
        not_ready = wait_ready(redis, port)
        if not_ready:
            return {**result, "error": f"Redis: {not_ready}"}
        subprocess.run(["redis-cli", "-p", str(port), "-x", "SCRIPT", "LOAD"], input=source,
                       capture_output=True, text=True, check=True, timeout=10)
        subscriber = children.spawn(pinned(rig.load_cpu) + ["redis-cli", "-p", str(port), "SUBSCRIBE",
                                                            CHANNEL], stdout=subprocess.DEVNULL)
        time.sleep(0.3)
        for what in ("append", "publish"):
            result[what] = _run(rig, children, redis, port, what, sha, workdir)
    finally:
        if subscriber is not None:
            children.stop(subscriber, grace=3.0)
        children.stop(redis)
        shutil.rmtree(workdir / "appendonlydir", ignore_errors=True)
    return result


def _run(rig: Rig, children: Children, redis: subprocess.Popen, port: int, what: str, sha: str,
         workdir: Path) -> dict:
    argv = pinned(rig.load_cpu) + benchmark_argv(str(port), what, sha)
    cpu0, t0 = process_cpu_seconds(redis.pid), time.monotonic()
    code, out, err = children.run(argv, 300)
    cpu1, wall = process_cpu_seconds(redis.pid), time.monotonic() - t0
    (workdir / f"{what}.out").write_text(out + err)
    shown = pinned(rig.load_cpu) + benchmark_argv("PORT", what, sha)
    run = {"command": show(shown), "requests": REQUESTS[what]}
    rps = _rps(out)
    if code != 0 or rps is None:
        return {**run, "error": f"redis-benchmark exited with status {code}: {(err or out)[-300:]}"}
    run["per_s"] = rps
    if cpu0 is not None and cpu1 is not None:
        run["redis_cpu_pct"] = round(100 * (cpu1 - cpu0) / wall, 1)
    return run


def _rps(csv_out: str) -> Optional[float]:
    """The rps column of redis-benchmark's last CSV line (its command, in the first column, may
    hold unescaped quotes, so the line is split from the right)."""
    lines = [l for l in csv_out.strip().splitlines() if l.startswith('"') and not l.startswith('"test"')]
    if not lines:
        return None
    try:
        return float(lines[-1].rsplit('","', 7)[1])
    except (IndexError, ValueError):
        return None


def chats_per_s(result: dict) -> Optional[float]:
    """Chats/s at which Redis's core is full with both commands: 1 / (1/append + 1/publish)."""
    append = result.get("append", {}).get("per_s")
    publish = result.get("publish", {}).get("per_s")
    return 1 / (1 / append + 1 / publish) if append and publish else None
