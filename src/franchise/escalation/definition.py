"""The parsed shape of the escalation map: plain frozen data, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

RUNBOOK_OUTCOMES = ("resolved", "escalate")


@dataclass(frozen=True)
class Conditions:
    """One `when` block: every condition given must hold; a list condition matches any item."""

    categories: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    runbook_outcome: str | None = None
    runbook_level: str | None = None
    older_than_hours: float | None = None
    # True: only outage tickets (many alert groups of one client or site at once); False:
    # only other tickets; None: either.
    outage: bool | None = None
    line: int = 0
    line_of: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (
            self.categories
            or self.priorities
            or self.tiers
            or self.keywords
            or self.tags
            or self.runbook_outcome
            or self.runbook_level
            or self.older_than_hours is not None
            or self.outage is not None
        )


@dataclass(frozen=True)
class Rule:
    name: str
    # Several blocks mean "any of these"; YAML gives one mapping or a list of mappings.
    when: tuple[Conditions, ...]
    to: str | None
    reason: str
    emergency: bool = False
    allow: bool = True
    line: int = 0
    line_of: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Default:
    to: str
    reason: str
    line: int = 0


@dataclass(frozen=True)
class EscalationMap:
    levels: tuple[str, ...]
    rules: tuple[Rule, ...]
    default: Default | None
    # A runbook's escalate outcome to one of these levels counts as an emergency (the map,
    # not the runbook, defines emergencies; see the starter map).
    runbook_emergency_levels: tuple[str, ...] = ()
    line_of: dict[str, int] = field(default_factory=dict)

    def rank(self, level: str | None) -> int:
        """Position in the ordered levels; -1 for None or a level the map does not know."""
        return self.levels.index(level) if level in self.levels else -1


@lru_cache(maxsize=1024)
def keywords_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Any of the whole words or phrases, any case, any run of spaces between words.

    One alternation, so a text is scanned once however many keywords a condition lists
    (each phrase's own search cost as much as the whole alternation); it matches where any
    one phrase's pattern would."""
    alternatives = [r"\s+".join(re.escape(w) for w in phrase.split()) for phrase in phrases]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
