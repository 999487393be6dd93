"""The outbox tests reuse the loopback SMTP server of the message tests and the owner's
notification receiver and team of the ask tests."""

from tests.ask.fixtures import library, owner_inbox, team
from tests.messages.conftest import _smtp_controller, client, make_ticket, smtp_server, tech

__all__ = [
    "_smtp_controller",
    "client",
    "library",
    "make_ticket",
    "owner_inbox",
    "smtp_server",
    "team",
    "tech",
]
