"""The owner dashboard: the KPI, the audit, drills and their review, lessons and coverage.

Every number comes from the services behind `franchise kpi --json`, `franchise audit --json`,
`franchise drill status/review`, `franchise review week` and `franchise lesson list`, so the
page and the CLI never disagree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from franchise.accounts.service import get_staff
from franchise.accounts.sessions import SignedIn
from franchise.api.deps import DbSession
from franchise.ask.reply import answered_line, open_asks, reply_to_ask
from franchise.audit.score import build_audit
from franchise.audit.service import due_for_review, gather_facts
from franchise.contacts.service import kpi_report
from franchise.db import MAX_ID, utcnow
from franchise.drills.review import (
    dispose_item,
    drill_review,
    earlier_open_items,
    get_item,
    item_dicts,
    week_review,
)
from franchise.drills.service import MAX_DAYS, drill_status, end_drill, start_drill
from franchise.errors import FranchiseError, InvalidInput, NotFound, PermissionDenied
from franchise.escalation.service import current_map
from franchise.lessons.service import list_lessons
from franchise.orgsettings.service import get_config
from franchise.runbooks.service import list_runbooks
from franchise.web.auth import CurrentUser, check_csrf
from franchise.web.runbook_pages import may_edit_runbooks
from franchise.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)])
ROLES = ("owner", "admin", "service_manager")
WEEKS = 8
COVERAGE_ROWS = 10
BREAKDOWNS = (
    ("reason", "By reason"),
    ("channel", "By channel"),
    ("technician", "By technician"),
    ("client", "By client"),
    ("category", "By category"),
)


def require_dashboard(user: CurrentUser) -> SignedIn:
    if user.role not in ROLES:
        raise PermissionDenied("Only the owner, an admin or a service manager may open this page.")
    return user


DashboardUser = Annotated[SignedIn, Depends(require_dashboard)]


def _chart(kpi: dict[str, Any]) -> dict[str, Any]:
    """What dashboard.js draws: bars per week, the 0-target band, the 4-week average."""
    weeks = kpi["weeks"]
    return {
        "labels": [date.fromisoformat(w["week_start"]).strftime("%d %b") for w in weeks],
        "weeks": [w["week_start"] for w in weeks],
        "interruptions": [w["interruptions"] for w in weeks],
        "complete": [w["complete"] for w in weeks],
        "target": kpi["target_max"],
        "average": kpi["four_week_average"],
        "average_of": kpi["average_of"],
    }


def _coverage(facts: Any) -> list[dict[str, Any]]:
    """The busiest categories (56 days, as the audit counts them) and their runbooks."""
    return [
        {
            "category": category,
            "tickets": tickets,
            "runbook": facts.runbook_of.get(category),
            "validated": category in facts.validated_categories,
        }
        for category, tickets in facts.busiest[:COVERAGE_ROWS]
    ]


def _targets(session: Session) -> dict[str, list[str]]:
    """What a review item can be closed with: runbook keys and escalation-rule names."""
    keys = [r.key for r in list_runbooks(session, include_archived=False)]
    rules = [r.name for r in current_map(session).map.rules]
    return {"runbooks": keys, "rules": rules}


def _latest_drill_review(session: Session, now: datetime) -> dict[str, Any] | None:
    try:
        return drill_review(session, now=now)
    except NotFound:
        return None


def dashboard_context(
    session: Session,
    user: SignedIn,
    *,
    now: datetime | None = None,
    item_errors: dict[int, dict[str, str]] | None = None,
    drill_error: str = "",
    ask_error: dict[int, str] | None = None,
    ask_done: str = "",
) -> dict[str, Any]:
    now = now or utcnow()
    config = get_config(session)
    kpi = kpi_report(session, weeks=WEEKS, now=now)
    # audit.service.audit() is exactly build_audit(gather_facts()); the facts also give the
    # coverage table, so they are gathered once here.
    facts = gather_facts(session, now)
    report = build_audit(facts)
    this_week = kpi["weeks"][-1]
    lessons = list_lessons(session, pending_only=True, now=now)
    return {
        "now": now,
        "kpi": kpi,
        "this_week": this_week,
        "chart": _chart(kpi),
        "breakdowns": [(name, title, kpi[f"by_{name}"]) for name, title in BREAKDOWNS],
        "audit": report,
        "coverage": _coverage(facts),
        "drills": drill_status(session, now=now),
        "drill_review": _latest_drill_review(session, now),
        "week_review": week_review(session, now=now),
        "earlier_review": earlier_open_items(session, now=now),
        "lessons": lessons,
        # Asked for from the floor: tickets no runbook fits (listed beside "write next").
        "runbook_requests": [x for x in lessons if x["runbook"] is None],
        "may_write_runbooks": may_edit_runbooks(user),
        "review_due": due_for_review(session, now.date()),
        "open_asks": open_asks(session),
        "can_reply": user.level == "owner" or user.is_manager,
        "ask_error": ask_error or {},
        "ask_done": ask_done,
        "targets": _targets(session),
        "can_dispose": user.is_manager,
        "item_errors": item_errors or {},
        "drill_error": drill_error,
        "drill_days": config.drill_days,
        "max_drill_days": MAX_DAYS,
        "at": _iso_when(config.tz),
    }


def _iso_when(tz: Any) -> Any:
    def at(value: str | None) -> str:
        if not value:
            return ""
        return datetime.fromisoformat(value).astimezone(tz).strftime("%d %b %Y, %H:%M")

    return at


@router.get("/dashboard")
def dashboard_page(
    request: Request, session: DbSession, user: DashboardUser, answered: str = ""
) -> Response:
    """`answered`: the ask the owner just answered (our own redirect), to say where it went."""
    return render(
        request,
        "dashboard.html",
        dashboard_context(session, user, ask_done=_answered(session, answered)),
    )


def _answered(session: Session, raw: str) -> str:
    if not raw.isdecimal() or len(raw) > 10 or int(raw) > MAX_ID:
        return ""
    return answered_line(session, int(raw)) or ""


def _split_target(target: str) -> tuple[str | None, str | None]:
    kind, _, name = target.partition(":")
    if not name.strip() or kind not in ("runbook", "rule"):
        raise InvalidInput("choose the runbook you improved or the escalation rule you tightened")
    return (name, None) if kind == "runbook" else (None, name)


@router.post("/dashboard/review/{item_id}")
def dispose(
    request: Request,
    session: DbSession,
    user: DashboardUser,
    item_id: int,
    target: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Close a review item; htmx swaps the answer (the closed item, or the refusal) in place."""
    in_place = bool(request.headers.get("hx-request"))
    try:
        runbook, rule = _split_target(target)
        item = dispose_item(
            session,
            item_id,
            improve_runbook=runbook,
            tighten_rule=rule,
            note=note,
            by=get_staff(session, user.staff_id),
        )
    except FranchiseError as exc:
        error = {"message": exc.message, "target": target, "note": note}
        if not in_place:
            context = dashboard_context(session, user, item_errors={item_id: error})
            return render(request, "dashboard.html", context, status=exc.status)
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        # htmx leaves 4xx answers unswapped by default, so the refusal comes back as a 200
        # fragment: the item, its form as typed, and the service's reason.
        row = item_dicts(session, [get_item(session, item_id)])[0]
        return _item_fragment(request, session, user, row, error)
    if not in_place:
        return RedirectResponse(f"/dashboard#review-item-{item.id}", status_code=303)
    row = item_dicts(session, [item])[0]
    return _item_fragment(request, session, user, row, None, counts=_counts(session, row))


def _counts(session: Session, closed: dict[str, Any]) -> dict[str, Any]:
    """The review lists' closed counts after `closed` closed in place (the earlier weeks'
    count only where that list is on the page)."""
    now = utcnow()
    drill = _latest_drill_review(session, now)
    week = week_review(session, now=now)
    total = len(week["items"])
    earlier = len(earlier_open_items(session, now=now))
    was_earlier = (
        closed.get("drill_id") is None and (closed.get("week_start") or "") < week["week_start"]
    )
    return {
        "drill": (drill["drill"]["review"]["disposed"], drill["drill"]["review"]["items"])
        if drill
        else None,
        "week": (total - week["open"], total),
        "earlier": earlier if earlier or was_earlier else None,
    }


def _item_fragment(
    request: Request,
    session: Session,
    user: SignedIn,
    item: dict[str, Any],
    error: dict[str, str] | None,
    *,
    counts: dict[str, Any] | None = None,
) -> Response:
    context = {
        **({"counts": counts} if counts is not None else {}),
        "item": item,
        "targets": _targets(session),
        "can_dispose": user.is_manager,
        "error": error,
        "at": _iso_when(get_config(session).tz),
    }
    return render(request, "partials/dashboard_review_item.html", context)


@router.post("/dashboard/asks/{ask_id}/reply")
def ask_reply(
    request: Request,
    session: DbSession,
    user: DashboardUser,
    ask_id: int,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The owner answers an ask from the dashboard; the asker sees it on the ticket."""
    try:
        with session.begin_nested():
            reply_to_ask(session, ask_id, by=get_staff(session, user.staff_id), text=text)
    except FranchiseError as exc:
        # Shown beside the ask, or at the head of the list when it is no longer open (it was
        # answered from another tab or by someone else meanwhile).
        context = dashboard_context(session, user, ask_error={ask_id: exc.message})
        return render(request, "dashboard.html", context, status=exc.status)
    return RedirectResponse(f"/dashboard?answered={ask_id}#asks", status_code=303)


@router.post("/dashboard/drill/start")
def drill_start(
    request: Request,
    session: DbSession,
    user: DashboardUser,
    days: Annotated[str, Form(max_length=20)] = "",
    starts: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Start a drill now, or schedule one: `starts` is a local date and time (the
    organisation's time zone), as a datetime-local field sends it."""
    try:
        try:
            length = int(days) if days.strip() else None
        except ValueError:
            raise InvalidInput(
                f"Days: a drill lasts a whole number of days, not '{days.strip()[:20]}'"
            ) from None
        at = _local_time(starts, get_config(session).tz) if starts.strip() else None
        start_drill(session, by=get_staff(session, user.staff_id), days=length, at=at)
    except FranchiseError as exc:
        context = dashboard_context(session, user, drill_error=exc.message)
        return render(request, "dashboard.html", context, status=exc.status)
    return RedirectResponse("/dashboard#drill", status_code=303)


def _local_time(text: str, tz: ZoneInfo) -> datetime:
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"Starts: give a date and time such as 2026-12-07 08:00, not '{text.strip()[:40]}'"
        ) from None
    if local.tzinfo is not None:
        return local
    return local.replace(tzinfo=tz)


@router.post("/dashboard/drill/end")
def drill_end(request: Request, session: DbSession, user: DashboardUser) -> Response:
    try:
        end_drill(session, by=get_staff(session, user.staff_id))
    except FranchiseError as exc:
        context = dashboard_context(session, user, drill_error=exc.message)
        return render(request, "dashboard.html", context, status=exc.status)
    return RedirectResponse("/dashboard#drill", status_code=303)
