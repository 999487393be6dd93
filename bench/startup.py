"""Start-up time of `franchise --help` against the bare interpreter, in the same run.

.venv/bin/python bench/startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def timed(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    baseline = timed([sys.executable, "-c", "pass"], runs)
    typer_only = timed([sys.executable, "-c", "import typer, rich"], runs)
    franchise = timed([str(BIN / "franchise"), "--help"], runs)
    print(f"python -c pass          {baseline * 1000:7.1f} ms (baseline)")
    print(f"import typer, rich      {typer_only * 1000:7.1f} ms  x{typer_only / baseline:.1f}")
    print(
        f"franchise --help        {franchise * 1000:7.1f} ms  x{franchise / baseline:.1f}  (aim < 500 ms)"
    )


if __name__ == "__main__":
    main()
