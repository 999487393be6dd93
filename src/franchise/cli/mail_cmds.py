"""franchise mail poll: tickets and replies from the support mailbox."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.markup import escape

from franchise.cli.context import Json, console, err_console, get_context, print_json

app = typer.Typer(no_args_is_help=True)


@app.command("poll")
def poll(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Poll once and exit.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most messages per poll.")] = 200,
    json_out: Json = False,
) -> None:
    """Open tickets from new mail and add replies ("[#123]" in the subject) to their tickets.

    Without --once it polls every FRANCHISE_IMAP_POLL_SECONDS until stopped (Ctrl-C).
    """
    from franchise.mailin.config import MailboxConfig
    from franchise.mailin.poller import MailboxUnavailable, poll_mailbox

    context = get_context(ctx)
    config = MailboxConfig.from_settings(context.settings)
    db = context.database()
    if once:
        report = poll_mailbox(db, config, limit=limit).to_dict()
        _show(report, json_out)
        if report["errors"]:
            raise typer.Exit(1)
        return
    try:
        while True:
            try:
                _show(poll_mailbox(db, config, limit=limit).to_dict(), json_out)
            except MailboxUnavailable as exc:
                # A mail server restart should not stop the poller; say so and try again.
                err_console.print(f"[red]error:[/] {escape(exc.message)}", highlight=False)
            time.sleep(config.poll_seconds)
    except KeyboardInterrupt:
        return


def _show(report: dict[str, Any], json_out: bool) -> None:
    if json_out:
        print_json(report)
        return
    tickets = ", ".join(f"#{t}" for t in report["tickets"]) or "none"
    replies = ", ".join(f"#{t}" for t in report["replies"]) or "none"
    console.print(
        f"{escape(str(report['mailbox']))}: {report['fetched']} message(s); "
        f"new tickets: {tickets}; "
        f"replies on: {replies}; {report['duplicates']} duplicate(s), "
        f"{report['ignored']} automatic mail ignored.",
        highlight=False,
        soft_wrap=True,
    )
    for error in report["errors"]:
        err_console.print(
            f"[red]UID {error['uid']} {escape(str(error['message_id']))}:[/] "
            f"{escape(str(error['error']))}",
            highlight=False,
            soft_wrap=True,
        )
