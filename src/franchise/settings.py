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
    # Older switch for the in-process worker: false means FRANCHISE_INPROCESS_WORKER=off.
    alerts_inline_worker: bool = True
    # The alert drainer inside franchise serve: auto (stands aside while a `franchise worker`
    # is alive), on (always; warns when workers run too) or off.
    inprocess_worker: str = "auto"
    # Alerts one webhook body may carry; more are refused with 413 naming the limit.
    alerts_max_per_body: int = 1_000
    # Alerts one integration may send per minute (a token bucket holding a minute's worth,
    # so a storm's burst is taken whole); past it webhooks get 429 with Retry-After. 0: off.
    alerts_rate_per_minute: int = 120_000
    # Mark the session cookie Secure even when a proxy in front terminates TLS.
    cookie_secure: bool = False
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated
    # addresses or networks, "*" for any): only the reverse proxy in front of franchise serve.
    forwarded_allow_ips: str = "127.0.0.1"
    # Bearer token Prometheus sends to scrape /metrics; empty: /metrics is off (404).
    metrics_token: str = ""
    # Log lines as text, or one JSON object per line (json) for a log collector.
    log_format: str = "text"
    # Where `franchise backup` without a file and `franchise upgrade` put backups;
    # default: FRANCHISE_HOME/backups.
    backup_dir: Path | None = None
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
    # Where people open Franchise (https://franchise.acme.example): the base of the links in
    # notifications. Default: http://HOST:PORT.
    public_url: str = ""
    # Slack app's Signing Secret: button presses in Slack are accepted only when signed with it.
    slack_signing_secret: str = ""
    # Minutes an Approve / Deny / Answer / Open link in a notification stays valid.
    action_link_minutes: int = 30
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
    # Files on internal notes larger than this are refused (stored under home/attachments).
    attachment_max_bytes: int = 10_485_760
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

    @field_validator("inprocess_worker")
    @classmethod
    def _inprocess_mode(cls, value: str) -> str:
        if value not in ("auto", "on", "off"):
            raise ValueError(f"FRANCHISE_INPROCESS_WORKER must be auto, on or off, got {value!r}")
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in ("text", "json"):
            raise ValueError(f"FRANCHISE_LOG_FORMAT must be text or json, got {value!r}")
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
    def inprocess_mode(self) -> str:
        """auto, on or off, the older FRANCHISE_ALERTS_INLINE_WORKER=false meaning off."""
        return self.inprocess_worker if self.alerts_inline_worker else "off"

    @property
    def resolved_backup_dir(self) -> Path:
        return self.backup_dir or self.home / "backups"

    @property
    def base_url(self) -> str:
        """The start of every link sent to people."""
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
