"""When each drill ran: the window a contact falls in, so it counts towards that drill."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.drills.models import Drill


@dataclass(frozen=True)
class DrillWindow:
    id: int
    starts_at: datetime
    until: datetime  # ends_at, or ended_at when the drill was stopped early

    def covers(self, when: datetime) -> bool:
        return self.starts_at <= when < self.until


def _window(drill: Drill) -> DrillWindow:
    return DrillWindow(
        drill.id, drill.starts_at, min(drill.ends_at, drill.ended_at or drill.ends_at)
    )


def drill_windows(session: Session) -> list[DrillWindow]:
    """Every drill, latest first (drills are monthly: a short list)."""
    query = select(Drill).order_by(Drill.starts_at.desc(), Drill.id.desc())
    return [_window(d) for d in session.scalars(query)]


def drill_at(windows: Sequence[DrillWindow], when: datetime) -> int | None:
    """The drill running at `when` (the latest-started one if drills overlap)."""
    return next((w.id for w in windows if w.covers(when)), None)


def drill_windows_for(session: Session, when: datetime) -> list[DrillWindow]:
    """Drills scheduled over `when`; drill_at() then drops those stopped before it."""
    query = (
        select(Drill)
        .where(Drill.starts_at <= when, Drill.ends_at > when)
        .order_by(Drill.starts_at.desc(), Drill.id.desc())
    )
    return [_window(d) for d in session.scalars(query)]
