"""The Settings page (owner/admin): organisation settings, client e-mail, owner notifications
and API tokens.

Secrets are write-only here: the SMTP password, the notification URLs and token values are
never put into a page, only whether they are set (a new token's value is shown once, in the
answer to the request that created it).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.service import (
    create_token,
    get_staff,
    list_staff,
    list_tokens,
    revoke_token,
)
from franchise.api.after_commit import AfterCommit
from franchise.api.deps import DbSession, get_db
from franchise.errors import FranchiseError, InvalidInput
from franchise.notify.addresses import is_private
from franchise.orgsettings.secrets import (
    TLS_MODES,
    clear_delivery_setting,
    delivery_overview,
    parse_delivery_value,
    set_delivery_setting,
)
from franchise.orgsettings.service import get_config, set_setting
from franchise.orgsettings.sources import setting_sources
from franchise.orgsettings.values import OrgConfig, parse_value, stored_form
from franchise.psa.connectors.service import check_connection, sync_status
from franchise.settings import Settings
from franchise.web.auth import ManagerUser, check_csrf
from franchise.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])
MAIL_FIELDS = ("smtp_host", "smtp_port", "smtp_user", "smtp_tls", "smtp_from")
SAVED = {
    "organisation": "Organisation settings saved.",
    "mail": "Client e-mail settings saved.",
    "notifications": "Owner notification settings saved.",
    "token-revoked": "Token revoked: requests using it are refused from now on.",
}
# Pages that show a new token (or take secrets) must not be kept by the browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}


def _settings(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


def _org_form(config: OrgConfig) -> dict[str, str]:
    """What the organisation form shows for the settings in force."""
    return {
        "org_name": config.org_name,
        "timezone": config.timezone,
        "business_hours": config.business_hours.describe(),
        "kpi_target_max": str(config.kpi_target_max),
        "drill_days": str(config.drill_days),
        "drill_cadence_days": str(config.drill_cadence_days),
        "currency": config.currency,
        "auto_send_resolved_message": "on" if config.auto_send_resolved_message else "off",
    }


def _stored_config(session: Session) -> tuple[OrgConfig | None, str]:
    try:
        return get_config(session), ""
    except InvalidInput as exc:
        return None, exc.message


def _tokens(session: Session) -> list[dict[str, Any]]:
    """Tokens with their staff member: never the value (only its hash is stored anyway)."""
    # Active tokens first, newest first within each group.
    rows = sorted(
        ((t, s.name, s.email) for t, s in list_tokens(session)),
        key=lambda row: (row[0].revoked_at is not None, -row[0].id),
    )
    return [
        {
            "id": t.id,
            "name": t.name,
            "staff": name,
            "email": email,
            "prefix": t.prefix,
            "created_at": t.created_at,
            "last_used_at": t.last_used_at,
            "revoked_at": t.revoked_at,
        }
        for t, name, email in rows
    ]


def internal_host_note(host: str) -> str:
    """Say so when the SMTP server is on this machine or a private network: expected for a
    local relay, but then mail (and the password) go to whatever answers there."""
    literal = host.strip("[]")
    if host and (host.lower() == "localhost" or is_private(literal)):
        return (
            f"The server {host} is a loopback or private address: mail and the SMTP password "
            "go to whatever listens there. Expected for a relay on this network."
        )
    return ""


def _page(
    request: Request,
    session: Session,
    *,
    org_form: dict[str, str] | None = None,
    org_errors: dict[str, str] | None = None,
    mail_form: dict[str, str] | None = None,
    mail_errors: dict[str, str] | None = None,
    notify_error: str = "",
    token_error: str = "",
    new_token: dict[str, Any] | None = None,
    psa_test: dict[str, Any] | None = None,
    saved: str = "",
    status: int = 200,
) -> Response:
    config, config_error = _stored_config(session)
    delivery = delivery_overview(session, _settings(request))
    stored_mail = {k: "" if v is None else str(v) for k, v in delivery["stored"].items()}
    context = {
        "org": org_form or _org_form(config or OrgConfig()),
        "org_errors": org_errors or {},
        "config_error": config_error,
        "mail": mail_form or stored_mail,
        "mail_env": delivery["env"],
        "mail_errors": mail_errors or {},
        "secrets": delivery["secrets"],
        "tls_modes": TLS_MODES,
        "notify_error": notify_error,
        "sources": setting_sources(session, _settings(request)),
        "tokens": _tokens(session),
        "staff": [s for s in list_staff(session) if s.active],
        "token_error": token_error,
        "new_token": new_token,
        "saved": SAVED.get(saved, ""),
        "psa": _psa_status(session, _settings(request)),
        "psa_test": psa_test,
        "smtp_host_note": internal_host_note(
            str(delivery["stored"].get("smtp_host") or delivery["env"]["smtp_host"])
        ),
    }
    response = render(request, "settings.html", context, status=status)
    response.headers.update(NO_STORE)
    return response


def _psa_status(session: Session, settings: Settings) -> dict[str, Any]:
    try:
        return sync_status(session, settings)
    except FranchiseError as exc:  # the credentials cannot be opened: say so, keep the page
        return {"connected": True, "vendor": "PSA", "url": "", "last_error": exc.message}


@router.post("/settings/psa/test")
def check_psa(request: Request, _user: ManagerUser) -> Response:
    """Sign in to the PSA and read one thing; the answer says what was reached or what failed.

    The PSA is called once the request's transaction has committed (on SQLite it holds the
    write lock), so a slow PSA never holds up alert intake or anyone's save."""
    db = get_db(request)

    def build() -> Response:
        try:
            result = {"ok": True, "text": check_connection(db, _settings(request))}
        except FranchiseError as exc:
            result = {"ok": False, "text": exc.message}
        with db.unit_of_work() as session:
            return _page(request, session, psa_test=result, status=200 if result["ok"] else 422)

    return AfterCommit(build)


@router.get("/settings")
def settings_page(
    request: Request, session: DbSession, _user: ManagerUser, saved: str = ""
) -> Response:
    return _page(request, session, saved=saved)


@router.post("/settings/organisation")
def save_organisation(
    request: Request,
    session: DbSession,
    _user: ManagerUser,
    org_name: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "",
    business_hours: Annotated[str, Form()] = "",
    kpi_target_max: Annotated[str, Form()] = "",
    drill_days: Annotated[str, Form()] = "",
    drill_cadence_days: Annotated[str, Form()] = "",
    currency: Annotated[str, Form()] = "",
    # A checkbox: the browser sends nothing when it is unticked.
    auto_send_resolved_message: Annotated[str, Form()] = "off",
) -> Response:
    """Check every field first, and store only when all are valid (nothing half-saved)."""
    typed = {
        "org_name": org_name,
        "timezone": timezone,
        "business_hours": business_hours,
        "kpi_target_max": kpi_target_max,
        "drill_days": drill_days,
        "drill_cadence_days": drill_cadence_days,
        "currency": currency,
        "auto_send_resolved_message": auto_send_resolved_message,
    }
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for key, raw in typed.items():
        try:
            parsed[key] = parse_value(key, raw)
        except InvalidInput as exc:
            errors[key] = exc.message
    if errors:
        return _page(request, session, org_form=typed, org_errors=errors, status=422)
    current, _error = _stored_config(session)
    for key, value in parsed.items():
        if current is None or stored_form(getattr(current, key)) != stored_form(value):
            set_setting(session, key, stored_form(value))
    return RedirectResponse("/settings?saved=organisation#organisation", status_code=303)


@router.post("/settings/mail")
def save_mail(
    request: Request,
    session: DbSession,
    _user: ManagerUser,
    smtp_host: Annotated[str, Form()] = "",
    smtp_port: Annotated[str, Form()] = "",
    smtp_user: Annotated[str, Form()] = "",
    smtp_tls: Annotated[str, Form()] = "",
    smtp_from: Annotated[str, Form()] = "",
    smtp_password: Annotated[str, Form()] = "",
    clear_password: Annotated[str, Form()] = "",
) -> Response:
    """Blank plain fields fall back to the environment; a blank password keeps the stored one."""
    typed = {
        "smtp_host": smtp_host,
        "smtp_port": smtp_port,
        "smtp_user": smtp_user,
        "smtp_tls": smtp_tls,
        "smtp_from": smtp_from,
    }
    errors: dict[str, str] = {}
    for key, raw in typed.items():
        if raw.strip():
            try:
                parse_delivery_value(key, raw)
            except InvalidInput as exc:
                errors[key] = exc.message
    if smtp_password and not clear_password:
        try:
            parse_delivery_value("smtp_password", smtp_password)
        except InvalidInput as exc:
            errors["smtp_password"] = exc.message
    if errors:
        # The typed password is not sent back: it would put the secret into the page.
        return _page(request, session, mail_form=typed, mail_errors=errors, status=422)
    for key, raw in typed.items():
        set_delivery_setting(session, key, raw, _settings(request))
    if clear_password:
        clear_delivery_setting(session, "smtp_password")
    elif smtp_password:
        set_delivery_setting(session, "smtp_password", smtp_password, _settings(request))
    return RedirectResponse("/settings?saved=mail#mail", status_code=303)


@router.post("/settings/notifications")
def save_notifications(
    request: Request,
    session: DbSession,
    _user: ManagerUser,
    notify_urls: Annotated[str, Form()] = "",
    clear_urls: Annotated[str, Form()] = "",
) -> Response:
    try:
        if clear_urls:
            clear_delivery_setting(session, "notify_urls")
        elif notify_urls.strip():
            set_delivery_setting(session, "notify_urls", notify_urls, _settings(request))
        else:
            raise InvalidInput("paste the new notification URLs, or tick Clear")
    except FranchiseError as exc:
        return _page(request, session, notify_error=exc.message, status=exc.status)
    return RedirectResponse("/settings?saved=notifications#notifications", status_code=303)


@router.post("/settings/tokens")
def add_token(
    request: Request,
    session: DbSession,
    _user: ManagerUser,
    name: Annotated[str, Form()] = "",
    staff_id: Annotated[str, Form()] = "",
) -> Response:
    """The answer shows the token once; it is not stored, so it cannot be shown again."""
    try:
        label = name.strip()
        if not label or len(label) > 200:
            raise InvalidInput("name the token (what it is for, e.g. 'phone system'), 1-200 chars")
        if not staff_id.isdecimal():
            raise InvalidInput("choose the staff member the token acts as")
        staff = get_staff(session, int(staff_id))
        if not staff.active:
            raise InvalidInput(f"{staff.email} is not an active staff member")
        token, plain = create_token(session, staff=staff, name=label)
    except FranchiseError as exc:
        return _page(request, session, token_error=exc.message, status=exc.status)
    shown = {"id": token.id, "name": token.name, "staff": staff.email, "value": plain}
    return _page(request, session, new_token=shown, status=201)


@router.post("/settings/tokens/{token_id}/revoke")
def remove_token(
    request: Request, session: DbSession, _user: ManagerUser, token_id: int
) -> Response:
    revoke_token(session, token_id)
    return RedirectResponse("/settings?saved=token-revoked#tokens", status_code=303)
