"""The egress client against real servers on loopback: nothing reaches an address the platform
does not allow, redirects included, and a checked address is the one connected to."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wta_runtime.egress.connections import egress_client
from wta_runtime.egress.policy import LOOPBACK, EgressPolicy, EgressRefused

Seen = list[tuple[str, str]]


@contextmanager
def _serving(address: str, redirect_to: str | None = None) -> Iterator[tuple[int, Seen]]:
    """A server on `address` recording (path, Host) of each request; `/hop` redirects."""
    seen: Seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Host", "")))
            if self.path == "/hop" and redirect_to:
                self.send_response(302)
                self.send_header("Location", redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((address, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def inside() -> Iterator[tuple[int, Seen]]:
    """A server standing for an internal service, on another loopback address."""
    with _serving("127.0.0.2") as served:
        yield served


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_by_default_a_loopback_server_gets_no_request(host: str) -> None:
    with _serving("127.0.0.1") as (port, seen):
        async with egress_client(EgressPolicy()) as client:
            with pytest.raises(EgressRefused, match=re.escape(f"{host} is not allowed")):
                await client.get(f"http://{host}:{port}/")

    assert seen == []


async def test_a_redirect_to_a_refused_address_is_refused_before_it_is_asked(
    inside: tuple[int, Seen],
) -> None:
    inside_port, inside_seen = inside
    with _serving("127.0.0.1", f"http://127.0.0.2:{inside_port}/secret") as (port, seen):
        async with egress_client(EgressPolicy.parse("127.0.0.1/32")) as client:
            with pytest.raises(EgressRefused, match=r"127\.0\.0\.2 is not allowed"):
                await client.get(f"http://127.0.0.1:{port}/hop", follow_redirects=True)

    assert [path for path, _ in seen] == ["/hop"]
    assert inside_seen == []


async def test_with_loopback_allowed_the_redirect_is_followed_as_before(
    inside: tuple[int, Seen],
) -> None:
    inside_port, inside_seen = inside
    with _serving("127.0.0.1", f"http://127.0.0.2:{inside_port}/doc") as (port, _):
        async with egress_client(LOOPBACK) as client:
            response = await client.get(f"http://127.0.0.1:{port}/hop", follow_redirects=True)

    assert response.text == "ok"
    assert [path for path, _ in inside_seen] == ["/doc"]


async def test_the_connection_goes_to_the_checked_address_under_the_hosts_name() -> None:
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    with _serving("127.0.0.1") as (port, seen):
        async with egress_client(LOOPBACK, resolve=resolve) as client:
            response = await client.get(f"http://shop.example:{port}/orders")

    # shop.example resolves nowhere else: only the checked answer could have been connected to.
    assert response.text == "ok"
    assert asked == ["shop.example"]
    assert seen == [("/orders", f"shop.example:{port}")]
