"""Deliver one plain-text e-mail over SMTP (stdlib smtplib): TLS none, STARTTLS or SSL."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from franchise.addresses import EMAIL
from franchise.errors import InvalidInput
from franchise.settings import Settings


class DeliveryError(Exception):
    """The server could not be reached or refused the message; the text says which.

    `permanent`: the server answered with a 5xx reply or lacks what the settings ask for,
    so sending the same message again cannot help; a lost connection or a 4xx may pass.
    """

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: str  # none | starttls | ssl
    sender: str  # the From header, e.g. "Acme IT <help@acme.example>"
    user: str = ""
    password: str = ""
    timeout: float = 30.0
    # SMTP AUTH over a connection without TLS hands the password to anyone on the path.
    allow_plain_auth: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        if not settings.smtp_host:
            raise InvalidInput(
                "client e-mail is not set up: an admin sets it up on the Settings page "
                "(Client e-mail), or with FRANCHISE_SMTP_HOST (and FRANCHISE_SMTP_PORT, "
                "FRANCHISE_SMTP_TLS, FRANCHISE_SMTP_USER/PASSWORD if your server needs them)"
            )
        if not settings.smtp_from or not EMAIL.match(parseaddr(settings.smtp_from)[1]):
            raise InvalidInput(
                "client e-mail has no valid sender: set FRANCHISE_SMTP_FROM, "
                "e.g. 'Acme IT Support <help@acme.example>'"
            )
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            sender=settings.smtp_from,
            user=settings.smtp_user,
            password=settings.smtp_password,
            allow_plain_auth=settings.smtp_allow_plain_auth,
        )

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.sender)[1]


def check_address(address: str) -> str:
    """One bare e-mail address; refuses lists and anything that could smuggle in a header."""
    value = address.strip()
    if not EMAIL.match(value):
        raise InvalidInput(f"'{address}' is not a single e-mail address")
    return value


def build_email(
    config: SmtpConfig, *, to: str, subject: str, body: str, cc: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = check_address(to)
    if cc:
        message["Cc"] = check_address(cc)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=config.envelope_sender.rsplit("@", 1)[-1])
    message.set_content(body)
    return message


def deliver(config: SmtpConfig, message: EmailMessage) -> None:
    """Hand the message to the server; raises DeliveryError with a readable reason."""
    recipients = [str(message["To"])] + ([str(message["Cc"])] if message["Cc"] else [])
    where = f"SMTP server {config.host}:{config.port}"
    if config.user and config.tls == "none" and not config.allow_plain_auth:
        # Checked before connecting: the password must never reach a server (perhaps not
        # the one it was meant for) over a connection anyone on the way can read.
        raise DeliveryError(
            f"not sending the SMTP password to {where} without TLS: set FRANCHISE_SMTP_TLS "
            "(or the Settings page) to starttls or ssl, or, for a relay on a trusted network, "
            "FRANCHISE_SMTP_ALLOW_PLAIN_AUTH=true",
            permanent=True,
        )
    try:
        with _connect(config) as smtp:
            if config.user:
                smtp.login(config.user, config.password)
            smtp.send_message(message, from_addr=config.envelope_sender, to_addrs=recipients)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"{where} refused the user name or password: {_reply(exc)}",
            permanent=exc.smtp_code >= 500,
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        reasons = "; ".join(
            f"{addr}: {code} {text.decode(errors='replace')}"
            for addr, (code, text) in exc.recipients.items()
        )
        permanent = all(code >= 500 for code, _ in exc.recipients.values())
        raise DeliveryError(
            f"{where} refused the recipient ({reasons})", permanent=permanent
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(
            f"{where} does not support what was asked ({exc}); check FRANCHISE_SMTP_TLS "
            "and whether the server needs a login",
            permanent=True,
        ) from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(
            f"{where} refused the message: {_reply(exc)}", permanent=exc.smtp_code >= 500
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"could not deliver through {where}: {exc}") from exc


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    if config.tls == "ssl":
        return smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout, context=ssl.create_default_context()
        )
    smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    try:
        if config.tls == "starttls":
            smtp.ehlo()
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
    except BaseException:
        smtp.close()
        raise
    return smtp


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
    return f"{exc.smtp_code} {text}".strip()
