"""The parsed approval boundaries: plain frozen data, no I/O.

Layering, from general to specific: the level's limits, then the person's own limits
(fields they set replace the level's), then the level's rule for the action kind, then
the person's rule for that kind. A kind rule therefore caps even a trusted person unless
their own entry names that kind too; only a person marked `unlimited` is above kind rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from franchise.approvals.models import IMPACTS

LEVELS = ("L1", "L2", "owner")
TIMEOUT_ACTIONS = ("escalate", "deny")
# How often a cost is paid; limits compare the cost over a year (a monthly cost x 12),
# so splitting a commitment into monthly payments never slips under a limit.
RECURRING = ("once", "month", "year")
PAYMENTS_PER_YEAR = {"once": 1, "month": 12, "year": 1}


@dataclass(frozen=True)
class Limits:
    """What a boundary allows; None means no limit on that dimension."""

    max_cost: Decimal | None
    max_minutes: int | None
    impacts: frozenset[str] | None
    allowed: bool = True
    # The action kind whose rule shaped these limits, so reasons can name it.
    kind: str | None = None

    @property
    def unlimited(self) -> bool:
        return (
            self.allowed
            and self.max_cost is None
            and self.max_minutes is None
            and self.impacts is None
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "max_cost": None if self.max_cost is None else str(self.max_cost),
            "max_minutes": self.max_minutes,
            "impacts": None if self.impacts is None else ordered_impacts(self.impacts),
        }


UNLIMITED = Limits(None, None, None)


@dataclass(frozen=True)
class Override:
    """A partial set of limits layered over another; None fields keep the value below."""

    max_cost: Decimal | None = None
    max_minutes: int | None = None
    impacts: frozenset[str] | None = None
    allowed: bool | None = None
    unlimited: bool = False

    def over(self, base: Limits) -> Limits:
        if self.unlimited:
            return UNLIMITED
        return Limits(
            max_cost=base.max_cost if self.max_cost is None else self.max_cost,
            max_minutes=base.max_minutes if self.max_minutes is None else self.max_minutes,
            impacts=base.impacts if self.impacts is None else self.impacts,
            allowed=base.allowed if self.allowed is None else self.allowed,
            kind=base.kind,
        )

    def to_dict(self) -> dict[str, Any]:
        if self.unlimited:
            return {"unlimited": True}
        out: dict[str, Any] = {}
        if self.allowed is not None:
            out["allowed"] = self.allowed
        if self.max_cost is not None:
            out["max_cost"] = str(self.max_cost)
        if self.max_minutes is not None:
            out["max_minutes"] = self.max_minutes
        if self.impacts is not None:
            out["impacts"] = ordered_impacts(self.impacts)
        return out


@dataclass(frozen=True)
class LevelBoundary:
    level: str
    limits: Limits
    kinds: Mapping[str, Override] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class PersonBoundary:
    email: str
    limits: Override
    kinds: Mapping[str, Override] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class TimeoutRule:
    minutes: int = 120
    then: str = "escalate"


@dataclass(frozen=True)
class ActionKind:
    """A kind of action, with the words that give it away in a request without a kind."""

    name: str
    keywords: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True)
class Boundaries:
    levels: Mapping[str, LevelBoundary]
    people: Mapping[str, PersonBoundary] = field(default_factory=dict)
    timeout: TimeoutRule = field(default_factory=TimeoutRule)
    kinds: Mapping[str, ActionKind] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "timeout": {"minutes": self.timeout.minutes, "then": self.timeout.then},
            "kinds": {name: {"keywords": list(k.keywords)} for name, k in self.kinds.items()},
            "levels": {
                name: {
                    **b.limits.to_dict(),
                    "kinds": {k: o.to_dict() for k, o in b.kinds.items()},
                }
                for name, b in self.levels.items()
            },
            "people": {
                email: {**p.limits.to_dict(), "kinds": {k: o.to_dict() for k, o in p.kinds.items()}}
                for email, p in self.people.items()
            },
        }


def ordered_impacts(impacts: frozenset[str]) -> list[str]:
    return [i for i in IMPACTS if i in impacts]


def level_rank(level: str) -> int:
    """Position in L1 < L2 < owner; unknown levels rank below L1."""
    return LEVELS.index(level) if level in LEVELS else -1
