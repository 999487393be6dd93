"""Lint time for the starter library against a bare YAML parse of the same files.

.venv/bin/python bench/lint_speed.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import time

from ruamel.yaml import YAML

from franchise.runbooks.lint import expand, lint_files
from franchise.runbooks.service import STARTER


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    files = expand([STARTER])
    texts = [f.read_text() for f in files]

    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            YAML(typ="rt", pure=True).load(text)
    parse = (time.perf_counter() - start) / rounds

    start = time.perf_counter()
    for _ in range(rounds):
        report = lint_files([STARTER])
    lint = (time.perf_counter() - start) / rounds
    assert report.ok, report.problems

    print(f"files: {len(files)}")
    print(f"YAML parse only (baseline): {parse * 1000:7.1f} ms for the library")
    print(f"franchise runbook lint:     {lint * 1000:7.1f} ms for the library  x{lint / parse:.2f}")


if __name__ == "__main__":
    main()
