"""One webhook POST: http(s) only, no redirects, a short timeout, and no private addresses unless allowed.

The host is resolved once, every address it resolves to is checked, and the connection goes to the checked
address (TLS still verifies the host name), so a DNS answer that changes between check and connect
cannot point a webhook at an internal service. Redirects are not followed for the same reason: a 3xx
counts as a failed attempt.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

EXCERPT_BYTES = 1000


class TargetRefused(Exception):
    """The URL may not be called (wrong scheme, private address, no such host); retrying will not help."""


class HostNotFound(TargetRefused):
    pass


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class Answer:
    status: int
    body_excerpt: str


def private_targets_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", False))


def parse_target(url: str) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused(_("This is not a valid URL."))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(_("Only http:// and https:// URLs can receive webhooks."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path)


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(target: Target) -> str:
    """The address to connect to; refuses hosts that resolve to a private, loopback or reserved address."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, ValueError):  # ValueError: e.g. a name IDNA cannot encode
        raise HostNotFound(_("The host %(host)s could not be found.") % {"host": target.host})
    addresses = [str(info[4][0]) for info in infos]
    if not private_targets_allowed():
        for address in addresses:
            if not _is_public(address):
                raise TargetRefused(
                    _("%(host)s is a private or local address (%(address)s); webhooks go to public addresses only.")
                    % {"host": target.host, "address": address}
                )
    return addresses[0]


def check_url(url: str) -> None:
    """Refuse a URL that could never be delivered to. A host that does not resolve (yet) is let through:
    it may be created later, and every attempt checks again."""
    target = parse_target(url)
    with contextlib.suppress(HostNotFound):
        resolve(target)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.pinned_address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST `body`; raises TargetRefused, OSError (network, timeout, TLS) or http.client.HTTPException."""
    target = parse_target(url)
    address = resolve(target)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.host, target.port, address=address, timeout=timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(EXCERPT_BYTES)
    finally:
        connection.close()
    return Answer(status=response.status, body_excerpt=excerpt.decode("utf-8", errors="replace"))
