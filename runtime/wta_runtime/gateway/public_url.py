"""Rebuilds the URL Twilio called, which is what Twilio signed (not the pod's own address)."""

from __future__ import annotations

from starlette.requests import Request


def public_url(request: Request, *, base_url: str | None, trust_forwarded: bool) -> str:
    """The public URL of this request: configured base, else forwarded headers, else as received."""
    path_and_query = request.url.path
    if request.url.query:
        path_and_query += "?" + request.url.query
    if base_url:
        return base_url.rstrip("/") + path_and_query
    if trust_forwarded:
        proto = request.headers.get("x-forwarded-proto")
        host = request.headers.get("x-forwarded-host")
        if proto or host:
            scheme = (proto or request.url.scheme).split(",")[0].strip()
            netloc = (host or request.headers.get("host") or request.url.netloc).split(",")[0]
            prefix = request.headers.get("x-forwarded-prefix", "").rstrip("/")
            return f"{scheme}://{netloc.strip()}{prefix}{path_and_query}"
    return str(request.url)
