"""Turn runbook YAML into a `Runbook`, reporting every schema problem with its line."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from franchise.runbooks.definition import (
    FALLBACK_STEP,
    IMPACTS,
    RECURRING,
    STEP_KINDS,
    EdgeCase,
    Estimate,
    Fallback,
    Input,
    Runbook,
    Step,
)

if TYPE_CHECKING:
    from franchise.runbooks.steplib import StepLibrary
from franchise.yamldoc.loader import item_line, key_line, load, node_line
from franchise.yamldoc.problems import Problem, ProblemList

KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
STEP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
TOP_KEYS = {
    "key",
    "title",
    "category",
    "status",
    "maintainer",
    "description",
    "match",
    "inputs",
    "start",
    "steps",
    "edge_cases",
    "sign_off",
    "done_when",
    "templates",
    "format",
    "review_by",
    "fallback",
}
STEP_KEYS = {
    "kind",
    "text",
    "where",
    "options",
    "to",
    "estimate",
    "template",
    "done_when",
    "fact",
    "on_denied",
    "emergency",
    "review_by",
}
USE_KEYS = {"use", "exits"}
ESTIMATE_KEYS = {"minutes", "cost", "impact", "kind", "recurring"}
EDGE_KEYS = {"when", "do", "steps", "switch", "escalate"}
FACT_KEY = re.compile(r"^[a-z][a-z0-9_-]*$")
FORMATS = (1, 2)
MAX_KEY = 64


_Collector = ProblemList


def parse_runbook(
    text: str, file: str = "<runbook>", library: StepLibrary | None = None
) -> tuple[Runbook | None, list[Problem]]:
    """Parse and schema-check one runbook, expanding shared steps (`use:`) from the step
    library and adding the fallback answer; graph checks live in `lint`."""
    data, problems = load(text, file)
    if problems:
        return None, problems
    out = _Collector(file)
    if not isinstance(data, dict):
        out.add(1, "schema", "a runbook must be a YAML mapping (key: value lines)")
        return None, out.problems
    for key in data:
        if key not in TOP_KEYS:
            allowed = ", ".join(sorted(TOP_KEYS))
            out.add(
                key_line(data, key), "unknown-field", f"unknown field '{key}' (allowed: {allowed})"
            )
    key = _text(data, "key", out, required=True)
    if key and not KEBAB.match(key):
        out.add(key_line(data, "key"), "bad-key", f"key '{key}' must be kebab-case (a-z, 0-9, -)")
    elif len(key) > MAX_KEY:
        # The key names the exported file; long names break exports on every file system.
        out.add(
            key_line(data, "key"),
            "bad-key",
            f"key is {len(key)} characters; keep it to {MAX_KEY} or fewer",
        )
    title = _text(data, "title", out, required=True)
    category = _text(data, "category", out, required=True)
    status = _text(data, "status", out, required=True)
    start = _text(data, "start", out, required=True)
    version = _format(data, out)
    steps = _steps(data, out, library)
    fallback = _fallback(data, out)
    if fallback is not None:
        steps = _with_fallback(steps, fallback, key_line(data, "fallback"), out)
    keywords, alert_types = _match(data, out)
    runbook = Runbook(
        key=key,
        title=title,
        category=category,
        status=status,
        start=start,
        steps=steps,
        description=_text(data, "description", out),
        maintainer=_text(data, "maintainer", out) or None,
        keywords=keywords,
        alert_types=alert_types,
        inputs=_inputs(data, out),
        edge_cases=_edge_cases(data, out),
        sign_off=_str_map(data, "sign_off", out),
        done_when=_str_list(data, "done_when", out),
        templates=_str_map(data, "templates", out),
        line_of={str(k): key_line(data, k) for k in data},
        format=version,
        review_by=_date(data, "review_by", out),
        fallback=fallback,
    )
    return runbook, out.problems


def _format(data: Any, out: _Collector) -> int:
    raw = data.get("format", 1)
    if isinstance(raw, bool) or raw not in FORMATS:
        out.add(key_line(data, "format"), "schema", "'format' must be 1 or 2")
        return 1
    return int(raw)


def _date(data: Any, key: str, out: _Collector, step: str | None = None) -> date | None:
    raw = data.get(key)
    if raw is None:
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        out.add(key_line(data, key), "schema", f"'{key}' must be a date YYYY-MM-DD", step)
        return None


def _fallback(data: Any, out: _Collector) -> Fallback | None:
    raw = data.get("fallback")
    if raw is None:
        return None
    line = key_line(data, "fallback")
    if not isinstance(raw, dict) or not raw.get("to") or not str(raw.get("text") or "").strip():
        out.add(line, "schema", "'fallback' must be {to: LEVEL, text: what to attach}")
        return None
    for k in raw:
        if k not in ("to", "text"):
            out.add(line, "unknown-field", f"unknown field 'fallback.{k}' (allowed: to, text)")
    return Fallback(str(raw["to"]).strip(), str(raw["text"]).strip())


def _with_fallback(
    steps: dict[str, Step], fallback: Fallback, line: int, out: _Collector
) -> dict[str, Step]:
    """Give every check, and every action with outcomes, that has no way out the fallback
    answer, leading to one escalate step. An action without outcomes just goes on."""
    if FALLBACK_STEP in steps:
        out.add(
            line,
            "schema",
            f"a step is already named '{FALLBACK_STEP}'; rename it, the fallback uses that id",
        )
        return steps
    result: dict[str, Step] = {}
    offered = False
    for sid, step in steps.items():
        label = step.fallback_label
        if (
            (step.kind == "check" or (step.kind == "action" and step.options))
            and not step.has_way_out
            and label not in step.options
        ):
            step = replace(
                step,
                options={**step.options, label: FALLBACK_STEP},
                option_lines={**step.option_lines, label: line},
                added_option=label,
            )
            offered = True
        result[sid] = step
    if not offered:
        # Every check has a way out of its own: the fallback would be a step nobody reaches.
        return result
    result[FALLBACK_STEP] = Step(
        id=FALLBACK_STEP, kind="escalate", text=fallback.text, line=line, to=fallback.to
    )
    return result


def _text(data: Any, key: str, out: _Collector, *, required: bool = False) -> str:
    if key not in data or data[key] is None:
        if required:
            out.add(node_line(data), "missing-field", f"missing required field '{key}'")
        return ""
    value = data[key]
    if isinstance(value, dict | list):
        out.add(
            key_line(data, key), "schema", f"'{key}' must be text, not a {type(value).__name__}"
        )
        return ""
    return str(value).strip()


def _str_list(data: Any, key: str, out: _Collector) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        out.add(key_line(data, key), "schema", f"'{key}' must be a list")
        return ()
    items = []
    for i, item in enumerate(value):
        if isinstance(item, dict | list) or item is None:
            out.add(
                item_line(value, i, key_line(data, key)),
                "schema",
                f"'{key}' item {i + 1} must be text",
            )
        else:
            items.append(str(item).strip())
    return tuple(items)


def _str_map(data: Any, key: str, out: _Collector) -> dict[str, str]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        out.add(key_line(data, key), "schema", f"'{key}' must be a mapping")
        return {}
    return {str(k): str(v).strip() for k, v in value.items()}


def _match(data: Any, out: _Collector) -> tuple[tuple[str, ...], tuple[str, ...]]:
    match = data.get("match")
    if match is None:
        return (), ()
    if not isinstance(match, dict):
        out.add(
            key_line(data, "match"), "schema", "'match' must be a mapping with keywords/alert_types"
        )
        return (), ()
    for k in match:
        if k not in ("keywords", "alert_types"):
            out.add(
                key_line(match, k),
                "unknown-field",
                f"unknown field 'match.{k}' (allowed: keywords, alert_types)",
            )
    keywords = tuple(w.lower() for w in _str_list(match, "keywords", out))
    return keywords, _str_list(match, "alert_types", out)


def _inputs(data: Any, out: _Collector) -> tuple[Input, ...]:
    raw = data.get("inputs")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        out.add(
            key_line(data, "inputs"), "schema", "'inputs' must be a list of {id, label, required}"
        )
        return ()
    inputs = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        line = item_line(raw, i)
        if not isinstance(item, dict) or not item.get("id"):
            out.add(line, "schema", f"input {i + 1} needs at least an 'id'")
            continue
        input_id = str(item["id"])
        if input_id in seen:
            out.add(line, "duplicate-input", f"input '{input_id}' is listed twice")
        seen.add(input_id)
        inputs.append(
            Input(input_id, str(item.get("label") or input_id), bool(item.get("required", False)))
        )
    return tuple(inputs)


def _edge_cases(data: Any, out: _Collector) -> tuple[EdgeCase, ...]:
    raw = data.get("edge_cases")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        out.add(key_line(data, "edge_cases"), "schema", "'edge_cases' must be a list of {when, do}")
        return ()
    cases = []
    for i, item in enumerate(raw):
        line = item_line(raw, i)
        if not isinstance(item, dict) or "when" not in item or "do" not in item:
            out.add(line, "schema", f"edge case {i + 1} needs 'when' and 'do'")
            continue
        for k in item:
            if k not in EDGE_KEYS:
                allowed = ", ".join(sorted(EDGE_KEYS))
                out.add(line, "unknown-field", f"unknown edge case field '{k}' ({allowed})")
        steps = item.get("steps") or ()
        if isinstance(steps, str):
            steps = (steps,)
        if not isinstance(steps, list | tuple):
            out.add(line, "schema", f"edge case {i + 1}: 'steps' must be a list of step ids")
            steps = ()
        if item.get("switch") and item.get("escalate"):
            out.add(line, "schema", f"edge case {i + 1}: give 'switch' or 'escalate', not both")
        cases.append(
            EdgeCase(
                str(item["when"]).strip(),
                str(item["do"]).strip(),
                steps=tuple(str(x) for x in steps),
                switch=str(item["switch"]).strip() if item.get("switch") else None,
                escalate=str(item["escalate"]).strip() if item.get("escalate") else None,
                line=line,
            )
        )
    return tuple(cases)


def _steps(data: Any, out: _Collector, library: StepLibrary | None = None) -> dict[str, Step]:
    raw = data.get("steps")
    if raw is None:
        out.add(node_line(data), "missing-field", "missing required field 'steps'")
        return {}
    if not isinstance(raw, dict) or not raw:
        out.add(
            key_line(data, "steps"),
            "schema",
            "'steps' must be a non-empty mapping of step id -> step",
        )
        return {}
    steps: dict[str, Step] = {}
    for step_id, body in raw.items():
        sid = str(step_id)
        line = key_line(raw, step_id)
        if not STEP_ID.match(sid):
            out.add(
                line, "bad-step-id", f"step id '{sid}' may only use letters, digits, - and _", sid
            )
        if not isinstance(body, dict):
            out.add(line, "schema", "a step must be a mapping with at least 'kind' and 'text'", sid)
            continue
        if "use" in body:
            for expanded in _use(sid, body, line, out, library):
                if expanded.id in steps or (expanded.id != sid and expanded.id in raw):
                    out.add(line, "bad-use", f"shared step id '{expanded.id}' is taken", sid)
                steps[expanded.id] = expanded
            continue
        step = _step(sid, body, line, out)
        if step is not None:
            steps[sid] = step
    return steps


def _use(
    sid: str, body: Any, line: int, out: _Collector, library: StepLibrary | None
) -> list[Step]:
    """Expand `X: {use: KEY, exits: {...}}` from the step library (problems at the use line)."""
    from franchise.runbooks.steplib import default_library

    for k in body:
        if k not in USE_KEYS:
            out.add(line, "bad-use", f"a 'use' step takes only use and exits, not '{k}'", sid)
    lib = library if library is not None else default_library()
    key = str(body.get("use") or "")
    exits_raw = body.get("exits") or {}
    if not isinstance(exits_raw, dict):
        out.add(line, "bad-use", "'exits' must map each exit of the shared step to a step", sid)
        exits_raw = {}
    exits = {str(k): str(v) for k, v in exits_raw.items()}
    try:
        block = lib.block(key)
    except KeyError:
        known = ", ".join(lib.keys()) or "none"
        out.add(line, "bad-use", f"no shared step '{key}' in the step library ({known})", sid)
        return []
    missing = [e for e in block.exits if e not in exits]
    unknown = [e for e in exits if e not in block.exits]
    if missing:
        out.add(line, "bad-use", f"'{key}' needs a step for exit(s): {', '.join(missing)}", sid)
    if unknown:
        out.add(
            line,
            "bad-use",
            f"'{key}' has no exit(s) {', '.join(unknown)} (exits: {', '.join(block.exits)})",
            sid,
        )

    def rename(target: str) -> str:
        if target.startswith("$"):
            return exits.get(target[1:], target)
        return sid if target == block.start else f"{sid}.{target}"

    expanded = []
    for inner in block.steps.values():
        options = {label: rename(t) for label, t in inner.options.items()}
        expanded.append(
            replace(
                inner,
                id=rename(inner.id),
                line=line,
                options=options,
                option_lines={label: line for label in options},
                on_denied=rename(inner.on_denied) if inner.on_denied else None,
                used_from=key,
            )
        )
    return expanded


def _step(sid: str, body: Any, line: int, out: _Collector) -> Step | None:
    for k in body:
        if k not in STEP_KEYS:
            allowed = ", ".join(sorted(STEP_KEYS))
            out.add(
                key_line(body, k, line),
                "unknown-field",
                f"unknown step field '{k}' (allowed: {allowed})",
                sid,
            )
    kind = str(body.get("kind") or "")
    if kind not in STEP_KINDS:
        shown = f"'{kind}'" if kind else "missing"
        out.add(
            key_line(body, "kind", line),
            "bad-kind",
            f"step kind {shown}; use one of {', '.join(STEP_KINDS)}",
            sid,
        )
        # The step is kept (as a non-ending step) so its id and options still count for the
        # other checks, instead of causing misleading "does not exist" problems.
    text = str(body.get("text") or "").strip()
    if not text:
        out.add(line, "missing-field", "step has no 'text' for the technician", sid)
    options: dict[str, str] = {}
    option_lines: dict[str, int] = {}
    raw_options = body.get("options")
    if raw_options is not None:
        if isinstance(raw_options, dict):
            for label, target in raw_options.items():
                options[str(label)] = str(target) if target is not None else ""
                option_lines[str(label)] = key_line(raw_options, label, line)
        else:
            out.add(
                key_line(body, "options", line),
                "schema",
                "'options' must map answer -> step id",
                sid,
            )
    fact = str(body["fact"]).strip() if body.get("fact") else None
    if fact is not None and not FACT_KEY.match(fact):
        out.add(
            key_line(body, "fact", line),
            "schema",
            f"fact '{fact}' must be a lower-case key (letters, digits, _ and -)",
            sid,
        )
    emergency = body.get("emergency", False)
    if not isinstance(emergency, bool):
        out.add(
            key_line(body, "emergency", line), "schema", "'emergency' must be true or false", sid
        )
        emergency = False
    return Step(
        id=sid,
        kind=kind,
        text=text,
        line=line,
        where=str(body["where"]).strip() if body.get("where") else None,
        options=options,
        option_lines=option_lines,
        to=str(body["to"]) if body.get("to") is not None else None,
        estimate=_estimate(sid, body, line, out),
        estimate_given="estimate" in body,
        template=str(body["template"]) if body.get("template") else None,
        done_when=_str_list(body, "done_when", out),
        fact=fact,
        on_denied=str(body["on_denied"]).strip() if body.get("on_denied") else None,
        emergency=emergency,
        review_by=_date(body, "review_by", out, sid),
    )


def _estimate(sid: str, body: Any, line: int, out: _Collector) -> Estimate | None:
    raw = body.get("estimate")
    if raw is None:
        return None
    eline = key_line(body, "estimate", line)
    if not isinstance(raw, dict):
        out.add(eline, "schema", "'estimate' must be {minutes, cost, impact}", sid)
        return None
    for k in raw:
        if k not in ESTIMATE_KEYS:
            out.add(
                eline,
                "unknown-field",
                f"unknown estimate field '{k}' (allowed: {', '.join(sorted(ESTIMATE_KEYS))})",
                sid,
            )
    minutes, cost = raw.get("minutes"), raw.get("cost", 0)
    impact = str(raw.get("impact", "none"))
    recurring = str(raw.get("recurring", "once"))
    valid = True
    if recurring not in RECURRING:
        out.add(
            eline,
            "bad-estimate",
            f"estimate.recurring '{recurring}' must be one of {', '.join(RECURRING)}",
            sid,
        )
        valid = False
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0:
        out.add(
            eline, "bad-estimate", "estimate.minutes must be a whole number of minutes >= 0", sid
        )
        valid = False
    if not isinstance(cost, int | float) or isinstance(cost, bool) or cost < 0:
        out.add(eline, "bad-estimate", "estimate.cost must be a number >= 0", sid)
        valid = False
    if impact not in IMPACTS:
        out.add(
            eline,
            "bad-estimate",
            f"estimate.impact '{impact}' must be one of {', '.join(IMPACTS)}",
            sid,
        )
        valid = False
    if not valid or not isinstance(minutes, int):
        return None
    kind = str(raw["kind"]) if raw.get("kind") else None
    return Estimate(
        minutes=int(minutes), cost=float(cost), impact=impact, kind=kind, recurring=recurring
    )
