"""Write one demo ticket's text: pick a template and fill its slots from the client's world."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from franchise.demo import ticket_text as tt
from franchise.demo.catalogue import FIRST_NAMES, LAST_NAMES
from franchise.demo.companies import email_for
from franchise.demo.records import ClientPlan


@dataclass(frozen=True)
class Composed:
    title: str
    body: str
    priority: str
    host: str | None
    user: str
    facts: dict[str, str]
    resolutions: tuple[str, ...]


def compose(
    rng: random.Random, client: ClientPlan, category: str, alert: bool, created: datetime
) -> Composed:
    text = tt.CATEGORY_TEXT[category]
    pool = text.alert if alert and text.alert else text.user
    template = rng.choice(pool)
    facts = _facts(rng, client, created)
    title = template.title.format(**facts)
    body = template.body.format(**facts)
    host = _device(template.title + template.body, facts)
    priority = _priority(rng, category, title)
    fixes = template.fixes or text.resolutions
    return Composed(title, body, priority, host, facts["user"], facts, fixes)


def _device(template: str, facts: dict[str, str]) -> str | None:
    """The device a ticket is about: the one its text names, the workstation first."""
    if "{host}" in template:
        return facts["host"]
    if "{server}" in template:
        return facts["server"]
    return None


def _facts(rng: random.Random, client: ClientPlan, created: datetime) -> dict[str, str]:
    domain = client.domain
    user = rng.choice(client.users)
    contact = rng.choice(client.contacts).name
    servers = [e.hostname for e in client.endpoints if e.kind == "server"]
    devices = [e.hostname for e in client.endpoints if e.kind != "server"]
    sender, sender_domain = rng.choice(tt.SENDERS)
    free_gb = rng.randint(2, 18)
    new_user = _new_name(rng, client)
    start = created + timedelta(days=rng.randint(3, 9))
    return {
        "user": user,
        "first": user.split(" ")[0],
        "email": email_for(user, domain),
        "client": client.name,
        "contact": contact,
        "host": rng.choice(devices),
        "server": rng.choice(servers),
        "printer": rng.choice(tt.PRINTERS),
        "location": rng.choice(tt.LOCATIONS),
        "backup": rng.choice(tt.BACKUP_PRODUCTS),
        "job": rng.choice(tt.BACKUP_JOBS),
        "backup_error": rng.choice(tt.BACKUP_ERRORS),
        "kb": rng.choice(tt.PATCH_KBS),
        "error": rng.choice(tt.PATCH_ERRORS),
        "hours": str(rng.randint(2, 30)),
        "time": created.strftime("%H:%M"),
        "drive": rng.choice(tt.DRIVES),
        "free": str(free_gb),
        "pct": str(rng.randint(3, 9)),
        "free_space": f"{free_gb} GB",
        "vpn": rng.choice(tt.VPN_CLIENTS),
        "sender": sender,
        "sender_email": f"accounts@{sender_domain}",
        "sender_domain": sender_domain,
        "new_user": new_user,
        "new_role": rng.choice(tt.NEW_ROLES),
        "start_day": start.strftime("%A %d %B"),
    }


def _new_name(rng: random.Random, client: ClientPlan) -> str:
    while True:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if name not in client.users:
            return name


def _priority(rng: random.Random, category: str, title: str) -> str:
    if "Server offline" in title:
        return "critical"
    if "critical" in title.lower() or "No successful backup" in title or "fatigue" in title:
        return "high"
    if category == "backup" and "failed" in title:
        return "high"
    if category in ("printer", "onboarding", "disk-space") and rng.random() < 0.35:
        return "low"
    return "high" if rng.random() < 0.08 else "normal"
