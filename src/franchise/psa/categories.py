"""PSA ticket categories to runbook categories. Pure.

A PSA category is free text an MSP configured years ago ("Network / VPN", "Software >
Windows Update", "Security - MFA"). The mapping file's category map is tried first
(whole text, then each part, most specific first), then this keyword table. Anything
left unmapped is decided by the runbook suggester from the ticket's own text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# Checked in this order, so "Backup storage full" is backup, not disk space, and
# "MFA reset" is mfa, not a password reset.
KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "vpn",
        (
            "vpn",
            "remote access",
            "anyconnect",
            "globalprotect",
            "forticlient",
            "ipsec",
            "always on vpn",
            "site to site",
            "tunnel",
        ),
    ),
    (
        "mfa",
        ("mfa", "2fa", "multi factor", "multifactor", "two factor", "authenticator", "duo"),
    ),
    (
        "email-quarantine",
        ("quarantine", "spam", "junk", "mail filter", "email filter", "email security"),
    ),
    (
        "backup",
        ("backup", "backups", "back up", "restore", "veeam", "bcdr", "acronis", "replication"),
    ),
    (
        "patching",
        (
            "patch",
            "patches",
            "patching",
            "windows update",
            "windows updates",
            "updates",
            "wsus",
            "feature update",
            "cumulative update",
        ),
    ),
    ("disk-space", ("disk space", "low disk", "disk full", "free space", "drive full")),
    (
        "account-lockout",
        (
            "lockout",
            "locked out",
            "account locked",
            "password reset",
            "password",
            "unlock",
        ),
    ),
    ("printer", ("printer", "printers", "printing", "print", "scanner", "scan to email", "mfp")),
    (
        "onboarding",
        (
            "onboarding",
            "new user",
            "new hire",
            "new starter",
            "new employee",
            "user setup",
            "account creation",
        ),
    ),
    (
        "endpoint-offline",
        ("offline", "agent offline", "not reporting", "no heartbeat", "heartbeat", "agent"),
    ),
)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def map_category(parts: Sequence[str], extra: Mapping[str, str]) -> str | None:
    """The runbook category for a PSA category given as its parts (most general first)."""
    parts = [p.strip() for p in parts if p.strip()]
    if not parts:
        return None
    wanted = {_norm(k): v for k, v in extra.items()}
    candidates = [" / ".join(parts), *reversed(parts)]
    for text in candidates:
        if _norm(text) in wanted:
            return wanted[_norm(text)]
    for text in reversed(parts):
        found = keyword_category(text)
        if found is not None:
            return found
    return None


def keyword_category(text: str) -> str | None:
    padded = f" {_norm(text)} "
    for category, words in KEYWORDS:
        if any(f" {w} " in padded for w in words):
            return category
    return None
