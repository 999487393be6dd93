"""franchise contact log|import|list, and franchise kpi."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, err_console, get_context, print_json

app = typer.Typer(no_args_is_help=True)
BAR = "█"


def register(root: typer.Typer) -> None:
    """Adds `franchise kpi` (the contact group is added with add_typer)."""
    root.command("kpi")(kpi)


@app.command()
def log(
    ctx: typer.Context,
    channel: Annotated[
        str,
        typer.Option(help="call, text, chat, email, in_person, emergency_escalation or in_app."),
    ],
    reason: Annotated[
        str,
        typer.Option(
            help="approval, escalation, customer_communication, technical_decision or other."
        ),
    ],
    ticket: Annotated[int | None, typer.Option(help="Ticket number it was about.")] = None,
    by: Annotated[
        str | None, typer.Option(help="Who contacted the owner (staff e-mail or name).")
    ] = None,
    minutes: Annotated[int, typer.Option(min=0, max=1440, help="Owner's minutes spent.")] = 0,
    emergency: Annotated[bool, typer.Option("--emergency", help="It was an emergency.")] = False,
    at: Annotated[
        str | None,
        typer.Option(help="When (ISO 8601; without an offset it is local time); default now."),
    ] = None,
    outcome: Annotated[
        str, typer.Option(help="interruption, deflection or refused.")
    ] = "interruption",
    json_out: Json = False,
) -> None:
    """Log a contact with the owner that happened outside the tool (call, text, DM...)."""
    from franchise.accounts.service import get_staff
    from franchise.contacts.hours import as_aware
    from franchise.contacts.service import contact_dicts
    from franchise.db import utcnow
    from franchise.drills.contact_log import log_contact
    from franchise.errors import InvalidInput
    from franchise.orgsettings.service import get_config
    from franchise.tickets.service import get_ticket

    with get_context(ctx).database().unit_of_work() as session:
        config = get_config(session)
        when = utcnow()
        if at is not None:
            try:
                when = as_aware(datetime.fromisoformat(at), config.tz)
            except ValueError:
                raise InvalidInput(
                    f"--at '{at}' is not an ISO 8601 time (e.g. 2026-03-02T09:15)"
                ) from None
        contact = log_contact(
            session,
            occurred_at=when,
            channel=channel,
            reason=reason,
            ticket=get_ticket(session, ticket) if ticket is not None else None,
            by=get_staff(session, by) if by else None,
            emergency=emergency,
            minutes=minutes,
            outcome=outcome,
            config=config,
        )
        data = contact_dicts(session, [contact])[0]
    if json_out:
        print_json(data)
        return
    flags = [
        f for f, on in (("after hours", data["after_hours"]), ("drill", data["drill_id"])) if on
    ]
    extra = f" ({', '.join(flags)})" if flags else ""
    console.print(f"Logged contact #{data['id']}: {data['outcome']}{extra}", highlight=False)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with occurred_at,channel,ticket,by,reason,minutes,emergency.",
            dir_okay=False,
        ),
    ],
    json_out: Json = False,
) -> None:
    """Import contacts from a CSV; good rows are stored, bad rows named by line (exit 1)."""
    from franchise.drills.contact_log import import_contacts
    from franchise.orgsettings.service import get_config

    with get_context(ctx).database().unit_of_work() as session:
        report = import_contacts(session, file, get_config(session))
    if json_out:
        print_json(report)
    else:
        where = escape(str(file))
        console.print(f"Imported {report['imported']} contact(s) from {where}.", highlight=False)
        for error in report["errors"]:
            err_console.print(
                f"[red]{where}:{error['line']}:[/] {escape(str(error['message']))}",
                highlight=False,
            )
    if report["errors"]:
        raise typer.Exit(1)


@app.command("list")
def list_(
    ctx: typer.Context,
    weeks: Annotated[int, typer.Option(min=1, max=520, help="This week and N-1 before.")] = 1,
    outcome: Annotated[str | None, typer.Option(help="Only this outcome.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 500,
    json_out: Json = False,
) -> None:
    """List owner contacts, newest first."""
    from franchise.contacts.service import contact_dicts, list_contacts, weeks_back
    from franchise.db import utcnow
    from franchise.orgsettings.service import get_config

    with get_context(ctx).database().unit_of_work() as session:
        tz = get_config(session).tz
        rows = contact_dicts(
            session,
            list_contacts(
                session, since=weeks_back(utcnow(), tz, weeks), outcome=outcome, limit=limit
            ),
        )
    if json_out:
        print_json(rows)
        return
    table = Table(
        "#", "when (local)", "channel", "reason", "outcome", "ticket", "by", "min", "flags"
    )
    for r in rows:
        local = datetime.fromisoformat(r["occurred_at"]).astimezone(tz)
        flags = " ".join(
            f
            for f, on in (
                ("after-hours", r["after_hours"]),
                ("emergency", r["emergency"]),
                ("drill", r["drill_id"]),
            )
            if on
        )
        table.add_row(
            str(r["id"]),
            local.strftime("%a %Y-%m-%d %H:%M"),
            escape(r["channel"]),
            escape(r["reason"]),
            escape(r["outcome"]),
            f"#{r['ticket_id']}" if r["ticket_id"] else "",
            escape(r["by"] or ""),
            str(r["minutes"]),
            flags,
        )
    console.print(table)


def kpi(
    ctx: typer.Context,
    weeks: Annotated[int, typer.Option(min=1, max=520, help="Weeks to show.")] = 8,
    json_out: Json = False,
) -> None:
    """Owner interruptions per week against the target, and what causes them."""
    from franchise.contacts.service import kpi_report

    with get_context(ctx).database().unit_of_work() as session:
        report = kpi_report(session, weeks=weeks)
    if json_out:
        print_json(report)
        return
    print_kpi(report)


def print_kpi(report: dict[str, Any]) -> None:
    target = report["target_max"]
    table = Table(
        "week of",
        "interruptions",
        "",
        "after hours",
        "owner min",
        "waited h",
        "deflected",
        "refused",
        title=f"Owner interruptions per week ({escape(str(report['timezone']))})",
    )
    for w in report["weeks"]:
        n = w["interruptions"]
        colour = "green" if n <= target else "red"
        label = w["week_start"] + ("" if w["complete"] else " (to date)")
        table.add_row(
            label,
            str(n),
            f"[{colour}]{BAR * min(n, 40)}[/]",
            str(w["after_hours"]),
            str(w["owner_minutes"]),
            f"{w['owner_wait_hours']:.1f}",
            str(w["deflections"]),
            str(w["refused"]),
        )
    console.print(table)
    verdict = "on target" if report["status"] == "on_target" else "[red]above target[/]"
    console.print(
        f"4-week average: {report['four_week_average']} per week (target 0–{target}): {verdict}",
        highlight=False,
    )
    for name in ("reason", "channel", "technician", "client", "category"):
        top = report[f"by_{name}"][:3]
        if top:
            causes = escape(", ".join(f"{item['name']} {item['count']}" for item in top))
            console.print(f"Top {name}: {causes}", highlight=False)
