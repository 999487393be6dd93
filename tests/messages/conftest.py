"""Fixtures for client messages: a real SMTP server on loopback and a ticket with contacts."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy.orm import Session

from franchise.accounts.models import Staff
from franchise.accounts.service import add_staff
from franchise.clients.models import Client, ClientContact
from franchise.clients.service import add_client
from franchise.settings import Settings
from franchise.tickets.models import Ticket
from franchise.tickets.service import create_ticket

SENDER = "help@northwind-it.example"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Collector:
    """An aiosmtpd handler that keeps every message it accepts."""

    envelopes: list[Envelope] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(  # noqa: N802 - the name aiosmtpd calls
        self, server: SMTP, session: SmtpSession, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: SmtpSession, envelope: Envelope
    ) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    collector: Collector
    logins: list[tuple[str, str]]

    def settings(self, tmp_path: Path, **extra: Any) -> Settings:
        values: dict[str, Any] = {
            "home": tmp_path,
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_tls": "none",
            "smtp_from": f"Northwind IT <{SENDER}>",
        }
        values.update(extra)
        return Settings(**values)


@pytest.fixture(scope="session")
def _smtp_controller() -> Iterator[SmtpServer]:
    collector = Collector()
    logins: list[tuple[str, str]] = []

    def authenticator(
        server: SMTP, session: SmtpSession, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            logins.append((user, password))
            # handled=False: aiosmtpd answers a failure with "535" itself.
            return AuthResult(success=(user, password) == ("relay", "s3cret"), handled=False)
        return AuthResult(success=False, handled=False)

    controller = Controller(
        collector,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        # Loopback test server without a certificate: allow AUTH over plain text here only.
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, collector, logins)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(_smtp_controller: SmtpServer) -> SmtpServer:
    _smtp_controller.collector.envelopes.clear()
    _smtp_controller.collector.refuse.clear()
    _smtp_controller.logins.clear()
    return _smtp_controller


@pytest.fixture
def tech(session: Session) -> Staff:
    return add_staff(
        session,
        name="Priya Shah",
        email="priya@northwind-it.example",
        role="technician",
        level="L1",
    )


@pytest.fixture
def client(session: Session) -> Client:
    client = add_client(session, name="Harbour Dental", tier="premium", endpoints=14)
    session.add_all(
        [
            ClientContact(client_id=client.id, name="Sam Reception", email="front@harbour.example"),
            ClientContact(
                client_id=client.id,
                name="Dana Whitfield",
                email="dana@harbour.example",
                is_primary=True,
            ),
        ]
    )
    session.flush()
    return client


@pytest.fixture
def make_ticket(session: Session, client: Client) -> Callable[..., Ticket]:
    def make(**overrides: Any) -> Ticket:
        values: dict[str, Any] = {
            "title": "VPN says certificate expired",
            "client": client.id,
            "category": "vpn",
            "runbook_key": "vpn-auth-failure",
        }
        values.update(overrides)
        return create_ticket(session, **values)

    return make
