"""franchise approve, franchise approvals list|decide|expire, franchise boundaries ..."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json
from franchise.yamldoc.files import read_document

approvals_app = typer.Typer(no_args_is_help=True)
boundaries_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(approve)
    app.add_typer(
        approvals_app, name="approvals", help="List, decide and time out approval requests."
    )
    app.add_typer(
        boundaries_app, name="boundaries", help="Show, lint, import and export approval boundaries."
    )


def approve(
    ctx: typer.Context,
    ticket: Annotated[int, typer.Argument(help="Ticket number.")],
    action: Annotated[str, typer.Option(help="What you want to do.")],
    by: Annotated[str, typer.Option(help="Who asks (staff e-mail or name).")],
    cost: Annotated[str, typer.Option(help="Estimated cost in your currency.")] = "0",
    minutes: Annotated[int, typer.Option(help="Estimated working time in minutes.")] = 0,
    impact: Annotated[str, typer.Option(help="none, low, medium or high.")] = "none",
    kind: Annotated[str | None, typer.Option(help="Action kind, e.g. licence-purchase.")] = None,
    recurring: Annotated[
        str, typer.Option(help="once, month or year; limits compare the cost over a year.")
    ] = "once",
    json_out: Json = False,
) -> None:
    """Ask for approval of an action; inside your boundary it is approved at once.

    Outside it, the request waits for the lowest level whose boundary covers it."""
    from franchise.accounts.service import get_staff
    from franchise.approvals.present import approval_dict
    from franchise.approvals.service import request_approval
    from franchise.tickets.service import get_ticket

    with get_context(ctx).database().unit_of_work() as session:
        request = request_approval(
            session,
            ticket=get_ticket(session, ticket),
            action=action,
            cost=cost,
            minutes=minutes,
            impact=impact,
            kind=kind,
            recurring=recurring,
            requester=get_staff(session, by),
        )
        data = approval_dict(session, request)
    if json_out:
        keys = ("id", "decision", "approver_level", "decided_by", "reason")
        print_json({k: data[k] for k in keys})
        return
    _print_decision(data)


@approvals_app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="approved, pending or denied.")] = None,
    ticket: Annotated[int | None, typer.Option(help="Only this ticket.")] = None,
    json_out: Json = False,
) -> None:
    """List approval requests, newest first."""
    from franchise.approvals.present import approval_dicts
    from franchise.approvals.service import list_requests
    from franchise.tickets.service import get_ticket

    with get_context(ctx).database().unit_of_work() as session:
        record = get_ticket(session, ticket) if ticket is not None else None
        rows = approval_dicts(session, list_requests(session, status=status, ticket=record))
    if json_out:
        print_json(rows)
        return
    table = Table("#", "ticket", "decision", "level", "by", "cost", "min", "impact", "action")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["ticket_id"] or ""),
            r["decision"],
            escape(r["approver_level"] or ""),
            escape(r["decided_by"] or ""),
            escape(r["cost"] if r["recurring"] == "once" else f"{r['cost']}/{r['recurring']}"),
            str(r["minutes"]),
            r["impact"],
            escape(r["action"][:60]),
        )
    console.print(table)


@approvals_app.command()
def decide(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(help="Approval request number.")],
    approve: Annotated[bool, typer.Option("--approve/--deny", help="Approve or deny.")],
    by: Annotated[str, typer.Option(help="Who decides (staff e-mail or name).")],
    reason: Annotated[str, typer.Option(help="Why; kept with the request.")],
    json_out: Json = False,
) -> None:
    """Approve or deny a pending request (at or above its level, never your own)."""
    from franchise.accounts.service import get_staff
    from franchise.approvals import service
    from franchise.approvals.present import approval_dict
    from franchise.flows.approvals import decide_request

    with get_context(ctx).database().unit_of_work() as session:
        request = service.get_request(session, request_id)
        decide_request(session, request, by=get_staff(session, by), approve=approve, reason=reason)
        data = approval_dict(session, request)
    if json_out:
        print_json(data)
        return
    _print_decision(data)


@approvals_app.command()
def expire(ctx: typer.Context, json_out: Json = False) -> None:
    """Escalate or deny pending requests past their timeout (run it every few minutes)."""
    from franchise.approvals.present import approval_dict
    from franchise.flows.approvals import expire_requests

    with get_context(ctx).database().unit_of_work() as session:
        rows = [
            {"outcome": e.outcome, **approval_dict(session, e.request)}
            for e in expire_requests(session)
        ]
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("No pending request is past its timeout.")
    for r in rows:
        last = escape(r["reason"].splitlines()[-1])
        console.print(f"#{r['id']} {r['outcome']}: {last}", highlight=False)


@boundaries_app.command()
def show(ctx: typer.Context, json_out: Json = False) -> None:
    """Show the approval boundaries in force."""
    from franchise.approvals import service

    with get_context(ctx).database().unit_of_work() as session:
        parsed, revision = service.current_boundaries(session)
        data: dict[str, Any] = {"revision": revision, **parsed.to_dict()}
        data["unknown_people"] = service.unknown_people(session, parsed)
    if json_out:
        print_json(data)
        return
    origin = f"revision {revision}" if revision else "the starter file (not stored yet)"
    console.print(f"Approval boundaries: {origin}", highlight=False)
    timeout = data["timeout"]
    console.print(
        f"Timeout: {timeout['minutes']} min, then {escape(str(timeout['then']))}", highlight=False
    )
    table = Table("who", "max cost", "max min", "impacts", "kind rules")
    for name, limits in [*data["levels"].items(), *data["people"].items()]:
        table.add_row(escape(name), *(escape(cell) for cell in _limit_cells(limits)))
    console.print(table)
    for email in data["unknown_people"]:
        console.print(
            f"[yellow]warning:[/] {escape(email)} is not an active staff member", highlight=False
        )


@boundaries_app.command()
def lint(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A boundaries YAML file.", exists=True)],
    json_out: Json = False,
) -> None:
    """Check a boundaries file; exit code 1 when it has problems."""
    from franchise.approvals.parse import lint_boundaries

    problems = lint_boundaries(read_document(file), str(file))
    if json_out:
        print_json({"ok": not problems, "problems": [p.to_dict() for p in problems]})
    elif problems:
        for p in problems:
            console.print(p.format(), highlight=False, soft_wrap=True, markup=False)
    else:
        console.print(f"{escape(str(file))}: ok")
    if problems:
        raise typer.Exit(1)


@boundaries_app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A boundaries YAML file.", exists=True)],
    by: Annotated[str, typer.Option(help="Who changes them (owner or admin).")],
    note: Annotated[str, typer.Option(help="Why they change.")] = "imported",
    expected_revision: Annotated[
        int | None, typer.Option(help="Refuse if someone saved a newer revision.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Store a boundaries file as the new revision (linted first; nothing saved on error)."""
    from franchise.accounts.service import get_staff
    from franchise.approvals import service

    source = read_document(file)
    with get_context(ctx).database().unit_of_work() as session:
        revision, changed = service.save_boundaries(
            session,
            source,
            author=get_staff(session, by),
            note=note,
            expected_revision=expected_revision,
            file=str(file),
        )
        unknown = service.unknown_people(session, service.validate_boundaries(source, str(file)))
        data = {"revision": revision.number, "changed": changed, "unknown_people": unknown}
    if json_out:
        print_json(data)
        return
    verb = "Saved" if changed else "Unchanged:"
    console.print(f"{verb} approval boundaries revision {data['revision']}", highlight=False)
    for email in unknown:
        console.print(
            f"[yellow]warning:[/] {escape(email)} is not an active staff member", highlight=False
        )


@boundaries_app.command()
def export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the YAML.")],
) -> None:
    """Write the boundaries in force to a YAML file (to keep in git)."""
    from franchise.approvals.service import boundaries_source

    with get_context(ctx).database().unit_of_work() as session:
        source, revision = boundaries_source(session)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(source, encoding="utf-8")
    console.print(f"Wrote revision {revision} to {escape(str(file))}", highlight=False)


def _limit_cells(limits: dict[str, Any]) -> tuple[str, str, str, str]:
    def show(value: Any) -> str:
        if value is None:
            return "no limit"
        return ", ".join(value) if isinstance(value, list) else str(value)

    kinds = "; ".join(
        f"{kind}: " + ", ".join(f"{k} {show(v)}" for k, v in rule.items())
        for kind, rule in limits.get("kinds", {}).items()
    )
    if limits.get("unlimited"):
        return ("no limit", "no limit", "all", kinds)
    return (
        show(limits.get("max_cost", "as level")),
        show(limits.get("max_minutes", "as level")),
        show(limits.get("impacts", "as level")),
        kinds,
    )


def _print_decision(data: dict[str, Any]) -> None:
    decision = data["decision"]
    colour = {"approved": "green", "pending": "yellow", "denied": "red"}[decision]
    who = f" by {data['decided_by']}" if data["decided_by"] else f" at {data['approver_level']}"
    console.print(f"[{colour}]#{data['id']} {decision}[/]{escape(who)}", highlight=False)
    console.print(data["reason"], highlight=False, markup=False)
