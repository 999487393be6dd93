"""The mailbox to poll, taken from the FRANCHISE_IMAP_* settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from franchise.errors import InvalidInput

TLS_MODES = ("none", "starttls", "ssl")


class MailSettings(Protocol):
    """The FRANCHISE_IMAP_* part of Settings."""

    imap_host: str
    imap_port: int
    imap_user: str
    imap_password: str
    imap_folder: str
    imap_tls: str
    imap_max_attachment_bytes: int
    imap_poll_seconds: int


@dataclass(frozen=True)
class MailboxConfig:
    host: str
    user: str
    password: str
    port: int = 993
    folder: str = "INBOX"
    tls: str = "ssl"
    max_attachment_bytes: int = 10 * 1024 * 1024
    poll_seconds: int = 60

    @property
    def name(self) -> str:
        """How the mailbox is named in the state table and in reports (no password)."""
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"

    @classmethod
    def from_settings(cls, settings: MailSettings) -> MailboxConfig:
        if not settings.imap_host or not settings.imap_user:
            raise InvalidInput(
                "FRANCHISE_IMAP_HOST and FRANCHISE_IMAP_USER must be set to poll a mailbox"
            )
        if settings.imap_tls not in TLS_MODES:
            raise InvalidInput(f"FRANCHISE_IMAP_TLS must be one of {', '.join(TLS_MODES)}")
        return cls(
            host=settings.imap_host,
            port=settings.imap_port,
            user=settings.imap_user,
            password=settings.imap_password,
            folder=settings.imap_folder,
            tls=settings.imap_tls,
            max_attachment_bytes=settings.imap_max_attachment_bytes,
            poll_seconds=settings.imap_poll_seconds,
        )
