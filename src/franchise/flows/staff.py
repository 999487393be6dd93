"""A staff member's life after they are added: edits, leaving, password resets and changes.

Every function works inside the caller's transaction; web, CLI and API are thin layers over
these, so the rules (the password policy, "someone must stay able to manage staff") are the
same wherever the change comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from franchise.accounts import reset_links
from franchise.accounts.models import LEVELS, ROLES, ApiToken, Staff
from franchise.accounts.password_policy import check_password
from franchise.accounts.passwords import verify_password
from franchise.accounts.service import check_role_level, set_password
from franchise.db import utcnow
from franchise.errors import InvalidInput, NotFound, PermissionDenied, Refused
from franchise.settings import Settings
from franchise.tickets.models import Ticket

MANAGER_ROLES = ("owner", "admin")
CLOSED = ("resolved", "closed")
RESET_LINK_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Deactivated:
    staff_id: int
    sessions_ended: int
    tokens_revoked: int
    open_ticket_ids: list[int]


@dataclass(frozen=True)
class ResetLink:
    url: str
    expires_at: datetime
    emailed: bool


def _other_active_managers(session: Session, staff: Staff) -> int:
    """How many other active owners and admins there are. Every active manager row is
    locked, in id order, so two admins demoting or deactivating each other at the same
    moment take turns (PostgreSQL re-reads the rows after the wait) and cannot both pass."""
    managers = session.scalars(
        select(Staff.id)
        .where(Staff.active.is_(True), Staff.role.in_(MANAGER_ROLES))
        .order_by(Staff.id)
        .with_for_update()
    )
    return sum(1 for staff_id in managers if staff_id != staff.id)


def update_staff(
    session: Session,
    staff: Staff,
    *,
    name: str | None = None,
    role: str | None = None,
    level: str | None = None,
) -> Staff:
    """Change a staff member's name, role or level (None leaves a field as it is)."""
    if name is not None:
        if not name.strip():
            raise InvalidInput("a staff member needs a name")
        if len(name.strip()) > 200:
            raise InvalidInput("the name may have at most 200 characters")
    if role is not None and role not in ROLES:
        raise InvalidInput(f"unknown role '{role}' (use {', '.join(ROLES)})")
    if level is not None and level not in LEVELS:
        raise InvalidInput(f"unknown level '{level}' (use {', '.join(LEVELS)})")
    losing_manager = (
        role is not None
        and staff.active
        and staff.role in MANAGER_ROLES
        and role not in MANAGER_ROLES
    )
    if losing_manager and _other_active_managers(session, staff) == 0:
        raise Refused(
            f"{staff.name} is the last active owner or admin; make someone else one first"
        )
    # After the last-manager check, whose refusal says more when both apply.
    check_role_level(role or staff.role, level or staff.level)
    if name is not None:
        staff.name = name.strip()
    if role is not None:
        staff.role = role
    if level is not None:
        staff.level = level
    session.flush()
    return staff


def open_tickets_of(session: Session, staff_id: int) -> list[Ticket]:
    """Tickets assigned to someone and not yet resolved or closed, oldest first."""
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.assignee_id == staff_id, Ticket.status.not_in(CLOSED))
            .order_by(Ticket.id)
        )
    )


def deactivate_staff(session: Session, staff: Staff, *, by: Staff | None) -> Deactivated:
    """Someone leaves: they can no longer sign in, every browser session of theirs ends,
    every API token of theirs is revoked and every reset link issued to them stops working
    for good (reactivating them does not revive it), now. Their open tickets stay assigned to them, to be
    handed on (reassign_open_tickets); the list is returned."""
    from franchise.accounts.sessions import revoke_sessions

    if by is not None and by.id == staff.id:
        raise Refused("you cannot deactivate your own account; ask another owner or admin")
    if staff.role in MANAGER_ROLES and staff.active and _other_active_managers(session, staff) == 0:
        raise Refused(f"{staff.name} is the last active owner or admin and cannot be deactivated")
    staff.active = False
    staff.reset_epoch += 1
    ended = revoke_sessions(session, staff.id)
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.staff_id == staff.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    revoked = int(getattr(result, "rowcount", 0) or 0)
    session.flush()
    tickets = [t.id for t in open_tickets_of(session, staff.id)]
    return Deactivated(staff.id, ended, revoked, tickets)


def reactivate_staff(session: Session, staff: Staff) -> Staff:
    """Someone comes back. Their old API tokens and reset links stay revoked; they sign in
    with a new password (a newly issued reset link) if the old one is not known any more."""
    staff.active = True
    session.flush()
    return staff


def reassign_open_tickets(
    session: Session,
    from_staff: Staff,
    to_staff: Staff,
    *,
    by: Staff | None,
    ticket_ids: list[int] | None = None,
) -> list[int]:
    """Hand someone's open tickets (all, or those listed) to an active colleague; each ticket's
    history records the change. Returns the ids moved."""
    from franchise.tickets import lifecycle

    if not to_staff.active:
        raise InvalidInput(f"{to_staff.name} is not active; choose someone who is")
    if to_staff.id == from_staff.id:
        raise InvalidInput("choose someone else to take the tickets")
    tickets = open_tickets_of(session, from_staff.id)
    if ticket_ids is not None:
        missing = set(ticket_ids) - {t.id for t in tickets}
        if missing:
            raise NotFound(
                f"ticket(s) {', '.join(f'#{i}' for i in sorted(missing))} are not open "
                f"tickets of {from_staff.name}"
            )
        tickets = [t for t in tickets if t.id in ticket_ids]
    moved = []
    for ticket in tickets:
        lifecycle.assign(session, ticket, to_staff, by=by)
        moved.append(ticket.id)
    return moved


def _reset_key(settings: Settings) -> bytes:
    from franchise.orgsettings.sealing import derived_key

    return derived_key(settings, reset_links.PURPOSE)


def issue_reset_link(
    session: Session,
    settings: Settings,
    staff: Staff,
    *,
    now: datetime | None = None,
    lifetime: timedelta = RESET_LINK_LIFETIME,
) -> ResetLink:
    """A signed, single-use link to set a new password, for an admin to hand over; it is also
    e-mailed to the person when e-mail (SMTP) is set up. `settings` are the effective ones."""
    from franchise.outbox import service as outbox
    from franchise.people.notices import smtp_ready
    from franchise.people.outbound import KIND

    if not staff.active:
        raise InvalidInput(f"{staff.name} is deactivated; reactivate them first")
    expires_at = (now or utcnow()) + lifetime
    token = reset_links.sign(
        _reset_key(settings), staff.id, expires_at, staff.password_hash, staff.reset_epoch
    )
    url = f"{settings.base_url}/reset/{token}"
    emailed = smtp_ready(settings)
    if emailed:
        body = (
            f"Hello {staff.name},\n\nA Franchise administrator created a link for you to set a "
            f"new password:\n\n{url}\n\nIt works once, until {expires_at:%Y-%m-%d %H:%M} UTC. "
            "If you did not expect it, tell your administrator.\n"
        )
        payload = {
            "staff_id": staff.id,
            "name": staff.name,
            "what": "password reset link",
            "via": "email",
            "to": staff.email,
            "subject": "Set your Franchise password",
            "body": body,
        }
        outbox.enqueue(session, KIND, payload, ticket_id=None, settings=settings)
    return ResetLink(url=url, expires_at=expires_at, emailed=emailed)


def staff_for_reset(
    session: Session, settings: Settings, token: str, *, now: datetime | None = None
) -> Staff:
    """The account a reset link belongs to; PermissionDenied when it is forged, used or
    expired."""
    parsed = reset_links.parse(token)
    refused = PermissionDenied(
        "this password-reset link is not valid: it was already used, replaced by a newer "
        "password, or mistyped; ask an administrator for a new one"
    )
    if parsed is None:
        raise refused
    staff = session.get(Staff, parsed.staff_id)
    if staff is None or not reset_links.valid(
        _reset_key(settings), parsed, staff.password_hash, staff.reset_epoch
    ):
        raise refused
    if parsed.expires_at <= (now or utcnow()):
        raise PermissionDenied(
            "this password-reset link has expired; ask an administrator for a new one"
        )
    if not staff.active:
        raise PermissionDenied("this account is deactivated")
    return staff


def reset_with_link(
    session: Session, settings: Settings, token: str, password: str, *, now: datetime | None = None
) -> Staff:
    """Set the password a link was issued for; the link (and every other) stops working."""
    staff = staff_for_reset(session, settings, token, now=now)
    set_password(session, staff, password)
    return staff


def change_own_password(session: Session, staff: Staff, current: str, new: str) -> None:
    """Self-service change: the current password is required; the one policy applies to the
    new one; every session ends (the caller starts a fresh one for the person at hand)."""
    if not verify_password(staff.password_hash, current):
        raise InvalidInput("the current password is not right")
    if new == current:
        raise InvalidInput("the new password must differ from the current one")
    check_password(new)
    set_password(session, staff, new)
