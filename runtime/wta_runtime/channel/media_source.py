"""Where a message's media may be fetched from, and which hosts see the tenant's credentials.

`MediaUrlN` is whatever the webhook says. Twilio's media URLs are `https://api.twilio.com/...` and
redirect to its CDN; only Twilio's own hosts over https (or the configured Twilio API base, which is
the local server in development and tests) get the tenant's Account SID and token. Every hop,
redirects included, must be http(s) to a public address: a URL naming a loopback, private or
link-local address would make the worker fetch from inside the cluster (SSRF).

A host is resolved once per hop and the request goes to an address that was checked, with the name
kept for the Host header, TLS SNI and the certificate check: a name that resolves to a public
address when checked and to a private one when connecting (DNS rebinding) never reaches the latter.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx

# Twilio's API (api.twilio.com, regional edges such as api.dublin.ie1.twilio.com) and media CDN
# (media.twiliocdn.com, mms.twiliocdn.com...).
TWILIO_MEDIA_DOMAINS = ("twilio.com", "twiliocdn.com")

Resolve = Callable[[str, int], Awaitable[Sequence[str]]]


class MediaSourceRefused(Exception):
    """The URL is no place to fetch media from; no retry changes that."""


class MediaSourceUnresolved(Exception):
    """The media host's name could not be resolved now."""


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise MediaSourceUnresolved(f"media host not resolved: {exc}") from None
    return [str(info[4][0]) for info in infos]


def same_origin(url: httpx.URL, base: httpx.URL) -> bool:
    return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)


def is_twilio_host(host: str) -> bool:
    return any(host == d or host.endswith("." + d) for d in TWILIO_MEDIA_DOMAINS)


def credentials_allowed(url: httpx.URL, twilio_base: httpx.URL) -> bool:
    """The tenant's token goes to the configured Twilio base, or to Twilio's hosts over https."""
    if same_origin(url, twilio_base):
        return True
    return url.scheme == "https" and is_twilio_host(url.host)


def public_address(address: str) -> bool:
    """A globally routable unicast address (IPv4-mapped IPv6 judged as the IPv4 it maps)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class Hop:
    """One request of a download: `url` names the checked address instead of the host, and the
    host's name goes where the server reads it (Host header, TLS SNI)."""

    url: httpx.URL
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


def pinned(url: httpx.URL, address: str) -> Hop:
    """The request for `url` sent to `address`, which the host's name resolved to."""
    return Hop(
        url.copy_with(host=address),
        headers={"Host": url.netloc.decode("ascii")},
        extensions={"sni_hostname": url.raw_host.decode("ascii")},
    )


class MediaSources:
    """Checks each URL the download touches against the configured Twilio base."""

    def __init__(self, twilio_base: str, resolve: Resolve = resolve_host) -> None:
        self.twilio_base = httpx.URL(twilio_base)
        self._resolve = resolve

    def parse(self, url: str) -> httpx.URL:
        """The URL, if it is one the download may start from."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise MediaSourceRefused("media URL is not a valid URL") from None
        return parsed

    async def hops(self, url: httpx.URL) -> list[Hop]:
        """The requests that may fetch `url`, one per address of its host, to try in order.

        Refuses a scheme other than http(s), and a host with any non-public address. The
        configured Twilio base is asked by name: it is trusted, wherever it is.
        """
        if url.scheme not in ("http", "https"):
            raise MediaSourceRefused(f"media URL scheme {url.scheme[:16]!r} is not allowed")
        if not url.host:
            raise MediaSourceRefused("media URL has no host")
        if same_origin(url, self.twilio_base):
            return [Hop(url)]
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await self._resolve(url.raw_host.decode("ascii"), port)
        if not addresses or not all(public_address(a) for a in addresses):
            raise MediaSourceRefused("media host is not a public address")
        return [pinned(url, address) for address in dict.fromkeys(addresses)]

    def credentials_allowed(self, url: httpx.URL) -> bool:
        return credentials_allowed(url, self.twilio_base)
