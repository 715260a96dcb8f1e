"""Console cookies are Secure whenever the browser reached the console over https."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import Response
from starlette.requests import Request

from wta_runtime.console.sessions import SESSION_COOKIE, set_cookie


def _request(scheme: str, headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in {"host": "wta.local", **headers}.items()]
    return Request({"type": "http", "scheme": scheme, "path": "/console/login", "headers": raw})


def _state(base_url: str | None, trust_forwarded: bool = True) -> Any:
    return SimpleNamespace(
        settings=SimpleNamespace(public_base_url=base_url, trust_forwarded_headers=trust_forwarded)
    )


@pytest.mark.parametrize(
    ("scheme", "headers", "base_url", "trust", "secure"),
    [
        ("http", {}, None, True, False),
        ("https", {}, None, True, True),
        ("http", {"X-Forwarded-Proto": "https"}, None, True, True),
        ("http", {"X-Forwarded-Proto": "https"}, None, False, False),
        ("http", {}, "https://console.example.com", True, True),
        ("http", {"X-Forwarded-Proto": "https"}, "http://127.0.0.1:8080", True, False),
    ],
)
def test_the_session_cookie_is_secure_exactly_when_served_over_https(
    scheme: str, headers: dict[str, str], base_url: str | None, trust: bool, secure: bool
) -> None:
    response = Response()

    set_cookie(response, _request(scheme, headers), _state(base_url, trust), SESSION_COOKIE, "t")

    cookie = response.headers["set-cookie"]
    assert ("Secure" in cookie) == secure
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/console" in cookie
