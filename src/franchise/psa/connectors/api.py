"""The PSA's inbound webhooks: checked against the connection's secret, then answered at once.

A webhook only says "something changed": it marks the sync as due, and the next tick of
the sync (franchise serve, franchise worker) pulls the changes through the same cursor as
ever, so a webhook lost or repeated changes nothing. The check may call the PSA
(ConnectWise's signing key), so it runs with no transaction open.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from franchise.api.deps import get_db
from franchise.errors import InvalidInput, NotAuthenticated
from franchise.psa.connectors.store import connector_for, load_connection, request_sync
from franchise.settings import Settings

router = APIRouter()
MAX_BODY = 1_000_000


@router.post("/psa/webhooks/{vendor}", status_code=202)
async def psa_webhook(vendor: str, request: Request) -> JSONResponse:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InvalidInput("the webhook body is larger than 1 MB")
    db = get_db(request)
    with db.unit_of_work() as session:
        config = load_connection(session, settings)
    if config is None or config.vendor != vendor:
        # Nothing to check it against: refused like a bad signature.
        raise NotAuthenticated(f"no {vendor} connection here to check the webhook against")
    connector = connector_for(config)
    try:
        genuine = await run_in_threadpool(connector.verify_webhook, body, dict(request.headers))
    finally:
        connector.close()
    if not genuine:
        raise NotAuthenticated(f"{vendor} webhook refused: its signature does not match")
    with db.unit_of_work() as session:
        request_sync(session)
    return JSONResponse({"ok": True, "sync": "requested"}, status_code=202)
