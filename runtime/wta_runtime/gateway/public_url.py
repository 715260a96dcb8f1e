"""Rebuilds the URL Twilio called, which is what Twilio signed (not the pod's own address)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from starlette.datastructures import URL
from starlette.types import Scope


@lru_cache(maxsize=256)
def _received_url(
    scheme: str, server: tuple[str, int] | None, host: str | None, path: str, query: bytes
) -> tuple[str, str]:
    """The URL as received and its path with query, as Starlette builds them (cached: they are
    few, and building one costs as much as checking the signature)."""
    headers = [] if host is None else [(b"host", host.encode("latin-1"))]
    scope = {"scheme": scheme, "server": server, "path": path, "query_string": query}
    url = URL(scope={**scope, "headers": headers})
    return str(url), url.path + ("?" + url.query if url.query else "")


def public_url(
    scope: Scope, headers: Mapping[str, str], *, base_url: str | None, trust_forwarded: bool
) -> str:
    """The public URL of a request: configured base, else forwarded headers, else as received."""
    server = scope.get("server")
    received, path_and_query = _received_url(
        scope.get("scheme", "http"),
        tuple(server) if server is not None else None,
        headers.get("host"),
        scope["path"],
        scope.get("query_string", b""),
    )
    if base_url:
        return base_url.rstrip("/") + path_and_query
    if trust_forwarded:
        proto = headers.get("x-forwarded-proto")
        host = headers.get("x-forwarded-host")
        if proto or host:
            url = URL(received)
            scheme = (proto or url.scheme).split(",")[0].strip()
            netloc = (host or headers.get("host") or url.netloc).split(",")[0]
            prefix = headers.get("x-forwarded-prefix", "").rstrip("/")
            return f"{scheme}://{netloc.strip()}{prefix}{path_and_query}"
    return received
