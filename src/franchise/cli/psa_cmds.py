"""franchise psa: connect a PSA's API, sync tickets both ways, and see where the sync stands."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from franchise.cli.context import Json, console, err_console, get_context, print_json

app = typer.Typer(no_args_is_help=True)
connect_app = typer.Typer(no_args_is_help=True)
app.add_typer(
    connect_app,
    name="connect",
    help="Store the PSA's API address and credentials (secrets sealed).",
)


Test = Annotated[bool, typer.Option(help="Sign in once to check the credentials.")]
FieldId = Annotated[
    str, typer.Option(help="Id of the ticket custom field for Escalation Allowed and level.")
]


def _secret(envvar: str, help: str, *, prompt: bool = True) -> Any:
    """A secret option: read from the environment, else asked for without echo (`prompt`),
    else left empty (then what needs it is refused)."""
    return typer.Option(envvar=envvar, prompt=prompt, hide_input=prompt, help=help)


@connect_app.command("halopsa")
def connect_halopsa(
    ctx: typer.Context,
    url: Annotated[str, typer.Option(help="Your Halo address, e.g. https://acme.halopsa.com.")],
    client_id: Annotated[str, typer.Option(help="The API application's Client ID.")],
    field_id: FieldId,
    client_secret: Annotated[
        str,
        _secret(
            "FRANCHISE_HALO_CLIENT_SECRET",
            "The API application's Client Secret (asked for when not in the environment).",
        ),
    ],
    tenant: Annotated[str, typer.Option(help="Tenant name (Halo-hosted only).")] = "",
    resolved_status_id: Annotated[
        str,
        typer.Option(help="Halo status id a resolution sets (default: the one named Resolved)."),
    ] = "",
    webhook_user: Annotated[
        str, typer.Option(help="User name Halo's webhook sends (Basic authentication).")
    ] = "franchise",
    webhook_password: Annotated[
        str,
        _secret(
            "FRANCHISE_HALO_WEBHOOK_PASSWORD",
            "Password Halo's webhook sends; without it inbound webhooks are refused.",
            prompt=False,
        ),
    ] = "",
    test: Test = True,
    json_out: Json = False,
) -> None:
    """Connect HaloPSA (OAuth2 client credentials)."""
    _connect("halopsa", **locals())


@connect_app.command("connectwise")
def connect_connectwise(
    ctx: typer.Context,
    url: Annotated[
        str,
        typer.Option(
            help="REST base, e.g. https://api-na.myconnectwise.net/v4_6_release/apis/3.0."
        ),
    ],
    company: Annotated[str, typer.Option(help="Company id you sign in to ConnectWise with.")],
    public_key: Annotated[str, typer.Option(help="The API member's public key.")],
    client_id: Annotated[str, typer.Option(help="Your clientId from developer.connectwise.com.")],
    field_id: FieldId,
    private_key: Annotated[
        str,
        _secret(
            "FRANCHISE_CW_PRIVATE_KEY",
            "The API member's private key (asked for when not in the environment).",
        ),
    ],
    resolved_status: Annotated[
        str, typer.Option(help="Status name a resolution sets (default: leave the status).")
    ] = "",
    test: Test = True,
    json_out: Json = False,
) -> None:
    """Connect ConnectWise PSA (API member keys and your clientId)."""
    _connect("connectwise", **locals())


@connect_app.command("autotask")
def connect_autotask(
    ctx: typer.Context,
    username: Annotated[str, typer.Option(help="The API user's user name (an e-mail address).")],
    integration_code: Annotated[
        str, typer.Option(help="The API tracking identifier (ApiIntegrationCode).")
    ],
    field_name: Annotated[
        str, typer.Option(help="Name of the ticket user-defined field for the escalation answer.")
    ],
    secret: Annotated[
        str,
        _secret(
            "FRANCHISE_AUTOTASK_SECRET",
            "The API user's secret (asked for when not in the environment).",
        ),
    ],
    url: Annotated[
        str, typer.Option(help="Where the zone is looked up (the default is Autotask's).")
    ] = "https://webservices.autotask.net/atservicesrest",
    resolved_status: Annotated[
        str, typer.Option(help="Status picklist value a resolution sets (default 5, Complete).")
    ] = "",
    webhook_secret: Annotated[
        str,
        _secret(
            "FRANCHISE_AUTOTASK_WEBHOOK_SECRET",
            "The ticket webhook's secret key; without it inbound webhooks are refused.",
            prompt=False,
        ),
    ] = "",
    test: Test = True,
    json_out: Json = False,
) -> None:
    """Connect Autotask (API user headers; the zone is looked up)."""
    _connect("autotask", **locals())


def _connect(
    vendor: str, ctx: typer.Context, url: str, test: bool, json_out: bool, **given: str
) -> None:
    """The one connect body: every other option of the command is one of the connector's
    settings by the same name, sealed if it is one of its SECRETS."""
    from franchise.psa.connectors.service import check_connection
    from franchise.psa.connectors.store import AVAILABLE, save_connection

    module = AVAILABLE[vendor]
    cli = get_context(ctx)
    db = cli.database()
    with db.unit_of_work() as session:
        config = save_connection(
            session,
            cli.settings,
            vendor=vendor,
            url=url,
            # A name the connector does not know is refused by save_connection.
            options={k: v for k, v in given.items() if k not in module.SECRETS},
            secrets={k: v for k, v in given.items() if k in module.SECRETS},
        )
    data: dict[str, Any] = {"vendor": config.vendor, "url": config.base_url, "test": None}
    if test:
        data["test"] = check_connection(db, cli.settings)
    if json_out:
        print_json(data)
        return
    console.print(f"Connected {config.vendor} at {escape(config.base_url)}.", highlight=False)
    if data["test"]:
        console.print(escape(data["test"]), highlight=False)


@app.command("sync")
def sync(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="One sync, then exit.")] = False,
    interval: Annotated[
        float, typer.Option(min=5, help="Seconds between syncs when running on.")
    ] = 60.0,
    json_out: Json = False,
) -> None:
    """Pull new and changed PSA tickets and send what waits for the PSA; without --once, every
    --interval seconds until stopped (exit 1 when a --once sync failed)."""
    import time

    from franchise.flows.sender import send_due
    from franchise.psa.connectors.sync import sync_once

    cli = get_context(ctx)
    db = cli.database()
    while not once:
        report = sync_once(db, cli.settings, interval=interval)
        send_due(db, cli.settings)
        if report.skipped is None:
            _print_report(report.to_dict())
        time.sleep(1.0)
    report = sync_once(db, cli.settings)
    data = {**report.to_dict(), "outbox": send_due(db, cli.settings)}
    if json_out:
        print_json(data)
    else:
        _print_report(data)
    if not report.ok or report.errors:
        raise typer.Exit(1)


def _print_report(data: dict[str, Any]) -> None:
    if data["skipped"]:
        console.print(f"{data['vendor']}: not synced: {data['skipped']}.", highlight=False)
    elif data["ok"]:
        console.print(
            f"{data['vendor']}: {data['received']} ticket(s) read in {data['pages']} page(s): "
            f"{data['imported']} new, {data['updated']} updated, {data['unchanged']} unchanged.",
            highlight=False,
        )
    else:
        err_console.print(
            f"[red]{data['vendor']} sync failed:[/] {escape(str(data['error']))}; "
            f"next try at {data['retry_at']}",
            highlight=False,
            soft_wrap=True,
        )
    for error in data["errors"]:
        err_console.print(
            f"[red]ticket {escape(str(error['ticket']))}:[/] {escape(str(error['message']))}",
            highlight=False,
            soft_wrap=True,
        )


@app.command("status")
def status(ctx: typer.Context, json_out: Json = False) -> None:
    """Where the sync stands: cursor, last success, pushes queued and failed."""
    from franchise.psa.connectors.service import sync_status

    cli = get_context(ctx)
    with cli.database().unit_of_work() as session:
        data = sync_status(session, cli.settings)
    if json_out:
        print_json(data)
        return
    if not data["connected"]:
        console.print("No PSA connected (franchise psa connect halopsa|connectwise|autotask ...).")
        return
    console.print(
        f"{data['vendor']} at {escape(str(data['url']))}\n"
        f"cursor: {data['cursor'] or '(first sync not done)'}\n"
        f"last success: {data['last_success_at'] or 'never'}; failures in a row: "
        f"{data['failures']}\n"
        f"pushes queued: {data['queued']}, delivered: {data['delivered']}, "
        f"failed: {data['failed']}",
        highlight=False,
    )
    if data["last_error"]:
        err_console.print(f"[red]last error:[/] {escape(data['last_error'])}", highlight=False)
