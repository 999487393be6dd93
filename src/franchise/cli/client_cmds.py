"""franchise client fact set|list|unset: the client profile that answers runbook checks."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json

app = typer.Typer(no_args_is_help=True)
fact_app = typer.Typer(no_args_is_help=True)
app.add_typer(fact_app, name="fact", help="The client profile: facts that answer runbook checks.")


@fact_app.command("set")
def fact_set(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(help="Client name or id.")],
    key: Annotated[str, typer.Argument(help="Fact key, e.g. vpn, backup, mail_gateway.")],
    value: Annotated[str, typer.Argument(help="The value, as a runbook option names it.")],
    by: Annotated[str | None, typer.Option(help="Who types it (staff e-mail or name).")] = None,
) -> None:
    """Set one fact of a client's profile (replaces the value it had)."""
    from franchise.accounts.service import get_staff
    from franchise.clients.facts import set_fact
    from franchise.clients.service import get_client

    with get_context(ctx).database().unit_of_work() as session:
        actor = get_staff(session, by) if by else None
        row = get_client(session, client)
        fact = set_fact(session, row, key, value, by=actor)
        name, saved_key, saved = row.name, fact.key, fact.value
    console.print(f"{escape(name)}: {escape(saved_key)} = {escape(saved)}", highlight=False)


@fact_app.command("list")
def fact_list(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(help="Client name or id.")],
    json_out: Json = False,
) -> None:
    """A client's profile facts, with where each came from and when."""
    from franchise.clients.facts import list_facts
    from franchise.clients.service import get_client

    with get_context(ctx).database().unit_of_work() as session:
        rows = [f.to_dict() for f in list_facts(session, get_client(session, client))]
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("No facts yet: `franchise client fact set CLIENT KEY VALUE` adds one.")
        return
    table = Table("key", "value", "from", "when", title=f"Profile of {client}")
    for r in rows:
        table.add_row(
            escape(str(r["key"])),
            escape(str(r["value"])),
            escape(str(r["origin"])),
            str(r["updated_at"])[:16],
        )
    console.print(table)


@fact_app.command("unset")
def fact_unset(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(help="Client name or id.")],
    key: Annotated[str, typer.Argument(help="Fact key.")],
) -> None:
    """Remove a fact from a client's profile."""
    from franchise.clients.facts import unset_fact
    from franchise.clients.service import get_client

    with get_context(ctx).database().unit_of_work() as session:
        unset_fact(session, get_client(session, client), key)
    console.print(f"Removed {escape(key)}.")
