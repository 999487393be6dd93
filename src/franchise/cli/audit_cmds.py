"""franchise audit."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json


def register(root: typer.Typer) -> None:
    root.command("audit")(audit)


def audit(ctx: typer.Context, json_out: Json = False) -> None:
    """Score the business 0-100, name the #1 bottleneck and the next actions."""
    from franchise.audit.service import audit as run_audit

    with get_context(ctx).database().unit_of_work() as session:
        report = run_audit(session)
    if json_out:
        print_json(report)
        return
    print_audit(report)


def print_audit(report: dict[str, Any]) -> None:
    score = report["score"]
    colour = "green" if score >= 75 else "yellow" if score >= 50 else "red"
    console.print(f"[bold]Audit score: [{colour}]{score}[/] / 100[/]")
    table = Table("component", "points", "weight", "detail")
    for c in report["components"]:
        table.add_row(escape(c["name"]), f"{c['points']:g}", str(c["weight"]), escape(c["detail"]))
    console.print(table)
    name = report["bottleneck"]
    label = name.replace("_", " ") if name else "none"
    console.print(
        f"[bold]#1 bottleneck:[/] {escape(label)} ({escape(str(report['bottleneck_detail']))})",
        highlight=False,
    )
    if report["next_actions"]:
        console.print("[bold]Next actions[/]")
        for action in report["next_actions"]:
            console.print(f"  - {escape(action)}", highlight=False, soft_wrap=True)
    nxt = report["write_next"]
    if nxt:
        runbook = f" (extend {nxt['runbook']})" if nxt.get("runbook") else ""
        what = escape(f"{nxt['category']}{runbook}: {nxt['reason']}")
        console.print(
            f"[bold]Runbook to write next:[/] {what}",
            highlight=False,
        )
