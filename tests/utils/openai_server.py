"""A local server speaking the OpenAI chat completions API with scripted answers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class ScriptedModel:
    """Answers with the next scripted reply (or a default) and keeps every request."""

    replies: list[str] = field(default_factory=list)
    default_reply: str = "scripted reply"
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with_status: int | None = None


def create_openai_app(model: ScriptedModel) -> FastAPI:
    app = FastAPI(title="Local OpenAI-compatible API")

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]}

    @app.post("/v1/chat/completions", response_model=None)
    async def create_completion(request: Request) -> dict[str, Any] | JSONResponse:
        body = await request.json()
        model.requests.append(body)
        if model.fail_with_status is not None:
            return JSONResponse(
                {"error": {"message": "scripted failure", "type": "server_error"}},
                status_code=model.fail_with_status,
            )
        text = model.replies.pop(0) if model.replies else model.default_reply
        return {
            "id": f"chatcmpl-{len(model.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "gpt-4o-mini"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }

    return app
