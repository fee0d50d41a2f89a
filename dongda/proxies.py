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
            network = ipaddress.ip_network(entry.strip())
        except ValueError:
            network = None
        # Each proxy by its own address, never a network: on a district's intranet the people
        # share the proxy's network, and a client trusted as a proxy could write any address
        # into X-Forwarded-For and get five more guesses with each.
        if network is None or network.num_addresses != 1:
            raise ImproperlyConfigured(
                "TRUSTED_PROXIES must list the proxies' own IP addresses (127.0.0.1, ::1), "
                f"not networks, got {entry!r}"
            )
        networks.append(network)
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


class UntrustedForwardingHeadersMiddleware:
    """First in MIDDLEWARE: a request that did not come from a trusted proxy loses the
    X-Forwarded-* headers it wrote itself, before SecurityMiddleware asks is_secure() (which
    reads X-Forwarded-Proto through SECURE_PROXY_SSL_HEADER from whoever sent it) and before
    anything reads the client's address."""

    HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        remote = _address(request.META.get("REMOTE_ADDR") or "")
        if not _trusted(remote, trusted_networks()):
            for header in self.HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)


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
