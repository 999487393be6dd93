"""init, demo and serve."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from franchise.cli.context import Json, console, get_context, print_json


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(demo)
    app.command()(serve)


def init(ctx: typer.Context, json_out: Json = False) -> None:
    """Create or upgrade the database and load the starter library (safe to run again)."""
    from franchise.bootstrap import initialise

    cli = get_context(ctx)
    db = cli.database()
    with db.unit_of_work() as session:
        report = initialise(session)
    report["database"] = cli.settings.resolved_database_url
    if json_out:
        print_json(report)
        return
    console.print(f"Database ready: {escape(str(report['database']))}")
    console.print(
        f"Starter runbooks loaded: {report['runbooks_loaded']} (total {report['runbooks_total']})"
    )


def demo(
    ctx: typer.Context,
    json_out: Json = False,
    seed: Annotated[int, typer.Option(help="Seed for the generator; same seed, same demo.")] = 7,
) -> None:
    """Load the demo MSP: 20 clients, 120 endpoints, staff and eight weeks of tickets."""
    from franchise.bootstrap import initialise
    from franchise.demo.service import load_demo

    cli = get_context(ctx)
    with cli.database().unit_of_work() as session:
        initialise(session)
        report = load_demo(session, seed=seed)
    if json_out:
        print_json(report)
        return
    if report.get("already_loaded"):
        console.print("The demo MSP is already loaded.")
    else:
        console.print(
            f"Demo MSP loaded: {report['clients']} clients, {report['endpoints']} endpoints, "
            f"{report['staff']} staff, {report['tickets']} tickets."
        )
    logins = report.get("logins", [])
    role_width = max((len(login["role"]) for login in logins), default=0)
    email_width = max((len(login["email"]) for login in logins), default=0)
    for login in logins:
        console.print(
            f"  {login['role']:<{role_width}}  {login['email']:<{email_width}}  password: {login['password']}",
            highlight=False,
            markup=False,
            soft_wrap=True,  # a password split over two lines reads as two words
        )


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default FRANCHISE_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default FRANCHISE_PORT, 8000).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL deployments).")] = 1,
) -> None:
    """Serve the web app and the HTTP API."""
    from franchise.server import replace_process

    cli = get_context(ctx)
    cli.database()  # migrate before the first request
    settings = cli.settings
    bind_host = host or settings.host
    bind_port = port or settings.port
    console.print(f"Franchise on http://{escape(bind_host)}:{bind_port}  (API docs at /docs)")
    # A fresh interpreter serves: this one holds the command line and the migration check.
    replace_process(bind_host, bind_port, workers)
