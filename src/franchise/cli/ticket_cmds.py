"""franchise ticket new|list|show."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json

app = typer.Typer(no_args_is_help=True)


@app.command()
def new(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="Short summary.")],
    body: Annotated[str, typer.Option(help="Details.")] = "",
    client: Annotated[str | None, typer.Option(help="Client name or id.")] = None,
    category: Annotated[
        str | None, typer.Option(help="Category id; suggested when omitted.")
    ] = None,
    priority: Annotated[str, typer.Option(help="low, normal, high or critical.")] = "normal",
    external_id: Annotated[str | None, typer.Option(help="The ticket's id in your PSA.")] = None,
    by: Annotated[str | None, typer.Option(help="Who opens it (staff e-mail or name).")] = None,
    json_out: Json = False,
) -> None:
    """Open a ticket; the best runbook is suggested and attached."""
    from franchise.accounts.service import get_staff
    from franchise.tickets.present import ticket_dict
    from franchise.tickets.workflow import open_ticket

    with get_context(ctx).database().unit_of_work() as session:
        actor = get_staff(session, by) if by else None
        ticket, suggestions = open_ticket(
            session,
            title=title,
            body=body,
            client=client,
            category=category,
            priority=priority,
            external_id=external_id,
            source="cli",
            actor=actor,
        )
        data = ticket_dict(session, ticket)
        data["suggestions"] = [s.to_dict() for s in suggestions]
    if json_out:
        print_json(data)
        return
    console.print(f"Opened ticket #{data['id']}: {data['title']}", highlight=False)
    if data["runbook_key"]:
        console.print(f"Runbook: {data['runbook_key']} ({data['category']})")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    search: Annotated[str | None, typer.Option(help="Words in title or body.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    json_out: Json = False,
) -> None:
    """List tickets, newest first."""
    from franchise.tickets.present import ticket_dict
    from franchise.tickets.service import list_tickets

    with get_context(ctx).database().unit_of_work() as session:
        rows = [
            ticket_dict(session, t)
            for t in list_tickets(
                session, status=status, category=category, search=search, limit=limit
            )
        ]
    if json_out:
        print_json(rows)
        return
    table = Table("#", "status", "level", "category", "client", "title")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["status"],
            r["level"],
            r["category"] or "",
            r["client"] or "",
            r["title"],
        )
    console.print(table)


@app.command()
def show(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    json_out: Json = False,
) -> None:
    """Show a ticket with its history."""
    from franchise.tickets.present import ticket_dict
    from franchise.tickets.service import get_ticket

    with get_context(ctx).database().unit_of_work() as session:
        data = ticket_dict(session, get_ticket(session, ticket_id), with_history=True)
    if json_out:
        print_json(data)
        return
    console.print(f"[bold]#{data['id']} {data['title']}[/]", highlight=False)
    console.print(
        f"status {data['status']} · level {data['level']} · priority {data['priority']} · "
        f"category {data['category'] or '-'} · client {data['client'] or '-'} · runbook "
        f"{data['runbook_key'] or '-'}",
        highlight=False,
    )
    if data["body"]:
        console.print(data["body"], highlight=False)
    console.print("\n[bold]History[/]")
    for e in data["history"]:
        change = f"{e['field']}: {e['old_value']} -> {e['new_value']}" if e["field"] else ""
        console.print(f"  {e['at']}  {e['kind']}  {change} {e['note'] or ''}", highlight=False)
