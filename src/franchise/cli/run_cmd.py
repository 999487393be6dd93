"""franchise run: walk a runbook interactively, or with --answer for scripts."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from franchise.cli.context import Json, console, get_context, print_json
from franchise.errors import InvalidInput


def register(app: typer.Typer) -> None:
    app.command()(run)


def parse_answers(raw: list[str]) -> dict[str, list[str]]:
    answers: dict[str, list[str]] = {}
    for item in raw:
        step, sep, option = item.partition("=")
        if not sep or not step.strip() or not option.strip():
            raise InvalidInput(f"--answer '{item}' must look like STEP=OPTION")
        answers.setdefault(step.strip(), []).append(option.strip())
    return answers


def run(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Runbook key, or a category with one runbook.")],
    ticket: Annotated[int | None, typer.Option(help="Record the run on this ticket.")] = None,
    answer: Annotated[
        list[str] | None, typer.Option("--answer", help="STEP=OPTION; repeat.")
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who runs it (staff e-mail or name).")] = None,
    json_out: Json = False,
) -> None:
    """Run a runbook step by step. On a terminal it asks each question; with --answer it
    follows the given answers and reports where the run stands."""
    from franchise.accounts.service import get_staff
    from franchise.runbooks import engine
    from franchise.runbooks import service as runbooks
    from franchise.tickets.service import get_ticket
    from franchise.tickets.workflow import begin_run, record_answer

    answers = parse_answers(answer or [])
    interactive = not json_out and sys.stdin.isatty()
    with get_context(ctx).database().unit_of_work() as session:
        row = runbooks.get_runbook(session, key)
        parsed = runbooks.definition(session, row)
        actor = get_staff(session, by) if by else None
        if ticket is None:
            state = engine.follow(parsed, answers)
            while interactive and not state.finished:
                state = engine.answer(state, _ask(state))
            result = state.to_dict()
        else:
            record = get_ticket(session, ticket)
            run_row = runbooks.latest_run(session, record)
            if run_row is None or run_row.runbook_id != row.id or run_row.outcome is not None:
                run_row = begin_run(session, row, ticket=record, actor=actor)
            state = runbooks.run_state(session, run_row)
            while not state.finished:
                queue = answers.get(state.current)
                if queue:
                    reply = queue.pop(0)
                elif interactive:
                    reply = _ask(state)
                else:
                    break
                state = record_answer(
                    session, run_row, step=state.current, reply=reply, actor=actor
                )
            result = state.to_dict()
            result["run_id"] = run_row.id
            result["ticket_id"] = record.id
    if json_out:
        print_json(result)
        return
    _print_result(result, parsed.steps[state.current].text)


def _ask(state: object) -> str:
    from franchise.runbooks.engine import RunState

    assert isinstance(state, RunState)
    step = state.step
    console.print(
        f"\n[bold cyan]{escape(step.id)}[/] {escape(f'[{step.kind}] {step.text}')}",
        highlight=False,
    )
    if step.where:
        console.print(f"  where: {step.where}", highlight=False, markup=False)
    labels = list(step.options)
    for i, label in enumerate(labels, 1):
        console.print(f"  {i}. {label}", highlight=False, markup=False)
    while True:
        reply = str(typer.prompt("Answer (number or text)"))
        if reply.isdigit() and 1 <= int(reply) <= len(labels):
            return labels[int(reply) - 1]
        if any(reply.strip().casefold() == label.casefold() for label in labels):
            return reply
        console.print("[red]Not one of the answers above.[/]")


def _print_result(result: dict[str, object], text: str) -> None:
    outcome = result["outcome"]
    if outcome == "resolved":
        where = escape(f"at '{result['final_step']}': {text}")
        console.print(f"[green]Resolved[/] {where}", highlight=False)
    elif outcome == "escalate":
        where = escape(f"at '{result['final_step']}': {text}")
        console.print(
            f"[yellow]Escalate to {escape(str(result['level']))}[/] {where}", highlight=False
        )
    else:
        console.print(
            f"Incomplete: next step '{result['next_step']}': {text}",
            highlight=False,
            markup=False,
        )
