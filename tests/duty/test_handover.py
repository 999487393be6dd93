"""Escalating hands the ticket to the person on duty at that level, else the least loaded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.bootstrap import initialise
from franchise.duty.service import holder_for, on_duty, set_shift
from franchise.errors import InvalidInput
from franchise.flows.escalations import escalate
from franchise.orgsettings.service import set_setting
from franchise.tickets.service import create_ticket, history

# Monday 2026-12-07 10:00 in Berlin is 09:00 UTC.
MONDAY_MORNING = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
MONDAY_NIGHT = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)


@pytest.fixture
def team(session: Session) -> dict[str, Staff]:
    initialise(session)
    set_setting(session, "timezone", "Europe/Berlin")
    return {
        "lia": add_staff(
            session, name="Lia", email="lia@example.com", role="technician", level="L1"
        ),
        "max": add_staff(
            session, name="Max", email="max@example.com", role="technician", level="L2"
        ),
        "kim": add_staff(
            session, name="Kim", email="kim@example.com", role="technician", level="L2"
        ),
    }


def test_the_person_on_duty_in_the_org_time_zone(session: Session, team: dict[str, Staff]) -> None:
    set_shift(session, level="L2", staff=team["kim"], days="mon-fri", hours="10:00-18:00")
    assert on_duty(session, "L2", at=MONDAY_MORNING) == team["kim"]  # 10:00 in Berlin
    assert on_duty(session, "L2", at=datetime(2026, 12, 7, 8, 59, tzinfo=UTC)) is None


def test_without_a_shift_the_least_loaded_person_at_the_level_takes_it(
    session: Session, team: dict[str, Staff]
) -> None:
    busy = create_ticket(session, title="Old", category="vpn")
    busy.assignee_id = team["max"].id
    holder = holder_for(session, "L2", at=MONDAY_NIGHT)
    assert holder is not None and (holder.staff, holder.why) == (team["kim"], "least loaded")


def test_escalating_assigns_and_records_the_holder(
    session: Session, team: dict[str, Staff]
) -> None:
    set_shift(session, level="L2", staff=team["max"], days="daily", hours="00:00-00:00")
    ticket = create_ticket(session, title="Nothing fits", body="Teams keeps crashing")
    handover = escalate(session, ticket, to="L2", by=team["lia"], now=MONDAY_MORNING)
    assert handover.holder is not None and handover.holder.staff == team["max"]
    assert (ticket.level, ticket.status, ticket.assignee_id) == ("L2", "escalated", team["max"].id)
    notes = [e.note for e in history(session, ticket) if e.field == "assignee_id"]
    assert notes == ["handed to Max (on duty at L2)"]


def test_nobody_at_the_level_is_said_in_the_history(session: Session) -> None:
    initialise(session)
    lia = add_staff(session, name="Lia", email="lia@example.com", role="technician", level="L1")
    ticket = create_ticket(session, title="Nothing fits", body="Teams keeps crashing")
    handover = escalate(session, ticket, to="L2", by=lia)
    assert handover.holder is None
    assert ticket.assignee_id is None
    assert any("nobody is active at L2" in (e.note or "") for e in history(session, ticket))


def test_an_l1_cannot_be_the_owners_backup(session: Session, team: dict[str, Staff]) -> None:
    with pytest.raises(InvalidInput, match="owner's backup must be an L2"):
        set_shift(session, level="owner", staff=team["lia"], days="daily", hours="00:00-00:00")


def test_an_emergency_escalation_raises_the_ticket_to_critical(
    session: Session, team: dict[str, Staff]
) -> None:
    ticket = create_ticket(session, title="Ransomware note on FS01", priority="normal")
    handover = escalate(session, ticket, to="owner", by=team["lia"], now=MONDAY_MORNING)
    assert handover.decision.emergency is True
    assert (ticket.level, ticket.priority) == ("owner", "critical")
    notes = [e.note for e in history(session, ticket) if e.field == "priority"]
    assert notes == ["emergency escalation to owner (rule confirmed-security-incident)"]


def test_an_ordinary_escalation_keeps_the_priority(
    session: Session, team: dict[str, Staff]
) -> None:
    ticket = create_ticket(session, title="Nothing fits", body="Teams keeps crashing")
    escalate(session, ticket, to="L2", by=team["lia"], now=MONDAY_MORNING)
    assert ticket.priority == "normal"
