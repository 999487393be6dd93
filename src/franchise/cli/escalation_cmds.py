"""franchise escalation check|show|lint|import|export, and `franchise ticket escalate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, err_console, get_context, print_json
from franchise.yamldoc.files import read_document

app = typer.Typer(no_args_is_help=True)


@app.command()
def check(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    json_out: Json = False,
) -> None:
    """Escalation allowed: Yes/No, to which level, by which rule, and why."""
    from franchise.escalation.service import check_escalation
    from franchise.tickets.service import get_ticket

    with get_context(ctx).database().unit_of_work() as session:
        data = check_escalation(session, get_ticket(session, ticket_id)).to_dict()
    if json_out:
        print_json(data)
        return
    verdict = "[green]Yes[/]" if data["allowed"] else "[red]No[/]"
    to = f" to {escape(str(data['to']))}" if data["allowed"] else ""
    emergency = " [bold red](emergency)[/]" if data["emergency"] else ""
    rule = escape(str(data["rule"]))
    console.print(f"Escalation allowed: {verdict}{to}{emergency}  rule {rule}")
    console.print(data["reason"], highlight=False, soft_wrap=True, markup=False)
    if data["pending_step"]:
        console.print(f"Next runbook step: {data['pending_step']}", highlight=False, markup=False)


@app.command()
def show(ctx: typer.Context, json_out: Json = False) -> None:
    """Show the current escalation map: levels, rules in order (first match wins), default."""
    from franchise.escalation.present import conditions_text, map_dict
    from franchise.escalation.service import current_map

    with get_context(ctx).database().unit_of_work() as session:
        current = current_map(session)
    data = map_dict(current.map, current.revision)
    if json_out:
        print_json(data)
        return
    shown = f"revision {current.revision}" if current.revision else "shipped starter, not saved"
    levels = escape(" → ".join(data["levels"]))
    console.print(f"[bold]Escalation map[/] ({shown}); levels: {levels}")
    table = Table("#", "rule", "when (any line)", "to", "emergency", "allow")
    for i, rule in enumerate(current.map.rules, 1):
        table.add_row(
            str(i),
            escape(rule.name),
            escape("\n".join(conditions_text(block) for block in rule.when)),
            escape(rule.to or "-"),
            "yes" if rule.emergency else "",
            "" if rule.allow else "no",
        )
    console.print(table)
    if current.map.default:
        default = current.map.default
        console.print(f"Otherwise: {default.to}: {default.reason}", highlight=False, markup=False)


@app.command()
def lint(
    file: Annotated[Path, typer.Argument(help="Escalation map YAML.", exists=True, dir_okay=False)],
    json_out: Json = False,
) -> None:
    """Check an escalation map file; prints every problem with its line; exit 1 if any."""
    from franchise.escalation.lint import lint_escalation

    esc_map, problems = lint_escalation(read_document(file), str(file))
    if json_out:
        print_json({"ok": not problems, "problems": [p.to_dict() for p in problems]})
    else:
        for problem in problems:
            console.print(problem.format(), highlight=False, soft_wrap=True, markup=False)
        if esc_map is not None:
            console.print(
                f"{escape(str(file))}: [green]no problems[/] ({len(esc_map.rules)} rules)"
            )
        else:
            console.print(f"{escape(str(file))}: [red]{len(problems)} problem(s)[/]")
    if problems:
        raise typer.Exit(1)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Escalation map YAML.", exists=True, dir_okay=False)],
    note: Annotated[str, typer.Option(help="Why it changed.")] = "imported",
    by: Annotated[str | None, typer.Option(help="Author (staff e-mail or name).")] = None,
    expected_revision: Annotated[
        int | None, typer.Option(help="Refuse unless still at this revision.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Save the file as a new revision of the map (nothing is saved if lint finds a problem)."""
    from franchise.accounts.service import get_staff
    from franchise.escalation.service import save_map

    source = read_document(file)
    with get_context(ctx).database().unit_of_work() as session:
        author = get_staff(session, by) if by else None
        revision, changed = save_map(
            session,
            source,
            file=str(file),
            author=author,
            note=note,
            expected_revision=expected_revision,
        )
    if json_out:
        print_json({"revision": revision, "changed": changed})
    else:
        console.print(
            f"escalation map: {'saved' if changed else 'unchanged'} (revision {revision})"
        )


@app.command("export")
def export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the YAML.")],
) -> None:
    """Write the current map's YAML to a file (docs as code)."""
    from franchise.escalation.service import current_map

    with get_context(ctx).database().unit_of_work() as session:
        current = current_map(session)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(current.source, encoding="utf-8")
    console.print(f"Wrote the escalation map (revision {current.revision}) to {escape(str(file))}")


def escalate(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(help="Ticket number.")],
    to: Annotated[str, typer.Option("--to", help="Level to escalate to (L2, owner).")],
    by: Annotated[str, typer.Option("--by", help="Who escalates (staff e-mail or name).")],
    override_reason: Annotated[
        str | None,
        typer.Option(help="Owner or admin only: escalate although the map says no."),
    ] = None,
    edge_case: Annotated[
        int | None,
        typer.Option(help="Follow this edge case (its number) of the run's current step."),
    ] = None,
    json_out: Json = False,
) -> None:
    """Escalate a ticket if the escalation map allows it; otherwise say what to do first."""
    from franchise.accounts.service import get_staff
    from franchise.errors import PermissionDenied, Refused
    from franchise.escalation.service import refusal_hint
    from franchise.flows.escalations import escalate
    from franchise.tickets.service import get_ticket

    try:
        with get_context(ctx).database().unit_of_work() as session:
            ticket = get_ticket(session, ticket_id)
            handover = escalate(
                session,
                ticket,
                to=to,
                by=get_staff(session, by),
                override_reason=override_reason,
                edge_case=edge_case,
            )
            decision = handover.decision
            holder = handover.holder.to_dict() if handover.holder else None
            out = {"id": ticket.id, "level": ticket.level, "status": ticket.status}
    except (Refused, PermissionDenied) as exc:
        # Rendered here rather than by the root group: the next step is the useful part.
        err_console.print(
            f"[bold red]refused:[/] {escape(exc.message)}", highlight=False, soft_wrap=True
        )
        step = refusal_hint(exc)
        if step:
            err_console.print(f"Do runbook step '{escape(step)}' next.", highlight=False)
        raise typer.Exit(exc.exit_code) from None
    if json_out:
        print_json({**out, "decision": decision.to_dict(), "holder": holder})
    else:
        console.print(
            f"Ticket #{out['id']} escalated to {escape(str(out['level']))} "
            f"(rule {escape(str(decision.rule))})"
        )
        console.print(
            f"Now held by {escape(str(holder['name']))} ({holder['why']})."
            if holder
            else "Nobody is active at that level: set the duty roster (franchise duty set)."
        )
