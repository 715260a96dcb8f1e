"""What the kubelet sees of a worker's probe: the status code and body of one GET."""

from __future__ import annotations

import httpx


def probe(port: int | None, path: str) -> tuple[int, str]:
    """GET `path` (`/ready`, `/live`) on a worker's metrics port on loopback."""
    response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    return response.status_code, response.text.strip()
