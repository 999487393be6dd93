"""After `mutmut run`: killed / total per module, then every mutant that was not killed.

mutmut's own `results` lists survivors without a total; the figure the README quotes is
killed over all mutants of the module, so this counts both. A survivor named in
tests/mutation_equivalent.txt (one `name  why` a line) is a change no caller can see and is
printed with its reason; any other survivor is a missing test, and the exit status is 1.
A timeout (the tests never finished: an endless loop) counts as caught; it is listed, as on a
loaded machine it can also be a slow run (retry it with MODULE=).

Arguments: the mutant name patterns the run was given (`franchise.escalation.evaluate.*`);
without any, every module.
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

EQUIVALENT = Path(__file__).resolve().parent.parent / "tests" / "mutation_equivalent.txt"


def equivalents(path: Path = EQUIVALENT) -> dict[str, str]:
    """Mutant name -> why it changes nothing, from the listing (`#` starts a comment)."""
    listed: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, why = line.partition(" ")
        listed[name] = why.strip()
    return listed


def main(patterns: list[str]) -> int:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    listed = equivalents()
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    equivalent: list[tuple[str, str]] = []
    left: list[tuple[str, str]] = []
    timeouts: list[str] = []
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        if patterns and not any(fnmatch.fnmatch(name, p) for p in patterns):
            continue
        module = name.split(".x", 1)[0]
        if status != "killed" and name in listed:
            status = "equivalent"
            equivalent.append((name, listed[name]))
        by_module[module][status] += 1
        if status == "timeout":
            timeouts.append(name)
        elif status not in ("killed", "equivalent"):
            left.append((name, status))
    print(f"{'module':34} {'total':>6} {'killed':>7} {'equiv.':>7}  other")
    for module in sorted(by_module):
        counts = by_module[module]
        total = sum(counts.values())
        rest = ", ".join(
            f"{n} {s}" for s, n in sorted(counts.items()) if s not in ("killed", "equivalent")
        )
        print(f"{module:34} {total:>6} {counts['killed']:>7} {counts['equivalent']:>7}  {rest}")
    killed = sum(c["killed"] for c in by_module.values())
    same = sum(c["equivalent"] for c in by_module.values())
    total = sum(sum(c.values()) for c in by_module.values())
    print(f"{'all':34} {total:>6} {killed:>7} {same:>7}  {len(left)} not killed")
    if timeouts:
        print("\nTimed out (caught: the tests never finished):")
        for name in timeouts:
            print(f"  {name}")
    if equivalent:
        print(f"\nEquivalent ({EQUIVALENT.name}):")
        for name, why in equivalent:
            print(f"  {name}: {why}")
    if left:
        print("\nNot killed and not listed as equivalent (`.venv/bin/mutmut show NAME`):")
        for name, status in left:
            print(f"  {status:10} {name}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
