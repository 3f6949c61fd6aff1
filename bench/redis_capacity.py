"""How many chats a second one Redis carries, measured on Redis alone: redis-benchmark (pinned to
the load core) replays, against a fresh redis-server pinned to the server core, the two commands a
cross-node 1:1 chat costs Redis: jim's message-append script and the PUBLISH of the chat's
delivery to the receiver's node (one subscriber listening). Both are replayed with one chat per
command, and with 16 and 128 (jim batches what waits for an app's append script into one call, and the
deliveries of one reactor turn to a node into one PUBLISH). The arguments are the ones jim's own
store and bus code makes for a 64-byte chat, so they follow jim's formats. Redis's CPU during each
run is read from /proc, to show whether its core was the limit."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from cluster import redis_argv
from procs import Children, free_port, pinned, process_cpu_seconds, show, wait_ready
from trials import Rig

BODY = "14522884745:0:5:".ljust(64, "x")  # imload's 64-byte chat text
BATCHES = (1, 16, 128)
CHATS = {"append": 320_000, "publish": 800_000}  # per run, whatever the batch
CLIENTS, PIPELINE, KEYSPACE = 50, 16, 100
CHANNEL = "jim:bus:node-b"
# The subscriber: reads and drops what Redis sends, as fast as the load core allows. It may still
# fall behind, so this Redis keeps a subscriber's output without limit instead of dropping it.
DRAIN = ("import socket, sys\n"
         "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
         "s.sendall(b'SUBSCRIBE ' + sys.argv[2].encode() + b'\\r\\n')\n"
         "while s.recv(1 << 20):\n"
         "    pass\n")

# Run in the project's interpreter: what jim's store sends for `batch` chats (the append script,
# its keys and arguments, through a client that only records) and the bus line of one delivery.
# Senders are named u__rand_int__, which redis-benchmark replaces with a random number per call,
# so the chats spread over KEYSPACE conversations.
PROBE = r"""
import json, sys
from twisted.internet import defer
from twisted.internet.task import Clock
from jim.model import Delivery, Message
from jim.store.redis_messages import RedisMessages
from jim.wire import busjson

body, batch = sys.argv[1], int(sys.argv[2])
calls = []

class Recorder:
    def run(self, script, keys, args):
        calls.append((script, keys, args, defer.Deferred()))
        return calls[-1][3]

clock = Clock()
store = RedisMessages(Recorder(), clock)
chat = Message(0, "bench", "u__rand_int__", "single", "u1", "text", {"text": body},
               created=1796514074650)
for _ in range(batch):
    store.add_message(chat)
clock.advance(0)  # the reactor turn ends: its chats leave together, in one script
assert len(calls) == 1, calls
script, keys, args, _ = calls[-1]
line = busjson.encode(Delivery("bench", chat._replace(id=1), ("u1",), "node-a:1"))
print(json.dumps({"source": script.source, "keys": keys, "args": [
    a.decode() if isinstance(a, bytes) else a for a in args], "line": line.decode()}))
"""


def available() -> Optional[str]:
    """None when redis-server, redis-benchmark and redis-cli are all there, else what is missing."""
    missing = [t for t in ("redis-server", "redis-benchmark", "redis-cli") if shutil.which(t) is None]
    return f"not installed: {', '.join(missing)} (Debian: redis-server, redis-tools)" if missing else None


def probe(python: str, root: Path, batch: int) -> dict:
    done = subprocess.run([python, "-c", PROBE, BODY, str(batch)], cwd=root, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"could not build jim's commands: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def command(what: str, batch: int, made: dict, sha: str) -> list[str]:
    if what == "append":
        return ["EVALSHA", sha, str(len(made["keys"])), *made["keys"], *made["args"]]
    return ["PUBLISH", CHANNEL, "\n".join([made["line"]] * batch)]


def benchmark_argv(port: str, what: str, batch: int, made: dict, sha: str) -> list[str]:
    return ["redis-benchmark", "-p", port, "-n", str(CHATS[what] // batch), "-c", str(CLIENTS),
            "-P", str(PIPELINE), "-r", str(KEYSPACE), "--csv", *command(what, batch, made, sha)]


def measure(rig: Rig, children: Children, python: str) -> dict:
    """{"append-1": {...}, "publish-1": {...}, "append-16": ..., "fsync": ...}: each run's
    command (as shown), commands and chats per second, Redis's CPU (% of one core); {"error":
    why} if it could not run."""
    why = available()
    if why:
        return {"error": why}
    try:
        made = {batch: probe(python, rig.root, batch) for batch in BATCHES}
    except (RuntimeError, ValueError) as e:
        return {"error": str(e)}
    source = made[1]["source"]
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
        cli = ["redis-cli", "-p", str(port)]
        subprocess.run(cli + ["CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 0 0"],
                       capture_output=True, check=True, timeout=10)
        sha = subprocess.run(["redis-cli", "-p", str(port), "-x", "SCRIPT", "LOAD"], input=source,
                             capture_output=True, text=True, check=True, timeout=10).stdout.strip()
        subscriber = children.spawn(pinned(rig.load_cpu) + [sys.executable, "-c", DRAIN, str(port),
                                                            CHANNEL])
        time.sleep(0.3)
        for batch in BATCHES:
            for what in ("append", "publish"):
                result[f"{what}-{batch}"] = _run(rig, children, redis, port, what, batch, made[batch],
                                                 sha, workdir)
                if subscriber.poll() is not None:
                    result[f"{what}-{batch}"]["error"] = "Redis dropped the subscriber"
        result["ids_given"] = _last_id(port)
        result["ids_expected"] = sum(CHATS["append"] // b * b for b in BATCHES)
    finally:
        if subscriber is not None:
            children.stop(subscriber, grace=3.0)
        children.stop(redis)
        shutil.rmtree(workdir / "appendonlydir", ignore_errors=True)
    return result


def _run(rig: Rig, children: Children, redis: subprocess.Popen, port: int, what: str, batch: int,
         made: dict, sha: str, workdir: Path) -> dict:
    argv = pinned(rig.load_cpu) + benchmark_argv(str(port), what, batch, made, sha)
    cpu0, t0 = process_cpu_seconds(redis.pid), time.monotonic()
    code, out, err = children.run(argv, 300)
    cpu1, wall = process_cpu_seconds(redis.pid), time.monotonic() - t0
    (workdir / f"{what}-{batch}.out").write_text(out + err)
    run = {"command": show(pinned(rig.load_cpu) + benchmark_argv("PORT", what, batch, made, sha)),
           "batch": batch}
    rps = _rps(out)
    if code != 0 or rps is None:
        return {**run, "error": f"redis-benchmark exited with status {code}: {(err or out)[-300:]}"}
    run.update(per_s=rps, chats_per_s=rps * batch)
    if cpu0 is not None and cpu1 is not None:
        run["redis_cpu_pct"] = round(100 * (cpu1 - cpu0) / wall, 1)
    return run


def _rps(csv_out: str) -> Optional[float]:
    """The rps column of redis-benchmark's CSV result, its last row (the command, in the first
    column, may hold unescaped quotes and newlines, so the row is split from the right)."""
    try:
        return float(csv_out.strip().rsplit('","', 7)[1])
    except (IndexError, ValueError):
        return None


def _last_id(port: int) -> Optional[int]:
    """The app's message counter after the append runs: every chat must have been stored (an
    erroring script would answer as fast and store nothing)."""
    done = subprocess.run(["redis-cli", "-p", str(port), "GET", "jim:{bench}:message-id"],
                          capture_output=True, text=True, timeout=10)
    try:
        return int(done.stdout.strip())
    except ValueError:
        return None


def chats_per_s(result: dict, batch: int = 1) -> Optional[float]:
    """Chats/s at which Redis is busy with both commands, one after the other: 1 / (1/append +
    1/publish), at the given batch size."""
    append, publish = (None if result.get(f"{what}-{batch}", {}).get("error")
                       else result.get(f"{what}-{batch}", {}).get("chats_per_s")
                       for what in ("append", "publish"))
    return 1 / (1 / append + 1 / publish) if append and publish else None
