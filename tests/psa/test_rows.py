"""Reading PSA exports without a database: headers, values, dates, categories."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from franchise.errors import InvalidInput
from franchise.psa.categories import map_category
from franchise.psa.formats import AUTOTASK, CONNECTWISE, FORMATS, HALOPSA
from franchise.psa.mapping import parse_mapping
from franchise.psa.rows import RowProblem, TicketRow, read_rows
from franchise.psa.values import BadValue, read_date, read_priority, read_status

UTC_ZONE = ZoneInfo("UTC")
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "psa"


def rows_of(name: str, fmt_name: str) -> list[TicketRow | RowProblem]:
    text = (FIXTURES / name).read_text(encoding="utf-8-sig")
    return list(read_rows(text, FORMATS[fmt_name], UTC_ZONE))


def test_connectwise_export_maps_every_field() -> None:
    rows = rows_of("connectwise_service_board.csv", "connectwise")
    assert all(isinstance(r, TicketRow) for r in rows)
    first = rows[0]
    assert isinstance(first, TicketRow)
    assert (first.external_id, first.client, first.priority, first.status) == (
        "48211",
        "Harbor Dental Group",
        "high",
        "new",
    )
    assert first.psa_category == "Network / VPN / FortiClient"
    assert first.category == "vpn"
    assert first.created_at == datetime(2026, 11, 24, 8, 2, tzinfo=UTC_ZONE)
    by_id = {r.external_id: r for r in rows if isinstance(r, TicketRow)}
    assert by_id["48212"].category == "patching"
    assert by_id["48212"].body.endswith("RMM shows pending reboot flag.")
    assert (by_id["48213"].priority, by_id["48213"].status) == ("critical", "waiting_on_client")
    assert (by_id["48214"].category, by_id["48214"].status) == ("printer", "resolved")
    # "Security" alone says nothing about which runbook: left to the suggester.
    assert by_id["48215"].category is None


def test_connectwise_api_style_headers_are_matched_without_regard_to_case() -> None:
    rows = [r for r in rows_of("connectwise_api_style.csv", "connectwise")]
    assert [(r.external_id, r.category, r.status) for r in rows if isinstance(r, TicketRow)] == [
        ("48301", "account-lockout", "in_progress"),
        ("48302", "disk-space", "closed"),
    ]
    first = rows[0]
    assert isinstance(first, TicketRow)
    assert first.created_at == datetime(2026, 11, 24, 13, 5, tzinfo=UTC)


def test_autotask_issue_types_map_to_runbook_categories() -> None:
    rows = [r for r in rows_of("autotask_tickets.csv", "autotask") if isinstance(r, TicketRow)]
    assert [(r.external_id, r.category, r.priority, r.status) for r in rows] == [
        ("T20261124.0001", "onboarding", "normal", "new"),
        ("T20261124.0002", "email-quarantine", "high", "in_progress"),
        ("T20261124.0003", "endpoint-offline", "low", "waiting_on_client"),
        ("T20261124.0004", "vpn", "critical", "escalated"),
    ]
    assert rows[0].created_at == datetime(2026, 11, 24, 8, 30, tzinfo=UTC_ZONE)


def test_halopsa_dates_are_day_first() -> None:
    rows = [r for r in rows_of("halopsa_tickets.csv", "halopsa") if isinstance(r, TicketRow)]
    assert [(r.category, r.priority, r.status) for r in rows] == [
        ("printer", "normal", "new"),
        ("patching", "high", "in_progress"),
        ("mfa", "critical", "waiting_on_client"),
    ]
    assert rows[2].created_at == datetime(2026, 11, 25, 7, 55, tzinfo=UTC_ZONE)


def test_halopsa_report_variant_reads_category_1_and_2() -> None:
    rows = [r for r in rows_of("halopsa_report_variant.csv", "halopsa") if isinstance(r, TicketRow)]
    assert [(r.external_id, r.client, r.category, r.status) for r in rows] == [
        ("10601", "Riverside Surgery", "backup", "in_progress"),
        ("10602", "Brand New Client Ltd", "printer", "closed"),
    ]


def test_bad_rows_are_named_by_physical_line() -> None:
    rows = rows_of("connectwise_bad_rows.csv", "connectwise")
    problems = {r.line: r.message for r in rows if isinstance(r, RowProblem)}
    assert sorted(problems) == [4, 6, 9, 10, 11]
    assert problems[4] == "no title (column 'Summary' is empty)"
    assert "date '31/31/2026 8:20 AM'" in problems[6]
    assert "priority 'Priority 9 - Whenever'" in problems[9]
    assert "no ticket number" in problems[10]
    assert "expected 9 columns, found 2" in problems[11]
    good = [r.line for r in rows if isinstance(r, TicketRow)]
    # The description of line 7 runs over two lines, so the next row is line 9.
    assert good == [2, 3, 5, 7]


def test_a_header_without_required_columns_is_refused_with_the_accepted_names() -> None:
    with pytest.raises(InvalidInput) as info:
        list(read_rows("Company,Status\nAcme,New\n", AUTOTASK, UTC_ZONE))
    assert "line 1" in info.value.message
    assert "external_id, title" in info.value.message
    assert "Ticket Number" in info.value.message


def test_a_ticket_number_twice_in_one_file_is_an_error_on_the_second_line() -> None:
    text = "Ticket ID,Summary\n1,First\n1,Again\n"
    rows = list(read_rows(text, HALOPSA, UTC_ZONE))
    assert isinstance(rows[1], RowProblem)
    assert rows[1] == RowProblem(3, "ticket '1' is already on line 2")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Priority 1 - Emergency Response", "critical"),
        ("Priority 2 - Quick Response", "high"),
        ("Priority 3 - Normal Response", "normal"),
        ("Priority 4 - Schedule Maintenance", "low"),
        ("Priority 5 - Next Time", "low"),
        ("1 - Critical", "critical"),
        ("P2", "high"),
        ("Medium", "normal"),
        ("Urgent", "critical"),
        ("", "normal"),
    ],
)
def test_priorities_of_each_psa(value: str, expected: str) -> None:
    assert read_priority(value, {}) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (">Closed", "closed"),
        ("Completed", "resolved"),
        ("Complete", "resolved"),
        ("Waiting Customer", "waiting_on_client"),
        ("With User", "waiting_on_client"),
        ("Customer Note Added", "in_progress"),
        ("Waiting Vendor", "in_progress"),
        ("Re-Opened", "new"),
        ("Pending Approval", "waiting_on_approval"),
        ("Escalate", "escalated"),
    ],
)
def test_statuses_of_each_psa(value: str, expected: str) -> None:
    assert read_status(value, {}) == expected


def test_mapping_file_value_maps_win_over_the_built_in_words() -> None:
    assert read_status("Closed", {"closed": "resolved"}) == "resolved"
    with pytest.raises(BadValue, match="mapping file"):
        read_status("Parked", {})


def test_dates_twelve_hour_clock_and_month_order() -> None:
    tz = ZoneInfo("America/New_York")
    assert read_date("11/24/2026 12:05 AM", order="mdy", fmt=None, tz=tz) == datetime(
        2026, 11, 24, 0, 5, tzinfo=tz
    )
    assert read_date("03/04/2026", order="dmy", fmt=None, tz=tz) == datetime(2026, 4, 3, tzinfo=tz)
    with pytest.raises(BadValue):
        read_date("24/11/2026", order="mdy", fmt=None, tz=tz)


def test_category_keywords_prefer_the_most_specific_part() -> None:
    assert map_category(["Network", "VPN"], {}) == "vpn"
    assert map_category(["Backup", "Storage full"], {}) == "backup"
    assert map_category(["Software", "Windows Update"], {}) == "patching"
    assert map_category(["Security", "MFA reset"], {}) == "mfa"
    assert map_category(["Admin"], {}) is None
    assert map_category(["Sec", "Tokens"], {"tokens": "mfa"}) == "mfa"


def test_mapping_file_problems_are_named_by_line() -> None:
    text = "columns:\n  title: Subject\n  colour: Red\npriority:\n  P1: urgent\ndate_order: ymd\n"
    with pytest.raises(InvalidInput) as info:
        parse_mapping(text, "map.yaml", FORMATS["generic"])
    lines = {(e["line"], e["message"].split(" ")[0]) for e in info.value.errors}
    assert (3, "columns:") in lines
    assert (5, "priority:") in lines
    assert (6, "date_order") in lines
    assert any("external_id" in e["message"] for e in info.value.errors)


def test_a_mapping_file_extends_a_built_in_format() -> None:
    fmt = parse_mapping("status:\n  Parked: in_progress\n", "m.yaml", CONNECTWISE)
    assert fmt.columns == CONNECTWISE.columns
    assert fmt.status_map == {"Parked": "in_progress"}
