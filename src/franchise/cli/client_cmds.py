"""franchise client fact set|list|unset: the client profile that answers runbook checks;
franchise client outage show|set: the client's outage correlation."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json

app = typer.Typer(no_args_is_help=True)
fact_app = typer.Typer(no_args_is_help=True)
app.add_typer(fact_app, name="fact", help="The client profile: facts that answer runbook checks.")
outage_app = typer.Typer(no_args_is_help=True)
app.add_typer(
    outage_app,
    name="outage",
    help="Outage correlation per client: N new alert groups within M minutes, or off.",
)
DEFAULT_WORD = "default"


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


def _outage_value(raw: str | None) -> Any:
    """An option as set_outage takes it: not given, 'default' (None) or the text."""
    from franchise.clients.outage import UNCHANGED

    if raw is None:
        return UNCHANGED
    return None if raw.strip().lower() == DEFAULT_WORD else raw


def _print_outage(values: dict[str, object]) -> None:
    if not values["enabled"]:
        state = f"off ({values['alert_groups_from']})"
    else:
        state = (
            f"{values['alert_groups']} new alert groups ({values['alert_groups_from']}) "
            f"within {values['window_minutes']} minutes ({values['window_minutes_from']})"
        )
    console.print(f"{escape(str(values['client']))}: outage correlation {state}", highlight=False)


@outage_app.command("show")
def outage_show(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(help="Client name or id.")],
    json_out: Json = False,
) -> None:
    """The client's outage correlation in effect, and whether each value is the client's
    own or the organisation's."""
    from franchise.clients.outage import outage_settings
    from franchise.clients.service import get_client

    with get_context(ctx).database().unit_of_work() as session:
        values = outage_settings(session, get_client(session, client)).to_dict()
    if json_out:
        print_json(values)
        return
    _print_outage(values)


@outage_app.command("set")
def outage_set(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(help="Client name or id.")],
    groups: Annotated[
        str | None,
        typer.Option(help="New alert groups that open an outage (0: off; 'default': the org's)."),
    ] = None,
    window: Annotated[
        str | None, typer.Option(help="Window in minutes (1-1440; 'default': the org's).")
    ] = None,
    off: Annotated[
        bool, typer.Option("--off", help="Turn correlation off for the client.")
    ] = False,
    json_out: Json = False,
) -> None:
    """Set the client's own outage correlation values (unnamed ones stay as they are)."""
    from franchise.clients.outage import set_outage
    from franchise.clients.service import get_client
    from franchise.errors import InvalidInput

    if off and groups is not None:
        raise InvalidInput("give --off or --groups, not both")
    if not off and groups is None and window is None:
        raise InvalidInput("nothing to set: give --groups, --window or --off")
    with get_context(ctx).database().unit_of_work() as session:
        row = get_client(session, client)
        values = set_outage(
            session,
            row,
            alert_groups=0 if off else _outage_value(groups),
            window_minutes=_outage_value(window),
        ).to_dict()
    if json_out:
        print_json(values)
        return
    _print_outage(values)
