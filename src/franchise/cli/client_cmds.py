"""franchise client add|list|show|edit|archive, client contact ..., client fact ... and
client outage show|set: the client list, its contacts, the profile that answers runbook
checks, and the client's outage correlation."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from franchise.cli.context import Json, console, get_context, print_json

app = typer.Typer(no_args_is_help=True)
fact_app = typer.Typer(no_args_is_help=True)
contact_app = typer.Typer(no_args_is_help=True)
app.add_typer(fact_app, name="fact", help="The client profile: facts that answer runbook checks.")
app.add_typer(contact_app, name="contact", help="A client's contacts: requesters, approvers, VIPs.")

ClientRef = Annotated[str, typer.Argument(help="Client name or id.")]
Tier = Annotated[str | None, typer.Option(help="essential, standard or premium.")]
Endpoints = Annotated[int | None, typer.Option(help="How many endpoints we look after.", min=0)]


def _print_client(data: dict[str, Any]) -> None:
    state = " (archived)" if data["archived"] else ""
    console.print(
        f"#{data['id']} {escape(data['name'])}{state} · tier {data['tier']} · "
        f"{data['endpoints']} endpoints",
        highlight=False,
    )


@app.command("add")
def client_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The client's company name.")],
    tier: Annotated[str, typer.Option(help="essential, standard or premium.")] = "standard",
    endpoints: Annotated[int, typer.Option(help="How many endpoints we look after.", min=0)] = 0,
    json_out: Json = False,
) -> None:
    """Add a client."""
    from franchise.clients.service import add_client, client_dict

    with get_context(ctx).database().unit_of_work() as session:
        data = client_dict(add_client(session, name=name, tier=tier, endpoints=endpoints))
    if json_out:
        print_json(data)
        return
    console.print("Added client:", end=" ")
    _print_client(data)


@app.command("list")
def client_list(
    ctx: typer.Context,
    archived: Annotated[bool, typer.Option("--archived", help="Include archived clients.")] = False,
    json_out: Json = False,
) -> None:
    """List the clients (archived ones with --archived)."""
    from franchise.clients.service import client_dict, list_clients

    with get_context(ctx).database().unit_of_work() as session:
        rows = [client_dict(c) for c in list_clients(session, include_archived=archived)]
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("No clients yet: `franchise client add NAME` adds one.")
        return
    table = Table("id", "name", "tier", "endpoints", "archived")
    for r in rows:
        table.add_row(
            str(r["id"]),
            escape(r["name"]),
            r["tier"],
            str(r["endpoints"]),
            "yes" if r["archived"] else "",
        )
    console.print(table)


@app.command("show")
def client_show(ctx: typer.Context, client: ClientRef, json_out: Json = False) -> None:
    """A client with its contacts, profile facts and open tickets."""
    from franchise.clients.contacts import contact_dict, list_contacts
    from franchise.clients.facts import list_facts
    from franchise.clients.service import client_dict, get_client
    from franchise.tickets.service import CLOSED, client_tickets

    with get_context(ctx).database().unit_of_work() as session:
        row = get_client(session, client)
        data = client_dict(row)
        data["contacts"] = [contact_dict(c) for c in list_contacts(session, row)]
        data["facts"] = [f.to_dict() for f in list_facts(session, row)]
        data["open_tickets"] = [
            {"id": t.id, "title": t.title, "status": t.status}
            for t in client_tickets(session, row.id, limit=100)
            if t.status not in CLOSED
        ]
    if json_out:
        print_json(data)
        return
    _print_client(data)
    console.print("\n[bold]Contacts[/]")
    for c in data["contacts"]:
        console.print(f"  {_contact_line(c)}", highlight=False, markup=False)
    if not data["contacts"]:
        console.print("  none")
    console.print("\n[bold]Profile[/]")
    for f in data["facts"]:
        console.print(
            f"  {f['key']} = {f['value']}  ({f['origin']}, {str(f['updated_at'])[:16]})",
            highlight=False,
            markup=False,
        )
    if not data["facts"]:
        console.print("  none")
    console.print("\n[bold]Open tickets[/]")
    for t in data["open_tickets"]:
        console.print(f"  #{t['id']} {t['status']}  {t['title']}", highlight=False, markup=False)
    if not data["open_tickets"]:
        console.print("  none")


@app.command("edit")
def client_edit(
    ctx: typer.Context,
    client: ClientRef,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    tier: Tier = None,
    endpoints: Endpoints = None,
    json_out: Json = False,
) -> None:
    """Change a client's name, tier or endpoint count."""
    from franchise.clients.service import client_dict, edit_client, get_client

    with get_context(ctx).database().unit_of_work() as session:
        row = edit_client(
            session, get_client(session, client), name=name, tier=tier, endpoints=endpoints
        )
        data = client_dict(row)
    if json_out:
        print_json(data)
        return
    _print_client(data)


@app.command("archive")
def client_archive(
    ctx: typer.Context,
    client: ClientRef,
    undo: Annotated[bool, typer.Option("--undo", help="Bring an archived client back.")] = False,
    json_out: Json = False,
) -> None:
    """Archive a client: it leaves the pickers; its tickets, contacts and profile stay."""
    from franchise.clients.service import archive_client, client_dict, get_client

    with get_context(ctx).database().unit_of_work() as session:
        data = client_dict(archive_client(session, get_client(session, client), archived=not undo))
    if json_out:
        print_json(data)
        return
    verb = "Archived" if data["archived"] else "Brought back"
    console.print(f"{verb} {escape(data['name'])}.", highlight=False)


# --- contacts ---------------------------------------------------------------------------


def _contact_line(c: dict[str, Any]) -> str:
    flags = [
        name
        for name, on in (
            ("primary", c["primary"]),
            ("VIP", c["vip"]),
            ("approves spend", c["approves_spend"]),
        )
        if on
    ]
    phones = ", ".join(p for p in (c["phone"], c["mobile"]) if p) or "no phone"
    role = f" ({c['role']})" if c["role"] else ""
    tags = f" [{', '.join(flags)}]" if flags else ""
    return f"#{c['id']} {c['name']}{role} <{c['email'] or 'no e-mail'}> · {phones}{tags}"


def _fields(**values: Any) -> Any:
    from franchise.clients.contacts import ContactFields

    return ContactFields(**values)


@contact_app.command("add")
def contact_add(
    ctx: typer.Context,
    client: ClientRef,
    name: Annotated[str, typer.Argument(help="The person's name.")],
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number on file.")] = None,
    mobile: Annotated[str | None, typer.Option(help="Mobile number on file.")] = None,
    role: Annotated[
        str | None, typer.Option(help="Job title or role, e.g. Office manager.")
    ] = None,
    primary: Annotated[
        bool | None, typer.Option("--primary/--not-primary", help="The client's main contact.")
    ] = None,
    vip: Annotated[bool, typer.Option("--vip", help="Handle with priority.")] = False,
    approves_spend: Annotated[
        bool, typer.Option("--approves-spend", help="Authorised to approve spend.")
    ] = False,
    json_out: Json = False,
) -> None:
    """Add a contact to a client (the first one becomes the primary contact)."""
    from franchise.clients.contacts import add_contact, contact_dict
    from franchise.clients.service import get_client

    fields = _fields(
        name=name,
        email=email,
        phone=phone,
        mobile=mobile,
        role=role,
        primary=primary,
        vip=vip,
        approves_spend=approves_spend,
    )
    with get_context(ctx).database().unit_of_work() as session:
        data = contact_dict(add_contact(session, get_client(session, client), fields))
    if json_out:
        print_json(data)
        return
    console.print(f"Added {_contact_line(data)}", highlight=False, markup=False)


@contact_app.command("list")
def contact_list(ctx: typer.Context, client: ClientRef, json_out: Json = False) -> None:
    """A client's contacts, the primary one first."""
    from franchise.clients.contacts import contact_dict, list_contacts
    from franchise.clients.service import get_client

    with get_context(ctx).database().unit_of_work() as session:
        rows = [contact_dict(c) for c in list_contacts(session, get_client(session, client))]
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("No contacts yet: `franchise client contact add CLIENT NAME` adds one.")
        return
    for r in rows:
        console.print(_contact_line(r), highlight=False, markup=False)


@contact_app.command("edit")
def contact_edit(
    ctx: typer.Context,
    client: ClientRef,
    contact: Annotated[str, typer.Argument(help="Contact id, e-mail or name.")],
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address ('' clears it).")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number ('' clears it).")] = None,
    mobile: Annotated[str | None, typer.Option(help="Mobile number ('' clears it).")] = None,
    role: Annotated[str | None, typer.Option(help="Role ('' clears it).")] = None,
    primary: Annotated[
        bool | None, typer.Option("--primary/--not-primary", help="The client's main contact.")
    ] = None,
    vip: Annotated[
        bool | None, typer.Option("--vip/--not-vip", help="Handle with priority.")
    ] = None,
    approves_spend: Annotated[
        bool | None,
        typer.Option("--approves-spend/--no-spend", help="Authorised to approve spend."),
    ] = None,
    json_out: Json = False,
) -> None:
    """Change a contact; options left out keep their value."""
    from franchise.clients.contacts import contact_dict, edit_contact, get_contact
    from franchise.clients.service import get_client

    fields = _fields(
        name=name,
        email=email,
        phone=phone,
        mobile=mobile,
        role=role,
        primary=primary,
        vip=vip,
        approves_spend=approves_spend,
    )
    with get_context(ctx).database().unit_of_work() as session:
        row = get_contact(session, get_client(session, client), contact)
        data = contact_dict(edit_contact(session, row, fields))
    if json_out:
        print_json(data)
        return
    console.print(f"Saved {_contact_line(data)}", highlight=False, markup=False)


@contact_app.command("remove")
def contact_remove(
    ctx: typer.Context,
    client: ClientRef,
    contact: Annotated[str, typer.Argument(help="Contact id, e-mail or name.")],
) -> None:
    """Remove a contact; the tickets it requested keep a history line naming it."""
    from franchise.clients.contacts import get_contact
    from franchise.clients.service import get_client
    from franchise.flows.client_contacts import remove_contact

    with get_context(ctx).database().unit_of_work() as session:
        row = get_contact(session, get_client(session, client), contact)
        name = row.name
        tickets = remove_contact(session, row)
    console.print(f"Removed {escape(name)}.", highlight=False)
    if tickets:
        listed = ", ".join(f"#{t}" for t in tickets)
        console.print(f"Tickets that named them as requester: {listed}", highlight=False)


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
