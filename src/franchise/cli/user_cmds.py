"""franchise user add|list|edit|deactivate|reactivate|reassign|reset-link|set-password ...
and franchise token create|list|revoke."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json
from franchise.wording import plural

user_app = typer.Typer(no_args_is_help=True)
token_app = typer.Typer(no_args_is_help=True)


@user_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Full name.")],
    email: Annotated[str, typer.Option(help="Sign-in e-mail.")],
    role: Annotated[
        str, typer.Option(help="technician, service_manager, owner or admin.")
    ] = "technician",
    level: Annotated[str, typer.Option(help="L1, L2 or owner.")] = "L1",
    password: Annotated[
        str | None,
        typer.Option(help="Sign-in password (or FRANCHISE_NEW_PASSWORD; asked on a terminal)."),
    ] = None,
    json_out: Json = False,
) -> None:
    """Add a staff member."""
    from franchise.accounts.schemas import StaffRead
    from franchise.accounts.service import add_staff

    secret = password or os.environ.get("FRANCHISE_NEW_PASSWORD")
    if secret is None and sys.stdin.isatty():
        secret = (
            typer.prompt(
                "Password (empty for API-only)", hide_input=True, default="", show_default=False
            )
            or None
        )
    with get_context(ctx).database().unit_of_work() as session:
        staff = add_staff(session, name=name, email=email, role=role, level=level, password=secret)
        data = StaffRead.model_validate(staff).model_dump()
    if json_out:
        print_json(data)
    else:
        console.print(
            f"Added {data['name']} <{data['email']}> as {data['role']} ({data['level']})",
            markup=False,
        )


@user_app.command("list")
def list_(ctx: typer.Context, json_out: Json = False) -> None:
    """List staff."""
    from franchise.accounts.schemas import StaffRead
    from franchise.accounts.service import list_staff

    with get_context(ctx).database().unit_of_work() as session:
        rows = [StaffRead.model_validate(s).model_dump() for s in list_staff(session)]
    if json_out:
        print_json(rows)
        return
    table = Table("id", "name", "email", "role", "level", "status")
    for r in rows:
        table.add_row(
            str(r["id"]),
            escape(str(r["name"])),
            escape(str(r["email"])),
            escape(str(r["role"])),
            escape(str(r["level"])),
            "active" if r["active"] else "deactivated",
        )
    console.print(table)


@user_app.command("sessions")
def sessions(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Staff e-mail, name or id.")],
    json_out: Json = False,
) -> None:
    """List where someone is signed in (browser sessions still alive)."""
    from franchise.accounts.service import get_staff
    from franchise.accounts.sessions import list_sessions

    with get_context(ctx).database().unit_of_work() as session:
        staff = get_staff(session, email)
        rows = [
            {
                "id": s.id,
                "created_at": s.created_at.isoformat(),
                "last_seen_at": s.last_seen_at.isoformat(),
                "expires_at": s.expires_at.isoformat(),
                "stage": s.stage,
                "ip": s.ip,
                "user_agent": s.user_agent,
            }
            for s in list_sessions(session, staff.id)
        ]
    if json_out:
        print_json(rows)
        return
    table = Table("id", "since", "last seen", "address", "browser")
    for r in rows:
        cells = [r["id"], r["created_at"], r["last_seen_at"], r["ip"], str(r["user_agent"])[:50]]
        table.add_row(*(escape(str(c)) for c in cells))
    console.print(table)


@user_app.command("revoke-sessions")
def revoke_sessions_cmd(
    ctx: typer.Context, email: Annotated[str, typer.Argument(help="Staff e-mail, name or id.")]
) -> None:
    """Sign someone out everywhere (a lost laptop, someone leaving)."""
    from franchise.accounts.service import get_staff
    from franchise.accounts.sessions import revoke_sessions

    with get_context(ctx).database().unit_of_work() as session:
        staff = get_staff(session, email)
        count = revoke_sessions(session, staff.id)
        who = staff.email
    console.print(f"Ended {plural(count, 'session')} of {who}.", markup=False, highlight=False)


@user_app.command("set-password")
def set_password_cmd(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Staff e-mail, name or id.")],
    password: Annotated[
        str | None,
        typer.Option(help="The new password (or FRANCHISE_NEW_PASSWORD; asked on a terminal)."),
    ] = None,
) -> None:
    """Reset a password (at least 12 characters, not a common one); their sessions end."""
    from franchise.accounts.service import get_staff, set_password

    secret = password or os.environ.get("FRANCHISE_NEW_PASSWORD")
    if secret is None and sys.stdin.isatty():
        secret = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    if not secret:
        console.print("[red]error:[/] give --password or FRANCHISE_NEW_PASSWORD")
        raise typer.Exit(2)
    with get_context(ctx).database().unit_of_work() as session:
        staff = get_staff(session, email)
        set_password(session, staff, secret)
        who = staff.email
    console.print(f"Password of {who} changed; their sessions ended.", markup=False)


@user_app.command("edit")
def edit(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(help="Staff e-mail, name or id.")],
    name: Annotated[str | None, typer.Option(help="New full name.")] = None,
    role: Annotated[
        str | None, typer.Option(help="technician, service_manager, owner or admin.")
    ] = None,
    level: Annotated[str | None, typer.Option(help="L1, L2 or owner.")] = None,
    json_out: Json = False,
) -> None:
    """Change someone's name, role or level."""
    from franchise.accounts.schemas import StaffRead
    from franchise.accounts.service import get_staff
    from franchise.flows.staff import update_staff

    if name is None and role is None and level is None:
        console.print("[red]error:[/] give --name, --role or --level")
        raise typer.Exit(2)
    with get_context(ctx).database().unit_of_work() as session:
        staff = update_staff(session, get_staff(session, who), name=name, role=role, level=level)
        data = StaffRead.model_validate(staff).model_dump()
    if json_out:
        print_json(data)
    else:
        console.print(
            f"{data['name']} <{data['email']}> is {data['role']} ({data['level']})", markup=False
        )


@user_app.command("deactivate")
def deactivate(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(help="Staff e-mail, name or id.")],
    json_out: Json = False,
) -> None:
    """Someone leaves: sign-in stops, their sessions end and API tokens are revoked at once;
    their open tickets are listed for `franchise user reassign`."""
    from franchise.accounts.service import get_staff
    from franchise.flows.staff import deactivate_staff

    with get_context(ctx).database().unit_of_work() as session:
        staff = get_staff(session, who)
        result = deactivate_staff(session, staff, by=None)
        who_email = staff.email
    data = {
        "staff": who_email,
        "sessions_ended": result.sessions_ended,
        "tokens_revoked": result.tokens_revoked,
        "open_ticket_ids": result.open_ticket_ids,
    }
    if json_out:
        print_json(data)
        return
    console.print(
        f"{who_email} deactivated: {plural(result.sessions_ended, 'session')} ended, "
        f"{plural(result.tokens_revoked, 'API token')} revoked.",
        markup=False,
    )
    if result.open_ticket_ids:
        tickets = ", ".join(f"#{i}" for i in result.open_ticket_ids)
        console.print(
            f"Open tickets still assigned to them: {tickets}. "
            f"Hand them on with: franchise user reassign {who_email} --to SOMEONE",
            markup=False,
        )


@user_app.command("reactivate")
def reactivate(
    ctx: typer.Context, who: Annotated[str, typer.Argument(help="Staff e-mail, name or id.")]
) -> None:
    """Let a deactivated staff member sign in again (their old API tokens stay revoked)."""
    from franchise.accounts.service import get_staff
    from franchise.flows.staff import reactivate_staff

    with get_context(ctx).database().unit_of_work() as session:
        email = reactivate_staff(session, get_staff(session, who)).email
    console.print(f"{email} can sign in again.", markup=False)


@user_app.command("reassign")
def reassign(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(help="Whose open tickets: e-mail, name or id.")],
    to: Annotated[str, typer.Option(help="Who takes them: e-mail, name or id.")],
    ticket: Annotated[
        list[int] | None, typer.Option(help="Only this ticket (repeat for more); all if left out.")
    ] = None,
) -> None:
    """Hand someone's open tickets to an active colleague."""
    from franchise.accounts.service import get_staff
    from franchise.flows.staff import reassign_open_tickets

    with get_context(ctx).database().unit_of_work() as session:
        target = get_staff(session, to)
        moved = reassign_open_tickets(
            session, get_staff(session, who), target, by=None, ticket_ids=ticket or None
        )
        name = target.name
    console.print(f"{plural(len(moved), 'ticket')} reassigned to {name}.", markup=False)


@user_app.command("reset-link")
def reset_link(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(help="Staff e-mail, name or id.")],
    json_out: Json = False,
) -> None:
    """Create a one-time password-reset link to hand over (also e-mailed when SMTP is set up)."""
    from franchise.accounts.service import get_staff
    from franchise.flows.staff import issue_reset_link
    from franchise.orgsettings.secrets import effective_settings

    context = get_context(ctx)
    with context.database().unit_of_work() as session:
        settings = effective_settings(session, context.settings)
        link = issue_reset_link(session, settings, get_staff(session, who))
    data = {"url": link.url, "expires_at": link.expires_at.isoformat(), "emailed": link.emailed}
    if json_out:
        print_json(data)
        return
    console.print(link.url, markup=False, highlight=False)
    sent = " It was also e-mailed." if link.emailed else ""
    console.print(f"Works once, until {link.expires_at:%Y-%m-%d %H:%M} UTC.{sent}", markup=False)


@user_app.command("reset-mfa")
def reset_mfa(
    ctx: typer.Context, email: Annotated[str, typer.Argument(help="Staff e-mail, name or id.")]
) -> None:
    """Remove someone's authenticator app and recovery codes (a lost phone); they set it up
    again at next sign-in if the organisation requires it."""
    from franchise.accounts.mfa import remove_mfa
    from franchise.accounts.service import get_staff
    from franchise.accounts.sessions import revoke_sessions

    with get_context(ctx).database().unit_of_work() as session:
        staff = get_staff(session, email)
        remove_mfa(session, staff.id)
        revoke_sessions(session, staff.id)
        who = staff.email
    console.print(f"Second factor of {who} removed; their sessions ended.", markup=False)


@token_app.command("create")
def create(
    ctx: typer.Context,
    user: Annotated[str, typer.Option(help="Staff e-mail, name or id the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'phone system'.")] = "api",
    json_out: Json = False,
) -> None:
    """Create an API token. The token is shown once; only its hash is kept."""
    from franchise.accounts.service import create_token, get_staff

    with get_context(ctx).database().unit_of_work() as session:
        staff = get_staff(session, user)
        token, plain = create_token(session, staff=staff, name=name)
        data = {"id": token.id, "name": token.name, "staff": staff.email, "token": plain}
    if json_out:
        print_json(data)
    else:
        console.print(f"Token {data['id']} for {data['staff']} ({data['name']}):", markup=False)
        console.print(plain, highlight=False, markup=False)
        console.print("[dim]Store it now: it cannot be shown again.[/]")


@token_app.command("list")
def tokens(ctx: typer.Context, json_out: Json = False) -> None:
    """List API tokens (never their values)."""
    from franchise.accounts.service import list_tokens

    with get_context(ctx).database().unit_of_work() as session:
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "staff": staff.email,
                "prefix": t.prefix,
                "created_at": t.created_at.isoformat(),
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                "revoked": t.revoked_at is not None,
            }
            for t, staff in list_tokens(session)
        ]
    if json_out:
        print_json(rows)
        return
    table = Table("id", "name", "staff", "prefix", "last used", "revoked")
    for r in rows:
        cells = [r["id"], r["name"], r["staff"], r["prefix"], r["last_used_at"] or "-"]
        table.add_row(*(escape(str(c)) for c in cells), "yes" if r["revoked"] else "no")
    console.print(table)


@token_app.command("revoke")
def revoke(ctx: typer.Context, token_id: Annotated[int, typer.Argument(help="Token id.")]) -> None:
    """Revoke an API token; requests using it are refused from now on."""
    from franchise.accounts.service import revoke_token

    with get_context(ctx).database().unit_of_work() as session:
        revoke_token(session, token_id)
    console.print(f"Token {token_id} revoked.")


channel_app = typer.Typer(no_args_is_help=True)
user_app.add_typer(
    channel_app,
    name="channel",
    help="A person's Teams and Slack notification channels (e-mail needs no setting).",
)


@channel_app.command("set")
def channel_set(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(help="Staff e-mail or name.")],
    kind: Annotated[str, typer.Argument(help="teams or slack.")],
    url: Annotated[
        str, typer.Argument(help="Teams Workflows webhook URL or Slack incoming webhook URL.")
    ],
    slack_user_id: Annotated[
        str | None,
        typer.Option(help="The person's Slack member id (U...), for Approve/Deny in Slack."),
    ] = None,
) -> None:
    """Store a person's Teams or Slack webhook (sealed; shown only by its host)."""
    from franchise.accounts.service import get_staff
    from franchise.people.service import set_channel

    context = get_context(ctx)
    with context.database().unit_of_work() as session:
        person = get_staff(session, who)
        set_channel(
            session,
            person,
            kind=kind,
            url=url,
            by=None,
            settings=context.settings,
            slack_user_id=slack_user_id,
        )
        name = person.name
    console.print(f"{kind} channel saved for {name}.", markup=False)


@channel_app.command("clear")
def channel_clear(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(help="Staff e-mail or name.")],
    kind: Annotated[str, typer.Argument(help="teams or slack.")],
) -> None:
    """Remove a person's Teams or Slack channel."""
    from franchise.accounts.service import get_staff
    from franchise.people.service import clear_channel

    with get_context(ctx).database().unit_of_work() as session:
        removed = clear_channel(session, get_staff(session, who), kind=kind, by=None)
    console.print(f"{kind} channel removed." if removed else f"No {kind} channel was set.")


@channel_app.command("list")
def channel_list(
    ctx: typer.Context,
    who: Annotated[
        str | None, typer.Argument(help="Staff e-mail or name; all when left out.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Everyone's channels (or one person's): the kind and the webhook's host, never the URL."""
    from franchise.accounts.service import get_staff, list_staff
    from franchise.orgsettings.secrets import effective_settings
    from franchise.people.notices import smtp_ready
    from franchise.people.service import describe_channels

    context = get_context(ctx)
    with context.database().unit_of_work() as session:
        people = [get_staff(session, who)] if who else [s for s in list_staff(session) if s.active]
        email = smtp_ready(effective_settings(session, context.settings))
        rows = [
            {
                "staff": p.email,
                "name": p.name,
                "email": email,
                "channels": [v.to_dict() for v in describe_channels(session, p, context.settings)],
            }
            for p in people
        ]
    if json_out:
        print_json(rows)
        return
    table = Table("Name", "E-mail", "Channels")
    for row in rows:
        chats = ", ".join(
            f"{c['kind']} ({c['host']}{', ' + str(c['slack_user_id']) if c['slack_user_id'] else ''})"
            for c in row["channels"]  # type: ignore[attr-defined]
        )
        mail = row["staff"] if row["email"] else f"{row['staff']} (off: SMTP not set up)"
        table.add_row(escape(str(row["name"])), escape(str(mail)), escape(chats or "-"))
    console.print(table)
