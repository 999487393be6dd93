"""/docs: the interactive API reference, from vendored Swagger UI files (no CDN).

FastAPI's own /docs loads Swagger UI from a CDN with an inline script, so a compromised
CDN would run code on a page of this origin. Here every file comes from /static, and the
Content-Security-Policy allows scripts from this origin only. Swagger UI sets inline
styles, so styles (and only styles) may be inline on this page.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from franchise.static_files import static_url

router = APIRouter()

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Franchise API</title>
<link rel="stylesheet" href="{static_url("vendor/swagger-ui/swagger-ui.css")}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{static_url("vendor/swagger-ui/swagger-ui-bundle.js")}"></script>
<script src="{static_url("js/docs.js")}"></script>
</body>
</html>
"""
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    return HTMLResponse(html, headers=headers)
