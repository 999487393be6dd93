"""franchise integration ..., franchise alert ..., and franchise worker."""

from __future__ import annotations

import signal
import threading
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, err_console, get_context, print_json

integration_app = typer.Typer(no_args_is_help=True)
alert_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(
        integration_app,
        name="integration",
        help="Alert webhooks: add, list and revoke integrations; map alerts to clients.",
    )
    app.add_typer(
        alert_app, name="alert", help="The alert inbox, alert groups and the triage queue."
    )
    app.command()(worker)


@integration_app.command("add")
def add(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Argument(help="alertmanager, pagerduty, zabbix, grafana, uptimerobot or generic."),
    ],
    name: Annotated[
        str | None, typer.Option(help="What posts here, e.g. 'Acme Prometheus'.")
    ] = None,
    client: Annotated[
        str | None, typer.Option(help="Client every alert of this integration belongs to.")
    ] = None,
    auto_resolve: Annotated[
        bool,
        typer.Option(
            help="Resolve the ticket when the monitoring tool reports the alert resolved."
        ),
    ] = False,
    group_by: Annotated[
        str,
        typer.Option(
            help="group: one ticket per notification group (Alertmanager's groupKey) where "
            "the format sends one; alert: one ticket per alert (its fingerprint)."
        ),
    ] = "group",
    base_url: Annotated[
        str | None,
        typer.Option(help="Public address of Franchise (default http://FRANCHISE_HOST:PORT)."),
    ] = None,
    json_out: Json = False,
) -> None:
    """Create an integration. Its webhook URL and token are shown once; only a hash is kept."""
    from franchise.alerts.present import hook_url, integration_dict
    from franchise.alerts.service import add_integration

    cli = get_context(ctx)
    with cli.database().unit_of_work() as session:
        integration, token = add_integration(
            session,
            kind=kind,
            name=name,
            client=client,
            auto_resolve=auto_resolve,
            group_by=group_by,
        )
        data = integration_dict(session, integration)
    base = base_url or f"http://{cli.settings.host}:{cli.settings.port}"
    data["token"] = token
    data["url"] = hook_url(base, kind, token)
    if json_out:
        print_json(data)
        return
    console.print(f"Integration {data['id']} ({escape(kind)}) created. Shown once, keep it safe:")
    console.print(f"  URL:   {escape(data['url'])}", highlight=False, soft_wrap=True)
    console.print(f"  token: {escape(token)}", highlight=False, soft_wrap=True)
    console.print(
        f"Or post to {escape(base.rstrip('/'))}/api/v1/hooks/{escape(kind)} with the header "
        "'X-Franchise-Token: <token>'.",
        highlight=False,
        soft_wrap=True,
    )


@integration_app.command("list")
def list_(ctx: typer.Context, json_out: Json = False) -> None:
    """List integrations (never their tokens)."""
    from franchise.alerts.present import integration_dict
    from franchise.alerts.service import list_integrations

    with get_context(ctx).database().unit_of_work() as session:
        rows = [integration_dict(session, i) for i in list_integrations(session)]
    if json_out:
        print_json(rows)
        return
    table = Table("id", "kind", "name", "client", "auto-resolve", "token", "revoked")
    for r in rows:
        table.add_row(
            str(r["id"]),
            escape(r["kind"]),
            escape(r["name"] or ""),
            escape(r["client"] or ""),
            "yes" if r["auto_resolve"] else "no",
            f"{escape(r['token_prefix'])}…",
            escape(r["revoked_at"] or ""),
        )
    console.print(table)


@integration_app.command("revoke")
def revoke(
    ctx: typer.Context,
    integration_id: Annotated[int, typer.Argument(help="Integration id.")],
    json_out: Json = False,
) -> None:
    """Revoke an integration's token: its webhooks get 401 (within 30 s on running servers)."""
    from franchise.alerts.present import integration_dict
    from franchise.alerts.service import revoke_integration

    with get_context(ctx).database().unit_of_work() as session:
        data = integration_dict(session, revoke_integration(session, integration_id))
    if json_out:
        print_json(data)
        return
    console.print(f"Revoked integration {integration_id} ({data['kind']}).")


@integration_app.command("map")
def map_(
    ctx: typer.Context,
    client: Annotated[str, typer.Option(help="Client name or id the alerts belong to.")],
    label: Annotated[
        str | None, typer.Option(help="KEY=VALUE: alerts whose label KEY has this VALUE.")
    ] = None,
    host_pattern: Annotated[
        str | None, typer.Option(help="Host-name glob, e.g. '*.acme.local' (any case).")
    ] = None,
    integration: Annotated[
        int | None, typer.Option(help="Only for this integration (default: all).")
    ] = None,
    json_out: Json = False,
) -> None:
    """Map alerts to a client by a label or a host-name pattern."""
    from franchise.alerts.present import mapping_dict
    from franchise.alerts.service import add_mapping

    with get_context(ctx).database().unit_of_work() as session:
        mapping = add_mapping(
            session,
            client=client,
            label=label,
            host_pattern=host_pattern,
            integration_id=integration,
        )
        data = mapping_dict(session, mapping)
    if json_out:
        print_json(data)
        return
    rule = data["label"] or f"host {data['host_pattern']}"
    console.print(
        f"Mapping {data['id']}: {escape(rule)} -> {escape(str(data['client']))}", highlight=False
    )


@integration_app.command("mappings")
def mappings(ctx: typer.Context, json_out: Json = False) -> None:
    """List the alert-to-client mappings."""
    from franchise.alerts.present import mapping_dict
    from franchise.alerts.service import list_mappings

    with get_context(ctx).database().unit_of_work() as session:
        rows = [mapping_dict(session, m) for m in list_mappings(session)]
    if json_out:
        print_json(rows)
        return
    table = Table("id", "integration", "label", "host pattern", "client")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["integration_id"] or "all"),
            escape(r["label"] or ""),
            escape(r["host_pattern"] or ""),
            escape(r["client"] or ""),
        )
    console.print(table)


@integration_app.command("unmap")
def unmap(
    ctx: typer.Context, mapping_id: Annotated[int, typer.Argument(help="Mapping id.")]
) -> None:
    """Delete an alert-to-client mapping."""
    from franchise.alerts.service import delete_mapping

    with get_context(ctx).database().unit_of_work() as session:
        delete_mapping(session, mapping_id)
    console.print(f"Deleted mapping {mapping_id}.")


@alert_app.command("inbox")
def inbox(
    ctx: typer.Context,
    state: Annotated[
        str | None, typer.Option(help="pending, processing, done, failed or rejected.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    body: Annotated[bool, typer.Option("--body", help="Include the raw bodies.")] = False,
    json_out: Json = False,
) -> None:
    """List received webhook bodies, newest first, with their processing state."""
    from franchise.alerts.inbox import inbox_dict, list_inbox

    with get_context(ctx).database().unit_of_work() as session:
        rows = [
            inbox_dict(i, with_body=body) for i in list_inbox(session, state=state, limit=limit)
        ]
    if json_out:
        print_json(rows)
        return
    table = Table("id", "received", "kind", "state", "alerts", "attempts", "error")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["received_at"]),
            escape(str(r["kind"])),
            str(r["state"]),
            str(r["alerts"]),
            str(r["attempts"]),
            escape(str(r["error"] or "")),
        )
    console.print(table)
    if body:
        for r in rows:
            console.print(f"\n[bold]#{r['id']}[/]")
            print_json(r["body"])


@alert_app.command("triage")
def triage(ctx: typer.Context, json_out: Json = False) -> None:
    """Open alert tickets with no client (no mapping matched): assign them or add a mapping."""
    from franchise.alerts.present import triage_queue

    with get_context(ctx).database().unit_of_work() as session:
        rows = triage_queue(session)
    if json_out:
        print_json(rows)
        return
    table = Table("ticket", "priority", "host", "count", "runbook", "title")
    for r in rows:
        table.add_row(
            f"#{r['ticket_id']}",
            r["priority"],
            escape(r["host"] or ""),
            str(r["count"] or ""),
            escape(r["runbook_key"] or ""),
            escape(r["title"]),
        )
    console.print(table)


@alert_app.command("groups")
def groups(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="firing or resolved.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    json_out: Json = False,
) -> None:
    """List alert groups (one per alert), most recently seen first, with their counts."""
    from franchise.alerts.present import group_dict, list_groups

    with get_context(ctx).database().unit_of_work() as session:
        rows = [group_dict(g) for g in list_groups(session, status=status, limit=limit)]
    if json_out:
        print_json(rows)
        return
    table = Table("id", "status", "count", "ticket", "last seen", "host", "title")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["status"],
            str(r["count"]),
            f"#{r['ticket_id']}" if r["ticket_id"] else "",
            r["last_seen"],
            escape(r["host"] or ""),
            escape(r["title"]),
        )
    console.print(table)


def worker(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Drain the inbox, then exit.")] = False,
    batch: Annotated[
        int,
        typer.Option(
            min=1,
            max=1000,
            help="Most items claimed at a time; a claim holds at most 1,000 alerts in all.",
        ),
    ] = 1000,  # alerts.worker.DEFAULT_BATCH (imported lazily, as the CLI does)
    lease: Annotated[
        float, typer.Option(min=1, help="Seconds after which another worker may retake a claim.")
    ] = 60.0,
    poll: Annotated[
        float, typer.Option(min=0.1, help="Seconds between looks at an empty inbox.")
    ] = 1.0,
    json_out: Json = False,
) -> None:
    """Process the alert inbox into tickets, send (and retry) the e-mails, notifications and
    PSA webhook events in the outbox, and run the PSA sync; run several in parallel on PostgreSQL."""
    from franchise.alerts.worker import Report, process_pending, worker_name
    from franchise.flows.sender import send_due
    from franchise.ops.heartbeat import WORKER, RollCall, serve_drainers_on
    from franchise.ops.logs import configure_logging
    from franchise.psa.connectors.sync import sync_if_due
    from franchise.suggest.service import warm_up

    cli = get_context(ctx)
    db = cli.database()
    if cli.settings.log_format == "json":
        # Only when asked: a worker's stderr is often a pipe nobody reads until it exits.
        configure_logging("json")
    name = worker_name()
    stop = threading.Event()
    total = Report()
    deliveries: dict[str, int] = {}
    warm_up()
    roll_call = RollCall(db, name, kind=WORKER)
    if not once:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        err_console.print(
            f"Worker {escape(name)} ready: processing the alert inbox (Ctrl-C to stop)."
        )
        both = serve_drainers_on(db)
        if both:
            err_console.print(
                f"[yellow]warning:[/] {both} franchise serve process(es) run the in-process "
                "worker with FRANCHISE_INPROCESS_WORKER=on: both process the inbox. Set it to "
                "auto (or off) there."
            )
    try:
        while not stop.is_set():
            if not once:
                roll_call.should_drain()  # a worker always drains; this keeps its row fresh
            report = process_pending(db, worker=name, batch=batch, lease_seconds=lease, stop=stop)
            total.add(report)
            roll_call.processed = total.done
            synced = sync_if_due(db, cli.settings)
            sent = send_due(db, cli.settings)
            for state_name, count in sent.items():
                deliveries[state_name] = deliveries.get(state_name, 0) + count
            if once:
                break
            if report.claimed == 0 and not sent and not synced:
                stop.wait(poll)
    finally:
        if not once:
            roll_call.leave()
    data: dict[str, Any] = {"worker": name, **total.to_dict(), "outbox": deliveries}
    if json_out:
        print_json(data)
        return
    console.print(
        f"Processed {data['done']} inbox item(s) with {data['alerts']} alert(s); "
        f"{data['failed']} failed.",
        highlight=False,
    )
