"""Fetching a knowledge source's bytes: a ConfigMap key, an allowed URL, or a tenant's object.

A URL's host must be in the agent's `knowledge.allowedHosts` (the tenant's list), and its
addresses within the platform's egress policy (checked by the client's connections).
Every failure is a SourceError whose message says what to fix and carries no secret (a URL's
query string, which may hold a token, is never repeated).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from wta_runtime.agents.knowledge import as_bytes
from wta_runtime.channel.media_store import MediaStore, MediaStoreError, MediaStoreRefused
from wta_runtime.egress.policy import EgressRefused
from wta_runtime.specs.agent import Knowledge, KnowledgeSource

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 20.0


class SourceError(Exception):
    """The source could not be fetched; the message is safe for logs and CR status."""


class SourceRefusedByEgress(SourceError):
    """The URL's host is not one the platform's egress policy lets the runtime reach."""


@dataclass(frozen=True)
class FetchedDocument:
    """A source's bytes, the name its format may be guessed from, and its content type."""

    data: bytes
    name: str
    content_type: str | None = None


@dataclass(frozen=True)
class FetchPolicy:
    """`allow_http`: plain http URLs are fetched too (local runs and tests only)."""

    allow_http: bool = False
    max_bytes: int = MAX_DOCUMENT_BYTES


def check_url(url: str, knowledge: Knowledge, policy: FetchPolicy) -> None:
    """Refuse a URL that is not https (unless allowed) or whose host is not allowed."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and policy.allow_http):
        raise SourceError(
            f"{parts.scheme}:// is refused: knowledge URLs must be https "
            "(WTA_AGENT_KNOWLEDGE_ALLOW_HTTP=true allows http for local runs)"
        )
    if not knowledge.allows(url):
        raise SourceError(f"{parts.netloc} is not in knowledge.allowedHosts")


async def fetch_url(
    http: httpx.AsyncClient, url: str, knowledge: Knowledge, policy: FetchPolicy
) -> FetchedDocument:
    """GET the URL (no redirects: a redirect could leave the allowed hosts), size-limited."""
    check_url(url, knowledge, policy)
    shown = url.split("?", 1)[0]
    try:
        async with http.stream(
            "GET", url, follow_redirects=False, timeout=FETCH_TIMEOUT_SECONDS
        ) as response:
            if response.status_code != 200:
                raise SourceError(f"{shown} answered HTTP {response.status_code}")
            body = bytearray()
            async for piece in response.aiter_bytes():
                body += piece
                if len(body) > policy.max_bytes:
                    raise SourceError(f"{shown} is larger than {policy.max_bytes} bytes")
            content_type = response.headers.get("content-type")
    except EgressRefused as exc:
        raise SourceRefusedByEgress(f"{shown} is refused: {exc}") from None
    except httpx.HTTPError as exc:
        raise SourceError(f"{shown} could not be fetched ({type(exc).__name__})") from None
    return FetchedDocument(bytes(body), urlsplit(url).path, content_type)


def fetch_config_map(
    source: KnowledgeSource, config_maps: Mapping[str, Mapping[str, str]]
) -> FetchedDocument:
    """The ConfigMap key's bytes (`data` or `binaryData`), as mounted (or as a manifest beside
    the agent's, locally)."""
    assert source.config_map is not None
    ref = source.config_map
    data = config_maps.get(ref.name)
    if data is None:
        raise SourceError(f"ConfigMap {ref.name} is not mounted or does not exist")
    if ref.key not in data:
        raise SourceError(f"ConfigMap {ref.name} has no key {ref.key}")
    return FetchedDocument(as_bytes(data[ref.key]), ref.key)


async def fetch_object(store: MediaStore | None, tenant: str, key: str) -> FetchedDocument:
    """The object `<tenant>/<key>` of the tenant's media store."""
    if store is None:
        raise SourceError("no media store is configured for this worker")
    try:
        data = await store.read_document(tenant, key)
    except FileNotFoundError:
        raise SourceError(f"no object {key} in the tenant's media store") from None
    except MediaStoreRefused as exc:
        raise SourceRefusedByEgress(f"the tenant's media store is refused: {exc}") from None
    except (PermissionError, MediaStoreError) as exc:
        raise SourceError(str(exc)) from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise SourceError(f"object {key} is larger than {MAX_DOCUMENT_BYTES} bytes")
    return FetchedDocument(data, key)
