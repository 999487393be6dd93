"""How keys read to people: acronyms stay acronyms, counts agree with their nouns."""

from __future__ import annotations

import pytest

from franchise.wording import label, plural, possessive


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("vpn", "VPN"),
        ("mfa", "MFA"),
        ("cli", "CLI"),
        ("api", "API"),
        ("email", "E-mail"),
        ("disk-space", "Disk space"),
        ("waiting_on_client", "Waiting on client"),
        ("vpn-auth-failure", "VPN auth failure"),
        ("account-lockout", "Account lockout"),
        ("", ""),
        (None, ""),
    ],
)
def test_labels_keep_acronyms(key: str | None, shown: str) -> None:
    assert label(key) == shown


def test_possessives_read_as_written() -> None:
    assert possessive("Acme Dental") == "Acme Dental's"
    assert possessive("Pemberton Insurance Brokers") == "Pemberton Insurance Brokers'"


def test_counts_agree_with_their_nouns() -> None:
    assert plural(1, "session") == "1 session"
    assert plural(0, "session") == "0 sessions"
    assert plural(3, "API token") == "3 API tokens"
    assert plural(2, "person", "people") == "2 people"


def test_an_approval_step_in_the_history_reads_as_a_sentence() -> None:
    from franchise.db import utcnow
    from franchise.tickets.models import TicketEvent
    from franchise.web.ticket_view import _event_row

    event = TicketEvent(at=utcnow(), actor_id=4, kind="approval", note="approved by policy")
    row = _event_row(event, {4: "Tomasz Nowak"})
    assert f"{row.who} {row.action}" == "Tomasz Nowak updated an approval request"
