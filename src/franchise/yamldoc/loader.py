"""YAML loading that keeps line numbers, so every error can point at its line."""

from __future__ import annotations

import copy
from dataclasses import replace
from functools import lru_cache
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from franchise.yamldoc.problems import Problem

# Policy documents and runbooks are a few levels deep; far deeper nesting is an attack or an
# accident, and the pure-Python parser would spend seconds (or overflow the stack) on it.
MAX_FLOW_DEPTH = 40


def load(text: str, file: str) -> tuple[Any, list[Problem]]:
    """Parse YAML text; on a syntax error return None and a problem with the line."""
    data, problems = _load_cached(text)
    # Every caller gets its own copy, free to change, with its line numbers (ruamel's
    # containers carry them into the copy).
    try:
        return copy.deepcopy(data), [replace(p, file=file) for p in problems]
    except RecursionError:
        return None, [
            Problem(file, 1, None, "too-deep", "the document is nested too deeply to read")
        ]


@lru_cache(maxsize=64)
def _load_cached(text: str) -> tuple[Any, tuple[Problem, ...]]:
    # The pure-Python round-trip parser is the slow part of reading a document (a tenth of
    # a second for a runbook), and the same texts come back again and again under several
    # names: a shipped starter file when it is loaded, then as the stored revision. Copying
    # the parsed tree is several times quicker than parsing it again.
    data, problems = _parse(text, "")
    return data, tuple(problems)


def _parse(text: str, file: str) -> tuple[Any, list[Problem]]:
    deep = _too_deep(text)
    if deep is not None:
        return None, [
            Problem(
                file, deep, None, "too-deep", f"brackets nested more than {MAX_FLOW_DEPTH} deep"
            )
        ]
    yaml = YAML(typ="rt", pure=True)
    try:
        data = yaml.load(text)
    except RecursionError:
        return None, [
            Problem(file, 1, None, "too-deep", "the document is nested too deeply to read")
        ]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # An unclosed bracket or quote is only noticed at the end of the file; the line
        # where the construct opened is the one the author needs to look at.
        at_end = mark is not None and mark.line >= len(text.rstrip().splitlines())
        if at_end and exc.context_mark is not None:
            mark = exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        return None, [Problem(file, line, None, "yaml-syntax", f"YAML syntax error: {message}")]
    except YAMLError as exc:
        return None, [Problem(file, 1, None, "yaml-syntax", f"YAML error: {exc}")]
    bad = _first_unencodable(data)
    if bad is not None:
        # "\ud83d" escapes parse into lone surrogates, which no file or response can hold.
        line, where = bad
        return None, [
            Problem(
                file,
                line,
                None,
                "bad-text",
                f"{where} holds an invalid character escape (a lone surrogate)",
            )
        ]
    return data, []


def _too_deep(text: str) -> int | None:
    """The line where [ or { nesting passes the limit (quoted text ignored), if it does."""
    depth, line, quote = 0, 1, ""
    for char in text:
        if char == "\n":
            line += 1
        elif quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                return line
        elif char in "]}":
            depth = max(depth - 1, 0)
    return None


def _first_unencodable(node: Any) -> tuple[int, str] | None:
    """Where a string holds a lone surrogate, if any. Each container is visited once: YAML
    aliases share nodes, and walking them again would expand an alias bomb exponentially."""
    seen: set[int] = set()
    stack: list[tuple[Any, int, str]] = [(node, 1, "a value")]
    while stack:
        item, line, where = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return line, where
        elif isinstance(item, dict | list) and id(item) not in seen:
            seen.add(id(item))
            if isinstance(item, dict):
                for key, value in item.items():
                    at = key_line(item, key, line)
                    stack += [(key, at, "a key"), (value, at, f"'{key}'")]
            else:
                stack += [(value, item_line(item, i, line), where) for i, value in enumerate(item)]
    return None


def key_line(mapping: Any, key: Any, default: int = 1) -> int:
    """1-based line of a key in a mapping, or the default when it is unknown."""
    if isinstance(mapping, CommentedMap):
        try:
            return int(mapping.lc.key(key)[0]) + 1
        except (KeyError, TypeError):
            pass
    return default


def item_line(seq: Any, index: int, default: int = 1) -> int:
    if isinstance(seq, CommentedSeq):
        try:
            return int(seq.lc.item(index)[0]) + 1
        except (KeyError, TypeError, IndexError):
            pass
    return default


def node_line(node: Any, default: int = 1) -> int:
    if isinstance(node, CommentedMap | CommentedSeq):
        return int(node.lc.line) + 1
    return default


def to_plain(node: Any) -> Any:
    """Round-trip containers to plain dicts and lists (for JSON output and comparison)."""
    if isinstance(node, dict):
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    return node
