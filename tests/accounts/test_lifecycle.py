"""Staff lifecycle: edits, deactivation (sessions and tokens end at once), handing tickets
on, one-time reset links, self-service password change, and the same through CLI and API."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from franchise.accounts import reset_links
from franchise.accounts.models import Staff
from franchise.accounts.passwords import verify_password
from franchise.accounts.service import add_staff, authenticate_token, create_token, get_staff
from franchise.accounts.sessions import find_session, start_session
from franchise.app import create_app
from franchise.db import Database, utcnow
from franchise.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied, Refused
from franchise.flows import staff as lifecycle
from franchise.settings import Settings
from franchise.tickets import lifecycle as tickets
from franchise.tickets.service import create_ticket
from tests.support import CliInvoker

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a quite different passphrase"


def _people(session: Session) -> tuple[Staff, Staff, Staff]:
    owner = add_staff(session, name="Olivia Owner", email="o@example.com", role="owner",
                      level="owner", password=PASSWORD)  # fmt: skip
    tess = add_staff(session, name="Tess Tech", email="t@example.com", role="technician",
                     level="L1", password=PASSWORD)  # fmt: skip
    sam = add_staff(session, name="Sam Senior", email="s@example.com", role="technician",
                    level="L2")  # fmt: skip
    return owner, tess, sam


def test_name_role_and_level_change_and_bad_values_are_named(session: Session) -> None:
    owner, tess, _sam = _people(session)
    lifecycle.update_staff(session, tess, name="  Tess Technician ", role="service_manager",
                           level="L2")  # fmt: skip
    assert (tess.name, tess.role, tess.level) == ("Tess Technician", "service_manager", "L2")
    with pytest.raises(InvalidInput, match="unknown role 'boss'"):
        lifecycle.update_staff(session, tess, role="boss")
    with pytest.raises(InvalidInput, match="unknown level 'L9'"):
        lifecycle.update_staff(session, tess, level="L9")
    with pytest.raises(InvalidInput, match="needs a name"):
        lifecycle.update_staff(session, tess, name="  ")
    # The last owner or admin cannot step down or leave: nobody could manage staff after.
    with pytest.raises(Refused, match="last active owner or admin"):
        lifecycle.update_staff(session, owner, role="technician")
    with pytest.raises(Refused, match="last active owner or admin"):
        lifecycle.deactivate_staff(session, owner, by=None)
    assert owner.role == "owner" and owner.active
    # Editing keeps the owner level for the owner role, as adding does.
    with pytest.raises(InvalidInput, match="Role and Level: the owner level is for the owner"):
        lifecycle.update_staff(session, tess, level="owner")
    assert tess.level == "L2"


def test_deactivating_ends_sessions_and_tokens_at_once_and_lists_open_tickets(
    session: Session,
) -> None:
    owner, tess, sam = _people(session)
    _row, cookie = start_session(session, tess)
    _token, plain = create_token(session, staff=tess, name="phone system")
    mine = create_ticket(session, title="VPN down", category="vpn")
    done = create_ticket(session, title="Old one", category="vpn")
    tickets.assign(session, mine, tess, by=owner)
    tickets.assign(session, done, tess, by=owner)
    done.status = "resolved"
    with pytest.raises(Refused, match="your own account"):
        lifecycle.deactivate_staff(session, owner, by=owner)

    result = lifecycle.deactivate_staff(session, tess, by=owner)
    assert (result.sessions_ended, result.tokens_revoked) == (1, 1)
    assert result.open_ticket_ids == [mine.id]
    assert find_session(session, cookie) is None
    with pytest.raises(NotAuthenticated):
        authenticate_token(session, plain)

    with pytest.raises(InvalidInput, match="not active"):
        lifecycle.reassign_open_tickets(session, sam, tess, by=owner)
    with pytest.raises(NotFound, match=f"#{done.id}"):
        lifecycle.reassign_open_tickets(session, tess, sam, by=owner, ticket_ids=[done.id])
    assert lifecycle.reassign_open_tickets(session, tess, sam, by=owner) == [mine.id]
    assert mine.assignee_id == sam.id
    assert lifecycle.open_tickets_of(session, tess.id) == []

    lifecycle.reactivate_staff(session, tess)
    assert tess.active
    with pytest.raises(NotAuthenticated):  # old tokens stay revoked
        authenticate_token(session, plain)


def test_a_reset_link_works_once_and_expires(session: Session, tmp_path: Path) -> None:
    _owner, tess, _sam = _people(session)
    settings = Settings(home=tmp_path, public_url="https://franchise.example.com")
    link = lifecycle.issue_reset_link(session, settings, tess)
    assert link.url.startswith("https://franchise.example.com/reset/")
    assert not link.emailed  # no SMTP set up
    token = link.url.rsplit("/", 1)[1]
    assert lifecycle.staff_for_reset(session, settings, token).id == tess.id

    # Any character changed: refused.
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(PermissionDenied, match="not valid"):
        lifecycle.staff_for_reset(session, settings, forged)
    other_id = token.replace(f"{tess.id}.", f"{tess.id + 1}.", 1)
    with pytest.raises(PermissionDenied, match="not valid"):
        lifecycle.staff_for_reset(session, settings, other_id)
    later = utcnow() + lifecycle.RESET_LINK_LIFETIME + timedelta(seconds=1)
    with pytest.raises(PermissionDenied, match="expired"):
        lifecycle.staff_for_reset(session, settings, token, now=later)

    # The one policy applies.
    with pytest.raises(InvalidInput, match="at least 12"):
        lifecycle.reset_with_link(session, settings, token, "short")
    _row, cookie = start_session(session, tess)
    lifecycle.reset_with_link(session, settings, token, NEW_PASSWORD)
    assert verify_password(tess.password_hash, NEW_PASSWORD)
    assert find_session(session, cookie) is None
    # Single use: the password changed, so the same link no longer matches.
    with pytest.raises(PermissionDenied, match="already used"):
        lifecycle.reset_with_link(session, settings, token, "yet another passphrase")


def test_deactivation_ends_outstanding_reset_links_for_good(
    session: Session, tmp_path: Path
) -> None:
    owner, tess, _sam = _people(session)
    settings = Settings(home=tmp_path, public_url="https://franchise.example.com")
    token = lifecycle.issue_reset_link(session, settings, tess).url.rsplit("/", 1)[1]
    lifecycle.deactivate_staff(session, tess, by=owner)
    with pytest.raises(PermissionDenied, match="not valid"):
        lifecycle.staff_for_reset(session, settings, token)
    # Back within the link's 24 hours, with the same password: the old link stays dead.
    lifecycle.reactivate_staff(session, tess)
    assert tess.active and verify_password(tess.password_hash, PASSWORD)
    with pytest.raises(PermissionDenied, match="not valid"):
        lifecycle.staff_for_reset(session, settings, token)
    with pytest.raises(PermissionDenied, match="not valid"):
        lifecycle.reset_with_link(session, settings, token, NEW_PASSWORD)
    assert verify_password(tess.password_hash, PASSWORD)
    # A second leave and return kills the links of the first return too.
    again = lifecycle.issue_reset_link(session, settings, tess).url.rsplit("/", 1)[1]
    assert lifecycle.staff_for_reset(session, settings, again).id == tess.id
    lifecycle.deactivate_staff(session, tess, by=owner)
    lifecycle.reactivate_staff(session, tess)
    with pytest.raises(PermissionDenied, match="not valid"):
        lifecycle.staff_for_reset(session, settings, again)
    # A link issued after the return works.
    fresh = lifecycle.issue_reset_link(session, settings, tess).url.rsplit("/", 1)[1]
    lifecycle.reset_with_link(session, settings, fresh, NEW_PASSWORD)
    assert verify_password(tess.password_hash, NEW_PASSWORD)


def test_reset_tokens_are_only_ours() -> None:
    assert reset_links.parse("nope") is None
    assert reset_links.parse("1.2") is None
    assert reset_links.parse("x.123.abcdefghijklmnopqrstuvwxyz") is None
    # An expiry past datetime's range, or digits that are not decimal, are not ours either.
    assert reset_links.parse("1.999999999999.abcdefghijklmnopqrstuvwxyz") is None
    assert reset_links.parse("1.²³.abcdefghijklmnopqrstuvwxyz") is None
    key = b"k" * 32
    token = reset_links.sign(key, 7, utcnow(), "hash")
    parsed = reset_links.parse(token)
    assert parsed is not None and parsed.staff_id == 7
    assert reset_links.valid(key, parsed, "hash")
    assert not reset_links.valid(key, parsed, "another hash")
    assert not reset_links.valid(b"j" * 32, parsed, "hash")
    # The epoch is covered: a link of epoch 0 fails once the account's epoch is 1.
    assert not reset_links.valid(key, parsed, "hash", 1)
    later = reset_links.parse(reset_links.sign(key, 7, utcnow(), "hash", 1))
    assert later is not None and reset_links.valid(key, later, "hash", 1)
    assert not reset_links.valid(key, later, "hash", 0)


def test_a_reset_link_is_emailed_when_smtp_is_set_up(session: Session, tmp_path: Path) -> None:
    from sqlalchemy import select

    from franchise.outbox.models import OutboxItem

    _owner, tess, _sam = _people(session)
    settings = Settings(home=tmp_path, smtp_host="127.0.0.1", smtp_port=9,
                        smtp_from="desk@example.com")  # fmt: skip
    link = lifecycle.issue_reset_link(session, settings, tess)
    assert link.emailed
    item = session.scalars(select(OutboxItem)).one()
    assert item.payload["to"] == "t@example.com"
    assert link.url in item.payload["body"]


def test_changing_your_own_password_needs_the_current_one(session: Session) -> None:
    _owner, tess, _sam = _people(session)
    with pytest.raises(InvalidInput, match="current password is not right"):
        lifecycle.change_own_password(session, tess, "wrong", NEW_PASSWORD)
    with pytest.raises(InvalidInput, match="commonly used"):
        lifecycle.change_own_password(session, tess, PASSWORD, "password1234")
    with pytest.raises(InvalidInput, match="must differ"):
        lifecycle.change_own_password(session, tess, PASSWORD, PASSWORD)
    lifecycle.change_own_password(session, tess, PASSWORD, NEW_PASSWORD)
    assert verify_password(tess.password_hash, NEW_PASSWORD)


def test_cli_edits_deactivates_reassigns_and_issues_links(cli: CliInvoker, db: Database) -> None:
    with db.unit_of_work() as session:
        owner, tess, sam = _people(session)
        ticket = create_ticket(session, title="Printer", category="printer")
        tickets.assign(session, ticket, tess, by=owner)
        ticket_id = ticket.id
        create_token(session, staff=tess, name="script")

    result = cli("user", "edit", "t@example.com", "--level", "L2", "--name", "Tess T")
    assert result.exit_code == 0, result.output
    assert "Tess T <t@example.com> is technician (L2)" in result.output
    result = cli("user", "edit", "t@example.com", "--role", "boss")
    assert result.exit_code != 0 and "unknown role 'boss'" in result.output

    result = cli("user", "deactivate", "t@example.com")
    assert result.exit_code == 0, result.output
    assert "0 sessions ended, 1 API token revoked" in result.output
    assert f"#{ticket_id}" in result.output
    result = cli("user", "reassign", "t@example.com", "--to", "s@example.com")
    assert result.exit_code == 0, result.output
    assert "1 ticket reassigned to Sam Senior." in result.output

    result = cli("user", "reset-link", "t@example.com")
    assert result.exit_code != 0 and "deactivated" in result.output
    assert cli("user", "reactivate", "t@example.com").exit_code == 0
    result = cli("user", "reset-link", "t@example.com", "--json")
    assert result.exit_code == 0, result.output
    assert "/reset/" in json.loads(result.output)["url"]
    listed = cli("user", "list")
    assert "active" in listed.output

    # The one policy in the CLI, as on the web form.
    result = cli("user", "set-password", "t@example.com", "--password", "password1234")
    assert result.exit_code != 0 and "commonly used" in result.output
    with db.unit_of_work() as session:
        assert get_staff(session, "t@example.com").level == "L2"
        assert get_staff(session, "s@example.com").id == sam.id


def test_api_changes_and_deactivates_staff(db: Database, tmp_path: Path) -> None:
    with db.unit_of_work() as session:
        owner, tess, _sam = _people(session)
        boss = {"Authorization": "Bearer " + create_token(session, staff=owner, name="t")[1]}
        tech = {"Authorization": "Bearer " + create_token(session, staff=tess, name="t")[1]}
    app = create_app(Settings(home=tmp_path), db=db)
    with TestClient(app) as client:
        assert client.patch("/api/v1/staff/t@example.com", json={"level": "L2"},
                            headers=tech).status_code == 403  # fmt: skip
        changed = client.patch("/api/v1/staff/t@example.com", json={"level": "L2"}, headers=boss)
        assert changed.status_code == 200 and changed.json()["level"] == "L2"
        bad = client.patch("/api/v1/staff/t@example.com", json={"role": "boss"}, headers=boss)
        assert bad.status_code == 422 and "unknown role" in bad.text
        link = client.post("/api/v1/staff/t@example.com/reset-link", headers=boss)
        assert link.status_code == 200 and "/reset/" in link.json()["url"]
        gone = client.post("/api/v1/staff/t@example.com/deactivate", headers=boss)
        assert gone.status_code == 200
        assert gone.json()["tokens_revoked"] == 1 and gone.json()["active"] is False
        # Their token stops working at once.
        assert client.get("/api/v1/staff", headers=tech).status_code == 401
        assert client.post("/api/v1/staff/t@example.com/reactivate",
                           headers=boss).json()["active"] is True  # fmt: skip
