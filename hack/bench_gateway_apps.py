"""`python -m hack.bench_gateway_apps`: CPU per request of the gateway's ASGI app, called directly.

The gateway benchmark (`python -m hack.bench --only gateway`) measures through uvicorn, HTTP and
a load generator sharing two cores, so on a busy machine its rounds vary by a third. Here bare
uvicorn's app, the floor and the gateway (`hack/bare_app.py`, `create_app`) are called in one
process with 32 concurrent requests and a real NATS, no HTTP server: the CPU the apps themselves
spend per request, which a noisy neighbour disturbs far less. Prints a table; writes nothing.

    WTA_BENCH_PUBLISH=off python -m hack.bench_gateway_apps   # the checks and the model alone
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hack import bare_app
from hack.bench import (
    CONCURRENCY,
    GATEWAY_REQUESTS,
    GATEWAY_ROUNDS,
    WEBHOOK,
    bench_manifests,
    signed_bodies,
)
from wta_runtime.catalog import load_catalog
from wta_runtime.gateway.app import create_app
from wta_runtime.local.nats_server import nats_process
from wta_runtime.local.processes import free_port
from wta_runtime.settings import Settings
from wta_runtime.stream.inbound import InboundMessage

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
HOST = "127.0.0.1:8000"


def post_scope(body: bytes, signature: str) -> dict[str, Any]:
    """The scope uvicorn hands over for an aiohttp post of `body` (its headers, in its order)."""
    headers = [
        (b"host", HOST.encode()),
        (b"accept", b"*/*"),
        (b"accept-encoding", b"gzip, deflate"),
        (b"user-agent", b"Python/3.11 aiohttp"),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"x-twilio-signature", signature.encode()),
        (b"content-length", b"%d" % len(body)),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "POST",
        "root_path": "",
        "path": WEBHOOK,
        "raw_path": WEBHOOK.encode(),
        "query_string": b"",
        "headers": headers,
        "state": {},
    }


def write_calls() -> int:
    """This process's write system calls so far (Linux): here, its writes to NATS."""
    counts = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(counts["syscw"])


async def serve_all(app: App, bodies: list[tuple[str, str]]) -> tuple[float, float, dict[int, int]]:
    """CPU µs and NATS writes per request of serving every body, `CONCURRENCY` at a time; the
    statuses."""
    statuses: dict[int, int] = {}
    pending = iter(bodies)

    async def client() -> None:
        for text, signature in pending:
            body = text.encode()

            async def receive(body: bytes = body) -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses[message["status"]] = statuses.get(message["status"], 0) + 1

            await app(post_scope(body, signature), receive, send)

    started, writes = time.process_time(), write_calls()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    cpu = (time.process_time() - started) / len(bodies) * 1e6
    return cpu, (write_calls() - writes) / len(bodies), statuses


async def started(app: App) -> Callable[[], Awaitable[None]]:
    """Run the app's lifespan startup; the returned function shuts it down."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    task: asyncio.Future[None] = asyncio.ensure_future(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)
    )
    if (await outbox.get())["type"] != "lifespan.startup.complete":
        raise RuntimeError("the app did not start")

    async def stop() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task

    return stop


async def measure(tmp: Path, nats_url: str) -> dict[str, list[tuple[float, float]]]:
    os.environ["WTA_NATS_URL"] = nats_url  # the floor's lifespan reads it
    catalog = load_catalog(bench_manifests(tmp / "manifests"))
    tenant = next(iter(catalog.tenants.values()))
    gateway = create_app(Settings(nats_url=nats_url), catalog)
    stops = [await started(gateway), await started(bare_app.publish_app)]
    if os.environ.get("WTA_BENCH_PUBLISH") == "off":

        async def no_publish(message: InboundMessage) -> bool:
            return False

        gateway.state.gateway.publisher.publish = no_publish
    apps: dict[str, App] = {
        "bare uvicorn's app": bare_app.app,
        "floor": bare_app.publish_app,
        "gateway": gateway,
    }
    contacts = [f"+1555{n:07d}" for n in range(50)]
    cpu: dict[str, list[tuple[float, float]]] = {name: [] for name in apps}
    try:
        for _ in range(GATEWAY_ROUNDS):
            for name, app in apps.items():
                bodies = signed_bodies(tenant, f"http://{HOST}{WEBHOOK}", contacts, 300)
                await serve_all(app, bodies)  # warm-up
                bodies = signed_bodies(
                    tenant, f"http://{HOST}{WEBHOOK}", contacts, GATEWAY_REQUESTS
                )
                per_request, writes, statuses = await serve_all(app, bodies)
                if set(statuses) != {200}:
                    raise RuntimeError(f"{name} answered {statuses}")
                cpu[name].append((per_request, writes))
    finally:
        for stop in stops:
            await stop()
    return cpu


def main() -> None:
    import uvloop  # as uvicorn runs the apps (`--loop uvloop`)

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        port = free_port()
        nats = nats_process(tmp / "nats", port=port, log_path=tmp / "nats.log")
        nats.start()
        try:
            cpu = uvloop.run(measure(tmp, f"nats://127.0.0.1:{port}"))
        finally:
            nats.stop()
    print("| app | CPU µs/request (median) | each round (µs, NATS writes/request) |")
    print("| --- | --- | --- |")
    for name, rounds in cpu.items():
        each = ", ".join(f"{value:.1f} ({writes:.2f})" for value, writes in rounds)
        print(f"| {name} | {statistics.median(v for v, _ in rounds):.1f} | {each} |")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
