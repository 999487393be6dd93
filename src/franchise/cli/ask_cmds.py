"""franchise ask-owner: ask the owner about a ticket; the system answers first."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from franchise.cli.context import Json, console, get_context, print_json

OUTCOME_STYLE = {"deflection": "green", "interruption": "yellow", "refused": "red"}


def register(app: typer.Typer) -> None:
    app.command("ask-owner")(ask_owner)
    app.command("asks")(asks)
    app.command("ask-reply")(ask_reply)


def asks(
    ctx: typer.Context,
    ticket: Annotated[int | None, typer.Option(help="Only this ticket's asks.")] = None,
    json_out: Json = False,
) -> None:
    """Asks that reached the owner and wait for a reply, oldest first."""
    from franchise.ask.reply import open_asks

    with get_context(ctx).database().unit_of_work() as session:
        rows = [a.to_dict() for a in open_asks(session, ticket_id=ticket)]
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("No ask waits for the owner.")
    for r in rows:
        console.print(
            f"#{r['id']} ticket #{r['ticket_id']} from {r['asker']} ({r['reason']}): {r['question']}",
            highlight=False,
            markup=False,
        )


def ask_reply(
    ctx: typer.Context,
    ask_id: Annotated[int, typer.Argument(help="The ask's number (franchise asks).")],
    by: Annotated[str, typer.Option(help="Who replies: the owner (or an admin).")],
    text: Annotated[str, typer.Option(help="The reply.")],
    json_out: Json = False,
) -> None:
    """Reply to an ask: recorded on the ticket, sent back to the asker, offered as a lesson."""
    from franchise.accounts.service import get_staff
    from franchise.ask.reply import reply_to_ask

    with get_context(ctx).database().unit_of_work() as session:
        data = reply_to_ask(session, ask_id, by=get_staff(session, by), text=text).to_dict()
    if json_out:
        print_json(data)
        return
    lesson = f"; lesson #{data['lesson_id']} offered" if data["lesson_id"] else ""
    if data["new_runbook"]:
        lesson += " (no runbook covers the ticket: a new runbook is needed)"
    console.print(f"Reply recorded on ticket #{data['ticket_id']}{lesson}.", highlight=False)


def ask_owner(
    ctx: typer.Context,
    ticket: Annotated[int, typer.Argument(help="Ticket number.")],
    by: Annotated[str, typer.Option(help="Who asks (staff e-mail or name).")],
    reason: Annotated[
        str,
        typer.Option(
            help="approval, escalation, customer_communication, technical_decision or other."
        ),
    ],
    question: Annotated[str, typer.Option(help="What you want to ask the owner.")],
    emergency: Annotated[
        bool,
        typer.Option(
            "--emergency",
            help="You think it is an emergency; the escalation map decides whether it is one.",
        ),
    ] = False,
    action: Annotated[
        str | None, typer.Option(help="For approvals: the action (default: the question).")
    ] = None,
    cost: Annotated[str | None, typer.Option(help="For approvals: estimated cost.")] = None,
    minutes: Annotated[int | None, typer.Option(help="For approvals: estimated minutes.")] = None,
    impact: Annotated[
        str | None, typer.Option(help="For approvals: none, low, medium or high.")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="For approvals: action kind.")] = None,
    recurring: Annotated[
        str | None, typer.Option(help="For approvals: once, month or year.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Ask the owner about a ticket; the system answers first where it can.

    A deflection answers from the system; an interruption notifies the owner; during an
    owner-offline drill a non-emergency ask is refused with guidance (exit 1)."""
    from franchise.accounts.service import get_staff
    from franchise.ask.service import ActionEstimate
    from franchise.ask.service import ask_owner as ask
    from franchise.tickets.service import get_ticket

    context = get_context(ctx)
    estimate = None
    if any(v is not None for v in (action, cost, minutes, impact, kind, recurring)):
        estimate = ActionEstimate(
            action=action,
            cost=cost if cost is not None else 0,
            minutes=minutes or 0,
            impact=impact or "none",
            kind=kind,
            recurring=recurring or "once",
        )
    db = context.database()
    with db.unit_of_work() as session:
        result = ask(
            session,
            ticket=get_ticket(session, ticket),
            by=get_staff(session, by),
            reason=reason,
            question=question,
            emergency=emergency,
            settings=context.settings,
            estimate=estimate,
        )
    # After the commit, and after the owner's notification went out (or did not).
    data = result.settle(db).to_dict()
    if json_out:
        print_json(data)
    else:
        _print(data)
    # Recorded either way (the transaction is committed); a refusal still exits 1.
    if data["outcome"] == "refused":
        raise typer.Exit(1)


def _print(data: dict[str, Any]) -> None:
    style = OUTCOME_STYLE.get(data["outcome"], "white")
    label = data["outcome"] + (" (emergency)" if data["emergency"] else "")
    console.print(
        f"[bold {style}]{label}[/] {escape(data['answer'])}", highlight=False, soft_wrap=True
    )
    for line in data["guidance"]:
        console.print(f"  - {escape(line)}", highlight=False, soft_wrap=True)
    if data["outcome"] == "interruption":
        style = "green" if data["delivered"] else "red"
        delivered = ", ".join(data["delivered"])
        console.print(f"[{style}]{escape(f'delivered: [{delivered}]')}[/]", highlight=False)
        console.print(escape(str(data["delivery"])), highlight=False, soft_wrap=True)
    console.print(f"Recorded as owner contact #{data['contact_id']}.", highlight=False)
