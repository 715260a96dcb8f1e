"""The platform's egress policy: which hosts and addresses a tenant's configuration may reach.

A tenant writes its HTTP tools', knowledge sources' and MCP servers' URLs itself, and its own
allow-lists with them; none of that may point the runtime at the platform's own network (the
Kubernetes API, cluster services, cloud metadata, loopback). By default only globally routable
unicast addresses are allowed; the platform team may add CIDRs and host names
(`WTA_EGRESS_ALLOW`) for the few internal services it offers tenants.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# NAT64 (RFC 6052) embeds an IPv4 address: judged as that address.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

REFUSED_HINT = (
    "only public addresses are reached, unless the platform team allows an internal service "
    "(WTA_EGRESS_ALLOW)"
)


class EgressRefused(Exception):
    """A connection the platform's egress policy does not allow; safe to show the tenant."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} is not allowed by the platform's egress policy: {REFUSED_HINT}")
        self.host = host


def refusal_in(exc: BaseException) -> EgressRefused | None:
    """The egress refusal behind `exc`, however a client library or task group wrapped it."""
    if isinstance(exc, EgressRefused):
        return exc
    inner: list[BaseException] = list(getattr(exc, "exceptions", ()))
    inner += [e for e in (exc.__cause__, exc.__context__) if e is not None]
    for found in map(refusal_in, inner):
        if found is not None:
            return found
    return None


def _as_judged(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def public_address(address: str) -> bool:
    """A globally routable unicast address (IPv4-mapped and NAT64 IPv6 judged as their IPv4)."""
    ip = _as_judged(address)
    return ip.is_global and not ip.is_multicast


def _host_entry(entry: str, setting: str) -> str:
    name = entry.removeprefix("*.")
    labels = name.split(".")
    if not name or not all(label and label.replace("-", "").isalnum() for label in labels):
        raise ValueError(
            f"{setting} entry {entry!r} is neither a CIDR (10.0.0.0/8), an address, "
            "a host name (crm.internal.svc) nor a domain wildcard (*.internal.example)"
        )
    return entry.lower()


@dataclass(frozen=True)
class EgressPolicy:
    """Public unicast addresses, plus `networks` and `hosts` (exact names or `*.domain`);
    `origins` (host, port) are trusted by name wherever they resolve (the Twilio API base)."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()
    origins: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, entries: str | Iterable[str], setting: str = "WTA_EGRESS_ALLOW") -> EgressPolicy:
        """From `setting`: CIDRs, addresses, host names, `*.domain`, comma-separated."""
        if isinstance(entries, str):
            entries = entries.replace(",", " ").split()
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(_host_entry(entry, setting))
        return cls(tuple(networks), frozenset(hosts))

    def trusting(self, host: str, port: int) -> EgressPolicy:
        """This policy, with the origin `host:port` asked by name wherever it is."""
        return replace(self, origins=self.origins | {(host.lower(), port)})

    def trusts(self, host: str, port: int) -> bool:
        """Whether `host` is allowed by name, so its addresses are not checked."""
        name = host.lower().rstrip(".")
        if (name, port) in self.origins or name in self.hosts:
            return True
        return any(h.startswith("*.") and name.endswith(h[1:]) for h in self.hosts)

    def allows_address(self, address: str) -> bool:
        """A public unicast address, or one of the platform's allowed networks."""
        if public_address(address):
            return True
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        judged = _as_judged(address)
        return any(ip in net or judged in net for net in self.networks)

    def check(self, host: str, addresses: Iterable[str]) -> list[str]:
        """The distinct addresses of `host`, if every one is allowed; else EgressRefused."""
        distinct = list(dict.fromkeys(addresses))
        if not distinct or not all(self.allows_address(a) for a in distinct):
            raise EgressRefused(host)
        return distinct


# For local runs and tests whose servers listen on loopback.
LOOPBACK = EgressPolicy.parse("127.0.0.0/8,::1/128")
