"""franchise settings show|set."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json

app = typer.Typer(no_args_is_help=True)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):
        from franchise.orgsettings.values import parse_business_hours

        return parse_business_hours(value).describe()
    return str(value)


@app.command()
def show(ctx: typer.Context, json_out: Json = False) -> None:
    """Show the organisation settings (stored values and defaults)."""
    from franchise.orgsettings.service import get_config

    with get_context(ctx).database().unit_of_work() as session:
        data = get_config(session).to_dict()
    if json_out:
        print_json(data)
        return
    table = Table("key", "value")
    for key, value in data.items():
        table.add_row(escape(key), escape(_text(value)))
    console.print(table)


@app.command("set")
def set_(
    ctx: typer.Context,
    key: Annotated[
        str,
        typer.Argument(
            help="timezone, business_hours, kpi_target_max, drill_days, drill_cadence_days, "
            "currency, org_name or auto_send_resolved_message."
        ),
    ],
    value: Annotated[
        str, typer.Argument(help="e.g. Europe/Berlin, 'mon-fri 08:00-18:00', 2, monthly, EUR, on.")
    ],
    json_out: Json = False,
) -> None:
    """Change one organisation setting."""
    from franchise.orgsettings.service import set_setting

    with get_context(ctx).database().unit_of_work() as session:
        data = set_setting(session, key, value).to_dict()
    if json_out:
        print_json(data)
        return
    console.print(f"{key} = {_text(data[key])}", highlight=False, markup=False)


@app.command("delivery")
def delivery(
    ctx: typer.Context,
    key: Annotated[
        str,
        typer.Argument(
            help="public_url, slack_signing_secret, notify_urls, smtp_host, smtp_port, "
            "smtp_user, smtp_password, smtp_tls or smtp_from."
        ),
    ],
    value: Annotated[
        str,
        typer.Argument(help="The value; an empty string clears it (the environment's applies)."),
    ],
) -> None:
    """Store one delivery setting (as the Settings page does); secrets are stored sealed."""
    from franchise.orgsettings.secrets import SECRET_KEYS, set_delivery_setting

    context = get_context(ctx)
    with context.database().unit_of_work() as session:
        set_delivery_setting(session, key, value, context.settings)
    shown = ("set" if value.strip() else "cleared") if key in SECRET_KEYS else value.strip()
    console.print(f"{key}: {shown or 'cleared'}", highlight=False, markup=False)
