"""Where a notification URL points: refuse loopback, private and link-local addresses.

A notification URL is typed by an admin, but it makes the server send a request from
inside the network; pointed at 127.0.0.1:5432 or a cloud metadata address (169.254.169.254)
it is a way to reach what the firewall hides. Unless FRANCHISE_NOTIFY_ALLOW_PRIVATE is on,
such URLs are refused when a notification is sent (so a name that resolves somewhere
private later is caught too).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

# Schemes that send to the host named in the URL itself. Others (tgram, slack, discord ...)
# talk to their service's public API, and the URL's "host" part is a token.
SELF_HOSTED = frozenset(
    {
        "json", "jsons", "xml", "xmls", "form", "forms",
        "mailto", "mailtos", "ntfy", "ntfys", "gotify", "gotifys",
        "matrix", "matrixs", "mmost", "mmosts", "rocket", "rockets",
        "apprise", "apprises", "ncloud", "nclouds", "nctalk", "nctalks",
        "gchat", "mqtt", "mqtts", "rsyslog", "syslog",
    }
)  # fmt: skip

Resolver = Callable[[str], list[str]]


def resolve(host: str) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
    except (OSError, UnicodeError):
        return []  # unresolvable: the delivery itself will fail and say so


def is_private(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def private_target(url: str, resolver: Resolver = resolve) -> str | None:
    """Why this URL points at an internal address (scheme and address only, never the
    URL: it carries tokens), or None when it does not."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in SELF_HOSTED:
        return None
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    if not host:
        return None
    addresses = [host] if _is_literal(host) else resolver(host)
    for address in addresses:
        if is_private(address):
            return f"{scheme}:// points at the internal address {address}"
    return None


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True
