"""Who may be on duty at a level: the same rule for the CLI, the API and the roster page.
An L1 is never the L2 on duty, the owner's backup is an L2 (never the owner), and a shift
whose person has since moved to another level stops counting."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff, create_token
from franchise.accounts.sessions import start_session
from franchise.app import create_app
from franchise.bootstrap import initialise
from franchise.db import Database
from franchise.duty.service import eligible_staff, on_duty, roster, set_shift, week_roster
from franchise.errors import InvalidInput
from franchise.settings import Settings
from franchise.web.auth import SESSION_COOKIE
from tests.support import CliInvoker

MONDAY_MORNING = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _team(session: Session) -> dict[str, Staff]:
    initialise(session)
    people = {
        "olu": ("owner", "owner"),
        "pia": ("service_manager", "L2"),
        "max": ("technician", "L2"),
        "lia": ("technician", "L1"),
        "gus": ("technician", "L2"),
    }
    team = {
        key: add_staff(session, name=key.title(), email=f"{key}@example.com", role=r, level=lv)
        for key, (r, lv) in people.items()
    }
    team["gus"].active = False
    return team


@pytest.fixture
def team(session: Session) -> dict[str, Staff]:
    return _team(session)


@pytest.mark.parametrize(
    ("level", "who", "message"),
    [
        ("L2", "lia", "Person: the L2 on duty must work at L2; Lia works at L1"),
        ("L2", "olu", "Person: the L2 on duty must work at L2; Olu is the owner"),
        ("owner", "olu", "Person: the owner's backup must be an L2 technician; Olu is the owner"),
        ("owner", "lia", "Person: the owner's backup must be an L2 technician; Lia works at L1"),
        ("L1", "max", "Person: the L1 on duty must work at L1; Max works at L2"),
        ("L2", "gus", r"Person: Gus \(gus@example.com\) is not active"),
        ("L3", "max", "Level: unknown level 'L3'"),
    ],
)
def test_people_who_may_not_be_on_duty_at_a_level_are_refused_by_name(
    session: Session, team: dict[str, Staff], level: str, who: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        set_shift(session, level=level, staff=team[who], days="daily", hours="00:00-00:00")
    assert roster(session) == []


def test_l2_people_may_be_on_duty_at_l2_or_back_up_the_owner(
    session: Session, team: dict[str, Staff]
) -> None:
    set_shift(session, level="L2", staff=team["max"], days="daily", hours="00:00-00:00")
    set_shift(session, level="owner", staff=team["pia"], days="daily", hours="00:00-00:00")
    set_shift(session, level="L1", staff=team["lia"], days="daily", hours="00:00-00:00")
    assert on_duty(session, "L2", at=MONDAY_MORNING) == team["max"]
    assert on_duty(session, "owner", at=MONDAY_MORNING) == team["pia"]
    assert on_duty(session, "L1", at=MONDAY_MORNING) == team["lia"]


def test_the_picker_offers_only_active_people_some_level_accepts(
    session: Session, team: dict[str, Staff]
) -> None:
    # Not the owner (no level of the roster takes them), not the deactivated Gus.
    assert [s.name for s in eligible_staff(session)] == ["Lia", "Max", "Pia"]


def test_a_shift_stops_counting_once_its_person_moves_to_another_level(
    session: Session, team: dict[str, Staff]
) -> None:
    set_shift(session, level="L2", staff=team["max"], days="daily", hours="00:00-00:00")
    team["max"].level = "L1"  # demoted after being put on the roster
    session.flush()
    assert on_duty(session, "L2", at=MONDAY_MORNING) is None
    assert [row["eligible"] for row in roster(session)] == [False]
    assert all(covers == [] for _day, covers in week_roster(session))


def test_the_cli_and_the_api_refuse_the_same_people(
    cli: CliInvoker, db: Database, tmp_path: Path
) -> None:
    with db.unit_of_work() as session:
        team = _team(session)
        token = create_token(session, staff=team["olu"], name="t")[1]
    result = cli("duty", "set", "--level", "L2", "--who", "lia@example.com")
    assert result.exit_code != 0
    assert "the L2 on duty must work at L2; Lia works at L1" in result.output
    result = cli("duty", "set", "--level", "owner", "--who", "olu@example.com")
    assert result.exit_code != 0
    assert "owner's backup must be an L2 technician; Olu is the owner" in result.output

    app = create_app(Settings(home=tmp_path), db=db)
    with TestClient(app) as client:
        answer = client.post(
            "/api/v1/duty",
            json={"level": "owner", "staff": "olu@example.com"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 422
    assert "owner's backup must be an L2 technician" in answer.json()["error"]


def test_the_roster_page_offers_eligible_people_and_names_a_refusal(
    db: Database, tmp_path: Path
) -> None:
    with db.unit_of_work() as session:
        team = _team(session)
        row, cookie = start_session(session, team["olu"])
        csrf = row.csrf_token
        lia_id = team["lia"].id
    with TestClient(create_app(Settings(home=tmp_path), db=db)) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        page = client.get("/settings/duty").text
        start = page.index('name="staff_id"')
        picker = page[start : page.index("</select>", start)]
        assert re.findall(r">(\w+) \((L1|L2|owner)\)</option>", picker) == [
            ("Max", "L2"), ("Pia", "L2"), ("Lia", "L1"),
        ]  # fmt: skip
        assert 'optgroup label="L2: on duty at L2 or as the owner&#39;s backup"' in picker
        answer = client.post(
            "/settings/duty",
            data={"csrf_token": csrf, "level": "L2", "staff_id": str(lia_id),
                  "days": ["mon"], "start": "08:00", "end": "18:00"},
        )  # fmt: skip
    assert answer.status_code == 422
    assert "Person: the L2 on duty must work at L2; Lia works at L1" in answer.text
    assert f'value="{lia_id}" selected' in answer.text  # the form is kept
    assert 'id="now-L2"><span class="muted">Nobody' in answer.text
