"""Which endpoints the service sends events to: no request forged into its own network.

An endpoint is `https`, or `http` to a loopback address (a receiver on the same machine). Its
host must not resolve to a private, shared, link-local (cloud metadata, 169.254.169.254),
multicast or otherwise special address, unless one of the networks in
POSTMORTEMS_SUBSCRIPTION_ALLOWED_NETWORKS holds it. A name is resolved and checked when the
subscription is saved and again before every attempt, and the attempt connects to the very
address checked (the `Host` header and TLS name stay the endpoint's), so a name that resolves
elsewhere later (DNS rebinding) cannot reach a refused address.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

REFUSED_NETWORKS: tuple[Network, ...] = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this" network
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "169.254.0.0/16",  # link-local, cloud metadata services
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",  # unspecified
        "64:ff9b::/96",  # IPv4/IPv6 translation: could name any IPv4 address
        "100::/64",  # discard
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local (incl. fd00:ec2::254, a metadata service)
        "fe80::/10",  # link-local
        "ff00::/8",  # multicast
    )
)
LOOPBACK_NAMES = frozenset({"localhost"})


class UnsafeUrl(ValueError):
    """The endpoint is refused; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    """An endpoint checked: its URL, and the address to connect to instead of resolving its host again."""

    url: httpx.URL
    address: IPAddress

    @property
    def connect_url(self) -> httpx.URL:
        return self.url.copy_with(host=str(self.address))

    @property
    def host_header(self) -> str:
        return self.url.netloc.decode("ascii")


async def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses of `host` (kept in a module attribute, so that tests can answer for a DNS)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def refusal(address: IPAddress, allowed: Sequence[Network]) -> str | None:
    """Why `address` may not be sent to, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed) or address.is_loopback:
        return None
    for network in REFUSED_NETWORKS:
        if address.version == network.version and address in network:
            return f"resolves to {address}, in {network}, which is not reachable from here"
    return None


async def check(url: str, allowed: Sequence[Network]) -> Target:
    """The endpoint to send to, or UnsafeUrl."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeUrl(f"is not a URL: {exc}") from exc
    host = parsed.host
    if parsed.scheme not in ("http", "https") or not host:
        raise UnsafeUrl("must be an absolute https URL")
    if parsed.userinfo:
        raise UnsafeUrl("must not hold a user name or password")
    literal = _address(host)
    loopback_host = host.lower() in LOOPBACK_NAMES or (literal is not None and literal.is_loopback)
    if parsed.scheme == "http" and not loopback_host:
        raise UnsafeUrl("must use https (http only to 127.0.0.1, localhost or [::1])")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = await resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise UnsafeUrl(f"its host {host} does not resolve: {exc}") from exc
    if not addresses:
        raise UnsafeUrl(f"its host {host} does not resolve")
    for address in addresses:
        if (reason := refusal(address, allowed)) is not None:
            raise UnsafeUrl(reason)
        if parsed.scheme == "http" and not address.is_loopback:
            raise UnsafeUrl(f"must use https: {host} resolves to {address}, which is not a loopback address")
    return Target(parsed, addresses[0])


def _address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
