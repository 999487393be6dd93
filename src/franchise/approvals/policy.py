"""Decide an approval request against the boundaries. Pure: no database, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from franchise.approvals.boundaries import (
    LEVELS,
    PAYMENTS_PER_YEAR,
    RECURRING,
    Boundaries,
    Limits,
    level_rank,
    ordered_impacts,
)
from franchise.approvals.models import IMPACTS
from franchise.errors import InvalidInput

KIND = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_COST = Decimal("9999999999.99")
MAX_MINUTES = 525_600
MAX_ACTION = 2000


@dataclass(frozen=True)
class Ask:
    """One action someone wants to take, with its estimate and who asks."""

    action: str
    cost: Decimal
    minutes: int
    impact: str
    level: str
    email: str = ""
    kind: str | None = None
    recurring: str = "once"  # once | month | year

    @property
    def yearly_cost(self) -> Decimal:
        """What limits compare: a monthly cost counts twelve times."""
        return self.cost * PAYMENTS_PER_YEAR[self.recurring]


@dataclass(frozen=True)
class BoundaryDecision:
    """What the boundaries say about an ask, before any person looks at it."""

    status: str  # approved | pending
    approver_level: str
    by_policy: bool
    reason: str
    # The kind whose rules applied: the ask's own, or the one its action text implied.
    kind: str | None = None


def make_ask(
    *,
    action: str,
    cost: Decimal | int | float | str,
    minutes: int,
    impact: str,
    level: str,
    email: str = "",
    kind: str | None = None,
    recurring: str | None = "once",
) -> Ask:
    """Check the user's input and build an Ask; every mistake is named."""
    text = action.strip()
    if not text:
        raise InvalidInput("describe the action to approve (--action)")
    if len(text) > MAX_ACTION:
        raise InvalidInput(f"the action text is over {MAX_ACTION} characters; shorten it")
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidInput(f"minutes must be a whole number, got {minutes!r}")
    if not 0 <= minutes <= MAX_MINUTES:
        raise InvalidInput(f"minutes must be between 0 and {MAX_MINUTES}, got {minutes}")
    if impact not in IMPACTS:
        raise InvalidInput(f"unknown impact '{impact}' (use {', '.join(IMPACTS)})")
    if kind is not None:
        kind = kind.strip() or None
    if kind is not None and (not KIND.match(kind) or len(kind) > 64):
        raise InvalidInput(f"action kind '{kind}' must be kebab-case (a-z, 0-9, -)")
    if level not in LEVELS:
        raise InvalidInput(f"unknown level '{level}' (use {', '.join(LEVELS)})")
    period = (recurring or "once").strip().lower()
    if period not in RECURRING:
        raise InvalidInput(f"unknown recurring '{recurring}' (use {', '.join(RECURRING)})")
    amount = parse_amount(cost)
    return Ask(text, amount, minutes, impact, level, email.strip().lower(), kind, period)


def parse_amount(value: Decimal | int | float | str) -> Decimal:
    """A non-negative amount with at most two decimals, as a Decimal."""
    if isinstance(value, bool):
        raise InvalidInput(f"cost '{value}' is not an amount")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise InvalidInput(
            f"cost '{value}' is not an amount (use a number such as 120.50)"
        ) from None
    if not amount.is_finite():
        raise InvalidInput(f"cost '{value}' is not an amount (use a number such as 120.50)")
    if amount < 0:
        raise InvalidInput(f"cost {value} is negative")
    if amount > MAX_COST:
        raise InvalidInput(f"cost {value} is above {MAX_COST}")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(f"cost {value} has more than two decimals")
    return amount.quantize(Decimal("0.01"))


def money(amount: Decimal) -> str:
    """250.00 -> '250', 12.50 -> '12.50': what a person would write."""
    if amount == amount.to_integral_value():
        return str(amount.quantize(Decimal(1)))
    return str(amount.quantize(Decimal("0.01")))


def cost_text(ask: Ask) -> str:
    """'40', '40/month (480 a year)', '300/year': the cost as the asker gave it, and what
    limits compare when that differs."""
    if ask.recurring == "once":
        return money(ask.cost)
    if ask.recurring == "year":
        return f"{money(ask.cost)}/year"
    return f"{money(ask.cost)}/{ask.recurring} ({money(ask.yearly_cost)} a year)"


def limits_for(boundaries: Boundaries, level: str, email: str, kind: str | None) -> Limits | None:
    """The limits that apply to this person for this kind; None when the level has none."""
    base = boundaries.levels.get(level)
    person = boundaries.people.get(email) if email else None
    if base is None and person is None:
        return None
    limits = base.limits if base is not None else Limits(Decimal(0), 0, frozenset())
    if person is not None:
        limits = person.limits.over(limits)
    if kind is not None:
        if base is not None and kind in base.kinds and not limits.unlimited:
            limits = replace(base.kinds[kind].over(limits), kind=kind)
        if person is not None and kind in person.kinds:
            limits = replace(person.kinds[kind].over(limits), kind=kind)
    return limits


def exceeded(limits: Limits, ask: Ask, label: str) -> list[str]:
    """Each limit the ask goes over, in words ("cost 250 exceeds L1 limit 100")."""
    suffix = f" for {limits.kind}" if limits.kind else ""
    if not limits.allowed:
        return [f"{ask.kind} actions are not allowed for {label}"]
    over = []
    if limits.max_cost is not None and ask.yearly_cost > limits.max_cost:
        over.append(f"cost {cost_text(ask)} exceeds {label} limit {money(limits.max_cost)}{suffix}")
    if limits.max_minutes is not None and ask.minutes > limits.max_minutes:
        over.append(
            f"time {ask.minutes} min exceeds {label} limit {limits.max_minutes} min{suffix}"
        )
    if limits.impacts is not None and ask.impact not in limits.impacts:
        allowed = ", ".join(ordered_impacts(limits.impacts)) or "none at all"
        over.append(f"impact {ask.impact} is not allowed for {label}{suffix} (allowed: {allowed})")
    return over


def within(limits: Limits, ask: Ask, label: str) -> str:
    """Why an ask is inside a boundary, naming each limit it was compared with."""
    if limits.unlimited:
        return f"inside the {label} boundary (no limit)"
    cost = (
        "no cost limit"
        if limits.max_cost is None
        else f"cost {cost_text(ask)} of {money(limits.max_cost)}"
    )
    time = (
        "no time limit"
        if limits.max_minutes is None
        else f"{ask.minutes} of {limits.max_minutes} min"
    )
    impact = f"impact {ask.impact} allowed"
    suffix = f" for {limits.kind}" if limits.kind else ""
    return f"inside the {label} boundary{suffix}: {cost}, {time}, {impact}"


def implied_kinds(boundaries: Boundaries, action: str) -> list[tuple[str, str]]:
    """(kind, the keyword found) for each declared kind the action text names, in the
    document's order."""
    found = []
    for kind in boundaries.kinds.values():
        for word in kind.keywords:
            if _keyword_pattern(word).search(action):
                found.append((kind.name, word))
                break
    return found


@lru_cache(maxsize=1024)
def _keyword_pattern(word: str) -> re.Pattern[str]:
    # Whole words in any case; "sign-in" = "sign in"; a plain plural counts ("NAT rules"),
    # while "report" does not name "port". The words of a phrase come in order with up to
    # two others between, so "reboot server" finds "reboot the file server".
    parts = [re.escape(p) for p in re.split(r"[\s-]+", word.strip()) if p]
    gap = r"(?:[\s-]+[\w'-]+){0,2}?[\s-]+"
    return re.compile(r"(?<![\w-])" + gap.join(parts) + r"(?:s|es)?(?![\w-])", re.I)


def decide_by_boundaries(boundaries: Boundaries, ask: Ask) -> BoundaryDecision:
    """Approve inside the asker's boundary; otherwise send it to the lowest level above
    them whose boundary covers it, and to the owner only when no boundary does.

    An ask without a kind takes the kind its action text implies, so leaving `kind` out
    cannot slip a firewall change past the firewall rule. Where several kinds match, the
    strictest applies: the one whose decision needs the highest approver (the first of
    them, in the document's order, on a tie).
    """
    implied = implied_kinds(boundaries, ask.action) if ask.kind is None else []
    if not implied:
        return replace(_decide_one(boundaries, ask), kind=ask.kind)
    options = [
        (_decide_one(boundaries, replace(ask, kind=kind)), kind, word) for kind, word in implied
    ]
    decision, kind, word = max(options, key=lambda o: level_rank(o[0].approver_level))
    why = f"kind {kind} implied by '{word}' in the action"
    if len(options) > 1:
        why += f" (strictest of {', '.join(k for _, k, _ in options)})"
    return replace(decision, kind=kind, reason=f"{why}; {decision.reason}")


def _decide_one(boundaries: Boundaries, ask: Ask) -> BoundaryDecision:
    if ask.level == "owner":
        return BoundaryDecision("approved", "owner", True, "inside the owner boundary (no limit)")
    own_label = _label(boundaries, ask.level, ask.email)
    own = limits_for(boundaries, ask.level, ask.email, ask.kind)
    if own is None:
        problems = [f"{ask.level} has no approval boundary"]
    else:
        problems = exceeded(own, ask, own_label)
        if not problems:
            return BoundaryDecision("approved", ask.level, True, within(own, ask, own_label))
    for level in LEVELS:
        if level_rank(level) <= level_rank(ask.level) or level == "owner":
            continue
        limits = limits_for(boundaries, level, "", ask.kind)
        if limits is not None and not exceeded(limits, ask, level):
            return BoundaryDecision(
                "pending",
                level,
                False,
                "; ".join(problems) + f"; {level} decides (within its boundary)",
            )
    return BoundaryDecision(
        "pending",
        "owner",
        False,
        "; ".join(problems) + "; no boundary covers it, so the owner decides",
    )


def covers(boundaries: Boundaries, level: str, email: str, ask: Ask) -> list[str]:
    """What stops this person from deciding the ask (empty when their boundary covers it)."""
    if level == "owner":
        return []
    limits = limits_for(boundaries, level, email, ask.kind)
    if limits is None:
        return [f"{level} has no approval boundary"]
    return exceeded(limits, ask, _label(boundaries, level, email))


def next_level(level: str) -> str | None:
    rank = level_rank(level)
    return LEVELS[rank + 1] if 0 <= rank < len(LEVELS) - 1 else None


def _label(boundaries: Boundaries, level: str, email: str) -> str:
    return email if email and email in boundaries.people else level
