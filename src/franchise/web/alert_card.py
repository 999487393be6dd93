"""The Alerts card of an alert ticket, kept current while its alerts fire.

The ticket page shows the card (web/ticket_view.py); while any alert fires, the card asks
here every few seconds whether anything changed, sending the version it shows. A host that
recovers, or another host joining an outage, then shows without a reload.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from franchise.alerts.ticket_alerts import ticket_alerts
from franchise.api.deps import DbSession
from franchise.tickets.service import get_ticket
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])


@router.get("/tickets/{ticket_id}/alerts")
def alerts_card(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    ticket_id: int,
    seen: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The card as it is now; nothing (204: htmx swaps nothing and polls on) while it is
    still the version the page shows, or when no alert leads to the ticket."""
    ticket = get_ticket(session, ticket_id)
    alerts = ticket_alerts(session, ticket.id)
    if alerts is None or alerts.version == seen:
        return Response(status_code=204)
    return render(request, "partials/ticket_alerts.html", {"alerts": alerts, "ticket": ticket})
