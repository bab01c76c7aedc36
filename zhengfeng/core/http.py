"""Request helpers: the htmx request type, and the client address behind trusted proxies."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """Annotation only (as django-htmx documents it): the middleware sets `htmx` on every request."""

    htmx: HtmxDetails


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str:
    """The client's address: the one function for rate limits, login throttling and audit rows.

    REMOTE_ADDR is the direct peer. Only when that peer is a trusted proxy (settings.TRUSTED_PROXIES) is
    `X-Forwarded-For` read, from the right: each proxy appends the address it received the request from,
    so the right-most address that is not one of our proxies is the first one we cannot vouch for, the
    client. Everything left of it was written by the client and may be forged. An unreadable entry stops
    the walk at the last proxy that wrote a trustworthy one.
    """
    peer_text = request.META.get("REMOTE_ADDR", "")
    peer = _parse_ip(peer_text)
    if peer is None:
        return peer_text or "unknown"
    if not _trusted(peer):
        return str(peer)
    client = peer
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _parse_ip(hop)
        if address is None:
            break
        client = address
        if not _trusted(address):
            break
    return str(client)
