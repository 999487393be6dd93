"""Turn the templates YAML document into `Template`s, reporting schema problems with lines."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from franchise.messages.definition import STAGES, Template
from franchise.yamldoc.loader import item_line, key_line, load, node_line
from franchise.yamldoc.problems import Problem

KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TOP_KEYS = {"templates"}
TEMPLATE_KEYS = {"key", "stage", "runbook", "description", "subject", "body"}


def parse_templates(
    text: str, file: str = "<templates>"
) -> tuple[list[Template] | None, list[Problem]]:
    """Parse and schema-check the document; template text and cross-checks live in `lint`."""
    data, problems = load(text, file)
    if problems:
        return None, problems
    out: list[Problem] = []

    def add(line: int, code: str, message: str) -> None:
        out.append(Problem(file, line, None, code, message))

    if not isinstance(data, dict) or not isinstance(data.get("templates"), list):
        add(node_line(data), "schema", "the document must be a mapping with a 'templates:' list")
        return None, out
    for key in data:
        if key not in TOP_KEYS:
            add(key_line(data, key), "unknown-field", f"unknown field '{key}' (allowed: templates)")
    raw = data["templates"]
    templates = []
    for index, item in enumerate(raw):
        line = item_line(raw, index, key_line(data, "templates"))
        if not isinstance(item, dict):
            add(
                line,
                "schema",
                f"template {index + 1} must be a mapping (key, stage, subject, body)",
            )
            continue
        template = _template(item, line, add)
        if template is not None:
            templates.append(template)
    return templates, out


def _template(item: Any, line: int, add: Callable[[int, str, str], None]) -> Template | None:
    label = f"template '{item.get('key')}'" if item.get("key") else "template"
    for k in item:
        if k not in TEMPLATE_KEYS:
            allowed = ", ".join(sorted(TEMPLATE_KEYS))
            add(
                key_line(item, k, line),
                "unknown-field",
                f"{label}: unknown field '{k}' (allowed: {allowed})",
            )
    values: dict[str, str] = {}
    for field in ("key", "stage", "subject", "body", "runbook", "description"):
        value = item.get(field)
        if value is None:
            if field in ("key", "stage", "subject", "body"):
                add(line, "missing-field", f"{label}: missing required field '{field}'")
            continue
        if isinstance(value, dict | list):
            add(key_line(item, field, line), "schema", f"{label}: '{field}' must be text")
            continue
        values[field] = str(value) if field in ("subject", "body") else str(value).strip()
    key, stage, runbook = values.get("key", ""), values.get("stage", ""), values.get("runbook")
    if key and not KEBAB.match(key):
        add(
            key_line(item, "key", line), "bad-key", f"{label}: key must be kebab-case (a-z, 0-9, -)"
        )
    if stage and stage not in STAGES:
        add(
            key_line(item, "stage", line),
            "unknown-stage",
            f"{label}: unknown stage '{stage}' (use {', '.join(STAGES)})",
        )
    for field in ("subject", "body"):
        if field in values and not values[field].strip():
            add(key_line(item, field, line), "missing-field", f"{label}: '{field}' is empty")
    if not key or "subject" not in values or "body" not in values:
        return None
    return Template(
        key=key,
        stage=stage,
        subject=values["subject"],
        body=values["body"],
        runbook=runbook or None,
        description=values.get("description", ""),
        line=line,
        subject_line=_text_line(item, "subject", line),
        body_line=_text_line(item, "body", line),
    )


def _text_line(item: Any, field: str, default: int) -> int:
    """The file line holding the first line of a text value."""
    try:
        line = int(item.lc.value(field)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return key_line(item, field, default)
    # A block scalar's position is its "|" or ">" indicator; the text starts below it.
    if isinstance(item.get(field), LiteralScalarString | FoldedScalarString):
        line += 1
    return line
