"""Which client an alert belongs to: the alert's own client, the mappings, the integration's
client, then the client owning an endpoint of that host name. None sends it to triage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from franchise.alerts.models import ClientMapping, Integration
from franchise.clients.models import Client, Endpoint
from franchise.integrations.normalized import NormalizedAlert


@dataclass(frozen=True)
class Route:
    client_id: int | None
    why: str


@dataclass(frozen=True)
class Mapping:
    """A client mapping as plain values, in the order they are tried."""

    id: int
    label_key: str | None
    label_value: str | None
    host_pattern: str | None
    client_id: int


def mappings_for(session: Session, integration_id: int) -> list[Mapping]:
    """The integration's own mappings before global ones; label mappings before host
    patterns."""
    rows = session.scalars(_MAPPINGS, {"integration": integration_id})
    ordered = sorted(rows, key=lambda m: (m.integration_id is None, m.label_key is None, m.id))
    return [Mapping(m.id, m.label_key, m.label_value, m.host_pattern, m.client_id) for m in ordered]


def route_alert(
    session: Session,
    integration: Integration,
    alert: NormalizedAlert,
    *,
    mappings: list[Mapping] | None = None,
    owners: dict[str, set[int]] | None = None,
) -> Route:
    """`mappings`: the integration's, when the caller has read them already; `owners`: the
    clients of the alerts' host names, when read already for many alerts
    (`endpoint_owners`)."""
    notes = []
    if alert.client:
        client_id = session.scalar(_CLIENT_BY_NAME, {"name": alert.client.lower()})
        if client_id is not None:
            return Route(client_id, f"client '{alert.client}' named in the alert")
        notes.append(f"client '{alert.client}' named in the alert is not a known client")
    if mappings is None:
        mappings = mappings_for(session, integration.id)
    mapped = _by_mapping(mappings, alert)
    if mapped is not None:
        return mapped
    if integration.client_id is not None:
        return Route(integration.client_id, "the integration's client")
    by_host = _by_endpoint(session, alert.host, owners)
    if by_host is not None:
        return by_host
    notes.append("no mapping, integration client or endpoint matched")
    return Route(None, "; ".join(notes))


def _by_mapping(mappings: list[Mapping], alert: NormalizedAlert) -> Route | None:
    host = (alert.host or "").lower()
    for mapping in mappings:
        if mapping.label_key is not None:
            if alert.labels.get(mapping.label_key) == mapping.label_value:
                return Route(
                    mapping.client_id,
                    f"mapping {mapping.id}: {mapping.label_key}={mapping.label_value}",
                )
        elif host and mapping.host_pattern and fnmatchcase(host, mapping.host_pattern):
            return Route(mapping.client_id, f"mapping {mapping.id}: host {mapping.host_pattern}")
    return None


def _names(host: str) -> set[str]:
    """The endpoint names a host name matches: itself, and its first label alone."""
    return {host.lower(), host.lower().split(".", 1)[0]}


def endpoint_owners(session: Session, hosts: Iterable[str | None]) -> dict[str, set[int]]:
    """The clients owning an endpoint of each name the hosts match, in one query per 500
    names rather than one per alert: what `route_alert` looks up for an alert's host."""
    names = sorted({name for host in hosts if host for name in _names(host)})
    found: dict[str, set[int]] = {name: set() for name in names}
    for start in range(0, len(names), 500):
        for name, client_id in session.execute(
            _ENDPOINT_NAMES, {"names": names[start : start + 500]}
        ):
            found[name].add(client_id)
    return found


def _by_endpoint(
    session: Session, host: str | None, known: dict[str, set[int]] | None = None
) -> Route | None:
    if not host:
        return None
    names = _names(host)
    if known is not None and names <= known.keys():
        owners = {client_id for name in names for client_id in known[name]}
    else:
        owners = set(session.scalars(_ENDPOINT_OWNERS, {"names": sorted(names)}))
    if len(owners) == 1:
        return Route(owners.pop(), f"endpoint {host}")
    return None


# Built once: each alert that opens a ticket runs these, and building a statement costs
# more than running it. lower(hostname) is indexed (ix_endpoints_hostname_lower).
_CLIENT_BY_NAME = select(Client.id).where(func.lower(Client.name) == bindparam("name"))
_MAPPINGS = (
    select(ClientMapping)
    .where(
        or_(
            ClientMapping.integration_id == bindparam("integration"),
            ClientMapping.integration_id.is_(None),
        )
    )
    .order_by(ClientMapping.id)
)
_ENDPOINT_OWNERS = select(Endpoint.client_id).where(
    func.lower(Endpoint.hostname).in_(bindparam("names", expanding=True))
)
_ENDPOINT_NAMES = select(func.lower(Endpoint.hostname), Endpoint.client_id).where(
    func.lower(Endpoint.hostname).in_(bindparam("names", expanding=True))
)
