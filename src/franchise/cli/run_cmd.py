"""franchise run: walk a runbook interactively, or with --answer for scripts."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from franchise.cli.context import Json, console, get_context, print_json
from franchise.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from franchise.accounts.models import Staff
    from franchise.runbooks.models import RunbookRun


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
        list[str] | None,
        typer.Option("--answer", help="STEP=OPTION (the label or its number); repeat."),
    ] = None,
    back: Annotated[
        bool, typer.Option("--back", help="Take back the ticket run's last answer.")
    ] = False,
    save_fact: Annotated[
        bool,
        typer.Option(
            "--save-fact", help="Save answers to checks that name a fact to the client profile."
        ),
    ] = False,
    switch: Annotated[
        str | None,
        typer.Option(
            "--switch",
            help="Leave the ticket's run under way for this runbook, saying why "
            "(e.g. the edge case followed).",
            metavar="REASON",
        ),
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who runs it (staff e-mail or name).")] = None,
    json_out: Json = False,
) -> None:
    """Run a runbook step by step. On a terminal it asks each question; with --answer it
    follows the given answers and shows the next step with its numbered options."""
    from franchise.accounts.service import get_staff
    from franchise.flows.runs import begin_run, record_answer, runner_view, step_back, switch_run
    from franchise.runbooks import engine
    from franchise.runbooks import service as runbooks
    from franchise.tickets.service import get_ticket

    answers = parse_answers(answer or [])
    if back and ticket is None:
        raise InvalidInput("--back needs --ticket: only a run recorded on a ticket can step back")
    interactive = not json_out and sys.stdin.isatty()
    with get_context(ctx).database().unit_of_work() as session:
        row = runbooks.get_runbook(session, key)
        parsed = runbooks.definition(session, row)
        actor = get_staff(session, by) if by else None
        if ticket is None:
            state = engine.follow(parsed, answers)
            while interactive and not state.finished:
                state = engine.answer(state, _ask(state.to_dict()))
            result = state.to_dict()
        else:
            record = get_ticket(session, ticket)
            run_row = runbooks.latest_run(session, record)
            if switch is not None:
                run_row = switch_run(session, record, row, actor=actor, reason=switch)
            elif back:
                if run_row is None or run_row.runbook_id != row.id:
                    raise InvalidInput(
                        f"ticket #{ticket} has no run of '{row.key}' to step back in"
                    )
                step_back(session, record, actor=actor)
            elif run_row is None or run_row.runbook_id != row.id or run_row.outcome is not None:
                run_row = begin_run(session, row, ticket=record, actor=actor)
            assert run_row is not None
            _answer_in_order(session, run_row, answers, actor, save_fact)
            result = runner_view(session, run_row)
            while interactive and result["next"] is not None:
                nxt = result["next"]
                assert isinstance(nxt, dict)
                record_answer(
                    session,
                    run_row,
                    step=str(nxt["step"]),
                    reply=_ask(result),
                    actor=actor,
                    save_fact=save_fact,
                )
                result = runner_view(session, run_row)
            result["run_id"] = run_row.id
            result["ticket_id"] = record.id
    if json_out:
        print_json(result)
        return
    _print_result(result, parsed.steps[str(result["final_step"] or result["next_step"])].text)


def _answer_in_order(
    session: Session,
    run_row: RunbookRun,
    answers: dict[str, list[str]],
    actor: Staff | None,
    save: bool,
) -> None:
    """Apply the --answer replies as the run reaches their steps (in whatever order given)."""
    from franchise.flows.runs import record_answer
    from franchise.runbooks import service as runbooks

    for _ in range(500):
        state = runbooks.run_state(session, run_row)
        queue = answers.get(state.current)
        if state.finished or not queue:
            return
        record_answer(
            session, run_row, step=state.current, reply=queue.pop(0), actor=actor, save_fact=save
        )
    raise InvalidInput("the answers go round in a loop for more than 500 steps")


def _ask(view: dict[str, object]) -> str:
    nxt = view["next"]
    assert isinstance(nxt, dict)
    _print_next(nxt)
    labels = [str(o) for o in nxt["options"]]
    while True:
        reply = str(typer.prompt("Answer (number or text)"))
        if reply.isdecimal() and 1 <= int(reply) <= len(labels):
            return labels[int(reply) - 1]
        if any(reply.strip().casefold() == label.casefold() for label in labels):
            return reply
        console.print("[red]Not one of the answers above.[/]")


def _print_next(nxt: dict[str, object]) -> None:
    """The step waiting for an answer: its text, where to look, numbered options, the client
    profile's answer, an approval it waits on, and the edge cases that apply to it."""
    console.print(
        f"\n[bold cyan]{escape(str(nxt['step']))}[/] " + escape(f"[{nxt['kind']}] {nxt['text']}"),
        highlight=False,
    )
    if nxt.get("where"):
        console.print(f"  where: {nxt['where']}", highlight=False, markup=False)
    options = nxt.get("options")
    for i, label in enumerate(options if isinstance(options, list) else [], 1):
        console.print(f"  {i}. {label}", highlight=False, markup=False)
    fact = nxt.get("fact")
    if isinstance(fact, dict):
        if fact.get("value"):
            console.print(
                f"  client profile: {fact['key']} = {fact['value']}", highlight=False, markup=False
            )
        elif fact.get("can_save"):
            console.print(
                f"  the client profile has no '{fact['key']}' yet: --save-fact saves your answer",
                highlight=False,
                markup=False,
            )
    blocked = nxt.get("blocked_by")
    if isinstance(blocked, dict):
        verb = "waits for" if blocked.get("status") == "pending" else "was denied by"
        console.print(
            f"  blocked: approval #{blocked['approval_id']} {verb} {blocked['level']}; "
            "escalation stays open meanwhile",
            highlight=False,
            markup=False,
        )
    cases = nxt.get("edge_cases")
    for case in cases if isinstance(cases, list) else []:
        console.print(f"  edge case: {case['when']} -> {case['do']}", highlight=False, markup=False)


def _print_result(result: dict[str, object], text: str) -> None:
    outcome = result["outcome"]
    if outcome == "resolved":
        where = escape(f"at '{result['final_step']}': {text}")
        console.print(f"[green]Resolved[/] {where}", highlight=False)
        done = result.get("done_when")
        for item in done if isinstance(done, list) else []:
            console.print(f"  done when: {item}", highlight=False, markup=False)
    elif outcome == "escalate":
        where = escape(f"at '{result['final_step']}': {text}")
        label = "Emergency: escalate" if result.get("emergency") else "Escalate"
        console.print(
            f"[yellow]{label} to {escape(str(result['level']))}[/] {where}", highlight=False
        )
        offer = result.get("offer")
        if isinstance(offer, dict) and offer.get("action") == "escalate":
            ticket = result.get("ticket_id")
            console.print(
                f"  next: franchise ticket escalate {ticket} --to {offer['to']} --by YOU, "
                f"then franchise message send {offer['message_template']} --ticket {ticket} "
                "--by YOU",
                highlight=False,
                markup=False,
            )
    else:
        console.print(
            f"Incomplete: next step '{result['next_step']}'", highlight=False, markup=False
        )
        nxt = result.get("next")
        if isinstance(nxt, dict):
            _print_next(nxt)
