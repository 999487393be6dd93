"""The step library: shared blocks of steps (`use: verify-identity`) that runbooks expand.

A block is written once (identity verification before every unlock, reset or MFA change)
and expanded into each runbook that uses it, so a fix to the block reaches every runbook.
Options of a block lead to its own steps or to a named exit (`$verified`), which the using
runbook maps to one of its steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from franchise.runbooks.definition import Step
from franchise.yamldoc.loader import key_line, load, node_line
from franchise.yamldoc.problems import Problem, ProblemList

LIBRARY = Path(__file__).resolve().parent.parent / "starter" / "steps"
BLOCK_KEYS = {"key", "title", "description", "exits", "start", "steps"}
EXIT = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Block:
    key: str
    title: str
    start: str
    exits: tuple[str, ...]
    steps: dict[str, Step]
    description: str = ""
    file: str = ""


@dataclass
class StepLibrary:
    blocks: dict[str, Block] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def block(self, key: str) -> Block:
        return self.blocks[key]

    def keys(self) -> list[str]:
        return sorted(self.blocks)


def parse_block(text: str, file: str) -> tuple[Block | None, list[Problem]]:
    """Parse one shared block and check that its options lead to its steps or its exits."""
    from franchise.runbooks.parse import _step

    data, problems = load(text, file)
    if problems:
        return None, problems
    out = ProblemList(file)
    if not isinstance(data, dict):
        out.add(1, "schema", "a shared step block must be a YAML mapping")
        return None, out.problems
    for k in data:
        if k not in BLOCK_KEYS:
            out.add(key_line(data, k), "unknown-field", f"unknown field '{k}'")
    key = str(data.get("key") or "").strip()
    start = str(data.get("start") or "").strip()
    exits_raw = data.get("exits")
    if not key or not start or not isinstance(exits_raw, list) or not exits_raw:
        out.add(node_line(data), "missing-field", "a block needs key, start, exits and steps")
        return None, out.problems
    exits = tuple(str(e) for e in exits_raw)
    for name in exits:
        if not EXIT.match(name):
            out.add(key_line(data, "exits"), "schema", f"exit '{name}' must be kebab-case")
    raw_steps: Any = data.get("steps")
    if not isinstance(raw_steps, dict) or not raw_steps:
        out.add(node_line(data), "missing-field", "a block needs a mapping of steps")
        return None, out.problems
    steps: dict[str, Step] = {}
    for sid, body in raw_steps.items():
        line = key_line(raw_steps, sid)
        if not isinstance(body, dict):
            out.add(line, "schema", "a step must be a mapping", str(sid))
            continue
        if "use" in body:
            out.add(line, "schema", "a shared block cannot use another block", str(sid))
            continue
        step = _step(str(sid), body, line, out)
        if step is not None:
            steps[str(sid)] = step
    if start not in steps:
        out.add(key_line(data, "start"), "unknown-start", f"start step '{start}' does not exist")
    used: set[str] = set()
    for step in steps.values():
        for label, target in step.options.items():
            line = step.option_lines.get(label, step.line)
            if target.startswith("$"):
                used.add(target[1:])
                if target[1:] not in exits:
                    out.add(line, "unknown-target", f"'{target}' is not an exit", step.id)
            elif target not in steps:
                out.add(line, "unknown-target", f"step '{target}' does not exist", step.id)
    for name in exits:
        if name not in used:
            out.add(key_line(data, "exits"), "unused-exit", f"no option leads to exit '{name}'")
    block = Block(
        key=key,
        title=str(data.get("title") or key),
        start=start,
        exits=exits,
        steps=steps,
        description=str(data.get("description") or "").strip(),
        file=file,
    )
    return block, out.problems


def load_library(folder: Path) -> StepLibrary:
    library = StepLibrary()
    if not folder.is_dir():
        return library
    for path in sorted(folder.glob("*.yaml")):
        block, problems = parse_block(path.read_text(encoding="utf-8"), path.name)
        library.problems.extend(problems)
        if block is not None and not problems:
            library.blocks[block.key] = block
    return library


@lru_cache(maxsize=1)
def default_library() -> StepLibrary:
    """The shipped step library (read once per process)."""
    return load_library(LIBRARY)
