"""Downloads a message's media from Twilio with the tenant's own credentials, within limits."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from wta_runtime.catalog import Tenant

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
    """HTTP Basic with the tenant's Account SID and token, following Twilio's redirect."""

    def __init__(self, client: httpx.AsyncClient, policy: MediaPolicy) -> None:
        self._client = client
        self._policy = policy

    async def download(self, tenant: Tenant, url: str) -> DownloadedMedia:
        auth = httpx.BasicAuth(tenant.account_sid, tenant.auth_token.get_secret_value())
        try:
            # httpx drops the Authorization header when a redirect leaves the original host.
            async with self._client.stream("GET", url, auth=auth, follow_redirects=True) as reply:
                if reply.status_code == 429 or reply.status_code >= 500:
                    raise MediaUnavailableError(f"media download got HTTP {reply.status_code}")
                if reply.status_code != 200:
                    raise MediaRefusedError(f"download failed with HTTP {reply.status_code}")
                content_type = bare_type(reply.headers.get("content-type"))
                if content_type not in self._policy.content_types:
                    raise MediaRefusedError(f"content type {content_type or 'none'} not allowed")
                declared = reply.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self._policy.max_bytes:
                    raise MediaRefusedError(f"larger than {self._policy.max_bytes} bytes")
                content = bytearray()
                async for chunk in reply.aiter_bytes():
                    content += chunk
                    if len(content) > self._policy.max_bytes:
                        raise MediaRefusedError(f"larger than {self._policy.max_bytes} bytes")
        except httpx.TransportError as exc:
            raise MediaUnavailableError(f"media download failed: {type(exc).__name__}") from exc
        return DownloadedMedia(bytes(content), content_type)
