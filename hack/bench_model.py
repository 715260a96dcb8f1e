"""An OpenAI-compatible model for the worker benchmark: a fixed chat completion after a set delay.

It counts the calls in flight and their peak, which is how many turns a worker keeps waiting on
the model at once. `POST /bench/reset?delay=2` sets the delay and clears the counts;
`GET /bench/stats` returns them. Run it as `python -m hack.bench_model --port 8090`.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

REPLY = "We have Margherita, Pepperoni, Quattro Formaggi and a vegan Marinara."


@dataclass
class ModelLoad:
    """The delay every answer waits, and what the calls did since the last reset."""

    delay: float = 0.0
    calls: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    other_requests: int = 0


def chat_completion(model: str) -> dict[str, Any]:
    """A plain assistant answer, no tool calls, as the chat completions API returns it."""
    return {
        "id": "chatcmpl-" + secrets.token_hex(12),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": REPLY},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 16, "total_tokens": 136},
    }


def create_model_app(load: ModelLoad) -> web.Application:
    """The app: chat completions, an embeddings stub and the benchmark's control routes."""

    async def completions(request: web.Request) -> web.Response:
        body = await request.json()
        load.calls += 1
        load.in_flight += 1
        load.peak_in_flight = max(load.peak_in_flight, load.in_flight)
        try:
            if load.delay > 0:
                await asyncio.sleep(load.delay)
        finally:
            load.in_flight -= 1
        return web.json_response(chat_completion(str(body.get("model", "bench"))))

    async def embeddings(request: web.Request) -> web.Response:
        body = await request.json()
        load.other_requests += 1
        inputs = body.get("input", [])
        count = len(inputs) if isinstance(inputs, list) else 1
        data = [{"object": "embedding", "index": i, "embedding": [0.1] * 8} for i in range(count)]
        return web.json_response({"object": "list", "data": data, "model": "bench"})

    async def other(request: web.Request) -> web.Response:
        load.other_requests += 1
        return web.json_response({"error": {"message": f"not served: {request.path}"}}, status=404)

    async def reset(request: web.Request) -> web.Response:
        load.delay = float(request.query.get("delay", load.delay))
        load.calls = load.peak_in_flight = load.other_requests = 0
        return web.json_response(asdict(load))

    async def stats(_: web.Request) -> web.Response:
        return web.json_response(asdict(load))

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_post("/bench/reset", reset)
    app.router.add_get("/bench/stats", stats)
    app.router.add_route("*", "/{tail:.*}", other)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    app = create_model_app(ModelLoad(delay=args.delay))
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None, backlog=2048)


if __name__ == "__main__":
    main()
