"""Health check: the only route besides signed webhooks that needs no auth."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from franchise import __version__
from franchise.api.deps import DbSession

router = APIRouter(tags=["health"])


@router.get("/health")
def health(session: DbSession) -> dict[str, Any]:
    session.execute(text("SELECT 1"))
    return {"ok": True, "version": __version__, "database": session.get_bind().dialect.name}
