"""A small HTTP load generator (aiohttp, keep-alive) run in its own process by the benchmark."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp


async def closed_loop(
    url: str, bodies: list[tuple[str, str]], concurrency: int
) -> dict[str, object]:
    """Send every (body, signature) as fast as `concurrency` connections allow."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    headers = {"content-type": "application/x-www-form-urlencoded"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                body, signature = queue.get_nowait()
                started = time.perf_counter()
                async with session.post(
                    url, data=body, headers={**headers, "X-Twilio-Signature": signature}
                ) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return {"elapsed": elapsed, "latencies": latencies, "statuses": statuses}


async def open_loop(url: str, bodies: list[tuple[str, str]], rate: float) -> dict[str, object]:
    """Send the bodies at a fixed rate; record when each was accepted (wall clock)."""
    accepted: list[tuple[int, float, int]] = []
    headers = {"content-type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:

        async def send(index: int, body: str, signature: str) -> None:
            async with session.post(
                url, data=body, headers={**headers, "X-Twilio-Signature": signature}
            ) as response:
                await response.read()
            accepted.append((index, time.time(), response.status))

        began = time.perf_counter()
        tasks = []
        for index, (body, signature) in enumerate(bodies):
            delay = began + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(index, body, signature)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return {"elapsed": elapsed, "accepted": accepted}


def main() -> None:
    job = json.load(sys.stdin)
    if job["mode"] == "closed":
        result = asyncio.run(closed_loop(job["url"], job["bodies"], job["concurrency"]))
    else:
        result = asyncio.run(open_loop(job["url"], job["bodies"], job["rate"]))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
