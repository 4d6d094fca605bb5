"""The client's address (端末のアドレス) as the login lock and the audit trail record it.

Behind the city's TLS proxy every request's REMOTE_ADDR is the proxy's own address, so a
lock "on the terminal" would lock every counter at once and the trail would name the proxy
for every login. The proxy appends the address it received the request from to
X-Forwarded-For; only a request that came from a trusted proxy (`KOKUHO_TRUSTED_PROXIES`)
has its header believed, read from the right: the first address that is not itself a
trusted proxy is the client. Anything to its left was written by the client and could be
anything, so it is never used.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The client's IP address: REMOTE_ADDR, or behind a trusted proxy the address that
    proxy saw (an unreadable header falls back to REMOTE_ADDR)."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = set(settings.KOKUHO_TRUSTED_PROXIES)
    if not trusted or _address(remote) not in trusted:
        return remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return remote
        if address not in trusted:
            return address
    return remote
