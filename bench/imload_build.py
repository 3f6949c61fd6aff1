"""Building the load generators: `bench/imload` from `../shared/bench/imload.c` as it is, and
`bench/imload2` from a copy patched with `bench/imload2.patch`, which adds jim's own options:
`--port2 N` (users of odd index connect to port N: the second node of a cluster), `--devices D`
(pairs mode: each user on D connections, each a device of its own) and the `storm` mode (devices
that ack, all dropped at once, then reconnecting, syncing and acking)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PATCH = HERE / "imload2.patch"
SHARED_SHOWN = "../shared/bench"
IMLOAD_SHOWN = "bench/imload"
IMLOAD2_SHOWN = "bench/imload2"
IMLOAD_BUILD = f"gcc -O2 -o {IMLOAD_SHOWN} {SHARED_SHOWN}/imload.c"
IMLOAD2_BUILD = (f"cp {SHARED_SHOWN}/imload.c TMP/ && patch -d TMP -p1 < bench/imload2.patch "
                 f"&& gcc -O2 -o {IMLOAD2_SHOWN} TMP/imload.c")


def _stale(binary: Path, *sources: Path) -> bool:
    return not binary.exists() or any(binary.stat().st_mtime < s.stat().st_mtime for s in sources)


def build_imload(shared: Path) -> Path:
    source, binary = shared / "imload.c", HERE / "imload"
    if _stale(binary, source):
        print(f"bench: building {IMLOAD_SHOWN}", flush=True)
        subprocess.run(["gcc", "-O2", "-o", str(binary), str(source)], check=True)
    return binary


def build_imload2(shared: Path) -> Path:
    """imload with jim's options, built from a patched copy; the shared source is never touched."""
    source, binary = shared / "imload.c", HERE / "imload2"
    if not _stale(binary, source, PATCH):
        return binary
    if shutil.which("patch") is None:
        raise SystemExit("bench: `patch` is needed to build bench/imload2 (Debian: apt-get install patch)")
    print(f"bench: building {IMLOAD2_SHOWN} ({IMLOAD_SHOWN} with bench/imload2.patch)", flush=True)
    with tempfile.TemporaryDirectory(prefix="imload2-") as tmp:
        shutil.copy2(source, Path(tmp) / "imload.c")
        with open(PATCH, "rb") as diff:
            done = subprocess.run(["patch", "-d", tmp, "-p1", "--forward", "--batch", "--no-backup-if-mismatch"],
                                  stdin=diff, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"bench: bench/imload2.patch does not apply to {SHARED_SHOWN}/imload.c "
                             f"(it changed?); update the patch.\n{done.stdout}{done.stderr}")
        subprocess.run(["gcc", "-O2", "-o", str(binary), str(Path(tmp) / "imload.c")], check=True)
    return binary
