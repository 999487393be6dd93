"""The duty roster in the database, and who takes a ticket escalated to a level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.db import utcnow
from franchise.duty.models import DutyShift
from franchise.duty.roster import Cover, Shift, parse_days, parse_hours, week
from franchise.errors import InvalidInput, NotFound
from franchise.orgsettings.service import get_config
from franchise.tickets.models import Ticket

OPEN = (
    "new",
    "in_progress",
    "waiting_on_client",
    "waiting_on_approval",
    "escalated",
    "ready_to_resolve",
)


@dataclass(frozen=True)
class Holder:
    """Who takes an escalation, and why them."""

    staff: Staff
    why: str  # "on duty" | "least loaded"

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.staff.id,
            "name": self.staff.name,
            "email": self.staff.email,
            "why": self.why,
        }


# Who may hold a shift at each roster level. The person on duty takes the tickets escalated
# to that level, so they work at it; the owner's backup stands in for the owner and so is an
# L2, never the owner (escalations to the owner reach the owner anyway) nor an L1.
ELIGIBLE_LEVELS = {"L1": ("L1",), "L2": ("L2",), "owner": ("L2",)}
ROSTER_LEVELS = tuple(ELIGIBLE_LEVELS)


def eligible(staff: Staff, level: str) -> bool:
    """Whether someone may be on duty at a roster level now (active, at the right level)."""
    return staff.active and staff.level in ELIGIBLE_LEVELS.get(level, ())


def check_eligible(staff: Staff, level: str) -> None:
    """Refuse someone who may not be on duty at `level`, naming the field and the reason."""
    if level not in ELIGIBLE_LEVELS:
        raise InvalidInput(f"Level: unknown level '{level}' (use L1, L2 or owner)")
    if not staff.active:
        raise InvalidInput(f"Person: {staff.name} ({staff.email}) is not active")
    if eligible(staff, level):
        return
    works_at = "is the owner" if staff.level == "owner" else f"works at {staff.level}"
    if level == "owner":
        raise InvalidInput(
            f"Person: the owner's backup must be an L2 technician; {staff.name} {works_at}"
        )
    raise InvalidInput(f"Person: the {level} on duty must work at {level}; {staff.name} {works_at}")


def eligible_staff(session: Session) -> list[Staff]:
    """Active people who may hold a shift at some roster level, by name."""
    people = session.scalars(select(Staff).where(Staff.active).order_by(Staff.name, Staff.id))
    return [s for s in people if any(eligible(s, level) for level in ROSTER_LEVELS)]


def set_shift(session: Session, *, level: str, staff: Staff, days: str, hours: str) -> DutyShift:
    """Put someone on duty at a level for some days and hours (org time zone)."""
    check_eligible(staff, level)
    start, end = parse_hours(hours)
    shift = DutyShift(
        level=level, staff_id=staff.id, days=parse_days(days), start_minute=start, end_minute=end
    )
    session.add(shift)
    session.flush()
    return shift


def clear_shifts(session: Session, *, level: str, staff: Staff | None = None) -> int:
    query = delete(DutyShift).where(DutyShift.level == level)
    if staff is not None:
        query = query.where(DutyShift.staff_id == staff.id)
    return int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]


def remove_shift(session: Session, shift_id: int) -> None:
    shift = session.get(DutyShift, shift_id)
    if shift is None:
        raise NotFound(f"no duty shift {shift_id}")
    session.delete(shift)
    session.flush()


def roster(session: Session) -> list[dict[str, object]]:
    rows = session.execute(
        select(DutyShift, Staff)
        .join(Staff, Staff.id == DutyShift.staff_id)
        .order_by(DutyShift.level, DutyShift.start_minute, Staff.name)
    )
    return [
        {
            "id": shift.id,
            "level": shift.level,
            "staff": staff.name,
            "email": staff.email,
            "when": Shift(shift.days, shift.start_minute, shift.end_minute).describe(),
            "active": staff.active,
            # False once the person left or moved to another level: the shift no longer counts.
            "eligible": eligible(staff, shift.level),
        }
        for shift, staff in rows
    ]


def week_roster(session: Session) -> list[tuple[str, list[Cover]]]:
    """The roster as a week, Monday first: who covers which hours at each level."""
    rows = session.execute(
        select(DutyShift, Staff).join(Staff, Staff.id == DutyShift.staff_id).order_by(DutyShift.id)
    )
    return week(
        [
            (s.level, staff.name, Shift(s.days, s.start_minute, s.end_minute))
            for s, staff in rows
            if eligible(staff, s.level)
        ]
    )


def on_duty(session: Session, level: str, *, at: datetime | None = None) -> Staff | None:
    """The active person whose shift at `level` holds now (the first listed, if several).
    A shift whose person has since moved to another level is skipped, so a demotion or an
    older, unchecked row never puts the wrong person on duty."""
    local = (at or utcnow()).astimezone(get_config(session).tz)
    rows = session.execute(
        select(DutyShift, Staff)
        .join(Staff, Staff.id == DutyShift.staff_id)
        .where(DutyShift.level == level, Staff.active)
        .order_by(DutyShift.id)
    )
    for shift, staff in rows:
        if not eligible(staff, level):
            continue
        if Shift(shift.days, shift.start_minute, shift.end_minute).covers(local):
            return staff
    return None


def holder_for(session: Session, level: str, *, at: datetime | None = None) -> Holder | None:
    """Who takes a ticket escalated to `level`: the person on duty, else the active person
    at that level with the fewest open tickets (ties: the longest-serving)."""
    person = on_duty(session, level, at=at)
    if person is not None:
        return Holder(person, "on duty")
    load = (
        select(Ticket.assignee_id, func.count().label("n"))
        .where(Ticket.status.in_(OPEN))
        .group_by(Ticket.assignee_id)
        .subquery()
    )
    row = session.execute(
        select(Staff)
        .outerjoin(load, load.c.assignee_id == Staff.id)
        .where(Staff.active, Staff.level == level)
        .order_by(func.coalesce(load.c.n, 0), Staff.id)
        .limit(1)
    ).scalar_one_or_none()
    return Holder(row, "least loaded") if row is not None else None
