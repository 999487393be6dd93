"""franchise drill start|status|end|review|dispose, franchise review week|dispose."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, err_console, get_context, print_json

drill_app = typer.Typer(no_args_is_help=True)
review_app = typer.Typer(no_args_is_help=True)

ImproveRunbook = Annotated[
    str | None, typer.Option(help="The runbook revised because of it (key or category).")
]
TightenRule = Annotated[
    str | None, typer.Option(help="The escalation-map rule changed because of it.")
]
Note = Annotated[str, typer.Option(help="What changed and why.")]
By = Annotated[str | None, typer.Option(help="Who (staff e-mail or name; owner or admin).")]


def register(app: typer.Typer) -> None:
    app.add_typer(
        drill_app,
        name="drill",
        help="Owner-offline drills: start, status, end, review and dispose review items.",
    )
    app.add_typer(
        review_app, name="review", help="Weekly review of owner interruptions outside drills."
    )


@drill_app.command()
def start(
    ctx: typer.Context,
    days: Annotated[
        int | None, typer.Option(min=1, max=30, help="Length (default: the drill_days setting).")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(help="Start (ISO 8601; without an offset it is local time); default now."),
    ] = None,
    by: By = None,
    json_out: Json = False,
) -> None:
    """Start (or schedule) an owner-offline drill; refused while another overlaps it."""
    from franchise.accounts.service import get_staff
    from franchise.db import utcnow
    from franchise.drills.service import drill_dict, start_drill

    with get_context(ctx).database().unit_of_work() as session:
        drill = start_drill(
            session,
            by=get_staff(session, by) if by else None,
            days=days,
            at=_parse_time(session, at, "--at") if at else None,
        )
        data = drill_dict(session, drill, utcnow())
    if json_out:
        print_json(data)
        return
    console.print(
        f"Drill #{data['id']} ({data['state']}): the owner is offline from {data['starts_at']} "
        f"to {data['until']}. Emergencies: {escape(str(data['emergency_criteria']))}.",
        highlight=False,
        soft_wrap=True,
    )


@drill_app.command()
def status(ctx: typer.Context, json_out: Json = False) -> None:
    """The running drill, the next and the last one, and a warning when drills lapse."""
    from franchise.drills.service import drill_status

    with get_context(ctx).database().unit_of_work() as session:
        data = drill_status(session)
    if json_out:
        print_json(data)
        return
    for label in ("active", "next", "last"):
        drill = data[label]
        if drill is None:
            console.print(f"{label}: none", highlight=False)
            continue
        counts, review = drill["counts"], drill["review"]
        console.print(
            f"{label}: drill #{drill['id']} {drill['starts_at']} → {drill['until']} "
            f"({drill['state']}); refused {counts['refused']}, emergencies passed "
            f"{counts['emergencies']}, other interruptions {counts['interruptions']}, "
            f"deflected {counts['deflections']}; review {review['disposed']}/{review['items']}"
            + (" complete" if review["review_complete"] else ""),
            highlight=False,
            soft_wrap=True,
        )
    if data["warning"]:
        err_console.print(f"[yellow]warning:[/] {escape(str(data['warning']))}", highlight=False)


@drill_app.command()
def end(
    ctx: typer.Context,
    drill_id: Annotated[
        int | None, typer.Argument(help="Drill (default: the running one).")
    ] = None,
    by: By = None,
    json_out: Json = False,
) -> None:
    """End the running drill now (or cancel a scheduled one)."""
    from franchise.accounts.service import get_staff
    from franchise.db import utcnow
    from franchise.drills.service import drill_dict, end_drill

    with get_context(ctx).database().unit_of_work() as session:
        drill = end_drill(session, drill_id=drill_id, by=get_staff(session, by) if by else None)
        data = drill_dict(session, drill, utcnow())
    if json_out:
        print_json(data)
        return
    console.print(f"Drill #{data['id']} ended at {data['ended_at']}.", highlight=False)


@drill_app.command()
def review(
    ctx: typer.Context,
    drill_id: Annotated[
        int | None, typer.Argument(help="Drill (default: the latest that began).")
    ] = None,
    json_out: Json = False,
) -> None:
    """Every ticket that contacted or tried to contact the owner during the drill."""
    from franchise.drills.review import drill_review

    with get_context(ctx).database().unit_of_work() as session:
        data = drill_review(session, drill_id)
    if json_out:
        print_json(data)
        return
    drill = data["drill"]
    _print_items(f"Drill #{drill['id']} review ({drill['state']})", data["items"])
    _print_completeness(data)


@drill_app.command("dispose")
def drill_dispose(
    ctx: typer.Context,
    item: Annotated[int, typer.Argument(help="Review item number.")],
    note: Note,
    improve_runbook: ImproveRunbook = None,
    tighten_rule: TightenRule = None,
    by: By = None,
    json_out: Json = False,
) -> None:
    """Close a drill review item: --improve-runbook KEY or --tighten-rule NAME."""
    _dispose(ctx, item, note, improve_runbook, tighten_rule, by, json_out)


@review_app.command()
def week(
    ctx: typer.Context,
    week_of: Annotated[
        str | None,
        typer.Option("--week", help="Any date in the week (YYYY-MM-DD); default this week."),
    ] = None,
    json_out: Json = False,
) -> None:
    """Owner interruptions outside drills in one week, each to be disposed."""
    from franchise.drills.review import week_review
    from franchise.errors import InvalidInput

    day = None
    if week_of is not None:
        try:
            day = date.fromisoformat(week_of)
        except ValueError:
            raise InvalidInput(f"--week '{week_of}' is not a date (YYYY-MM-DD)") from None
    with get_context(ctx).database().unit_of_work() as session:
        data = week_review(session, week=day)
    if json_out:
        print_json(data)
        return
    _print_items(f"Week of {data['week_start']} ({data['timezone']})", data["items"])
    _print_completeness(data)


@review_app.command("dispose")
def review_dispose(
    ctx: typer.Context,
    item: Annotated[int, typer.Argument(help="Review item number.")],
    note: Note,
    improve_runbook: ImproveRunbook = None,
    tighten_rule: TightenRule = None,
    by: By = None,
    json_out: Json = False,
) -> None:
    """Close a weekly review item: --improve-runbook KEY or --tighten-rule NAME."""
    _dispose(ctx, item, note, improve_runbook, tighten_rule, by, json_out)


def _dispose(
    ctx: typer.Context,
    item_id: int,
    note: str,
    improve_runbook: str | None,
    tighten_rule: str | None,
    by: str | None,
    json_out: bool,
) -> None:
    from franchise.accounts.service import get_staff
    from franchise.drills.review import dispose_item, item_dicts

    with get_context(ctx).database().unit_of_work() as session:
        item = dispose_item(
            session,
            item_id,
            improve_runbook=improve_runbook,
            tighten_rule=tighten_rule,
            note=note,
            by=get_staff(session, by) if by else None,
        )
        data = item_dicts(session, [item])[0]
    if json_out:
        print_json(data)
        return
    if data["disposition"] == "improve_runbook":
        link = f"runbook {data['runbook']} revision {data['runbook_revision']}"
    else:
        link = f"rule {data['rule']} in escalation map revision {data['policy_revision']}"
    console.print(f"Review item #{data['id']} closed: {escape(link)}.", highlight=False)


def _print_items(title: str, items: list[dict[str, Any]]) -> None:
    table = Table(
        "#", "when", "ticket", "by", "reason", "outcome", "disposition", title=escape(title)
    )
    for i in items:
        if i["disposition"] == "improve_runbook":
            disposition = escape(f"runbook {i['runbook']} r{i['runbook_revision']}")
        elif i["disposition"] == "tighten_rule":
            disposition = escape(f"rule {i['rule']} (map r{i['policy_revision']})")
        else:
            disposition = "[red]open[/]"
        table.add_row(
            str(i["id"]),
            i["occurred_at"][:16],
            escape(f"#{i['ticket_id']} {i['ticket_title'] or ''}") if i["ticket_id"] else "",
            escape(i["by"] or ""),
            escape(i["reason"]),
            escape(i["outcome"] + (" (emergency)" if i["emergency"] else "")),
            disposition,
        )
    console.print(table)


def _print_completeness(data: dict[str, Any]) -> None:
    if data["review_complete"]:
        console.print("Review complete: every item is disposed.", highlight=False)
    elif data["open"]:
        console.print(f"Review not complete: {data['open']} item(s) open.", highlight=False)
    else:
        console.print("Review not complete: the drill is still running.", highlight=False)


def _parse_time(session: Any, text: str, option: str) -> datetime:
    from franchise.contacts.hours import as_aware
    from franchise.errors import InvalidInput
    from franchise.orgsettings.service import get_config

    try:
        return as_aware(datetime.fromisoformat(text), get_config(session).tz)
    except ValueError:
        raise InvalidInput(
            f"{option} '{text}' is not an ISO 8601 time (e.g. 2026-03-02T09:00)"
        ) from None
