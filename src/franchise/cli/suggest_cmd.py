"""franchise suggest."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json


def register(app: typer.Typer) -> None:
    app.command()(suggest)


def suggest(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The ticket text (title and body).")],
    json_out: Json = False,
    alert_type: Annotated[
        str | None, typer.Option(help="Alert type, e.g. vpn.tunnel_down.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=20)] = 3,
) -> None:
    """Suggest the best runbooks for a ticket text, with why, and how sure the first one is
    (the probability it is right); below the attach threshold: "no runbook fits"."""
    from franchise.suggest.service import match as run_match

    with get_context(ctx).database().unit_of_work() as session:
        found = run_match(session, text, alert_type=alert_type, limit=limit).to_dict()
    if json_out:
        print_json(found)
        return
    results = found["suggestions"]
    if found["fits"]:
        verdict = f"Best: {found['runbook']} (confidence {found['confidence']:.2f})"
    else:
        verdict = (
            f"No runbook fits: the best match has confidence {found['confidence']:.2f}, "
            f"below {found['threshold']:.2f}; it is only offered"
        )
    console.print(verdict, highlight=False, markup=False)
    table = Table("key", "category", "score", "why")
    for r in results:
        table.add_row(
            escape(r["key"]), escape(r["category"]), f"{r['score']:.3f}", escape(r["why"])
        )
    console.print(table)
