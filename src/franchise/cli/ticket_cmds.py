"""franchise ticket new|list|show|runbook|category|requester|check|done|resolve|status|assign|
note."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, err_console, get_context, print_json

app = typer.Typer(no_args_is_help=True)


@app.command()
def new(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="Short summary.")],
    body: Annotated[str, typer.Option(help="Details.")] = "",
    client: Annotated[str | None, typer.Option(help="Client name or id.")] = None,
    requester: Annotated[
        str | None,
        typer.Option(help="The affected user: a contact of the client (id, e-mail or name)."),
    ] = None,
    category: Annotated[
        str | None, typer.Option(help="Category id; suggested when omitted.")
    ] = None,
    priority: Annotated[str, typer.Option(help="low, normal, high or critical.")] = "normal",
    external_id: Annotated[str | None, typer.Option(help="The ticket's id in your PSA.")] = None,
    by: Annotated[str | None, typer.Option(help="Who opens it (staff e-mail or name).")] = None,
    json_out: Json = False,
) -> None:
    """Open a ticket; the best runbook is attached if the match is sure enough, else offered."""
    from franchise.accounts.service import get_staff
    from franchise.flows.opening import open_ticket
    from franchise.tickets.present import ticket_dict

    with get_context(ctx).database().unit_of_work() as session:
        actor = get_staff(session, by) if by else None
        ticket, suggestions = open_ticket(
            session,
            title=title,
            body=body,
            client=client,
            requester=requester,
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
    console.print(f"Opened ticket #{data['id']}: {escape(data['title'])}", highlight=False)
    if data["runbook_key"]:
        runbook = escape(f"{data['runbook_key']} ({data['category']})")
        console.print(f"Runbook: {runbook}")
    _print_offer(data)


def _print_offer(data: dict[str, Any]) -> None:
    """A suggestion not confident enough to attach is offered with the command to attach it."""
    offered = data["suggested_runbook_key"]
    if data["runbook_key"] or not offered or data["runbook_source"] == "detached":
        return
    console.print(
        f"No runbook attached: the best match, {offered}, has confidence "
        f"{data['suggestion_confidence']:.2f}. Attach it with: franchise ticket runbook "
        f"{data['id']} {offered} --reason '...'",
        highlight=False,
        markup=False,
    )


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
    from franchise.queue.service import list_tickets
    from franchise.tickets.present import ticket_dict

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
            escape(r["category"] or ""),
            escape(r["client"] or ""),
            escape(r["title"]),
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
    console.print(f"[bold]#{data['id']} {escape(data['title'])}[/]", highlight=False)
    console.print(
        f"status {data['status']} · level {data['level']} · priority {data['priority']} · "
        f"category {data['category'] or '-'} · client {data['client'] or '-'} · runbook "
        f"{data['runbook_key'] or '-'}",
        highlight=False,
        markup=False,
    )
    if data["requester"]:
        r = data["requester"]
        on_file = ", ".join(p for p in (r["phone"], r["mobile"]) if p) or "no phone on file"
        console.print(
            f"requester {r['name']} <{r['email'] or 'no e-mail'}> · {on_file}",
            highlight=False,
            markup=False,
        )
    _print_offer(data)
    if data["body"]:
        console.print(data["body"], highlight=False, markup=False)
    console.print("\n[bold]History[/]")
    for e in data["history"]:
        change = f"{e['field']}: {e['old_value']} -> {e['new_value']}" if e["field"] else ""
        console.print(
            f"  {e['at']}  {e['kind']}  {change} {e['note'] or ''}", highlight=False, markup=False
        )


@app.command()
def runbook(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    key: Annotated[
        str | None, typer.Argument(help="Runbook key to attach (replaces the attached one).")
    ] = None,
    detach: Annotated[
        bool, typer.Option("--detach", help="No runbook covers this ticket.")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why; kept in the ticket's history.")] = "",
    by: Annotated[str | None, typer.Option(help="Who changes it (staff e-mail or name).")] = None,
    json_out: Json = False,
) -> None:
    """Attach, replace or detach a ticket's runbook, with a reason."""
    from franchise.accounts.service import get_staff
    from franchise.errors import InvalidInput
    from franchise.flows.runbook_choice import attach_runbook, detach_runbook
    from franchise.tickets.present import ticket_dict
    from franchise.tickets.service import get_ticket

    if detach == (key is not None):
        raise InvalidInput("give a runbook key to attach, or --detach (not both)")
    with get_context(ctx).database().unit_of_work() as session:
        actor = get_staff(session, by) if by else None
        ticket = get_ticket(session, ticket_id)
        if key is None:
            detach_runbook(session, ticket, actor=actor, reason=reason)
        else:
            attach_runbook(session, ticket, key, actor=actor, reason=reason)
        data = ticket_dict(session, ticket)
    if json_out:
        print_json(data)
        return
    if data["runbook_key"]:
        console.print(
            f"Ticket #{ticket_id} follows runbook {data['runbook_key']} "
            f"(category {data['category'] or '-'}).",
            highlight=False,
            markup=False,
        )
    else:
        console.print(
            f"Ticket #{ticket_id} has no runbook: the escalation map's default applies.",
            highlight=False,
        )


@app.command()
def category(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    name: Annotated[str, typer.Argument(help="Category id; 'none' clears it.")],
    reason: Annotated[str, typer.Option(help="Why; kept in the ticket's history.")] = "",
    by: Annotated[str | None, typer.Option(help="Who changes it (staff e-mail or name).")] = None,
    json_out: Json = False,
) -> None:
    """Change a ticket's category by hand, with a reason."""
    from franchise.accounts.service import get_staff
    from franchise.flows.runbook_choice import change_category
    from franchise.tickets.present import ticket_dict
    from franchise.tickets.service import get_ticket

    with get_context(ctx).database().unit_of_work() as session:
        actor = get_staff(session, by) if by else None
        ticket = get_ticket(session, ticket_id)
        chosen = None if name.strip().lower() == "none" else name.strip()
        change_category(session, ticket, chosen, actor=actor, reason=reason)
        data = ticket_dict(session, ticket)
    if json_out:
        print_json(data)
        return
    console.print(
        f"Ticket #{ticket_id}: category {data['category'] or '-'}, "
        f"runbook {data['runbook_key'] or '-'}.",
        highlight=False,
        markup=False,
    )


@app.command()
def requester(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    contact: Annotated[
        str,
        typer.Argument(
            help="A contact of the ticket's client (id, e-mail or name); 'none' clears."
        ),
    ],
    note: Annotated[str | None, typer.Option(help="Why; kept in the ticket's history.")] = None,
    by: Annotated[str | None, typer.Option(help="Who changes it (staff e-mail or name).")] = None,
    json_out: Json = False,
) -> None:
    """Change a ticket's requester (the affected user) to another contact of its client."""
    from franchise.accounts.service import get_staff
    from franchise.tickets.present import ticket_dict
    from franchise.tickets.requester import change_requester
    from franchise.tickets.service import get_ticket

    with get_context(ctx).database().unit_of_work() as session:
        actor = get_staff(session, by) if by else None
        ticket = get_ticket(session, ticket_id)
        chosen = None if contact.strip().lower() == "none" else contact
        event = change_requester(session, ticket, chosen, actor=actor, note=note)
        data = ticket_dict(session, ticket)
    if json_out:
        print_json(data)
        return
    who = data["requester"]
    if who is None:
        text = f"Ticket #{ticket_id}: no requester"
    else:
        on_file = ", ".join(p for p in (who["phone"], who["mobile"]) if p) or "no phone on file"
        text = f"Ticket #{ticket_id}: requester {who['name']} ({on_file})"
    console.print(text + (" (unchanged)." if event is None else "."), highlight=False, markup=False)


@app.command()
def check(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    item: Annotated[str, typer.Argument(help="Done-list item: its number or its text.")],
    by: Annotated[str | None, typer.Option(help="Who ticks it (staff e-mail or name).")] = None,
    json_out: Json = False,
) -> None:
    """Tick an item of the ticket's definition-of-done checklist."""
    from franchise.accounts.service import get_staff
    from franchise.tickets.lifecycle import check_item
    from franchise.tickets.service import get_ticket

    with get_context(ctx).database().unit_of_work() as session:
        actor = get_staff(session, by) if by else None
        done = check_item(session, get_ticket(session, ticket_id), item, by=actor).to_dict()
    if json_out:
        print_json(done)
        return
    _print_done(done)


@app.command()
def done(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    json_out: Json = False,
) -> None:
    """Show the ticket's definition-of-done checklist."""
    from franchise.tickets.lifecycle import done_list
    from franchise.tickets.service import get_ticket

    with get_context(ctx).database().unit_of_work() as session:
        data = done_list(session, get_ticket(session, ticket_id)).to_dict()
    if json_out:
        print_json(data)
        return
    _print_done(data)


def _print_done(done: dict[str, Any]) -> None:
    if not done["items"]:
        console.print("No done checklist: the ticket has not run a runbook.")
        return
    for entry in done["items"]:
        mark = "[green]x[/]" if entry["checked"] else " "
        console.print(f"  [{mark}] {escape(entry['item'])}", highlight=False)
    console.print("Complete." if done["complete"] else "Not complete yet.")


@app.command()
def resolve(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    by: Annotated[str, typer.Option(help="Who resolves it (staff e-mail or name).")],
    override_reason: Annotated[
        str | None,
        typer.Option(help="L2/owner/admin: resolve with the done list unticked, because..."),
    ] = None,
    skip_reason: Annotated[
        str | None,
        typer.Option(help="Why the attached runbook was never run (needed when it was not)."),
    ] = None,
    json_out: Json = False,
) -> None:
    """Resolve a ticket once its done checklist is ticked (and e-mail the client, if set)."""
    from franchise.accounts.service import get_staff
    from franchise.flows.resolving import resolve as resolve_ticket
    from franchise.messages.service import settle_auto_send
    from franchise.tickets.service import get_ticket

    context = get_context(ctx)
    db = context.database()
    with db.unit_of_work() as session:
        ticket = get_ticket(session, ticket_id)
        done, sent = resolve_ticket(
            session,
            ticket,
            by=get_staff(session, by),
            settings=context.settings,
            override_reason=override_reason,
            skip_reason=skip_reason,
        )
    # The resolve is committed; the message went (or not) after it.
    sent = settle_auto_send(db, sent)
    data = {
        "id": ticket.id,
        "status": ticket.status,
        "done": done.to_dict(),
        "resolved_message": sent.to_dict(),
        "offer_message": None if sent.status in ("sent", "queued") else "resolved",
    }
    if json_out:
        print_json(data)
        return
    console.print(f"Ticket #{data['id']} resolved.")
    if sent.status in ("sent", "queued"):
        console.print(sent.text, highlight=False, markup=False)
        return
    if sent.status != "off":
        # The resolve stands (exit 0); what went wrong with the message is on the ticket too.
        err_console.print(sent.text, style="yellow", highlight=False, markup=False)
    console.print(
        f"Tell the client: franchise message send resolved --ticket {data['id']} --by {by}",
        markup=False,
    )


@app.command()
def status(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    new_status: Annotated[
        str, typer.Argument(metavar="STATUS", help="new, in_progress, waiting_on_client, ...")
    ],
    by: Annotated[str | None, typer.Option(help="Who changes it.")] = None,
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
) -> None:
    """Change a ticket's status (use resolve to finish it)."""
    from franchise.accounts.service import get_staff
    from franchise.tickets.lifecycle import set_status
    from franchise.tickets.service import get_ticket

    with get_context(ctx).database().unit_of_work() as session:
        actor = get_staff(session, by) if by else None
        set_status(session, get_ticket(session, ticket_id), new_status, by=actor, note=note)
    console.print(f"Ticket #{ticket_id} is now {escape(new_status)}.")


@app.command()
def assign(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    to: Annotated[str, typer.Option(help="Assignee (staff e-mail or name); 'nobody' to unassign.")],
    by: Annotated[str | None, typer.Option(help="Who assigns it.")] = None,
) -> None:
    """Assign a ticket to a technician."""
    from franchise.accounts.service import get_staff
    from franchise.tickets.lifecycle import assign as assign_ticket
    from franchise.tickets.service import get_ticket

    with get_context(ctx).database().unit_of_work() as session:
        actor = get_staff(session, by) if by else None
        assignee = None if to == "nobody" else get_staff(session, to)
        assign_ticket(session, get_ticket(session, ticket_id), assignee, by=actor)
    console.print(f"Ticket #{ticket_id} assigned to {escape(to)}.")


@app.command()
def note(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    text: Annotated[str, typer.Argument(help="The note: root cause, what was tried ...")] = "",
    attach: Annotated[
        list[Path] | None,
        typer.Option("--attach", help="A file to attach (repeat for more); checked by content."),
    ] = None,
    minutes: Annotated[
        int | None, typer.Option(help="Minutes worked, summed on the ticket.")
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who writes it (staff e-mail or name).")] = None,
    json_out: Json = False,
) -> None:
    """Add an internal note to a ticket (never sent to the client), with files and time."""
    from franchise.accounts.service import get_staff
    from franchise.errors import InvalidInput
    from franchise.tickets import notes
    from franchise.tickets.service import get_ticket

    context = get_context(ctx)
    store = notes.AttachmentStore.from_settings(context.settings)
    uploads = []
    for path in attach or []:
        if not path.is_file():
            raise InvalidInput(f"--attach {path}: no such file")
        if path.stat().st_size > store.max_bytes:
            raise InvalidInput(
                f"attachment '{path.name}' is {path.stat().st_size:,} bytes; the limit is "
                f"{store.max_bytes:,} (FRANCHISE_ATTACHMENT_MAX_BYTES)"
            )
        uploads.append(notes.Upload(path.name, path.read_bytes()))
    with context.database().unit_of_work() as session:
        actor = get_staff(session, by) if by else None
        ticket = get_ticket(session, ticket_id)
        event = notes.add_internal_note(
            session, ticket, text, by=actor, minutes=minutes, uploads=uploads, store=store
        )
        files = [
            notes.attachment_dict(a)
            for a in notes.attachments(session, ticket)
            if a.event_id == event.id
        ]
        result = {
            "ticket_id": ticket_id,
            "id": event.id,
            "note": event.note,
            "minutes": event.minutes,
            "attachments": files,
            "minutes_worked": notes.minutes_worked(session, ticket),
        }
    if json_out:
        print_json(result)
        return
    attached = f" with {len(files)} file(s)" if files else ""
    console.print(
        f"Note added to ticket #{ticket_id}{attached}; "
        f"{result['minutes_worked']} minutes worked on it so far.",
        highlight=False,
    )
