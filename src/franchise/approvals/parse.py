"""Turn approval-boundary YAML into `Boundaries`, reporting every problem with its line.

The document:

    timeout: {minutes: 120, then: escalate}        # or then: deny
    kinds:                                          # optional: words that imply a kind
      firewall-change: {keywords: [firewall, NAT, port forward]}
    levels:
      L1: {max_cost: 100, max_minutes: 60, impacts: [none, low],
           kinds: {licence-purchase: {max_cost: 50}, firewall-change: {allowed: false}}}
      L2: {...}
      owner: unlimited
    people:
      sam@example.com: {max_cost: 250}              # only the fields that differ

Whether a person's e-mail belongs to a staff member needs the database; here only its
format is checked.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from franchise.addresses import EMAIL
from franchise.approvals.boundaries import (
    LEVELS,
    TIMEOUT_ACTIONS,
    ActionKind,
    Boundaries,
    LevelBoundary,
    Limits,
    Override,
    PersonBoundary,
    TimeoutRule,
)
from franchise.approvals.models import IMPACTS
from franchise.approvals.policy import money
from franchise.yamldoc.loader import item_line, key_line, load, node_line
from franchise.yamldoc.problems import Problem, ProblemList

KIND = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TOP_KEYS = ("timeout", "kinds", "levels", "people")
ACTION_KIND_KEYS = ("keywords",)
MAX_KEYWORD = 64
TIMEOUT_KEYS = ("minutes", "then")
LIMIT_KEYS = ("max_cost", "max_minutes", "impacts")
LEVEL_KEYS = (*LIMIT_KEYS, "kinds")
KIND_KEYS = (*LIMIT_KEYS, "allowed")
UNLIMITED_WORD = "unlimited"
# Numeric(12, 2) in the database; a limit above this could never be compared to a request.
MAX_AMOUNT = Decimal("9999999999.99")
MAX_MINUTES = 525_600  # a year


_Collector = ProblemList


def parse_boundaries(
    text: str, file: str = "<boundaries>", *, strict: bool = True
) -> tuple[Boundaries | None, list[Problem]]:
    """Parse and check a boundaries document; any problem means it must not be saved.

    `strict=False` leaves out the checks added since documents were first stored (a stored
    revision that passed when it was saved must keep deciding approvals)."""
    data, problems = load(text, file)
    if problems:
        return None, problems
    out = _Collector(file)
    if not isinstance(data, dict):
        out.add(1, "schema", "the boundaries document must be a YAML mapping with 'levels'")
        return None, out.problems
    _unknown_keys(data, TOP_KEYS, "", out)
    boundaries = Boundaries(
        levels=_levels(data, out),
        people=_people(data, out),
        timeout=_timeout(data, out),
        kinds=_action_kinds(data, out),
    )
    if "kinds" in data:
        _undeclared_kinds(boundaries, out)
    if strict:
        _inverted_levels(boundaries, out)
    return boundaries, sorted(set(out.problems), key=lambda p: (p.line, p.code, p.message))


def _limit(value: Decimal | int | None) -> str:
    """A limit as the reasons write amounts (policy.money): '5000', '99.50', 'unlimited'."""
    if value is None:
        return "unlimited"
    return money(value) if isinstance(value, Decimal) else str(value)


def _inverted_levels(boundaries: Boundaries, out: _Collector) -> None:
    """L1 never has more say than L2: a request inside L1's limits but outside L2's would be
    approved for L1 while L2 could not approve it (almost always a typed 5000 for 500)."""
    low, high = boundaries.levels.get("L1"), boundaries.levels.get("L2")
    if low is None or high is None:
        return
    a, b = low.limits, high.limits
    if b.max_cost is not None and (a.max_cost is None or a.max_cost > b.max_cost):
        out.add(
            low.line,
            "inverted-limits",
            f"levels.L1.max_cost ({_limit(a.max_cost)}) is above L2's ({_limit(b.max_cost)}): "
            "a higher level never has less say",
        )
    if b.max_minutes is not None and (a.max_minutes is None or a.max_minutes > b.max_minutes):
        out.add(
            low.line,
            "inverted-limits",
            f"levels.L1.max_minutes ({_limit(a.max_minutes)}) is above L2's "
            f"({_limit(b.max_minutes)}): a higher level never has less say",
        )
    if b.impacts is not None and (a.impacts is None or not a.impacts <= b.impacts):
        extra = "any" if a.impacts is None else ", ".join(sorted(a.impacts - b.impacts))
        out.add(
            low.line,
            "inverted-limits",
            f"levels.L1 allows impact {extra}, which L2 does not: a higher level never has "
            "less say",
        )


def lint_boundaries(text: str, file: str = "<boundaries>") -> list[Problem]:
    return parse_boundaries(text, file)[1]


def _action_kinds(data: Any, out: _Collector) -> dict[str, ActionKind]:
    raw = data.get("kinds")
    if raw is None:
        return {}
    line = key_line(data, "kinds")
    if not isinstance(raw, dict):
        out.add(line, "schema", "'kinds' must map an action kind to {keywords: [...]}")
        return {}
    kinds: dict[str, ActionKind] = {}
    for key, body in raw.items():
        name = str(key)
        kline = key_line(raw, key, line)
        if not KIND.match(name) or len(name) > 64:
            out.add(kline, "bad-kind", f"action kind '{name}' must be kebab-case (a-z, 0-9, -)")
            continue
        if not isinstance(body, dict):
            out.add(kline, "schema", f"'kinds.{name}' must be a mapping {{keywords: [...]}}")
            continue
        _unknown_keys(body, ACTION_KIND_KEYS, f"kinds.{name}.", out)
        kinds[name] = ActionKind(name, _keywords(body, name, kline, out), kline)
    return kinds


def _keywords(body: Any, name: str, line: int, out: _Collector) -> tuple[str, ...]:
    raw = body.get("keywords", [])
    at = key_line(body, "keywords", line)
    if not isinstance(raw, list):
        out.add(at, "schema", f"kinds.{name}.keywords must be a list of words or phrases")
        return ()
    words: list[str] = []
    for i, item in enumerate(raw):
        word = " ".join(str(item).split()) if isinstance(item, str | int) else ""
        where = item_line(raw, i, at)
        if not word or len(word) > MAX_KEYWORD:
            out.add(
                where,
                "bad-keyword",
                f"kinds.{name}.keywords: each keyword is a word or phrase of 1 to "
                f"{MAX_KEYWORD} characters",
            )
        elif word.lower() in (w.lower() for w in words):
            out.add(where, "duplicate-keyword", f"kinds.{name}.keywords lists '{word}' twice")
        else:
            words.append(word)
    return tuple(words)


def _undeclared_kinds(boundaries: Boundaries, out: _Collector) -> None:
    """Once a document declares its kinds, a rule for any other kind is a typo that would
    silently never apply."""
    rules = [(f"levels.{n}", b.kinds, b.line) for n, b in boundaries.levels.items()]
    rules += [(f"people.{e}", p.kinds, p.line) for e, p in boundaries.people.items()]
    for where, kinds, line in rules:
        for kind in kinds:
            if kind not in boundaries.kinds:
                out.add(
                    line,
                    "unknown-kind",
                    f"'{where}.kinds.{kind}' is not declared under the top-level 'kinds' "
                    f"(declared: {', '.join(boundaries.kinds) or 'none'})",
                )


def _unknown_keys(data: Any, allowed: tuple[str, ...], where: str, out: _Collector) -> None:
    for key in data:
        if key not in allowed:
            out.add(
                key_line(data, key, node_line(data)),
                "unknown-field",
                f"unknown field '{where}{key}' (allowed: {', '.join(allowed)})",
            )


def _timeout(data: Any, out: _Collector) -> TimeoutRule:
    raw = data.get("timeout")
    if raw is None:
        return TimeoutRule()
    line = key_line(data, "timeout")
    if not isinstance(raw, dict):
        out.add(line, "schema", "'timeout' must be a mapping {minutes, then}")
        return TimeoutRule()
    _unknown_keys(raw, TIMEOUT_KEYS, "timeout.", out)
    default = TimeoutRule()
    minutes = default.minutes
    if "minutes" in raw:
        value = _minutes(raw, "minutes", "timeout.minutes", line, out)
        if value is not None and value == 0:
            out.add(key_line(raw, "minutes", line), "bad-number", "timeout.minutes must be > 0")
        elif value is not None:
            minutes = value
    then = str(raw.get("then", default.then))
    if then not in TIMEOUT_ACTIONS:
        out.add(
            key_line(raw, "then", line),
            "bad-timeout",
            f"timeout.then '{then}' must be one of {', '.join(TIMEOUT_ACTIONS)}",
        )
        then = default.then
    return TimeoutRule(minutes=minutes, then=then)


def _levels(data: Any, out: _Collector) -> dict[str, LevelBoundary]:
    raw = data.get("levels")
    if raw is None:
        out.add(node_line(data), "missing-field", "missing required field 'levels'")
        return {}
    if not isinstance(raw, dict):
        out.add(key_line(data, "levels"), "schema", "'levels' must map a level to its limits")
        return {}
    levels: dict[str, LevelBoundary] = {}
    for name, body in raw.items():
        level = str(name)
        line = key_line(raw, name, node_line(raw))
        if level not in LEVELS:
            out.add(line, "unknown-level", f"unknown level '{level}' (levels: {', '.join(LEVELS)})")
            continue
        if level == "owner":
            if body != UNLIMITED_WORD:
                out.add(
                    line,
                    "owner-limited",
                    "the owner has no limits (they decide whatever no boundary covers); "
                    "write 'owner: unlimited'",
                )
            continue
        boundary = _level(level, body, line, out)
        if boundary is not None:
            levels[level] = boundary
    # The owner always covers everything, whatever the document says.
    levels["owner"] = LevelBoundary("owner", Limits(None, None, None))
    return levels


def _level(level: str, body: Any, line: int, out: _Collector) -> LevelBoundary | None:
    where = f"levels.{level}"
    if body == UNLIMITED_WORD:
        return LevelBoundary(level, Limits(None, None, None), {}, line)
    if not isinstance(body, dict):
        out.add(line, "schema", f"'{where}' must be a mapping of limits or 'unlimited'")
        return None
    _unknown_keys(body, LEVEL_KEYS, f"{where}.", out)
    for key in LIMIT_KEYS:
        if key not in body:
            out.add(
                line,
                "missing-field",
                f"'{where}' needs '{key}' (write 'unlimited' for a level without limits)",
            )
    partial = _override(body, where, line, out, allow_flag=False)
    limits = Limits(
        max_cost=partial.max_cost if partial.max_cost is not None else Decimal(0),
        max_minutes=partial.max_minutes if partial.max_minutes is not None else 0,
        impacts=partial.impacts if partial.impacts is not None else frozenset(),
    )
    return LevelBoundary(level, limits, _kinds(body, where, line, out), line)


def _people(data: Any, out: _Collector) -> dict[str, PersonBoundary]:
    raw = data.get("people")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        out.add(key_line(data, "people"), "schema", "'people' must map a staff e-mail to limits")
        return {}
    people: dict[str, PersonBoundary] = {}
    for key, body in raw.items():
        email = str(key).strip().lower()
        line = key_line(raw, key, node_line(raw))
        where = f"people.{email}"
        if not EMAIL.match(email):
            out.add(line, "bad-email", f"'{key}' is not an e-mail address")
            continue
        if email in people:
            out.add(line, "duplicate-person", f"{email} is listed twice")
            continue
        if body == UNLIMITED_WORD:
            people[email] = PersonBoundary(email, Override(unlimited=True), {}, line)
            continue
        if not isinstance(body, dict):
            out.add(line, "schema", f"'{where}' must be a mapping of limits or 'unlimited'")
            continue
        _unknown_keys(body, LEVEL_KEYS, f"{where}.", out)
        people[email] = PersonBoundary(
            email,
            _override(body, where, line, out, allow_flag=False),
            _kinds(body, where, line, out),
            line,
        )
    return people


def _kinds(body: Any, where: str, line: int, out: _Collector) -> dict[str, Override]:
    raw = body.get("kinds")
    if raw is None:
        return {}
    kline = key_line(body, "kinds", line)
    if not isinstance(raw, dict):
        out.add(kline, "schema", f"'{where}.kinds' must map an action kind to its limits")
        return {}
    kinds: dict[str, Override] = {}
    for key, rule in raw.items():
        kind = str(key)
        rline = key_line(raw, key, kline)
        if not KIND.match(kind) or len(kind) > 64:
            out.add(rline, "bad-kind", f"action kind '{kind}' must be kebab-case (a-z, 0-9, -)")
            continue
        if not isinstance(rule, dict):
            out.add(
                rline,
                "schema",
                f"'{where}.kinds.{kind}' must be a mapping such as {{max_cost: 50}} "
                "or {allowed: false}",
            )
            continue
        _unknown_keys(rule, KIND_KEYS, f"{where}.kinds.{kind}.", out)
        kinds[kind] = _override(rule, f"{where}.kinds.{kind}", rline, out, allow_flag=True)
    return kinds


def _override(body: Any, where: str, line: int, out: _Collector, *, allow_flag: bool) -> Override:
    allowed: bool | None = None
    if allow_flag and "allowed" in body:
        if isinstance(body["allowed"], bool):
            allowed = body["allowed"]
        else:
            out.add(
                key_line(body, "allowed", line),
                "schema",
                f"'{where}.allowed' must be true or false",
            )
    return Override(
        max_cost=_amount(body, "max_cost", f"{where}.max_cost", line, out),
        max_minutes=_minutes(body, "max_minutes", f"{where}.max_minutes", line, out),
        impacts=_impacts(body, f"{where}.impacts", line, out),
        allowed=allowed,
    )


def _amount(body: Any, key: str, where: str, line: int, out: _Collector) -> Decimal | None:
    if key not in body:
        return None
    value = body[key]
    at = key_line(body, key, line)
    if isinstance(value, bool) or not isinstance(value, int | float):
        out.add(at, "bad-number", f"{where} must be an amount such as 100 or 99.50")
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        out.add(at, "bad-number", f"{where} must be an amount such as 100 or 99.50")
        return None
    if not amount.is_finite():
        out.add(at, "bad-number", f"{where} must be a finite amount")
        return None
    if amount < 0:
        out.add(at, "negative", f"{where} is {value}; limits cannot be negative")
        return None
    if amount > MAX_AMOUNT:
        out.add(at, "bad-number", f"{where} is above {MAX_AMOUNT}")
        return None
    if amount != amount.quantize(Decimal("0.01")):
        out.add(at, "bad-number", f"{where} has more than two decimals")
        return None
    return amount.quantize(Decimal("0.01"))


def _minutes(body: Any, key: str, where: str, line: int, out: _Collector) -> int | None:
    if key not in body:
        return None
    value = body[key]
    at = key_line(body, key, line)
    if isinstance(value, bool) or not isinstance(value, int):
        out.add(at, "bad-number", f"{where} must be a whole number of minutes")
        return None
    if value < 0:
        out.add(at, "negative", f"{where} is {value}; limits cannot be negative")
        return None
    if value > MAX_MINUTES:
        out.add(at, "bad-number", f"{where} is above {MAX_MINUTES} minutes (a year)")
        return None
    return int(value)


def _impacts(body: Any, where: str, line: int, out: _Collector) -> frozenset[str] | None:
    if "impacts" not in body:
        return None
    raw = body["impacts"]
    at = key_line(body, "impacts", line)
    if not isinstance(raw, list):
        out.add(at, "schema", f"{where} must be a list such as [none, low]")
        return None
    impacts: set[str] = set()
    for i, item in enumerate(raw):
        name = str(item)
        if name not in IMPACTS:
            out.add(
                item_line(raw, i, at),
                "bad-impact",
                f"{where}: unknown impact '{name}' (use {', '.join(IMPACTS)})",
            )
        else:
            impacts.add(name)
    return frozenset(impacts)
