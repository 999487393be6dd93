"""One settings object, read from FRANCHISE_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_home() -> Path:
    """Where the embedded database and local files live unless FRANCHISE_HOME says otherwise."""
    return Path.home() / ".local" / "share" / "franchise"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRANCHISE_", extra="ignore")

    home: Path = Field(default_factory=default_home)
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # Bodies above this are refused with 413 before they are parsed.
    max_body_bytes: int = 1_048_576
    # Process the alert inbox inside franchise serve; false when franchise worker runs.
    alerts_inline_worker: bool = True
    # Mark the session cookie Secure even when a proxy in front terminates TLS.
    cookie_secure: bool = False
    # A browser session ends this long after sign-in however active (idle: 12 hours).
    session_max_age_hours: int = 168
    # SMTP AUTH sends the password; over a connection without TLS only if this says so.
    smtp_allow_plain_auth: bool = False
    # Notification URLs may not point at loopback, private or link-local addresses unless
    # this is on (a relay on the same network, or tests with a local receiver).
    notify_allow_private: bool = False
    # Single sign-on with OpenID Connect. For Entra ID the issuer is
    # https://login.microsoftonline.com/<tenant id>/v2.0; register the redirect URI
    # <public address>/login/sso/callback for the client id.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_name: str = "Microsoft"  # the provider's name on the sign-in button
    # Where the browser comes back; default: this server's address as the request saw it.
    oidc_redirect_uri: str = ""
    # Passwords refused for everyone except the one break-glass admin (for when SSO is down).
    sso_only: bool = False
    sso_break_glass_email: str = ""
    # Outgoing client e-mail. smtp_tls: none | starttls | ssl.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: str = "starttls"
    smtp_from: str = ""
    # Apprise URLs for owner notifications, separated by spaces or commas.
    notify_urls: str = ""
    # Seals the secrets saved on the Settings page; default: a key file in home (secret.key).
    secret_key: str = ""
    # Outbound PSA webhook (franchise webhooks deliver): where to POST, and the HMAC secret.
    psa_webhook_url: str = ""
    psa_webhook_secret: str = ""
    # Incoming e-mail (franchise mail poll). imap_tls: none | starttls | ssl.
    imap_host: str = ""
    imap_port: int = 993
    imap_user: str = ""
    imap_password: str = ""
    imap_folder: str = "INBOX"
    imap_tls: str = "ssl"
    # Attachments larger than this are not stored; the ticket gets a note instead.
    imap_max_attachment_bytes: int = 10_485_760
    # Seconds between polls when `franchise mail poll` runs without --once.
    imap_poll_seconds: int = 60

    @field_validator("smtp_tls")
    @classmethod
    def _tls_mode(cls, value: str) -> str:
        if value not in ("none", "starttls", "ssl"):
            raise ValueError(f"FRANCHISE_SMTP_TLS must be none, starttls or ssl, got {value!r}")
        return value

    @field_validator("imap_tls")
    @classmethod
    def _imap_tls_mode(cls, value: str) -> str:
        if value not in ("none", "starttls", "ssl"):
            raise ValueError(f"FRANCHISE_IMAP_TLS must be none, starttls or ssl, got {value!r}")
        return value

    @field_validator("port")
    @classmethod
    def _port_in_range(cls, value: int) -> int:
        if not 0 < value < 65536:
            raise ValueError(f"FRANCHISE_PORT must be 1-65535, got {value}")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'franchise.sqlite3'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
