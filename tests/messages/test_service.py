"""Templates stored as revisions, chosen per runbook, rendered for a ticket's contact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.clients.models import Client, ClientContact
from franchise.clients.service import add_client
from franchise.errors import Conflict, InvalidInput, NotFound
from franchise.messages import service
from franchise.orgsettings.models import OrgSetting
from franchise.runbooks import service as runbooks
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket

MakeTicket = Callable[..., Ticket]


def minimal_doc(extra: str = "", body: str = "Hello {{ contact.name }}") -> str:
    lines = ["templates:"]
    for stage in service.STAGES:
        lines += [
            f"  - key: {stage}-plain",
            f"    stage: {stage}",
            f'    subject: "[#{{{{ ticket.id }}}}] {stage}"',
            f'    body: "{body}"',
        ]
    return "\n".join(lines) + "\n" + extra


def test_without_stored_templates_the_starter_set_is_used(session: Session) -> None:
    templates = service.load_templates(session)
    assert templates.revision == 0
    assert "vpn-reconnect-resolved" in templates.keys


def test_loading_the_starter_stores_it_once(session: Session) -> None:
    assert service.load_starter_templates(session) is True
    assert service.load_starter_templates(session) is False
    revision, source = service.current_source(session)
    assert revision == 1
    assert source == service.starter_source()


def test_the_runbook_override_is_chosen_over_the_generic_template(
    session: Session, make_ticket: MakeTicket
) -> None:
    vpn = make_ticket()
    printer = make_ticket(title="Printer offline", category="printer", runbook_key=None)
    assert service.choose_template(session, vpn, "resolved").key == "vpn-reconnect-resolved"
    assert service.choose_template(session, printer, "resolved").key == "resolved-confirm"
    # No override for this stage on the VPN runbook: the generic one.
    assert service.choose_template(session, vpn, "escalated").key == "escalated-senior"
    # A key names one template exactly, whatever the runbook.
    assert service.find_template(session, vpn, "resolved-confirm").key == "resolved-confirm"


def test_the_runbook_of_the_latest_run_decides_the_override(
    session: Session, make_ticket: MakeTicket
) -> None:
    runbooks.load_starter(session)
    ticket = make_ticket(runbook_key=None, category=None)
    assert service.choose_template(session, ticket, "resolved").key == "resolved-confirm"
    runbooks.start_run(session, runbooks.get_runbook(session, "vpn-auth-failure"), ticket=ticket)
    assert service.choose_template(session, ticket, "resolved").key == "vpn-reconnect-resolved"


def test_unknown_stage_or_key_is_refused(session: Session, make_ticket: MakeTicket) -> None:
    ticket = make_ticket()
    with pytest.raises(InvalidInput, match="unknown stage 'closed'"):
        service.choose_template(session, ticket, "closed")
    with pytest.raises(NotFound, match="no template or stage 'thanks'"):
        service.find_template(session, ticket, "thanks")


def test_rendering_goes_to_the_primary_contact_and_fills_the_ticket(
    session: Session, make_ticket: MakeTicket, tech: Staff
) -> None:
    session.add(OrgSetting(key="organisation", value={"name": "Northwind IT"}))
    ticket = make_ticket(priority="high")
    rendered = service.render_for_ticket(
        session,
        ticket,
        "acknowledged",
        technician=tech,
        next_update=datetime(2025, 6, 3, 15, 30, tzinfo=UTC),
    )
    assert rendered.to == "dana@harbour.example"
    assert rendered.template.key == "request-received"
    assert rendered.subject == (
        f"[#{ticket.id}] We've received your request: VPN says certificate expired"
    )
    assert rendered.body.startswith("Hello Dana Whitfield,\n\n")
    assert f"ticket #{ticket.id}" in rendered.body
    assert "We understand this is urgent" in rendered.body
    assert "by Tuesday 3 June, 15:30 UTC" in rendered.body
    assert rendered.body.endswith("Kind regards,\nPriya Shah\nNorthwind IT\n")
    assert "{{" not in rendered.body
    assert "{%" not in rendered.body


def test_every_starter_template_renders_for_a_real_ticket(
    session: Session, make_ticket: MakeTicket
) -> None:
    ticket = make_ticket()
    for template in service.load_templates(session).templates:
        rendered = service.render_for_ticket(session, ticket, template.key)
        assert rendered.subject.startswith(f"[#{ticket.id}] "), template.key
        assert rendered.body.startswith("Hello Dana Whitfield,"), template.key
        assert "The service desk" in rendered.body  # no assignee: signed by the desk


def test_without_a_primary_contact_the_first_contact_is_used(session: Session) -> None:
    client = add_client(session, name="Kestrel Logistics")
    session.add_all(
        [
            ClientContact(client_id=client.id, name="No Mail", email=None),
            ClientContact(client_id=client.id, name="Ops Desk", email="ops@kestrel.example"),
            ClientContact(client_id=client.id, name="Later", email="later@kestrel.example"),
        ]
    )
    session.flush()
    ticket = create_ticket(session, title="Backup failed", client=client.id)
    rendered = service.render_for_ticket(session, ticket, "update")
    assert (rendered.to, rendered.body.splitlines()[0]) == (
        "ops@kestrel.example",
        "Hello Ops Desk,",
    )


def test_no_contact_and_no_recipient_is_refused_naming_the_client(session: Session) -> None:
    add_client(session, name="Quiet Co")
    ticket = create_ticket(session, title="Disk full", client="Quiet Co")
    with pytest.raises(InvalidInput, match="client 'Quiet Co' has no contact"):
        service.render_for_ticket(session, ticket, "update")
    rendered = service.render_for_ticket(session, ticket, "update", to="boss@quiet.example")
    assert rendered.to == "boss@quiet.example"
    assert rendered.body.startswith("Hello Quiet Co,")


def test_a_ticket_without_a_client_needs_a_recipient(session: Session) -> None:
    ticket = create_ticket(session, title="Internal")
    with pytest.raises(InvalidInput, match=f"ticket #{ticket.id} has no client"):
        service.render_for_ticket(session, ticket, "update")


def test_a_recipient_that_is_not_one_address_is_refused(
    session: Session, make_ticket: MakeTicket
) -> None:
    ticket = make_ticket()
    for bad in ("a@x.example, b@y.example", "x@y.example\r\nBcc: z@evil.example", "nobody"):
        with pytest.raises(InvalidInput, match="not a single e-mail address"):
            service.render_for_ticket(session, ticket, "update", to=bad)


def test_the_current_runbook_step_is_available_to_templates(
    session: Session, make_ticket: MakeTicket
) -> None:
    runbooks.load_starter(session)
    ticket = make_ticket()
    runbooks.start_run(session, runbooks.get_runbook(session, "vpn-auth-failure"), ticket=ticket)
    service.save_templates(session, minimal_doc(body="at {{ step.id }}: {{ step.text[:9] }}"))
    rendered = service.render_for_ticket(session, ticket, "update")
    assert rendered.body == "at scope: Look at t\n"


def test_saving_lints_first_and_keeps_nothing_on_problems(session: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.save_templates(session, minimal_doc(body="{{ ticket.nope }}"), file="mine.yaml")
    assert caught.value.errors[0]["file"] == "mine.yaml"
    assert caught.value.errors[0]["code"] == "unknown-variable"
    assert service.current_source(session)[0] == 0


def test_an_override_for_an_unknown_runbook_is_refused_once_runbooks_exist(
    session: Session,
) -> None:
    runbooks.load_starter(session)
    extra = "  - {key: x, stage: update, runbook: no-such-runbook, subject: s, body: b}\n"
    with pytest.raises(InvalidInput) as caught:
        service.save_templates(session, minimal_doc(extra))
    assert [e["code"] for e in caught.value.errors] == ["unknown-runbook"]


def test_a_saved_revision_is_used_at_once_and_stale_saves_conflict(
    session: Session, make_ticket: MakeTicket
) -> None:
    ticket = make_ticket()
    service.load_starter_templates(session)
    rev, changed = service.save_templates(session, minimal_doc(), expected_revision=1)
    assert (rev.number, changed) == (2, True)
    assert service.render_for_ticket(session, ticket, "resolved").template.key == "resolved-plain"
    with pytest.raises(Conflict, match="revision 2, not 1"):
        service.save_templates(session, minimal_doc("# edited\n"), expected_revision=1)
    same, changed = service.save_templates(session, minimal_doc())
    assert (same.number, changed) == (2, False)


def test_export_and_import_round_trip(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "out" / "templates.yaml"
    assert service.export_templates(session, path) == 0
    rev, changed = service.import_templates(session, path)
    assert (rev.number, changed) == (1, True)
    assert path.read_text(encoding="utf-8") == service.starter_source()


def test_the_client_and_contact_used_are_plain_values(
    session: Session, make_ticket: MakeTicket, client: Client
) -> None:
    service.save_templates(
        session, minimal_doc(body="{{ client.name }} {{ client.tier }} {{ contact.email }}")
    )
    rendered = service.render_for_ticket(session, make_ticket(), "update")
    assert rendered.body == "Harbour Dental premium dana@harbour.example\n"
