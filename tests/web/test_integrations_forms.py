"""The Integrations page's forms through the app: who may use them, the token shown once and
working on the real webhook route, revoking, mappings, and what the page never shows."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from franchise.accounts.service import add_staff
from franchise.accounts.sessions import start_session
from franchise.alerts.models import ClientMapping, InboxItem, Integration
from franchise.alerts.service import digest
from franchise.alerts.worker import process_pending
from franchise.app import create_app
from franchise.clients.service import add_client
from franchise.db import Database
from franchise.orgsettings.secrets import set_delivery_setting
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from franchise.web.auth import SESSION_COOKIE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
PUBLIC = "https://help.northwind.example"


@dataclass
class Signed:
    http: TestClient
    csrf: str

    def post(self, path: str, **data: str) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.csrf, **data}, follow_redirects=False)


@pytest.fixture
def app_client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path)
    with db.unit_of_work() as session:
        # Saved on the Settings page: the webhook addresses must start with it.
        set_delivery_setting(session, "public_url", PUBLIC, settings)
    with TestClient(create_app(settings, db=db)) as client:
        yield client


@pytest.fixture
def sign_in(db: Database, app_client: TestClient) -> Callable[[str], Signed]:
    def signed(role: str) -> Signed:
        level = "owner" if role == "owner" else "L1"
        with db.unit_of_work() as session:
            staff = add_staff(
                session, name=role.title(), email=f"{role}@example.com", role=role, level=level
            )
            web, cookie = start_session(session, staff)
        app_client.cookies.set(SESSION_COOKIE, cookie)
        return Signed(app_client, web.csrf_token)

    return signed


@pytest.fixture
def acme(db: Database) -> int:
    with db.unit_of_work() as session:
        return add_client(session, name="Acme Dental").id


def shown(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert found is not None, f"no #{element_id} on the page"
    return found.group(1)


def add(owner: Signed, acme: int, **fields: str) -> tuple[str, str]:
    """Add an Alertmanager integration for Acme; the URL and token the answer shows."""
    data = {"kind": "alertmanager", "name": "Acme Prometheus", "client": str(acme), **fields}
    answer = owner.post("/integrations", **data)
    assert answer.status_code == 201, answer.text
    return shown(answer.text, "created-url"), shown(answer.text, "created-token")


def hook(client: TestClient, url: str, body: bytes) -> httpx.Response:
    """Post to the shown address's path on this app (the host is the public one)."""
    return client.post(urlsplit(url).path, content=body)


def alertmanager_body() -> bytes:
    return (FIXTURES / "alertmanager" / "zulip_alert.json").read_bytes()


@pytest.mark.parametrize("role", ["technician", "service_manager"])
def test_only_the_owner_and_admins_may_use_integrations(
    db: Database, sign_in: Callable[[str], Signed], acme: int, role: str
) -> None:
    tech = sign_in(role)
    assert tech.http.get("/integrations").status_code == 403
    assert 'href="/integrations"' not in tech.http.get("/queue").text
    for path, data in (
        ("/integrations", {"kind": "generic", "name": "sneaky"}),
        ("/integrations/mappings", {"client": str(acme), "label": "site=HQ"}),
    ):
        assert tech.post(path, **data).status_code == 403, path
    with db.unit_of_work() as session:
        assert session.scalars(select(Integration)).all() == []
        assert session.scalars(select(ClientMapping)).all() == []


def test_the_owner_finds_integrations_in_the_navigation(
    sign_in: Callable[[str], Signed],
) -> None:
    owner = sign_in("owner")
    html = owner.http.get("/queue").text
    nav = html[html.index('aria-label="Main"') :]
    assert nav.index('href="/integrations"') < nav.index('href="/settings"')


def test_a_form_without_its_csrf_token_changes_nothing(
    db: Database, sign_in: Callable[[str], Signed]
) -> None:
    owner = sign_in("owner")
    answer = owner.http.post("/integrations", data={"kind": "generic"}, follow_redirects=False)
    assert answer.status_code == 403
    with db.unit_of_work() as session:
        assert session.scalars(select(Integration)).all() == []


def test_the_url_and_token_are_shown_once_and_the_token_opens_the_webhook(
    db: Database, sign_in: Callable[[str], Signed], acme: int
) -> None:
    owner = sign_in("owner")
    answer = owner.post(
        "/integrations",
        kind="alertmanager",
        name="Acme Prometheus",
        client=str(acme),
        group_by="group",
        auto_resolve="yes",
    )
    assert answer.status_code == 201
    assert answer.headers["cache-control"] == "no-store"
    assert "Shown once, copy it now." in answer.text
    url, token = shown(answer.text, "created-url"), shown(answer.text, "created-token")
    assert url == f"{PUBLIC}/api/v1/hooks/alertmanager/{token}"
    assert re.match(r"^frh_[A-Za-z0-9_-]{40,}$", token)
    assert f'<code class="int-wrap">{PUBLIC}/api/v1/hooks/alertmanager</code>' in answer.text
    assert "X-Franchise-Token: &lt;token&gt;" in answer.text
    with db.unit_of_work() as session:
        (integration,) = session.scalars(select(Integration)).all()
        assert integration.token_hash == digest(token)
        assert (integration.client_id, integration.auto_resolve) == (acme, True)
        assert integration.group_by == "group"

    listed = owner.http.get("/integrations").text
    assert token not in listed and token[:10] in listed  # the prefix only, from now on
    assert "Never" in listed

    accepted = hook(owner.http, url, alertmanager_body())
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["alerts"] == 2
    assert process_pending(db, worker="test").done == 1
    with db.unit_of_work() as session:
        (ticket,) = session.scalars(select(Ticket)).all()
        assert (ticket.title, ticket.client_id) == ("High CPU core temperature", acme)
    row = re.search(
        r'<tr id="integration-\d+">.*?</tr>', owner.http.get("/integrations").text, re.S
    )
    assert row is not None and "Never" not in row.group(0)


def test_the_header_alternative_takes_the_same_token(
    sign_in: Callable[[str], Signed], acme: int
) -> None:
    owner = sign_in("owner")
    _url, token = add(owner, acme)
    answer = owner.http.post(
        "/api/v1/hooks/alertmanager",
        content=alertmanager_body(),
        headers={"X-Franchise-Token": token},
    )
    assert answer.status_code == 202, answer.text


def test_revoking_asks_first_then_the_webhook_answers_401_at_once(
    db: Database, sign_in: Callable[[str], Signed], acme: int
) -> None:
    owner = sign_in("owner")
    url, _token = add(owner, acme)
    # Accepted once, so the webhook route holds the token in its cache.
    assert hook(owner.http, url, alertmanager_body()).status_code == 202
    with db.unit_of_work() as session:
        integration_id = session.scalars(select(Integration.id)).one()

    asked = owner.post(f"/integrations/{integration_id}/revoke")
    assert asked.status_code == 200
    assert "Revoke “Acme Prometheus”?" in asked.text
    assert "It last received a webhook on" in asked.text
    assert hook(owner.http, url, alertmanager_body()).status_code == 202  # not yet revoked

    done = owner.post(f"/integrations/{integration_id}/revoke", confirm="yes")
    assert done.status_code == 303
    assert done.headers["location"] == f"/integrations?revoked={integration_id}"
    refused = hook(owner.http, url, alertmanager_body())
    assert refused.status_code == 401
    assert refused.json()["code"] == "not_authenticated"
    page = owner.http.get(done.headers["location"]).text
    assert "Revoked “Acme Prometheus”: webhooks with its token now get 401." in page
    row = re.search(rf'<tr id="integration-{integration_id}".*?</tr>', page, re.S)
    assert row is not None and "Revoked" in row.group(0)
    assert f"/integrations/{integration_id}/revoke" not in page  # no second revoke button
    for made_up in ("424242", "9" * 5000, "x"):
        answer = owner.http.get(f"/integrations?revoked={made_up}")
        assert answer.status_code == 200 and "Revoked “" not in answer.text


def test_the_same_add_form_sent_again_adds_nothing_more(
    db: Database, sign_in: Callable[[str], Signed], acme: int
) -> None:
    owner = sign_in("owner")
    page = owner.http.get("/integrations").text
    found = re.search(r'name="form_key" value="([^"]+)"', page)
    assert found is not None
    data = {"kind": "alertmanager", "name": "Acme Prometheus", "client": str(acme)}
    first = owner.post("/integrations", form_key=found.group(1), **data)
    assert first.status_code == 201
    # The browser's reload of the answer (the only page with the token) sends it again.
    again = owner.post("/integrations", form_key=found.group(1), **data)
    assert again.status_code == 200
    assert "“Acme Prometheus” was added already" in again.text
    assert 'id="created-token"' not in again.text
    # A new form (the page loaded afresh) adds another, as asked.
    fresh = re.search(r'name="form_key" value="([^"]+)"', again.text)
    assert fresh is not None and fresh.group(1) != found.group(1)
    assert owner.post("/integrations", form_key=fresh.group(1), **data).status_code == 201
    with db.unit_of_work() as session:
        assert len(session.scalars(select(Integration)).all()) == 2


def test_a_bad_integration_keeps_what_was_typed_and_stores_nothing(
    db: Database, sign_in: Callable[[str], Signed], acme: int
) -> None:
    owner = sign_in("owner")
    answer = owner.post(
        "/integrations", kind="alertmanager", name="Acme <Prom>", client="999999", group_by="alert"
    )
    assert answer.status_code == 404
    assert shown(answer.text, "add-error") == "no client &#39;999999&#39;"
    assert 'value="Acme &lt;Prom&gt;"' in answer.text
    assert '<option value="alert" selected>' in answer.text
    answer = owner.post("/integrations", kind="nagios", name="x")
    assert answer.status_code == 422
    assert "unknown integration kind &#39;nagios&#39;" in answer.text
    with db.unit_of_work() as session:
        assert session.scalars(select(Integration)).all() == []


def test_names_are_escaped(sign_in: Callable[[str], Signed], acme: int) -> None:
    owner = sign_in("owner")
    answer = owner.post("/integrations", kind="generic", name="<script>alert(1)</script>")
    assert answer.status_code == 201
    assert "<script>alert(1)</script>" not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text


def test_the_owner_adds_and_deletes_a_mapping(
    db: Database, sign_in: Callable[[str], Signed], acme: int
) -> None:
    owner = sign_in("owner")
    add(owner, acme)
    with db.unit_of_work() as session:
        integration_id = session.scalars(select(Integration.id)).one()
    added = owner.post(
        "/integrations/mappings",
        client=str(acme),
        label=" site = HQ ",
        host_pattern="",
        integration=str(integration_id),
    )
    assert added.status_code == 303
    page = owner.http.get(added.headers["location"]).text
    assert "Mapping added" in page
    with db.unit_of_work() as session:
        (mapping,) = session.scalars(select(ClientMapping)).all()
        assert (mapping.label_key, mapping.label_value, mapping.host_pattern) == (
            "site",
            "HQ",
            None,
        )
        assert (mapping.client_id, mapping.integration_id) == (acme, integration_id)
        mapping_id = mapping.id
    row = re.search(rf'<tr id="mapping-{mapping_id}">.*?</tr>', page, re.S)
    assert row is not None
    assert "site=HQ" in row.group(0) and "Acme Dental" in row.group(0)
    assert "Acme Prometheus" in row.group(0)

    second = owner.post("/integrations/mappings", client=str(acme), host_pattern="*.ACME.local")
    assert second.status_code == 303
    with db.unit_of_work() as session:
        patterns = session.scalars(select(ClientMapping.host_pattern)).all()
    assert sorted(p or "" for p in patterns) == ["", "*.acme.local"]

    deleted = owner.post(f"/integrations/mappings/{mapping_id}/delete")
    assert deleted.status_code == 303
    assert "Mapping deleted." in owner.http.get(deleted.headers["location"]).text
    with db.unit_of_work() as session:
        assert session.scalars(select(ClientMapping.host_pattern)).all() == ["*.acme.local"]
    assert owner.post(f"/integrations/mappings/{mapping_id}/delete").status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"label": "site"}, "a label must look like KEY=VALUE (site=HQ), got &#39;site&#39;"),
        ({"label": "=HQ"}, "a label must look like KEY=VALUE (site=HQ), got &#39;=HQ&#39;"),
        ({}, "give exactly one: a label KEY=VALUE or a host-name pattern"),
        ({"label": "site=HQ", "host_pattern": "*.acme"}, "give exactly one: a label"),
        ({"label": "site=HQ", "client": ""}, "Client: choose the client these alerts belong to"),
        ({"label": "site=HQ", "integration": "abc"}, "Integration: choose one from the list"),
        ({"label": "site=HQ", "integration": "424242"}, "no integration 424242"),
    ],
)
def test_a_bad_mapping_says_what_is_wrong_and_stores_nothing(
    db: Database,
    sign_in: Callable[[str], Signed],
    acme: int,
    fields: dict[str, str],
    message: str,
) -> None:
    owner = sign_in("owner")
    data = {"client": str(acme), **fields}
    answer = owner.post("/integrations/mappings", **data)
    assert answer.status_code in (404, 422)
    error = shown(answer.text, "mapping-error")
    assert message in error
    for name in ("label", "host_pattern"):
        if fields.get(name):
            assert f'name="{name}" value="{fields[name]}"' in answer.text  # kept as typed
    with db.unit_of_work() as session:
        assert session.scalars(select(ClientMapping)).all() == []


def test_rejected_webhooks_are_listed_without_their_bodies(
    db: Database, sign_in: Callable[[str], Signed], acme: int
) -> None:
    owner = sign_in("owner")
    url, token = add(owner, acme)
    body = json.dumps({"version": "4", "alerts": "private-marker-not-a-list"}).encode()
    assert hook(owner.http, url, body).status_code == 400
    page = owner.http.get("/integrations").text
    with db.unit_of_work() as session:
        item = session.scalars(select(InboxItem)).one()
    assert item.state == "rejected" and item.error
    problem = re.search(rf'<tr id="inbox-{item.id}">.*?</tr>', page, re.S)
    assert problem is not None
    assert "Rejected" in problem.group(0) and "Acme Prometheus" in problem.group(0)
    assert item.error.split(":")[0] in problem.group(0)
    assert "private-marker-not-a-list" not in page
    assert token not in page
    row = re.search(r'<tr id="integration-\d+">.*?</tr>', page, re.S)
    assert row is not None and 'class="badge int-problems"' in row.group(0)
