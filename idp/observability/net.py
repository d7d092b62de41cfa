"""The client's address behind load balancers: ``X-Forwarded-For`` and ``Forwarded`` (RFC 7239).

RFC 7239 §5.2 / §8.1: each proxy appends the address of the peer it received the request from,
so only the hops written by proxies we trust can be believed. The chain is walked from the right
(nearest hop first), skipping trusted proxies; the first address not trusted is the client. A
peer that is not a trusted proxy is the client itself, whatever headers it sent. Garbage or an
over-long chain never raises: the walk stops at the last address it could believe.
https://www.rfc-editor.org/rfc/rfc7239
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Literal

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Hops looked at, nearest first: a longer header is cut, never parsed whole.
MAX_HOPS = 20
_MAX_HEADER = 4096


def parse_networks(value: str | Iterable[str]) -> tuple[Network, ...]:
    """``"127.0.0.1, ::1, 10.0.0.0/8"`` → networks. An invalid entry is a configuration error."""
    items = value.split(",") if isinstance(value, str) else value
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())


def parse_address(value: str) -> Address | None:
    """An address as a proxy writes it (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``, ``::1``)."""
    value = value.strip().strip('"')
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


class TrustedProxies:
    def __init__(self, networks: tuple[Network, ...]) -> None:
        self.networks = networks

    def __contains__(self, address: Address | None) -> bool:
        if address is None:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in net for net in self.networks if net.version == address.version)


def _xff_hops(value: str) -> list[str]:
    return [hop.strip() for hop in value.split(",")]


def _forwarded_hops(value: str) -> list[str]:
    """The ``for=`` of each element of a ``Forwarded`` header (RFC 7239 §4)."""
    hops = []
    for element in value.split(","):
        found = ""
        for pair in element.split(";"):
            name, _, val = pair.partition("=")
            if name.strip().lower() == "for":
                found = val.strip()
        hops.append(found)
    return hops


def client_address(
    peer: str | None,
    header: str | None,
    trusted: TrustedProxies,
    kind: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for",
) -> str | None:
    """The client's address given the TCP peer and the (joined) forwarding header."""
    current = parse_address(peer) if peer else None
    if current is None or current not in trusted or not header:
        return peer
    header = header[-_MAX_HEADER:]
    hops = _forwarded_hops(header) if kind == "forwarded" else _xff_hops(header)
    for hop in reversed(hops[-MAX_HOPS:]):
        address = parse_address(hop)
        if address is None:
            break  # written by nobody we trust: the last believable address stands
        current = address
        if address not in trusted:
            break
    return str(current)


class ClientAddressMiddleware:
    """Replaces ``scope["client"]`` with the real client, so every reader (``client_ip``,
    throttling, audit, metrics access) sees the same address. Believes ``X-Forwarded-Proto``
    (or ``proto=``) only from a trusted peer."""

    def __init__(
        self,
        app: ASGIApp,
        trusted: TrustedProxies,
        kind: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for",
    ) -> None:
        self.app = app
        self.trusted = trusted
        self.kind = kind
        self._header = kind.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            peer_host = scope["client"][0]
            values = [v.decode("latin-1") for k, v in scope["headers"] if k == self._header]
            if values:
                host = client_address(peer_host, ", ".join(values), self.trusted, self.kind)
                if host != peer_host:
                    scope["client"] = (host, 0)
                    scope["scheme"] = self._scheme(scope) or scope.get("scheme", "http")
        await self.app(scope, receive, send)

    def _scheme(self, scope: Scope) -> str | None:
        for key, value in scope["headers"]:
            if self.kind == "x-forwarded-for" and key == b"x-forwarded-proto":
                proto = value.decode("latin-1").split(",")[-1].strip().lower()
                return proto if proto in ("http", "https") else None
            if self.kind == "forwarded" and key == b"forwarded":
                last = value.decode("latin-1").split(",")[-1]
                for pair in last.split(";"):
                    name, _, val = pair.partition("=")
                    if name.strip().lower() == "proto":
                        proto = val.strip().strip('"').lower()
                        return proto if proto in ("http", "https") else None
        return None
