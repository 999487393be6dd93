"""The PSA's inbound webhooks: checked against the connection's secret, then answered at once.

A webhook only says "something changed": it marks the sync as due, and the next tick of
the sync (franchise serve, franchise worker) pulls the changes through the same cursor as
ever, so a webhook lost or repeated changes nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from franchise.api.deps import DbSession
from franchise.errors import InvalidInput, NotAuthenticated
from franchise.psa.connectors.store import connector_for, load_connection, request_sync
from franchise.settings import Settings

router = APIRouter()
MAX_BODY = 1_000_000


@router.post("/psa/webhooks/{vendor}", status_code=202)
async def psa_webhook(vendor: str, request: Request, session: DbSession) -> JSONResponse:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InvalidInput("the webhook body is larger than 1 MB")
    config = load_connection(session, settings)
    if config is None or config.vendor != vendor:
        # Nothing to check it against: refused like a bad signature.
        raise NotAuthenticated(f"no {vendor} connection here to check the webhook against")
    if not connector_for(config).verify_webhook(body, dict(request.headers)):
        raise NotAuthenticated(f"{vendor} webhook refused: its authentication does not match")
    request_sync(session)
    return JSONResponse({"ok": True, "sync": "requested"}, status_code=202)
