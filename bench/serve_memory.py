"""Idle memory of `franchise serve` on the demo MSP (SQLite), against a bare FastAPI app.

    .venv/bin/python bench/serve_memory.py [--suggests 200] [--imports]

In one run:

  bare       a FastAPI route served by the same uvicorn (`_common:bare_app`): the framework's
             own resident memory, with SQLAlchemy (which `_common` imports)
  franchise  `franchise serve` on a fresh demo home (`franchise init` + `franchise demo`;
             once migrated it execs `python -m franchise.server`, the same process id),
             left until idle after start-up (the warm-up thread has built the suggest index),
             then asked for /api/v1/health: resident memory (VmRSS), its file-backed and
             anonymous parts, and the peak (VmHWM); then again after --suggests suggestions
             over the API (the evaluation tickets' texts), which the index answers

--imports also prints, for the import of the app alone (in this process), the resident memory
each top-level package added when it was first imported: where the rest goes. Aim: idle
RSS < 120 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, ROOT, command_line, free_port, wait_for, wait_idle
from franchise.suggest.evaluate import read_labelled


def status(pid: int | str) -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon and RssFile of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def shown(fields: dict[str, float]) -> str:
    return (
        f"RSS {fields['VmRSS']:6.1f} MB (anonymous {fields['RssAnon']:5.1f}, "
        f"files {fields['RssFile']:5.1f}), peak {fields['VmHWM']:6.1f} MB"
    )


def serve(args: list[str], env: dict[str, str], log: Path, port: int) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env}
        )

    def ready() -> bool:
        if proc.poll() is not None:
            raise SystemExit(f"{args[0]} exited:\n{log.read_text()[-3000:]}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(ready, "the server", timeout=120)
    wait_idle(proc.pid, "the server", timeout=180)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def bare(home: Path) -> dict[str, float]:
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent)]
    args += ["_common:bare_app", "--factory", "--host", "127.0.0.1", "--port", str(port)]
    proc = serve(args, {}, home / "bare.log", port)
    try:
        httpx.get(f"http://127.0.0.1:{port}/api/v1/health")
        return status(proc.pid)
    finally:
        stop(proc)


def franchise(home: Path, suggests: int) -> tuple[dict[str, float], dict[str, float]]:
    env = {"FRANCHISE_HOME": str(home)}
    for command in ("init", "demo"):
        subprocess.run(
            [str(BIN / "franchise"), command],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
    made = subprocess.run(
        [str(BIN / "franchise"), "token", "create", "--user", "Sam Whitfield", "--json"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    token = json.loads(made.stdout)["token"]
    port = free_port()
    args = [str(BIN / "franchise"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = serve(args, env, home / "serve.log", port)
    try:
        base = f"http://127.0.0.1:{port}"
        httpx.get(f"{base}/api/v1/health")
        idle = status(proc.pid)
        texts = [t for t, _ in read_labelled(ROOT / "tests" / "suggest" / "eval_tickets.csv")]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for i in range(suggests):
                answer = client.post("/api/v1/suggest", json={"text": texts[i % len(texts)]})
                answer.raise_for_status()
        return idle, status(proc.pid)
    finally:
        stop(proc)


# Run in a fresh interpreter: this script's own imports would hide the packages they share.
IMPORT_COSTS = """
import builtins, sys

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

costs, original = [], builtins.__import__

def counting(name, globals=None, locals=None, fromlist=(), level=0):
    top = name.split(".")[0]
    if level or top in sys.modules:
        return original(name, globals, locals, fromlist, level)
    before = rss()
    try:
        return original(name, globals, locals, fromlist, level)
    finally:
        costs.append((rss() - before, top, (globals or {}).get("__name__", "?")))

start = rss()
builtins.__import__ = counting
import franchise.app
builtins.__import__ = original
print(f"  {rss() - start:5.1f} MB  in all, over the bare interpreter's {start:.1f} MB")
for mb, top, importer in sorted(costs, reverse=True):
    if mb >= 1 and top != "franchise":
        print(f"  {mb:5.1f} MB  {top:<20} first imported by {importer}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suggests", type=int, default=200)
    parser.add_argument("--imports", action="store_true")
    args = parser.parse_args()
    print(f"$ {command_line()}")
    print(f"load average {os.getloadavg()[0]:.1f} at start, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        base = bare(home)
        idle, busy = franchise(home / "franchise", args.suggests)
    print(f"bare FastAPI (baseline)     {shown(base)}")
    ratio = idle["VmRSS"] / base["VmRSS"]
    print(f"franchise serve, idle       {shown(idle)}  x{ratio:.1f}  (aim < 120 MB)")
    print(f"after {args.suggests} suggestions     {shown(busy)}")
    if args.imports:
        print("importing franchise.app: resident memory each top-level package added at its first")
        print("import, with what it imported in turn (>= 1 MB):")
        sys.stdout.flush()
        subprocess.run([sys.executable, "-c", IMPORT_COSTS], check=True)


if __name__ == "__main__":
    main()
