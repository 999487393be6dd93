"""Jinja2 set-up and `render()`: every page gets the signed-in user, the nav and CSRF token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from franchise.accounts.sessions import SignedIn
from franchise.orgsettings.values import OrgConfig
from franchise.static_files import static_url
from franchise.wording import label, plural, possessive

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PACKAGE / "templates"

# Pages load only our own files: an injected <script> or inline handler would not run even if
# escaping were ever missed somewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

EVERYONE = ("technician", "service_manager", "owner", "admin")
MANAGERS = ("owner", "admin")


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    roles: tuple[str, ...]


# Pages that other parts of Franchise add; a link shows once `add_pages` has mounted its path.
NAV = (
    NavItem("Queue", "/queue", EVERYONE),
    NavItem("Clients", "/clients", EVERYONE),
    NavItem("Approvals", "/approvals", EVERYONE),
    NavItem("Dashboard", "/dashboard", ("owner", "admin", "service_manager")),
    NavItem("Runbooks", "/runbooks", EVERYONE),
    NavItem("Escalation map", "/escalation", EVERYONE),
    NavItem("Boundaries", "/boundaries", EVERYONE),
    NavItem("Templates", "/templates", EVERYONE),
    NavItem("Staff", "/staff", MANAGERS),
    NavItem("Integrations", "/integrations", MANAGERS),
    NavItem("Settings", "/settings", MANAGERS),
    NavItem("My notifications", "/me", EVERYONE),
)


def route_exists(request: Request, path: str) -> bool:
    """Whether a page router added through `add_pages` serves this path."""
    pages: set[str] = getattr(request.app.state, "web_pages", set())
    return path in pages


def nav_for(request: Request, role: str) -> list[dict[str, Any]]:
    here = request.url.path
    # How many approvals, asks and unread notifications wait for the signed-in person (set
    # with the sign-in; 0 when unknown).
    counts = {
        "/approvals": int(getattr(request.state, "approvals_waiting", 0) or 0),
        "/dashboard": int(getattr(request.state, "asks_waiting", 0) or 0),
        "/me": int(getattr(request.state, "notices_unread", 0) or 0),
    }
    return [
        {
            "label": item.label,
            "path": item.path,
            "active": here == item.path or here.startswith(item.path + "/"),
            "count": counts.get(item.path, 0),
            "count_word": "unread" if item.path == "/me" else "waiting",
        }
        for item in NAV
        if role in item.roles and route_exists(request, item.path)
    ]


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        # Every {{ }} is HTML-escaped; user text is never marked safe.
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = static_url
    env.filters["label"] = label
    env.filters["possessive"] = possessive
    env.filters["plural"] = lambda count, noun, many="": plural(int(count), noun, many)
    return env


def _when(config: OrgConfig) -> Any:
    def when(value: datetime | None) -> str:
        if value is None:
            return ""
        return value.astimezone(config.tz).strftime("%d %b %Y, %H:%M")

    return when


def _clock(config: OrgConfig) -> Any:
    def clock(value: datetime | str | None) -> str:
        """A time of day in the organisation's zone ('16:42'), with the date when it is not
        today there; JSON-shaped views carry times as ISO text."""
        if value is None or value == "":
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(config.tz)
        if local.date() == datetime.now(config.tz).date():
            return local.strftime("%H:%M")
        return local.strftime("%H:%M on %d %b")

    return clock


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    env: Environment = request.app.state.web_templates
    signed_in: SignedIn | None = getattr(request.state, "signed_in", None)
    config: OrgConfig = getattr(request.state, "org_config", None) or OrgConfig()
    base: dict[str, Any] = {
        "request": request,
        "user": signed_in,
        "csrf_token": signed_in.csrf_token if signed_in else "",
        "nav": nav_for(request, signed_in.role) if signed_in else [],
        "org_name": config.org_name,
        "timezone": config.timezone,
        "when": _when(config),
        "clock": _clock(config),
    }
    html = env.get_template(template).render({**base, **(context or {})})
    headers = dict(SECURITY_HEADERS)
    if signed_in is not None:
        # Pages behind sign-in show tickets, clients and contacts: no browser or proxy cache
        # may keep them for the next person at a shared machine.
        headers["Cache-Control"] = "no-store"
    return HTMLResponse(html, status_code=status, headers=headers)
