"""A local server speaking Anthropic's Messages API (`POST /v1/messages`) with scripted answers.

It answers from the same `ScriptedModel` as the OpenAI-compatible server: text becomes a text
block, each scripted tool call a `tool_use` block, an error status Anthropic's error body (429
rate_limit_error, 529 overloaded_error, 5xx api_error). Run it for `make run` with
`python -m tests.utils.anthropic_server --port 8091`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.utils.openai_server import ScriptedModel, ScriptedReply

INPUT_TOKENS, OUTPUT_TOKENS = 12, 7
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _error(status: int) -> JSONResponse:
    kind = _ERROR_TYPES.get(status, "api_error")
    return JSONResponse(
        {"type": "error", "error": {"type": kind, "message": "scripted failure"}},
        status_code=status,
    )


def _arguments(raw: str) -> Any:
    """A scripted call's arguments as the `input` object (unparsable text stays a string)."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def message(body: dict[str, Any], number: int, reply: ScriptedReply) -> dict[str, Any]:
    """A Messages API response: text and tool_use blocks, stop reason, usage."""
    content: list[dict[str, Any]] = []
    if reply.content:
        content.append({"type": "text", "text": reply.content})
    content += [
        {"type": "tool_use", "id": f"toolu_{number}_{i}", "name": name, "input": _arguments(raw)}
        for i, (name, raw) in enumerate(reply.tool_calls)
    ]
    return {
        "id": f"msg_{number}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "claude-haiku-4-5"),
        "content": content,
        "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS},
    }


def create_anthropic_app(model: ScriptedModel, api_keys: list[str] | None = None) -> FastAPI:
    """The Messages API over `model`: each request body is kept in `model.requests`, each
    request's API key in `api_keys`."""
    app = FastAPI(title="Local Anthropic Messages API")

    @app.post("/v1/messages", response_model=None)
    async def create_message(request: Request) -> dict[str, Any] | JSONResponse:
        body = await request.json()
        model.requests.append(body)
        # The SDK sends the key as `x-api-key`, or as a bearer token in its newer versions.
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        key = request.headers.get("x-api-key") or bearer
        if api_keys is not None:
            api_keys.append(key or "")
        if not key:
            return _error(401)
        if model.fail_with_status is not None:
            return _error(model.fail_with_status)
        reply = model.next_reply(body)
        delay = reply.delay_seconds + model.delay_seconds
        if delay:
            await asyncio.sleep(delay)
        if reply.status is not None:
            return _error(reply.status)
        return message(body, len(model.requests), reply)

    return app


def api_key_secret(name: str, key: str) -> dict[str, Any]:
    """A Secret manifest holding an API key under `apiKey`."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "stringData": {"apiKey": key},
    }


def anthropic_model(url: str, secret: str, name: str, **settings: Any) -> dict[str, Any]:
    """`AIAgent.spec.model` on the anthropic provider at `url`, its key in `secret`."""
    return {
        "provider": "anthropic",
        "name": name,
        "baseUrl": url,
        "apiKeySecretRef": {"name": secret, "key": "apiKey"},
        **settings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--reply", default="Hello from the local Anthropic Messages API.")
    options = parser.parse_args()
    app = create_anthropic_app(ScriptedModel(default_reply=options.reply))
    uvicorn.run(app, host="127.0.0.1", port=options.port)


if __name__ == "__main__":
    main()
