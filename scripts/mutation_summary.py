"""After `mutmut run`: killed / total per module, then every mutant that was not killed.

mutmut's own `results` lists survivors without a total; the figure the README quotes is
killed over all mutants of the module, so this counts both.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict


def main() -> int:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    left: list[tuple[str, str]] = []
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        module = name.split(".x", 1)[0]
        by_module[module][status] += 1
        if status != "killed":
            left.append((name, status))
    print(f"{'module':42} {'killed':>7} {'total':>6}  not killed")
    for module in sorted(by_module):
        counts = by_module[module]
        total = sum(counts.values())
        rest = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s != "killed")
        print(f"{module:42} {counts['killed']:>7} {total:>6}  {rest}")
    killed = sum(c["killed"] for c in by_module.values())
    total = sum(sum(c.values()) for c in by_module.values())
    print(f"{'all':42} {killed:>7} {total:>6}")
    if left:
        print("\nNot killed (`mutmut show NAME` prints the change; docs/mutation.md says why):")
        for name, status in left:
            print(f"  {status:10} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
