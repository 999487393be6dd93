"""franchise lesson add|list|reject, and franchise runbook stale."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json

app = typer.Typer(no_args_is_help=True)


def register(runbook_app: typer.Typer) -> None:
    """Adds `franchise runbook stale` (the lesson group is added with add_typer)."""
    runbook_app.command("stale")(stale)


@app.command()
def add(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What we learned, in a sentence or two.")],
    ticket: Annotated[int, typer.Option(help="Ticket number it was learned on.")],
    runbook: Annotated[
        str | None, typer.Option(help="Runbook key (or its category).", show_default=False)
    ] = None,
    new_runbook: Annotated[
        bool,
        typer.Option("--new-runbook", help="No runbook fits the ticket: a new runbook is needed."),
    ] = False,
    by: Annotated[str | None, typer.Option(help="Author (staff e-mail or name).")] = None,
    json_out: Json = False,
) -> None:
    """Capture a lesson on a ticket for its runbook (--runbook), or say a new runbook is
    needed (--new-runbook); fold it in before the week ends."""
    from franchise.accounts.service import get_staff
    from franchise.errors import InvalidInput
    from franchise.lessons import service

    if new_runbook == (runbook is not None):
        raise InvalidInput(
            "give --runbook KEY for the runbook the lesson is for, or --new-runbook when no "
            "runbook fits the ticket (not both)"
        )
    with get_context(ctx).database().unit_of_work() as session:
        author = get_staff(session, by) if by else None
        lesson = service.add_lesson(
            session, ticket=ticket, runbook=runbook, text=text, author=author
        )
        data = service.lesson_dicts(session, [lesson])[0]
    if json_out:
        print_json(data)
        return
    if data["runbook"] is None:
        said = (
            f"Lesson {data['id']} (ticket #{data['ticket_id']}): a new runbook is needed. Write "
            f"it before {data['due_by']} and fold the lesson in with "
            f"`franchise runbook import FILE --applies {data['id']}`, or reject it with a reason."
        )
    else:
        said = (
            f"Lesson {data['id']} for {data['runbook']} (ticket #{data['ticket_id']}); "
            f"apply it before {data['due_by']} with "
            f"`franchise runbook revise {data['runbook']} --file F --applies {data['id']} "
            "--note ...`"
        )
    console.print(said, highlight=False, markup=False, soft_wrap=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    pending: Annotated[
        bool, typer.Option("--pending", help="Only lessons not yet applied.")
    ] = False,
    json_out: Json = False,
) -> None:
    """List lessons, oldest first; overdue ones (still pending after their week) in red."""
    from franchise.lessons import service
    from franchise.orgsettings.service import get_config

    with get_context(ctx).database().unit_of_work() as session:
        tz = get_config(session).tz
        rows = service.list_lessons(session, pending_only=pending)
    if json_out:
        print_json(rows)
        return
    table = Table("#", "captured (local)", "ticket", "runbook", "state", "rev", "by", "lesson")
    for r in rows:
        local = datetime.fromisoformat(r["created_at"]).astimezone(tz)
        state = "[bold red]overdue[/]" if r["overdue"] else r["state"]
        table.add_row(
            str(r["id"]),
            local.strftime("%a %Y-%m-%d %H:%M"),
            f"#{r['ticket_id']}" if r["ticket_id"] else "",
            escape(r["runbook"] or "(new runbook needed)"),
            state,
            str(r["revision"] or ""),
            escape(r["author"] or ""),
            escape(r["text"]),
            style="red" if r["overdue"] else None,
        )
    console.print(table)
    overdue = sum(r["overdue"] for r in rows)
    if overdue:
        console.print(f"[red]{overdue} lesson(s) overdue[/]: fold them into their runbooks.")


@app.command()
def reject(
    ctx: typer.Context,
    lesson_id: Annotated[int, typer.Argument(metavar="ID", help="Lesson id.")],
    by: Annotated[str, typer.Option(help="Who rejects it (staff e-mail or name).")],
    reason: Annotated[str, typer.Option(help="Why; recorded in the ticket's history.")],
    json_out: Json = False,
) -> None:
    """Reject a pending lesson, with the reason."""
    from franchise.accounts.service import get_staff
    from franchise.lessons import service

    with get_context(ctx).database().unit_of_work() as session:
        lesson = service.reject_lesson(session, lesson_id, by=get_staff(session, by), reason=reason)
        data = service.lesson_dicts(session, [lesson])[0]
    if json_out:
        print_json(data)
        return
    console.print(f"Lesson {data['id']} rejected.")


def stale(ctx: typer.Context, json_out: Json = False) -> None:
    """Runbooks untouched for 90 days while their category had 3+ escalations in 28 days, and
    runbooks past their review date (review_by)."""
    from franchise.lessons.stale import stale_runbooks

    with get_context(ctx).database().unit_of_work() as session:
        rows = stale_runbooks(session)
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("No stale runbooks.")
        return
    table = Table("key", "category", "why", title="Stale runbooks")
    for r in rows:
        table.add_row(escape(r["key"]), escape(r["category"]), escape("; ".join(r["reasons"])))
    console.print(table)
