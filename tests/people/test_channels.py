"""People's Teams and Slack channels: sealed, shown by host only, changed by them or managers."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from franchise.accounts.service import add_staff
from franchise.errors import InvalidInput, PermissionDenied
from franchise.people.models import StaffChannel
from franchise.people.service import (
    clear_channel,
    describe_channels,
    set_channel,
    staff_for_slack_user,
)
from franchise.settings import Settings

TEAMS = "https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual?sig=SECRETSIG"
SLACK = "https://hooks.slack.com/services/T000/B000/SECRETxyz"


def people(session: Session):  # type: ignore[no-untyped-def]
    lia = add_staff(session, name="Lia", email="lia@example.com", role="technician", level="L1")
    max_ = add_staff(session, name="Max", email="max@example.com", role="technician", level="L2")
    olu = add_staff(session, name="Olu", email="olu@example.com", role="owner", level="owner")
    return lia, max_, olu


def test_a_url_is_stored_sealed_and_shown_by_host(session: Session, settings: Settings) -> None:
    lia, _, _ = people(session)
    set_channel(session, lia, kind="teams", url=TEAMS, by=lia, settings=settings)
    row = session.scalar(select(StaffChannel))
    assert row is not None and "SECRETSIG" not in row.url_sealed
    views = describe_channels(session, lia, settings)
    assert [v.to_dict() for v in views] == [
        {
            "kind": "teams",
            "host": "prod-12.westeurope.logic.azure.com",
            "slack_user_id": None,
            "trouble": None,
        }
    ]


def test_setting_again_replaces_and_clear_removes(session: Session, settings: Settings) -> None:
    lia, _, olu = people(session)
    set_channel(
        session, lia, kind="slack", url=SLACK, by=olu, settings=settings, slack_user_id="U024BE7LH"
    )
    set_channel(
        session,
        lia,
        kind="slack",
        url="https://hooks.slack.com/services/T/B/new",
        by=lia,
        settings=settings,
    )
    assert len(session.scalars(select(StaffChannel)).all()) == 1
    assert staff_for_slack_user(session, "U024BE7LH") is None  # replaced without a member id
    assert clear_channel(session, lia, kind="slack", by=lia) is True
    assert clear_channel(session, lia, kind="slack", by=lia) is False


def test_a_slack_member_id_maps_back_to_the_person(session: Session, settings: Settings) -> None:
    _, max_, _ = people(session)
    set_channel(
        session,
        max_,
        kind="slack",
        url=SLACK,
        by=max_,
        settings=settings,
        slack_user_id="U024BE7LH",
    )
    found = staff_for_slack_user(session, "U024BE7LH")
    assert found is not None and found.id == max_.id
    assert staff_for_slack_user(session, "U999") is None


def test_only_the_person_or_a_manager_may_change_it(session: Session, settings: Settings) -> None:
    lia, max_, _ = people(session)
    with pytest.raises(PermissionDenied):
        set_channel(session, lia, kind="teams", url=TEAMS, by=max_, settings=settings)
    with pytest.raises(PermissionDenied):
        clear_channel(session, lia, kind="teams", by=max_)


@pytest.mark.parametrize(
    ("kind", "url", "member"),
    [
        ("teams", "ftp://x.example/hook", None),
        ("teams", "not a url", None),
        ("email", SLACK, None),
        ("teams", TEAMS, "U024BE7LH"),  # a member id belongs to Slack only
        ("slack", SLACK, "bob"),
    ],
)
def test_bad_input_is_refused_without_echoing_the_url(
    session: Session, settings: Settings, kind: str, url: str, member: str | None
) -> None:
    lia, _, _ = people(session)
    with pytest.raises(InvalidInput) as refused:
        set_channel(
            session, lia, kind=kind, url=url, by=lia, settings=settings, slack_user_id=member
        )
    assert "SECRET" not in refused.value.message
