"""The `franchise` command: a thin layer over the services.

Heavy libraries (SQLAlchemy models, FastAPI, numpy) are imported inside the commands
that need them, so `franchise --help` starts fast.
"""

from __future__ import annotations

from typing import Any

import typer
import typer._click as click
from rich.markup import escape
from typer.core import TyperGroup

from franchise.cli.context import err_console
from franchise.errors import UNSTORABLE, FranchiseError


class FranchiseGroup(TyperGroup):
    """Renders every FranchiseError as a red line and an exit code; no tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FranchiseError as exc:
            _print_error(exc.message, exc.errors)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            from franchise.db import is_unstorable

            if not is_unstorable(exc):
                raise
            _print_error(UNSTORABLE, [])
            raise typer.Exit(2) from None


def _print_error(message: str, errors: list[dict[str, Any]]) -> None:
    # User text (titles, file names) may hold [brackets]: never let Rich read it as markup.
    err_console.print("[bold red]error:[/] " + escape(message), highlight=False, soft_wrap=True)
    for item in errors[:50]:
        if "file" in item:
            step = f" step '{item['step']}'" if item.get("step") else ""
            line = f"  {item['file']}:{item['line']}:{step} {item['message']}"
        else:
            line = f"  {item}"
        err_console.print(escape(line), highlight=False, soft_wrap=True)


app = typer.Typer(
    name="franchise",
    cls=FranchiseGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Franchise: runbooks, escalation map and approval limits so your MSP runs without its owner.",
)


def _register() -> None:
    from franchise.cli import (
        alert_cmds,
        approval_cmds,
        ask_cmds,
        audit_cmds,
        backup_cmds,
        client_cmds,
        contact_cmds,
        drill_cmds,
        duty_cmds,
        escalation_cmds,
        import_cmds,
        kb_cmds,
        lesson_cmds,
        mail_cmds,
        message_cmds,
        ops_cmds,
        psa_cmds,
        run_cmd,
        runbook_cmds,
        settings_cmds,
        setup_cmds,
        suggest_cmd,
        ticket_cmds,
        user_cmds,
    )

    setup_cmds.register(app)
    backup_cmds.register(app)
    ops_cmds.register(app)
    app.add_typer(
        runbook_cmds.app, name="runbook", help="List, show, lint, import and export runbooks."
    )
    suggest_cmd.register(app)
    run_cmd.register(app)
    app.add_typer(ticket_cmds.app, name="ticket", help="Create, list and show tickets.")
    app.add_typer(client_cmds.app, name="client", help="Clients, their contacts and profile facts.")
    app.add_typer(duty_cmds.app, name="duty", help="The duty roster: who takes escalations.")
    app.add_typer(user_cmds.user_app, name="user", help="Add and list staff.")
    app.add_typer(user_cmds.token_app, name="token", help="Create, list and revoke API tokens.")
    approval_cmds.register(app)
    app.add_typer(settings_cmds.app, name="settings", help="Show and change organisation settings.")
    app.add_typer(contact_cmds.app, name="contact", help="Log, import and list owner contacts.")
    contact_cmds.register(app)
    app.add_typer(
        lesson_cmds.app, name="lesson", help="Capture, list and reject lessons learned on tickets."
    )
    lesson_cmds.register(runbook_cmds.app)
    audit_cmds.register(app)
    ask_cmds.register(app)
    drill_cmds.register(app)
    alert_cmds.register(app)
    app.add_typer(import_cmds.app, name="import", help="Import tickets from PSA exports.")
    app.add_typer(
        import_cmds.webhooks_app, name="webhooks", help="Deliver signed webhook events to the PSA."
    )
    app.add_typer(kb_cmds.app, name="kb", help="Publish runbooks as articles in Hudu or IT Glue.")
    app.add_typer(
        psa_cmds.app,
        name="psa",
        help="Two-way sync with the PSA's API (HaloPSA, ConnectWise PSA, Autotask).",
    )
    app.add_typer(
        mail_cmds.app, name="mail", help="Poll the support mailbox: new mail opens tickets."
    )
    app.add_typer(
        escalation_cmds.app,
        name="escalation",
        help="Check a ticket's escalation; show, lint, import and export the escalation map.",
    )
    ticket_cmds.app.command("escalate")(escalation_cmds.escalate)
    app.add_typer(
        message_cmds.app, name="message", help="Render, send and list client messages on tickets."
    )
    app.add_typer(
        message_cmds.templates_app,
        name="templates",
        help="Show, lint, import and export client message templates.",
    )


_register()


def main() -> None:
    app()
