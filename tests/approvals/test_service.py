"""Approval requests in the database: decisions, permissions, timeouts and the ticket."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.approvals import service
from franchise.approvals.models import ApprovalRequest
from franchise.approvals.present import approval_dict
from franchise.approvals.service import STARTER_BOUNDARIES
from franchise.contacts.models import OwnerContact
from franchise.errors import Conflict, InvalidInput, PermissionDenied, Refused
from franchise.tickets.models import Ticket
from franchise.tickets.service import change_ticket, history
from tests.approvals.conftest import NOW


def ask(session: Session, ticket: Ticket | None, who: Staff, **kw: object) -> ApprovalRequest:
    args: dict[str, object] = {"action": "do it", "cost": 0, "minutes": 10, "impact": "none"}
    args.update(kw)
    return service.request_approval(session, ticket=ticket, requester=who, now=NOW, **args)  # type: ignore[arg-type]


def status_changes(session: Session, ticket: Ticket) -> list[tuple[str | None, str | None]]:
    return [(e.old_value, e.new_value) for e in history(session, ticket) if e.field == "status"]


def test_inside_the_boundary_is_approved_at_once_and_logged(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    request = ask(session, ticket, team["l1"], cost="40.50", minutes=20, impact="low")
    assert request.status == "approved"
    assert request.decided_by_policy
    assert request.approver_level == "L1"
    assert request.decided_at == NOW
    assert request.timeout_at is None
    assert request.cost == Decimal("40.50")
    assert ticket.status == "new"  # nothing to wait for
    notes = [e for e in history(session, ticket) if e.kind == "approval"]
    assert len(notes) == 1
    assert f"approval #{request.id} approved by boundary" in (notes[0].note or "")
    data = approval_dict(session, request)
    assert (data["decision"], data["decided_by"], data["cost"]) == ("approved", "boundary", "40.50")


def test_outside_the_boundary_waits_and_the_ticket_waits_too(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    request = ask(session, ticket, team["l1"], cost=250)
    assert (request.status, request.approver_level) == ("pending", "L2")
    assert not request.decided_by_policy
    assert request.reason == "cost 250 exceeds L1 limit 100; L2 decides (within its boundary)"
    assert request.timeout_at == NOW + timedelta(minutes=120)
    assert ticket.status == "waiting_on_approval"
    assert status_changes(session, ticket) == [("new", "waiting_on_approval")]
    assert approval_dict(session, request)["decided_by"] is None


def test_l2_approves_and_the_ticket_is_back_in_progress(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    request = ask(session, ticket, team["l1"], cost=250)
    service.decide(session, request, by=team["l2"], approve=True, reason="client signed the quote")
    assert request.status == "approved"
    assert request.decided_by_id == team["l2"].id
    assert not request.decided_by_policy
    assert request.reason.endswith("approved by lee@msp.example: client signed the quote")
    assert ticket.status == "in_progress"
    assert status_changes(session, ticket) == [
        ("new", "waiting_on_approval"),
        ("waiting_on_approval", "in_progress"),
    ]
    assert approval_dict(session, request)["decided_by"] == "lee@msp.example"


def test_denial_is_recorded_with_its_reason(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    request = ask(session, ticket, team["l1"], cost=5000)
    assert request.approver_level == "owner"
    service.decide(session, request, by=team["owner"], approve=False, reason="get a second quote")
    assert request.status == "denied"
    assert "denied by boss@msp.example: get a second quote" in request.reason
    assert ticket.status == "in_progress"


def test_requester_never_approves_their_own_request(
    session: Session, make_staff: Callable[..., Staff], ticket: Ticket
) -> None:
    admin = make_staff("admin@msp.example", "L2", "admin")  # admins may decide anything else
    request = ask(session, ticket, admin, cost=5000)
    assert request.approver_level == "owner"
    with pytest.raises(PermissionDenied, match="never approves their own request"):
        service.decide(session, request, by=admin, approve=True, reason="it is fine")
    assert request.status == "pending"
    # Withdrawing your own request is allowed.
    service.decide(session, request, by=admin, approve=False, reason="not needed after all")
    assert request.status == "denied"


def test_technician_below_the_approver_level_is_refused(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    request = ask(session, ticket, team["l1"], cost=250)
    with pytest.raises(PermissionDenied, match=r"waits on L2; ana@msp\.example is L1"):
        service.decide(session, request, by=team["l1b"], approve=True, reason="looks fine")
    owner_request = ask(session, ticket, team["l1"], cost=5000)
    with pytest.raises(PermissionDenied, match="waits on owner"):
        service.decide(session, owner_request, by=team["l2"], approve=True, reason="ok")
    assert request.status == owner_request.status == "pending"


def test_decider_with_a_tighter_personal_boundary_is_refused(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    source = STARTER_BOUNDARIES.read_text(encoding="utf-8").replace(
        "people: {}", "people:\n  lee@msp.example: {max_cost: 200}"
    )
    service.save_boundaries(session, source, author=team["owner"], note="lee is new at L2")
    request = ask(session, ticket, team["l1"], cost=250)
    with pytest.raises(PermissionDenied, match=r"cost 250 exceeds lee@msp\.example limit 200"):
        service.decide(session, request, by=team["l2"], approve=True, reason="ok")
    service.decide(session, request, by=team["l2b"], approve=True, reason="ok")


def test_a_decided_request_cannot_be_decided_again(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    request = ask(session, ticket, team["l1"], cost=250)
    service.decide(session, request, by=team["l2"], approve=True, reason="ok")
    with pytest.raises(Conflict, match="already approved"):
        service.decide(session, request, by=team["owner"], approve=False, reason="no")


def test_a_decision_needs_a_reason(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    request = ask(session, ticket, team["l1"], cost=250)
    with pytest.raises(InvalidInput, match="reason"):
        service.decide(session, request, by=team["l2"], approve=True, reason="  ")


def test_ticket_keeps_waiting_while_another_request_is_pending(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    first = ask(session, ticket, team["l1"], cost=250)
    second = ask(session, ticket, team["l1"], impact="medium")
    service.decide(session, first, by=team["l2"], approve=True, reason="ok")
    assert ticket.status == "waiting_on_approval"
    service.decide(session, second, by=team["l2"], approve=True, reason="ok")
    assert ticket.status == "in_progress"


def test_no_approvals_on_a_closed_ticket(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    change_ticket(session, ticket, actor=None, status="closed")
    with pytest.raises(Refused, match="closed"):
        ask(session, ticket, team["l1"])


def test_timeout_escalates_to_the_next_level_then_denies_at_the_owner(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    request = ask(session, ticket, team["l1"], cost=250)
    assert service.expire_pending(session, NOW + timedelta(minutes=119)) == []
    later = NOW + timedelta(minutes=121)
    [expiry] = service.expire_pending(session, later)
    assert expiry.outcome == "escalated"
    assert (request.status, request.approver_level) == ("pending", "owner")
    assert request.timeout_at == later + timedelta(minutes=120)
    assert "no decision at L2 within 120 min; escalated to owner" in request.reason
    # L2 may no longer decide it.
    with pytest.raises(PermissionDenied, match="waits on owner"):
        service.decide(session, request, by=team["l2"], approve=True, reason="ok")
    assert ticket.status == "waiting_on_approval"
    [expiry] = service.expire_pending(session, later + timedelta(minutes=121))
    assert expiry.outcome == "denied"
    assert request.status == "denied"
    assert request.decided_by_policy
    assert "denied (nobody above the owner)" in request.reason
    assert ticket.status == "in_progress"
    assert approval_dict(session, request)["decided_by"] == "timeout"


def owner_contacts(session: Session) -> list[tuple[str, str, str, int | None, int | None]]:
    rows = session.scalars(select(OwnerContact).order_by(OwnerContact.id))
    return [(c.channel, c.reason, c.outcome, c.ticket_id, c.staff_id) for c in rows]


def test_a_decision_left_to_the_owner_counts_as_an_owner_interruption(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    """The KPI counts what reached the owner: a request that waits on the owner did, one that
    waits on L2 did not until its timeout sends it up."""
    ask(session, ticket, team["l1"], cost=250)  # L2 decides
    assert owner_contacts(session) == []
    ask(session, ticket, team["l1"], cost=5000)  # past every boundary below the owner
    expected = ("in_app", "approval", "interruption", ticket.id, team["l1"].id)
    assert owner_contacts(session) == [expected]
    # The L2 request's timeout sends it to the owner: that reaches the owner too.
    escalated = [e.outcome for e in service.expire_pending(session, NOW + timedelta(minutes=121))]
    assert escalated == ["escalated", "denied"]
    assert owner_contacts(session) == [expected, expected]


def test_timeout_fires_at_exactly_120_minutes_and_not_a_second_before(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    """The 120 minutes are the whole wait: at 9:00 + 2 h the request goes up; at 10:59:59
    it still waits on L2."""
    request = ask(session, ticket, team["l1"], cost=250)
    assert service.expire_pending(session, NOW + timedelta(minutes=120, seconds=-1)) == []
    assert request.approver_level == "L2"
    [expiry] = service.expire_pending(session, NOW + timedelta(minutes=120))
    assert (expiry.outcome, request.approver_level) == ("escalated", "owner")
    assert request.timeout_at == NOW + timedelta(minutes=240)


def test_timeout_denies_when_configured(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    source = STARTER_BOUNDARIES.read_text(encoding="utf-8").replace(
        "minutes: 120\n  then: escalate", "minutes: 30\n  then: deny"
    )
    service.save_boundaries(session, source, author=team["owner"])
    request = ask(session, ticket, team["l1"], cost=250)
    assert request.timeout_at == NOW + timedelta(minutes=30)
    [expiry] = service.expire_pending(session, NOW + timedelta(minutes=31))
    assert expiry.outcome == "denied"
    assert request.status == "denied"
    assert "no decision at L2 within 30 min; denied (timeout rule is deny)" in request.reason
    assert status_changes(session, ticket)[-1] == ("waiting_on_approval", "in_progress")


def test_list_requests_filters_by_status_and_ticket(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    approved = ask(session, ticket, team["l1"])
    pending = ask(session, ticket, team["l1"], cost=250)
    elsewhere = ask(session, None, team["l1"], cost=250)
    assert {r.id for r in service.list_requests(session, status="pending")} >= {
        pending.id,
        elsewhere.id,
    }
    assert [r.id for r in service.list_requests(session, ticket=ticket)] == [
        pending.id,
        approved.id,
    ]
    with pytest.raises(InvalidInput, match="unknown status"):
        service.list_requests(session, status="maybe")


# --- the boundaries document ------------------------------------------------------------


def test_boundaries_fall_back_to_the_starter_file_then_load_once(
    session: Session, team: dict[str, Staff]
) -> None:
    source, revision = service.boundaries_source(session)
    assert revision == 0
    assert source == STARTER_BOUNDARIES.read_text(encoding="utf-8")
    assert service.load_starter_boundaries(session) is True
    assert service.load_starter_boundaries(session) is False
    assert service.current_boundaries(session)[1] == 1


def test_saving_lints_first_and_keeps_what_was_stored(
    session: Session, team: dict[str, Staff]
) -> None:
    service.load_starter_boundaries(session)
    with pytest.raises(InvalidInput) as caught:
        service.save_boundaries(
            session,
            "levels:\n  L1: {max_cost: -1, max_minutes: 1, impacts: [none]}\n",
            author=team["owner"],
            file="b.yaml",
        )
    assert caught.value.errors[0]["line"] == 2
    assert caught.value.errors[0]["code"] == "negative"
    assert service.current_boundaries(session)[1] == 1


def test_saving_from_an_old_revision_is_a_conflict(
    session: Session, team: dict[str, Staff]
) -> None:
    service.load_starter_boundaries(session)
    source = STARTER_BOUNDARIES.read_text(encoding="utf-8")
    first = source.replace("max_cost: 100 ", "max_cost: 150 ")
    revision, changed = service.save_boundaries(
        session, first, author=team["owner"], expected_revision=1
    )
    assert (revision.number, changed) == (2, True)
    with pytest.raises(Conflict, match="revision 2, not 1"):
        service.save_boundaries(
            session,
            source.replace("max_cost: 100 ", "max_cost: 90 "),
            author=team["owner"],
            expected_revision=1,
        )
    parsed, number = service.current_boundaries(session)
    assert number == 2
    assert parsed.levels["L1"].limits.max_cost == Decimal(150)


def test_only_owner_or_admin_change_boundaries(session: Session, team: dict[str, Staff]) -> None:
    with pytest.raises(PermissionDenied, match="owner or an admin"):
        service.save_boundaries(
            session, STARTER_BOUNDARIES.read_text(encoding="utf-8"), author=team["l2b"]
        )


def test_new_boundaries_apply_to_the_next_request(
    session: Session, team: dict[str, Staff], ticket: Ticket
) -> None:
    assert ask(session, ticket, team["l1"], cost=150).status == "pending"
    source = STARTER_BOUNDARIES.read_text(encoding="utf-8").replace(
        "max_cost: 100 ", "max_cost: 200 "
    )
    service.save_boundaries(session, source, author=team["owner"])
    assert ask(session, ticket, team["l1"], cost=150).status == "approved"


def test_unknown_people_are_reported(session: Session, team: dict[str, Staff]) -> None:
    source = STARTER_BOUNDARIES.read_text(encoding="utf-8").replace(
        "people: {}", "people:\n  lee@msp.example: {max_cost: 200}\n  gone@msp.example: unlimited"
    )
    parsed = service.validate_boundaries(source)
    assert service.unknown_people(session, parsed) == ["gone@msp.example"]
