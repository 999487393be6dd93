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
    """Suggest the best runbooks for a ticket text, with why."""
    from franchise.suggest.service import suggest as run_suggest

    with get_context(ctx).database().unit_of_work() as session:
        results = [
            s.to_dict() for s in run_suggest(session, text, alert_type=alert_type, limit=limit)
        ]
    if json_out:
        print_json(results)
        return
    table = Table("key", "category", "score", "why")
    for r in results:
        table.add_row(
            escape(r["key"]), escape(r["category"]), f"{r['score']:.3f}", escape(r["why"])
        )
    console.print(table)
