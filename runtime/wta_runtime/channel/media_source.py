"""Where a message's media may be fetched from, and which hosts see the tenant's credentials.

`MediaUrlN` is whatever the webhook says. Twilio's media URLs are `https://api.twilio.com/...` and
redirect to its CDN; only Twilio's own hosts over https (or the configured Twilio API base, which is
the local server in development and tests) get the tenant's Account SID and token. Every hop,
redirects included, must be http(s) to a public address: a URL naming a loopback, private or
link-local address would make the worker fetch from inside the cluster (SSRF).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence

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

    async def check(self, url: httpx.URL) -> None:
        """Refuse a scheme other than http(s), and a host with any non-public address."""
        if url.scheme not in ("http", "https"):
            raise MediaSourceRefused(f"media URL scheme {url.scheme[:16]!r} is not allowed")
        if not url.host:
            raise MediaSourceRefused("media URL has no host")
        if same_origin(url, self.twilio_base):
            return
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await self._resolve(url.host, port)
        if not addresses or not all(public_address(a) for a in addresses):
            raise MediaSourceRefused("media host is not a public address")

    def credentials_allowed(self, url: httpx.URL) -> bool:
        return credentials_allowed(url, self.twilio_base)
