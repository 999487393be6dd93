"""Owner-offline drills: start, end, and their status.

During a drill, Ask the owner refuses non-emergency asks (franchise.ask), and every owner
contact logged in the drill's window carries its id (franchise.drills.contact_log).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.contacts.models import OwnerContact
from franchise.db import utcnow
from franchise.drills.models import REVIEWED_OUTCOMES, Drill, ReviewItem
from franchise.drills.schedule import Window, cadence_limit, cadence_warning
from franchise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from franchise.escalation.service import current_map
from franchise.orgsettings.service import get_config

MAX_DAYS = 30
# A start a moment in the past is "now" typed slowly, not a backdated drill.
START_SLACK = timedelta(minutes=5)


def window(drill: Drill) -> Window:
    return Window(drill.id, drill.starts_at, drill.ends_at, drill.ended_at)


def all_drills(session: Session) -> list[Drill]:
    """Every drill, latest first (monthly: a short list)."""
    return list(session.scalars(select(Drill).order_by(Drill.starts_at.desc(), Drill.id.desc())))


def get_drill(session: Session, drill_id: int) -> Drill:
    drill = session.get(Drill, drill_id)
    if drill is None:
        raise NotFound(f"no drill #{drill_id}; `franchise drill status` lists them")
    return drill


def active_drill(session: Session, now: datetime | None = None) -> Drill | None:
    when = now or utcnow()
    return next(
        (d for d in all_drills(session) if window(d).state(when) == "active"),
        None,
    )


def emergency_criteria(session: Session) -> str:
    """What counts as an emergency when the drill starts (a snapshot for its review)."""
    esc_map = current_map(session).map
    rules = [r.name for r in esc_map.rules if r.emergency]
    parts = [f"escalation map rules: {', '.join(rules)}" if rules else "no emergency rules"]
    if esc_map.runbook_emergency_levels:
        levels = ", ".join(esc_map.runbook_emergency_levels)
        parts.append(f"runbook escalations to {levels}")
    return "; ".join(parts)


def start_drill(
    session: Session,
    *,
    by: Staff | None = None,
    days: int | None = None,
    at: datetime | None = None,
    now: datetime | None = None,
) -> Drill:
    """Schedule a drill from `at` (default now) for `days` (default the org's drill_days)."""
    when = now or utcnow()
    if by is not None and not by.is_manager:
        raise PermissionDenied("only the owner or an admin may start an owner-offline drill")
    length = days if days is not None else get_config(session).drill_days
    if not 1 <= length <= MAX_DAYS:
        raise InvalidInput(f"a drill lasts 1 to {MAX_DAYS} days, not {length}")
    start = at or when
    if start.tzinfo is None:
        raise InvalidInput("the drill start needs a time zone")
    if start < when - START_SLACK:
        raise InvalidInput(
            f"a drill cannot start in the past ({start.isoformat()}): contacts already "
            "logged would not count as drill contacts; start it now or later"
        )
    end = start + timedelta(days=length)
    for other in all_drills(session):
        if window(other).overlaps(start, end):
            state = window(other).state(when)
            raise Conflict(
                f"drill #{other.id} ({state}) runs from {other.starts_at.isoformat()} to "
                f"{window(other).until.isoformat()}; end it first (`franchise drill end "
                f"{other.id}`) or start after it"
            )
    drill = Drill(
        starts_at=start,
        ends_at=end,
        emergency_criteria=emergency_criteria(session),
        created_by_id=by.id if by else None,
        created_at=when,
    )
    session.add(drill)
    session.flush()
    return drill


def end_drill(
    session: Session,
    *,
    drill_id: int | None = None,
    by: Staff | None = None,
    now: datetime | None = None,
) -> Drill:
    """Stop the running drill now (or cancel a scheduled one)."""
    when = now or utcnow()
    if by is not None and not by.is_manager:
        raise PermissionDenied("only the owner or an admin may end an owner-offline drill")
    if drill_id is None:
        drill = active_drill(session, when)
        if drill is None:
            raise NotFound("no drill is running; `franchise drill status` shows the drills")
    else:
        drill = get_drill(session, drill_id)
    state = window(drill).state(when)
    if state in ("finished", "cancelled"):
        raise Conflict(f"drill #{drill.id} is already {state}")
    drill.ended_at = when
    session.flush()
    return drill


def drill_counts(session: Session, drill_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per drill: asks refused, emergencies passed through, other interruptions, deflections."""
    counts = {
        d: {"refused": 0, "emergencies": 0, "interruptions": 0, "deflections": 0} for d in drill_ids
    }
    if not drill_ids:
        return counts
    rows = session.execute(
        select(OwnerContact.drill_id, OwnerContact.outcome, OwnerContact.emergency, func.count())
        .where(OwnerContact.drill_id.in_(drill_ids))
        .group_by(OwnerContact.drill_id, OwnerContact.outcome, OwnerContact.emergency)
    )
    for drill_id, outcome, emergency, n in rows:
        if drill_id is None:  # excluded by the query; narrows the type
            continue
        bucket = counts[drill_id]
        if outcome == "refused":
            bucket["refused"] += n
        elif outcome == "deflection":
            bucket["deflections"] += n
        elif emergency:
            bucket["emergencies"] += n
        else:
            bucket["interruptions"] += n
    return counts


def review_progress(session: Session, drill: Drill, now: datetime) -> dict[str, Any]:
    """Items to review and how many are disposed; complete once the drill is over and every
    contact that reached or tried to reach the owner has a disposition."""
    contact_ids = set(
        session.scalars(
            select(OwnerContact.id).where(
                OwnerContact.drill_id == drill.id, OwnerContact.outcome.in_(REVIEWED_OUTCOMES)
            )
        )
    )
    disposed = set(
        session.scalars(
            select(ReviewItem.contact_id).where(
                ReviewItem.drill_id == drill.id, ReviewItem.disposition.is_not(None)
            )
        )
    )
    done = len(contact_ids & disposed)
    over = window(drill).state(now) in ("finished", "cancelled")
    return {
        "items": len(contact_ids),
        "disposed": done,
        "open": len(contact_ids) - done,
        "drill_over": over,
        "review_complete": over and done == len(contact_ids),
    }


def drill_dict(
    session: Session, drill: Drill, now: datetime, counts: dict[str, int] | None = None
) -> dict[str, Any]:
    w = window(drill)
    return {
        "id": drill.id,
        "state": w.state(now),
        "starts_at": drill.starts_at.isoformat(),
        "ends_at": drill.ends_at.isoformat(),
        "ended_at": drill.ended_at.isoformat() if drill.ended_at else None,
        "until": w.until.isoformat(),
        "emergency_criteria": drill.emergency_criteria,
        "counts": counts or drill_counts(session, [drill.id])[drill.id],
        "review": review_progress(session, drill, now),
    }


def drill_status(session: Session, *, now: datetime | None = None) -> dict[str, Any]:
    """The running drill, the next scheduled one, the last finished one, and a warning when
    no drill ran within the cadence (drill_cadence_days + 1 days)."""
    when = now or utcnow()
    config = get_config(session)
    drills = all_drills(session)
    by_state: dict[str, list[Drill]] = {}
    for d in drills:
        by_state.setdefault(window(d).state(when), []).append(d)
    active = next(iter(by_state.get("active", [])), None)
    scheduled = by_state.get("scheduled") or []
    upcoming = min(scheduled, key=lambda d: d.starts_at) if scheduled else None
    last = next(iter(by_state.get("finished", [])), None)
    shown = [d for d in (active, upcoming, last) if d is not None]
    counts = drill_counts(session, [d.id for d in shown])
    warning, days_since = cadence_warning(
        [window(d) for d in drills], when, config.drill_cadence_days
    )

    def present(d: Drill | None) -> dict[str, Any] | None:
        return drill_dict(session, d, when, counts[d.id]) if d is not None else None

    return {
        "now": when.isoformat(),
        "active": present(active),
        "next": present(upcoming),
        "last": present(last),
        "drill_days": config.drill_days,
        "cadence_days": config.drill_cadence_days,
        "warn_after_days": cadence_limit(config.drill_cadence_days),
        "days_since_last_drill": days_since,
        "warning": warning,
    }
