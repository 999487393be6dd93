"""The client and ticket pages as HTML: the number on file in the identity check, and the
client page's forms refusing bad input in place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from franchise.accounts.service import add_staff
from franchise.accounts.sessions import start_session
from franchise.app import create_app
from franchise.bootstrap import initialise
from franchise.clients.contacts import ContactFields, add_contact, list_contacts
from franchise.clients.service import add_client, archive_client, get_client
from franchise.db import Database
from franchise.flows.runs import begin_run, record_answer
from franchise.runbooks import service as runbooks
from franchise.settings import Settings
from franchise.tickets.service import create_ticket
from franchise.web.auth import SESSION_COOKIE


@pytest.fixture
def web(db: Database, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app and (cookie, CSRF token) for a technician and a service manager."""
    signed: dict[str, str] = {}
    with db.unit_of_work() as session:
        initialise(session)
        for role, level in (("technician", "L1"), ("service_manager", "L2")):
            staff = add_staff(session, name=role, email=f"{role}@x.example", role=role, level=level)
            row, cookie = start_session(session, staff)
            signed[role] = cookie
            signed[role + ":csrf"] = row.csrf_token
    with TestClient(create_app(Settings(home=tmp_path), db=db)) as client:
        yield client, signed


def _as(client: TestClient, signed: dict[str, str], role: str) -> dict[str, str]:
    client.cookies.set(SESSION_COOKIE, signed[role])
    return {"X-CSRF-Token": signed[role + ":csrf"]}


def test_the_identity_step_shows_the_number_on_file(
    db: Database, web: tuple[TestClient, dict[str, str]]
) -> None:
    client, signed = web
    with db.unit_of_work() as session:
        harbour = add_client(session, name="Harbour")
        dana = add_contact(
            session, harbour, ContactFields(name="Dana <b>W</b>", phone="0161 555 0101")
        )
        ticket = create_ticket(session, title="Locked out", client=harbour.id, requester=dana.id)
        run = begin_run(
            session, runbooks.get_runbook(session, "account-lockout"), ticket=ticket, actor=None
        )
        for _ in range(10):
            state = runbooks.run_state(session, run)
            if state.step.used_from == "verify-identity":
                break
            first = next(iter(state.step.options))
            record_answer(session, run, step=state.current, reply=first, actor=None)
        ticket_id = ticket.id
    _as(client, signed, "technician")
    page = client.get(f"/tickets/{ticket_id}").text
    assert "Number on file for Dana &lt;b&gt;W&lt;/b&gt;: 0161 555 0101" in page


def test_a_refused_contact_is_shown_on_the_client_page_with_what_was_typed(
    db: Database, web: tuple[TestClient, dict[str, str]]
) -> None:
    client, signed = web
    with db.unit_of_work() as session:
        client_id = add_client(session, name="Harbour").id
    headers = _as(client, signed, "service_manager")
    refused = client.post(
        f"/clients/{client_id}/contacts",
        data={"name": "Dana", "email": "dana at harbour", "phone": "0161"},
        headers=headers,
    )
    assert refused.status_code == 422
    assert "contact e-mail &#39;dana at harbour&#39; is not a single e-mail address" in refused.text
    assert 'value="dana at harbour"' in refused.text
    with db.unit_of_work() as session:
        assert list_contacts(session, get_client(session, client_id)) == []
    # A technician reads the page but the forms to change the client are not theirs.
    headers = _as(client, signed, "technician")
    assert client.get(f"/clients/{client_id}").status_code == 200
    denied = client.post(f"/clients/{client_id}/contacts", data={"name": "X"}, headers=headers)
    assert denied.status_code == 403
    typed = client.post(
        f"/clients/{client_id}/facts",
        data={"key": "vpn", "value": "FortiClient"},
        headers=headers,
        follow_redirects=False,
    )
    assert typed.status_code == 303
    assert "FortiClient" in client.get(f"/clients/{client_id}").text


def test_the_new_ticket_form_lists_only_live_clients_and_the_chosen_clients_contacts(
    db: Database, web: tuple[TestClient, dict[str, str]]
) -> None:
    client, signed = web
    with db.unit_of_work() as session:
        live = add_client(session, name="Live Co")
        add_contact(session, live, ContactFields(name="Lena Live"))
        archive_client(session, add_client(session, name="Gone Co"))
        live_id = live.id
    _as(client, signed, "technician")
    form = client.get("/tickets/new").text
    assert "Live Co" in form and "Gone Co" not in form
    picker = client.get(f"/tickets/new/requesters?client={live_id}").text
    assert "Lena Live" in picker
    hint = client.get("/tickets/new/suggest?title=VPN+will+not+connect").text
    assert "VPN won" in hint
