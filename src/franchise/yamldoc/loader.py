"""YAML loading that keeps line numbers, so every error can point at its line."""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from franchise.yamldoc.problems import Problem


def load(text: str, file: str) -> tuple[Any, list[Problem]]:
    """Parse YAML text; on a syntax error return None and a problem with the line."""
    yaml = YAML(typ="rt", pure=True)
    try:
        return yaml.load(text), []
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
