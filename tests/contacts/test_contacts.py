"""Logging, importing and listing owner contacts, and the KPI report from the database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.clients.service import add_client
from franchise.contacts.models import OwnerContact
from franchise.contacts.service import kpi_report, list_contacts
from franchise.drills.contact_log import import_contacts, log_contact
from franchise.drills.models import Drill
from franchise.errors import InvalidInput, NotFound
from franchise.orgsettings.service import OrgConfig, get_config, set_setting
from franchise.tickets.service import change_ticket, create_ticket


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OwnerContact)) or 0


def test_log_contact_flags_after_hours_in_the_org_zone(
    session: Session, berlin: OrgConfig, ana: Staff
) -> None:
    # 17:30Z is 18:30 in Berlin (CET): after the 18:00 close.
    late = log_contact(
        session,
        occurred_at=utc(2026, 3, 2, 17, 30),
        channel="call",
        reason="approval",
        by=ana,
        minutes=12,
        config=berlin,
    )
    # 07:30Z is 08:30 in Berlin: open.
    early = log_contact(
        session, occurred_at=utc(2026, 3, 2, 7, 30), channel="text", reason="other", config=berlin
    )
    assert (late.after_hours, early.after_hours) == (True, False)
    assert (late.staff_id, late.minutes, late.outcome) == (ana.id, 12, "interruption")


@pytest.mark.parametrize(
    ("field", "value"),
    [("channel", "pigeon"), ("reason", "boredom"), ("outcome", "ignored")],
)
def test_log_contact_refuses_unknown_choices(
    session: Session, berlin: OrgConfig, field: str, value: str
) -> None:
    kwargs = {"channel": "call", "reason": "approval", "outcome": "interruption", field: value}
    with pytest.raises(InvalidInput, match=f"unknown {field} '{value}'"):
        log_contact(session, occurred_at=utc(2026, 3, 2, 9), config=berlin, **kwargs)


def test_log_contact_refuses_naive_times(session: Session, berlin: OrgConfig) -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        log_contact(
            session,
            occurred_at=datetime(2026, 3, 2, 9),
            channel="call",
            reason="approval",
            config=berlin,
        )


def test_contacts_inside_a_drill_window_are_marked(session: Session, berlin: OrgConfig) -> None:
    drill = Drill(starts_at=utc(2026, 3, 2), ends_at=utc(2026, 3, 5))
    # Stopped early: its window ends at ended_at, not ends_at.
    stopped = Drill(
        starts_at=utc(2026, 4, 1), ends_at=utc(2026, 4, 4), ended_at=utc(2026, 4, 2, 12)
    )
    session.add_all([drill, stopped])
    session.flush()

    def drill_of(at: datetime) -> int | None:
        c = log_contact(
            session,
            occurred_at=at,
            channel="in_app",
            reason="approval",
            outcome="refused",
            config=berlin,
        )
        return c.drill_id

    assert drill_of(utc(2026, 3, 1, 23, 59)) is None  # a minute before it starts
    assert drill_of(utc(2026, 3, 2)) == drill.id  # the start is inside
    assert drill_of(utc(2026, 3, 4, 23, 59)) == drill.id
    assert drill_of(utc(2026, 3, 5)) is None  # the end is outside
    assert drill_of(utc(2026, 4, 2, 11, 59)) == stopped.id
    assert drill_of(utc(2026, 4, 2, 12)) is None  # after it was stopped


CSV_WITH_TWO_BAD_ROWS = """\
occurred_at,channel,ticket,by,reason,minutes,emergency
2026-03-02T09:15:00+01:00,call,{ticket},ana@example.com,approval,10,no
2026-03-02T10:00,pigeon,,,approval,5,no
2026-03-03T20:00,text,,Ana Lee,technical_decision,,yes
2026-02-30T10:00,call,,,approval,5,no
2026-03-07 11:00,chat,,,other,3,
"""


def test_import_stores_good_rows_and_names_bad_rows_by_line(
    session: Session, berlin: OrgConfig, ana: Staff, tmp_path: Path
) -> None:
    ticket = create_ticket(session, title="VPN down", category="vpn")
    session.add(Drill(starts_at=utc(2026, 3, 7), ends_at=utc(2026, 3, 10)))
    session.flush()
    path = tmp_path / "contacts.csv"
    path.write_text(CSV_WITH_TWO_BAD_ROWS.format(ticket=ticket.id))

    report = import_contacts(session, path, berlin)

    assert report["imported"] == 3
    assert [e["line"] for e in report["errors"]] == [3, 5]
    assert "channel 'pigeon'" in report["errors"][0]["message"]
    assert "occurred_at '2026-02-30T10:00'" in report["errors"][1]["message"]
    rows = list_contacts(session)  # newest first
    assert [(r.occurred_at, r.channel, r.after_hours, r.emergency, r.minutes) for r in rows] == [
        # Sat 11:00 Berlin (naive: org time) = 10:00Z; weekend -> after hours; in the drill.
        (utc(2026, 3, 7, 10), "chat", True, False, 3),
        # Tue 20:00 Berlin = 19:00Z, after 18:00; minutes empty -> 0.
        (utc(2026, 3, 3, 19), "text", True, True, 0),
        # 09:15+01:00 = 08:15Z = 09:15 Berlin: open.
        (utc(2026, 3, 2, 8, 15), "call", False, False, 10),
    ]
    assert [r.staff_id for r in rows] == [None, ana.id, ana.id]
    assert rows[2].ticket_id == ticket.id
    assert rows[0].drill_id is not None
    assert rows[1].drill_id is None


def test_import_counts_physical_lines_and_names_unknown_staff_and_tickets(
    session: Session, berlin: OrgConfig, tmp_path: Path
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "occurred_at,channel,ticket,by,reason,minutes,emergency\n"
        "2026-03-02T09:00,call,,,approval,1,no\n"
        "\n"  # line 3: blank, skipped but counted
        "2026-03-02T09:00,call,,nobody@example.com,approval,1,no\n"
        "2026-03-02T09:00,call,99999,,approval,1,maybe\n"
        "2026-03-02T09:00,call,99999,,approval,1,no\n"
    )
    report = import_contacts(session, path, berlin)
    assert report["imported"] == 1
    assert report["errors"] == [
        {"line": 4, "message": "no staff member 'nobody@example.com'"},
        {"line": 5, "message": "emergency 'maybe' is not yes/no/true/false/1/0 or empty"},
        {"line": 6, "message": "no ticket #99999"},
    ]


def test_import_with_wrong_header_stores_nothing(
    session: Session, berlin: OrgConfig, tmp_path: Path
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "when,channel,ticket,by,reason,minutes,emergency\n2026-03-02T09:00,call,,,approval,1,no\n"
    )
    with pytest.raises(
        InvalidInput, match=r"line 1: the header must be .*missing occurred_at; unknown when"
    ):
        import_contacts(session, path, berlin)
    assert count(session) == 0


def test_import_of_a_missing_file_is_not_found(
    session: Session, berlin: OrgConfig, tmp_path: Path
) -> None:
    with pytest.raises(NotFound):
        import_contacts(session, tmp_path / "nope.csv", berlin)


def test_kpi_report_joins_names_and_uses_the_org_zone(session: Session) -> None:
    config = set_setting(session, "timezone", "Pacific/Auckland")  # UTC+13 in February
    ana = add_staff(session, name="Ana", email="ana@example.com", role="technician", level="L1")
    ben = add_staff(session, name="Ben", email="ben@example.com", role="technician", level="L2")
    acme = add_client(session, name="Acme")
    vpn = create_ticket(session, title="VPN", category="vpn", client=acme.id)
    loose = create_ticket(session, title="Odd thing")

    def log(at: datetime, **kw: object) -> None:
        fields: dict[str, object] = {"channel": "call", "reason": "approval", **kw}
        log_contact(session, occurred_at=at, config=config, **fields)  # type: ignore[arg-type]

    log(utc(2026, 2, 15, 10, 30), by=ana, ticket=vpn, minutes=10)  # Sun 23:30 local -> 02-09
    log(utc(2026, 2, 15, 11, 10), by=ana, ticket=vpn, minutes=5)  # Mon 00:10 local -> 02-16
    log(utc(2026, 2, 16, 1), by=ben, ticket=loose, reason="technical_decision")  # -> 02-16
    log(utc(2026, 2, 16, 2), by=ben, outcome="deflection")  # -> 02-16, not counted

    report = kpi_report(session, weeks=2, now=datetime(2026, 2, 18, 12, tzinfo=config.tz))

    assert [(w["week_start"], w["interruptions"], w["deflections"]) for w in report["weeks"]] == [
        ("2026-02-09", 1, 0),
        ("2026-02-16", 2, 1),
    ]
    # Sun 23:30 local (weekend) and Mon 00:10 local (before 08:00) are after hours;
    # 02-16T01:00Z is Mon 14:00 local, open; the deflection does not count.
    assert [w["after_hours"] for w in report["weeks"]] == [1, 1]
    assert [(i["name"], i["count"]) for i in report["by_technician"]] == [("Ana", 2), ("Ben", 1)]
    assert [(i["name"], i["count"]) for i in report["by_client"]] == [("Acme", 2), ("none", 1)]
    assert [(i["name"], i["count"]) for i in report["by_category"]] == [
        ("vpn", 2),
        ("uncategorised", 1),
    ]
    # Complete weeks 01-19, 01-26, 02-02, 02-09 hold 0, 0, 0, 1: 1 / 4 = 0.25.
    assert (report["four_week_average"], report["status"]) == (0.25, "on_target")


def test_kpi_report_owner_wait_from_ticket_history_in_the_dst_week(
    session: Session, berlin: OrgConfig
) -> None:
    ticket = create_ticket(session, title="DC down", category="vpn")
    # Escalated to the owner at Mon 03-23 00:00 CET, picked up Mon 03-30 00:00 CEST.
    change_ticket(
        session, ticket, actor=None, at=utc(2026, 3, 22, 23), status="escalated", level="owner"
    )
    change_ticket(session, ticket, actor=None, at=utc(2026, 3, 29, 22), status="in_progress")
    # Back to the owner Tue 03-31 10:00 CEST (08:00Z), still waiting at Wed 12:00 CEST.
    change_ticket(session, ticket, actor=None, at=utc(2026, 3, 31, 8), level="L2")
    change_ticket(session, ticket, actor=None, at=utc(2026, 3, 31, 8, 0, 1), level="owner")
    session.flush()

    report = kpi_report(session, weeks=2, now=utc(2026, 4, 1, 10))

    # Week 03-23 is 167 h long (DST) and waited on the owner from start to end. The open wait
    # runs 03-31 08:00:01Z -> now 04-01 10:00Z: 26 h less a second, 26.0 rounded to 2 places.
    hours = {w["week_start"]: w["owner_wait_hours"] for w in report["weeks"]}
    assert hours == {"2026-03-23": 167.0, "2026-03-30": 26.0}


def test_kpi_report_refuses_silly_week_counts(session: Session) -> None:
    with pytest.raises(InvalidInput, match="weeks"):
        kpi_report(session, weeks=0)


def test_get_config_defaults_without_rows(session: Session) -> None:
    assert get_config(session) == OrgConfig()
