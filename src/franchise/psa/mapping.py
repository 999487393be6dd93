"""Mapping files: column names and value maps for a CSV export we have no format for. Pure.

    columns:                       # CSV header for each field (any case)
      external_id: Ref             # required (here or in the base format)
      title: Subject               # required
      body: [Notes, Description]   # a list: the first column present is used
      client: Customer
      category: [Group, Subgroup]  # a list: every column present, joined with " / "
      priority: Urgency
      status: State
      created_at: Opened
    date_format: "%d.%m.%Y %H:%M"  # optional strptime format (ISO 8601 is always read)
    date_order: dmy                # or mdy: how to read 03/04/2026
    priority: {"P1 - Outage": critical, "Sev 3": normal}
    status: {"Awaiting Parts": in_progress}
    category: {"Network > Remote": vpn, "Sec / Tokens": mfa}

With `--format connectwise|autotask|halopsa` a mapping file adds to and overrides the
built-in format; with `--format generic` it is the whole description.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from franchise.errors import InvalidInput, NotFound
from franchise.psa.formats import DATE_ORDERS, FIELDS, REQUIRED, Format
from franchise.runbooks.definition import CATEGORIES
from franchise.tickets.models import PRIORITIES, STATUSES
from franchise.yamldoc.loader import key_line, load, to_plain

TOP_KEYS = ("columns", "date_format", "date_order", "priority", "status", "category")
_ALLOWED = {"priority": PRIORITIES, "status": STATUSES, "category": CATEGORIES}


class _Problems:
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[dict[str, Any]] = []

    def add(self, line: int, message: str) -> None:
        self.items.append({"file": self.file, "line": line, "message": message})


def load_mapping(path: Path, base: Format) -> Format:
    """Read a mapping file and lay it over `base`; every problem is named with its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NotFound(f"{path}: no such mapping file") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not a UTF-8 text file") from None
    return parse_mapping(text, str(path), base)


def parse_mapping(text: str, file: str, base: Format) -> Format:
    doc, syntax = load(text, file)
    problems = _Problems(file)
    for problem in syntax:
        problems.add(problem.line, problem.message)
    if not syntax and not isinstance(doc, dict):
        problems.add(1, "a mapping file is a YAML mapping with `columns:` and value maps")
    if problems.items:
        raise _refusal(problems)
    for key in doc:
        if key not in TOP_KEYS:
            problems.add(key_line(doc, key), f"unknown key '{key}' (use {', '.join(TOP_KEYS)})")
    columns, category_columns = _columns(doc, problems, base)
    maps = {kind: _value_map(doc, kind, problems) for kind in _ALLOWED}
    date_format = _text(doc, "date_format", problems)
    date_order = _text(doc, "date_order", problems)
    if date_order is not None and date_order not in DATE_ORDERS:
        problems.add(key_line(doc, "date_order"), "date_order must be mdy or dmy")
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        problems.add(key_line(doc, "columns"), f"columns: no column given for {', '.join(missing)}")
    if problems.items:
        raise _refusal(problems)
    return replace(
        base,
        columns=columns,
        category_columns=category_columns,
        date_format=date_format or base.date_format,
        date_order=date_order or base.date_order,
        priority_map={**base.priority_map, **maps["priority"]},
        status_map={**base.status_map, **maps["status"]},
        category_map={**base.category_map, **maps["category"]},
    )


def _refusal(problems: _Problems) -> InvalidInput:
    return InvalidInput(
        f"{problems.file}: {len(problems.items)} problem(s) in the mapping file",
        errors=problems.items,
    )


def _columns(
    doc: dict[str, Any], problems: _Problems, base: Format
) -> tuple[dict[str, tuple[str, ...]], tuple[tuple[str, ...], ...]]:
    columns = {k: tuple(v) for k, v in base.columns.items()}
    category = tuple(tuple(aliases) for aliases in base.category_columns)
    given = doc.get("columns")
    if given is None:
        return columns, category
    if not isinstance(given, dict):
        problems.add(key_line(doc, "columns"), "columns must map field names to CSV headers")
        return columns, category
    for name, value in given.items():
        line = key_line(given, name)
        if name not in FIELDS:
            problems.add(line, f"columns: unknown field '{name}' (use {', '.join(FIELDS)})")
            continue
        headers = to_plain(value)
        if isinstance(headers, str):
            headers = [headers]
        if (
            not isinstance(headers, list)
            or not headers
            or not all(isinstance(h, str) and h.strip() for h in headers)
        ):
            problems.add(line, f"columns: {name} must be a header name or a list of them")
            continue
        if name == "category":
            # Each listed column is one part of the category, not an alternative.
            category = tuple((h,) for h in headers)
        else:
            columns[name] = tuple(headers)
    return columns, category


def _value_map(doc: dict[str, Any], kind: str, problems: _Problems) -> dict[str, str]:
    given = doc.get(kind)
    if given is None:
        return {}
    if not isinstance(given, dict):
        problems.add(key_line(doc, kind), f"{kind} must map PSA values to ours")
        return {}
    allowed = _ALLOWED[kind]
    result: dict[str, str] = {}
    for source, target in given.items():
        if not isinstance(target, str) or target not in allowed:
            problems.add(
                key_line(given, source),
                f"{kind}: '{source}' maps to '{target}', which is not one of {', '.join(allowed)}",
            )
            continue
        result[str(source)] = target
    return result


def _text(doc: dict[str, Any], key: str, problems: _Problems) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(key_line(doc, key), f"{key} must be a text value")
        return None
    return value.strip()
