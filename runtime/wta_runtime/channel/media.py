"""Downloads a message's media from Twilio with the tenant's own credentials, within limits."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from wta_runtime.catalog import Tenant
from wta_runtime.channel.media_source import MediaSourceRefused, MediaSources
from wta_runtime.egress.connections import Resolve, egress_client, resolve_host
from wta_runtime.egress.policy import EgressPolicy, EgressRefused
from wta_runtime.metrics import EGRESS_REFUSED

DEFAULT_CONTENT_TYPES = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "audio/ogg",
    "audio/mpeg",
    "audio/mp4",
    "audio/aac",
    "audio/amr",
    "video/mp4",
    "video/3gpp",
    "application/pdf",
)
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
# Twilio's media URL redirects once, to its CDN.
MAX_REDIRECTS = 5
DOWNLOAD_TIMEOUT_SECONDS = 30.0


class MediaRefusedError(Exception):
    """The media will not be kept: wrong type, too large, or gone; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MediaUnavailableError(Exception):
    """Twilio could not serve the media now (network, 429, 5xx); trying later may work."""


@dataclass(frozen=True)
class MediaPolicy:
    """What the platform accepts: content types (no parameters) and a size cap."""

    content_types: frozenset[str] = frozenset(DEFAULT_CONTENT_TYPES)
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class DownloadedMedia:
    content: bytes
    content_type: str


def bare_type(header: str | None) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg`."""
    return (header or "").split(";")[0].strip().lower()


class MediaDownloader:
    """HTTP Basic with the tenant's Account SID and token to Twilio only; redirects without them.

    Its own client connects where the platform's egress policy allows (the Twilio base too),
    one new connection per hop: each redirect's host is resolved and checked again."""

    def __init__(
        self,
        policy: MediaPolicy,
        *,
        twilio_api_url: str,
        egress: EgressPolicy | None = None,
        resolve: Resolve = resolve_host,
    ) -> None:
        self._policy = policy
        self._sources = MediaSources(twilio_api_url)
        self._client = egress_client(
            self._sources.egress(egress or EgressPolicy()),
            resolve=resolve,
            timeout=DOWNLOAD_TIMEOUT_SECONDS,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def download(self, tenant: Tenant, url: str) -> DownloadedMedia:
        """The media at `url`; refused (permanent) or unavailable (retry later) otherwise."""
        try:
            target = self._sources.parse(url)
            auth: httpx.Auth | None = None
            if self._sources.credentials_allowed(target):
                auth = httpx.BasicAuth(tenant.account_sid, tenant.auth_token.get_secret_value())
            for _ in range(MAX_REDIRECTS + 1):
                fetched = await self._get(self._sources.check(target), auth)
                if isinstance(fetched, DownloadedMedia):
                    return fetched
                # The token is for Twilio's API only: the CDN's signed URL needs none.
                target, auth = target.join(fetched), None
        except MediaSourceRefused as exc:
            raise MediaRefusedError(str(exc)) from None
        except EgressRefused:
            EGRESS_REFUSED.labels(tenant.name, "media").inc()
            raise MediaRefusedError("media host is not a public address") from None
        except httpx.InvalidURL:
            raise MediaRefusedError("media redirect is not a valid URL") from None
        except httpx.UnsupportedProtocol:
            raise MediaRefusedError("media URL scheme is not allowed") from None
        except httpx.TransportError as exc:
            raise MediaUnavailableError(f"media download failed: {type(exc).__name__}") from exc
        raise MediaRefusedError(f"more than {MAX_REDIRECTS} redirects")

    async def _get(self, url: httpx.URL, auth: httpx.Auth | None) -> DownloadedMedia | str:
        """The media, or where the server redirects to."""
        async with self._client.stream("GET", url, auth=auth, follow_redirects=False) as reply:
            location = reply.headers.get("location")
            if reply.is_redirect and location:
                return str(location)
            return await self._read(reply)

    async def _read(self, reply: httpx.Response) -> DownloadedMedia:
        if reply.status_code == 429 or reply.status_code >= 500:
            raise MediaUnavailableError(f"media download got HTTP {reply.status_code}")
        if reply.status_code != 200:
            raise MediaRefusedError(f"download failed with HTTP {reply.status_code}")
        content_type = bare_type(reply.headers.get("content-type"))
        if content_type not in self._policy.content_types:
            raise MediaRefusedError(f"content type {content_type[:64] or 'none'} not allowed")
        declared = reply.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._policy.max_bytes:
            raise MediaRefusedError(f"larger than {self._policy.max_bytes} bytes")
        content = bytearray()
        async for chunk in reply.aiter_bytes():
            content += chunk
            if len(content) > self._policy.max_bytes:
                raise MediaRefusedError(f"larger than {self._policy.max_bytes} bytes")
        return DownloadedMedia(bytes(content), content_type)
