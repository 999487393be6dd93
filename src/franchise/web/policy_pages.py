"""Pages (being built)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from franchise.web.auth import check_csrf

router = APIRouter(dependencies=[Depends(check_csrf)])
