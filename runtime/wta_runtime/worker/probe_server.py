"""The worker's HTTP port: /metrics for Prometheus, /ready and /live for the kubelet.

Served from a thread, as prometheus_client serves metrics, so that a stuck event loop is seen by
`/live` (its heartbeat stops) rather than hiding it by not answering at all.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from wta_runtime.worker.health import Verdict, WorkerHealth

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """A line per probe every few seconds would bury the worker's own log."""


def probe_app(health: WorkerHealth) -> WSGIApplication:
    """`/ready` and `/live` from `health`; every other path is prometheus_client's as before."""
    metrics = make_wsgi_app(REGISTRY)
    probes = {"/ready": health.ready, "/live": health.live}

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        probe = probes.get(environ.get("PATH_INFO", ""))
        if probe is None:
            exposed: Iterable[bytes] = metrics(environ, start_response)
            return exposed
        return _answer(probe(), start_response)

    return app


def _answer(verdict: Verdict, start_response: StartResponse) -> list[bytes]:
    body = f"{verdict.reason}\n".encode()
    start_response(
        "200 OK" if verdict.ok else "503 Service Unavailable",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def serve_probes(port: int, host: str, health: WorkerHealth) -> WSGIServer:
    """Listen on `host:port` in a daemon thread; `shutdown()` on the result stops it."""
    family, address = _family(host, port)

    class ProbeServer(ThreadingWSGIServer):
        address_family = family

    server: WSGIServer = make_server(
        address, port, probe_app(health), ProbeServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="probe-server", daemon=True).start()
    return server


def _family(host: str, port: int) -> tuple[socket.AddressFamily, str]:
    """IPv4 or IPv6, whichever `host` is (`0.0.0.0`, `::`, a name)."""
    family, _, _, _, sockaddr = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    return family, str(sockaddr[0])
