"""franchise client add|list|show|edit|archive and franchise client contact ..."""

from __future__ import annotations

import json

from tests.support import CliInvoker


def test_clients_and_contacts_from_the_command_line(cli: CliInvoker) -> None:
    added = cli(
        "client", "add", "Harbour Dental", "--tier", "premium", "--endpoints", "14", "--json"
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["tier"] == "premium"
    contact = cli(
        "client",
        "contact",
        "add",
        "Harbour Dental",
        "Dana Whitfield",
        "--email",
        "dana@harbour.example",
        "--phone",
        "0161 555 0101",
        "--approves-spend",
        "--json",
    )
    assert contact.exit_code == 0, contact.output
    assert json.loads(contact.stdout)["primary"] is True
    edited = cli(
        "client",
        "contact",
        "edit",
        "Harbour Dental",
        "Dana Whitfield",
        "--vip",
        "--mobile",
        "07700 900123",
    )
    assert edited.exit_code == 0, edited.output
    assert "[primary, VIP, approves spend]" in edited.stdout
    assert "0161 555 0101, 07700 900123" in edited.stdout
    assert cli("client", "fact", "set", "Harbour Dental", "vpn", "FortiClient").exit_code == 0
    ticket = cli(
        "ticket",
        "new",
        "VPN down",
        "--client",
        "Harbour Dental",
        "--requester",
        "dana@harbour.example",
        "--json",
    )
    assert json.loads(ticket.stdout)["requester"]["name"] == "Dana Whitfield"

    shown = json.loads(cli("client", "show", "Harbour Dental", "--json").stdout)
    assert [c["name"] for c in shown["contacts"]] == ["Dana Whitfield"]
    assert [f["key"] for f in shown["facts"]] == ["vpn"]
    assert [t["title"] for t in shown["open_tickets"]] == ["VPN down"]
    text = cli("client", "show", "Harbour Dental").stdout
    assert "vpn = FortiClient" in text and "VPN down" in text

    assert cli("client", "edit", "Harbour Dental", "--name", "Harbour Group").exit_code == 0
    archived = cli("client", "archive", "Harbour Group")
    assert "Archived Harbour Group." in archived.stdout
    assert json.loads(cli("client", "list", "--json").stdout) == []
    listed = json.loads(cli("client", "list", "--archived", "--json").stdout)
    assert [(c["name"], c["archived"]) for c in listed] == [("Harbour Group", True)]

    removed = cli("client", "contact", "remove", "Harbour Group", "Dana Whitfield")
    assert removed.exit_code == 0
    assert "Tickets that named them as requester: #" in removed.stdout
    assert json.loads(cli("client", "contact", "list", "Harbour Group", "--json").stdout) == []


def test_bad_contact_input_is_a_red_line(cli: CliInvoker) -> None:
    cli("client", "add", "Acme")
    bad = cli("client", "contact", "add", "Acme", "Dana", "--email", "dana at acme")
    assert bad.exit_code != 0
    assert "contact e-mail 'dana at acme' is not a single e-mail address" in bad.output
    missing = cli("client", "show", "Nobody Ltd")
    assert missing.exit_code != 0 and "no client 'Nobody Ltd'" in missing.output
