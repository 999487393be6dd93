"""How stored values read to people: labels for keys, counted nouns. Pure functions."""

from __future__ import annotations

# Written as people write them, wherever they appear in a key ('vpn-auth-failure').
ACRONYMS = {
    "ad": "AD",
    "api": "API",
    "cli": "CLI",
    "dns": "DNS",
    "email": "e-mail",
    "id": "ID",
    "imap": "IMAP",
    "ip": "IP",
    "l1": "L1",
    "l2": "L2",
    "m365": "M365",
    "mfa": "MFA",
    "pc": "PC",
    "psa": "PSA",
    "rds": "RDS",
    "smtp": "SMTP",
    "sms": "SMS",
    "sso": "SSO",
    "ssl": "SSL",
    "tls": "TLS",
    "totp": "TOTP",
    "url": "URL",
    "vip": "VIP",
    "vpn": "VPN",
    "wifi": "Wi-Fi",
}


def label(value: str | None) -> str:
    """'waiting_on_client' -> 'Waiting on client', 'vpn' -> 'VPN', 'mfa-reset' -> 'MFA reset'."""
    if not value:
        return ""
    words = value.replace("_", " ").replace("-", " ").split(" ")
    words = [ACRONYMS.get(w.lower(), w) for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def plural(count: int, noun: str, many: str = "") -> str:
    """'1 session', '2 sessions', '0 sessions' (an irregular plural as `many`)."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


def possessive(name: str) -> str:
    """'Acme Dental' -> "Acme Dental's", 'Pemberton Insurance Brokers' -> "... Brokers'"."""
    return f"{name}'" if name.endswith(("s", "S")) else f"{name}'s"
