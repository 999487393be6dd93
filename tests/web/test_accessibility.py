"""Every signed-in page passes axe-core's WCAG 2.0/2.1 A and AA rules with zero violations,
for the owner and for a technician, at laptop width.

axe-core is vendored under tests/web/vendor/axe-core (MPL-2.0) and injected by this test
only; the app never serves it. To cover a new page, add its path to OWNER_PAGES or
TECH_PAGES (use "{ticket}" for the ticket with a runbook run under way, "{client}" for its client,
"{staff}" for a staff member's page).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page

from franchise.accounts.service import get_staff
from franchise.db import Database
from franchise.flows.runs import begin_run
from franchise.runbooks.service import get_runbook
from franchise.tickets.models import Ticket
from tests.web.conftest import LiveServer, Member
from tests.web.test_vpn_scenario import make_vpn_ticket, starter  # noqa: F401 - fixtures

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDE = {"width": 1400, "height": 900}

# The policy editors (escalation, boundaries, templates) and the runbook editor share their
# form; one of each is checked.
OWNER_PAGES = [
    "/dashboard",
    "/queue",
    "/tickets/{ticket}",
    "/runbooks",
    "/runbooks/vpn-auth-failure",
    "/runbooks/vpn-auth-failure/edit",
    "/escalation",
    "/escalation/edit",
    "/boundaries",
    "/templates",
    "/approvals",
    "/settings",
    "/settings/duty",
    "/clients",
    "/clients/{client}",
    "/tickets/new",
    "/staff",
    "/staff/{staff}",
    "/account",
    "/me",
]
# What a technician sees differently (nav, runner buttons, no manager links).
TECH_PAGES = ["/queue", "/tickets/{ticket}", "/me"]


def _violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        TAGS,
    )
    found = []
    for v in result["violations"]:
        targets = [", ".join(n["target"]) for n in v["nodes"][:5]]
        summary = v["nodes"][0].get("failureSummary", "").replace("\n", " ")
        found.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}; {summary}")
    return found


def _check(page: Page, paths: list[str], values: dict[str, int]) -> dict[str, list[str]]:
    failures: dict[str, list[str]] = {}
    for path in paths:
        url = path.format(**values)
        response = page.goto(url)
        assert response is not None and response.status == 200, f"{url}: {response}"
        if found := _violations(page):
            failures[url] = found
    return failures


def test_every_page_passes_axe_for_owner_and_technician(
    browser: Browser,
    live: LiveServer,
    db: Database,
    make_staff: Callable[..., Member],
    make_vpn_ticket: Callable[..., int],  # noqa: F811
    sign_in_as: Callable[[Page, Member], None],
) -> None:
    # The pages' CSP rightly refuses injected scripts; this context alone lets axe in.
    context = browser.new_context(base_url=live.url, viewport=WIDE, bypass_csp=True)
    page = context.new_page()
    owner = make_staff("Olivia Owner", role="owner", level="owner")
    tess = make_staff("Tess Tech")
    ticket_id = make_vpn_ticket()
    with db.unit_of_work() as session:
        ticket = session.get(Ticket, ticket_id)
        begin_run(
            session,
            get_runbook(session, "vpn-auth-failure"),
            ticket=ticket,
            actor=get_staff(session, tess.id),
            inputs={"affected_user": "dana.lee@acme-dental.example", "device": "ACME-LT-014"},
        )
        client_id = ticket.client_id
    values = {"ticket": ticket_id, "client": client_id, "staff": tess.id}

    page.goto("/login")
    failures = {"/login": found} if (found := _violations(page)) else {}
    sign_in_as(page, owner)
    failures |= _check(page, OWNER_PAGES, values)
    page.context.clear_cookies()
    sign_in_as(page, tess)
    failures |= {f"{k} (technician)": v for k, v in _check(page, TECH_PAGES, values).items()}
    context.close()
    assert failures == {}, "axe found violations:\n" + json.dumps(failures, indent=1)
