"""Signed links: one person, one action, once, for 30 minutes; refused otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.service import add_staff
from franchise.people.models import ActionLink
from franchise.people.service import LinkRefused, check_link, issue_link, link_url, use_link
from franchise.settings import Settings

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def issue(session: Session, settings: Settings) -> tuple[str, int, int]:
    max_ = add_staff(session, name="Max", email="max@example.com", role="technician", level="L2")
    kim = add_staff(session, name="Kim", email="kim@example.com", role="technician", level="L2")
    token = issue_link(
        session,
        max_,
        action="approve",
        target_kind="approval",
        target_id=9,
        settings=settings,
        now=NOW,
    )
    return token, max_.id, kim.id


def test_a_fresh_link_checks_out_for_its_person(
    people_session: Session, settings: Settings
) -> None:
    token, max_id, _ = issue(people_session, settings)
    link = check_link(people_session, token, settings=settings, viewer=None, now=NOW)
    assert (link.staff_id, link.action, link.target_kind, link.target_id) == (
        max_id,
        "approve",
        "approval",
        9,
    )
    assert link.expires_at == NOW + timedelta(minutes=30)
    assert link_url(settings, token) == f"https://franchise.example/l/{token}"


def test_a_used_link_is_refused(people_session: Session, settings: Settings) -> None:
    token, _, _ = issue(people_session, settings)
    use_link(
        people_session,
        check_link(people_session, token, settings=settings, viewer=None, now=NOW),
        NOW,
    )
    with pytest.raises(LinkRefused, match="already used"):
        check_link(people_session, token, settings=settings, viewer=None, now=NOW)


def test_a_link_expires_after_thirty_minutes(people_session: Session, settings: Settings) -> None:
    token, _, _ = issue(people_session, settings)
    almost = NOW + timedelta(minutes=29, seconds=59)
    assert check_link(people_session, token, settings=settings, viewer=None, now=almost)
    with pytest.raises(LinkRefused, match="expired"):
        check_link(
            people_session, token, settings=settings, viewer=None, now=NOW + timedelta(minutes=30)
        )


def test_a_tampered_token_is_refused(people_session: Session, settings: Settings) -> None:
    token, _, _ = issue(people_session, settings)
    link_id, mac = token.split(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    for bad in (f"{link_id}.{flipped}", token[:-5], f"{link_id}x.{mac}", "nonsense"):
        with pytest.raises(LinkRefused, match="not valid"):
            check_link(people_session, bad, settings=settings, viewer=None, now=NOW)


def test_a_changed_row_no_longer_matches_its_token(
    people_session: Session, settings: Settings
) -> None:
    # Someone with database access points the link at another approval: the MAC says no.
    token, _, _ = issue(people_session, settings)
    row = people_session.get(ActionLink, token.split(".")[0])
    assert row is not None
    row.target_id = 10
    with pytest.raises(LinkRefused, match="not valid"):
        check_link(people_session, token, settings=settings, viewer=None, now=NOW)


def test_a_link_signed_with_another_installations_key_is_refused(
    people_session: Session, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    token, _, _ = issue(people_session, settings)
    other = Settings(home=tmp_path_factory.mktemp("other"))
    with pytest.raises(LinkRefused, match="not valid"):
        check_link(people_session, token, settings=other, viewer=None, now=NOW)


def test_a_forwarded_link_is_refused_for_someone_else_signed_in(
    people_session: Session, settings: Settings
) -> None:
    token, max_id, kim_id = issue(people_session, settings)
    from franchise.accounts.models import Staff

    kim = people_session.get(Staff, kim_id)
    max_ = people_session.get(Staff, max_id)
    with pytest.raises(LinkRefused, match="sent to someone else"):
        check_link(people_session, token, settings=settings, viewer=kim, now=NOW)
    assert check_link(people_session, token, settings=settings, viewer=max_, now=NOW)
