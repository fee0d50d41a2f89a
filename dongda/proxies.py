"""The reverse proxies in front of the app (settings.TRUSTED_PROXIES), and the client behind them.

Sign-in lockout (django-axes) counts failures per sign-in name and client address; behind nginx
every request arrives from nginx's address, so the client's own address must come from the
X-Forwarded-For header nginx writes. A client can write that header too, so it is read only on
a request that came from a named proxy (REMOTE_ADDR), and only from its right end: each proxy
appends the address that connected to it, so walking from the right over the trusted proxies
gives the first address no trusted proxy vouches for, which a client cannot choose. Without
TRUSTED_PROXIES the header is ignored and REMOTE_ADDR is the client.

django-ipware, which axes can use instead, does not fit: it never asks who connected (a client
reaching gunicorn directly could name any address) and its trusted-proxy list matches hops
inside the header, so with nginx alone in front it finds no address at all (None).
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks() -> tuple[Network, ...]:
    """settings.TRUSTED_PROXIES as networks; a bad entry stops the app naming the variable
    (checked at start-up by dongda.apps)."""
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            # strict=False: "10.0.0.5/24" means the proxies' network, as people write it.
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES must list IP addresses or networks (10.0.0.0/8), got {entry!r}"
            ) from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    """One hop as a proxy writes it: "203.0.113.5", "[2001:db8::1]:443" or "203.0.113.5:80"."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(request) -> str | None:
    """The address sign-in lockout counts failures by (AXES_CLIENT_IP_CALLABLE)."""
    remote_text = request.META.get("REMOTE_ADDR") or None
    networks = trusted_networks()
    remote = _address(remote_text or "")
    if not _trusted(remote, networks):
        return str(remote) if remote else remote_text
    nearest = remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # A trusted proxy wrote something that is not an address: the nearest proxy is
            # the most we know of this client.
            break
        if not _trusted(address, networks):
            return str(address)
        nearest = address
    return str(nearest)
