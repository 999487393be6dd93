"""The demo's client companies: their contacts, the people who raise tickets, their devices."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from franchise.demo import catalogue
from franchise.demo.catalogue import Company
from franchise.demo.records import ClientPlan, EndpointPlan, PersonPlan


def build_clients(rng: random.Random, now: datetime) -> tuple[ClientPlan, ...]:
    return tuple(_client(rng, company, now) for company in catalogue.CLIENTS)


def _client(rng: random.Random, company: Company, now: datetime) -> ClientPlan:
    people = _names(rng, max(3, company.endpoints))
    roles = catalogue.CONTACT_ROLES[company.sector]
    # Bigger and premium clients have more people who talk to the MSP.
    count = min(3, 1 + (company.endpoints >= 5) + (company.tier == "premium"))
    contacts = tuple(
        PersonPlan(
            name=name,
            email=email_for(name, company.domain),
            phone=f"{catalogue.PHONE_PREFIX}{rng.randrange(1000):03d}",
            role=roles[i],
            is_primary=i == 0,
        )
        for i, name in enumerate(people[:count])
    )
    return ClientPlan(
        name=company.name,
        domain=company.domain,
        tier=company.tier,
        contacts=contacts,
        endpoints=_endpoints(rng, company, now),
        users=people,
    )


def email_for(name: str, domain: str) -> str:
    first, last = name.lower().split(" ", 1)
    return f"{first}.{last.replace(chr(39), '').replace(' ', '')}@{domain}"


def _names(rng: random.Random, count: int) -> tuple[str, ...]:
    names: list[str] = []
    while len(names) < count:
        name = f"{rng.choice(catalogue.FIRST_NAMES)} {rng.choice(catalogue.LAST_NAMES)}"
        if name not in names:
            names.append(name)
    return tuple(names)


def _endpoints(rng: random.Random, company: Company, now: datetime) -> tuple[EndpointPlan, ...]:
    servers = 2 if company.endpoints >= 9 else 1
    rest = company.endpoints - servers
    laptops = round(rest * rng.uniform(0.2, 0.45))
    workstations = rest - laptops
    code = company.code

    def seen() -> datetime:
        # Agents check in every few minutes; the plan backdates devices that are offline.
        return now - timedelta(minutes=rng.randint(1, 14))

    rows = [
        EndpointPlan(f"{code}-SRV-{n:02d}", "server", _os(rng, catalogue.SERVER_OS), seen())
        for n in range(1, servers + 1)
    ]
    # Numbers with gaps, like a fleet where machines came and went over the years.
    rows += [
        EndpointPlan(
            f"{code}-WS-{n:03d}", "workstation", _os(rng, catalogue.WORKSTATION_OS), seen()
        )
        for n in sorted(rng.sample(range(1, 40), workstations))
    ]
    rows += [
        EndpointPlan(f"{code}-LT-{n:03d}", "laptop", _os(rng, catalogue.LAPTOP_OS), seen())
        for n in sorted(rng.sample(range(1, 25), laptops))
    ]
    return tuple(rows)


def _os(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in choices], weights=[w for _, w in choices])[0]
