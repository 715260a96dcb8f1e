"""A local server speaking the OpenAI chat completions, embeddings and audio transcription APIs
with scripted answers."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from wta_runtime.agents.embeddings import hashed_vector


@dataclass
class ScriptedReply:
    """One scripted completion: text and/or tool calls, after a delay, or an HTTP error."""

    content: str | None = None
    # (function name, raw JSON arguments): raw so a test can script malformed arguments.
    tool_calls: list[tuple[str, str]] = field(default_factory=list)
    delay_seconds: float = 0.0
    status: int | None = None


def call(name: str, /, **arguments: Any) -> tuple[str, str]:
    """A well-formed scripted tool call."""
    return name, json.dumps(arguments)


@dataclass
class ScriptedModel:
    """Answers with the next scripted reply (or a default) and keeps every request."""

    replies: list[str | ScriptedReply] = field(default_factory=list)
    default_reply: str = "scripted reply"
    requests: list[dict[str, Any]] = field(default_factory=list)
    # The Authorization header of each completion request: which API key asked.
    authorizations: list[str] = field(default_factory=list)
    fail_with_status: int | None = None
    delay_seconds: float = 0.0
    embedding_requests: list[dict[str, Any]] = field(default_factory=list)
    # While set and closed, completions wait for it to open (a model that is very slow).
    gate: threading.Event | None = None
    in_flight: int = 0
    # The most completions it was answering at once (reset to 0 to measure a test's own).
    most_in_flight: int = 0
    # When set, what to answer a request (its JSON body) instead of `default_reply`.
    answer: Callable[[dict[str, Any]], str] | None = None
    # What every voice note says, and each transcription request (model, file name, size).
    transcript: str = "two margheritas for tonight"
    transcriptions: list[dict[str, Any]] = field(default_factory=list)

    def next_reply(self, body: dict[str, Any]) -> ScriptedReply:
        """The next scripted reply, else what `answer` says to `body`, else the default."""
        if self.replies:
            scripted = self.replies.pop(0)
        else:
            scripted = self.answer(body) if self.answer else self.default_reply
        return scripted if isinstance(scripted, ScriptedReply) else ScriptedReply(scripted)

    def reset(self) -> None:
        self.replies.clear()
        self.requests.clear()
        self.authorizations.clear()
        self.embedding_requests.clear()
        self.fail_with_status = None
        self.delay_seconds = 0.0
        self.most_in_flight = 0
        self.gate = None


def _error(status: int) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": "scripted failure", "type": "server_error"}}, status_code=status
    )


def _completion(body: dict[str, Any], number: int, reply: ScriptedReply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{number}_{i}",
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
            for i, (name, arguments) in enumerate(reply.tool_calls)
        ]
    return {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "gpt-4o-mini"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def add_transcriptions(
    app: FastAPI, recorded: list[dict[str, Any]], transcript: Callable[[], str]
) -> None:
    """`POST /v1/audio/transcriptions` as OpenAI answers it: multipart `file` and `model` in,
    `{"text": ...}` out; each request is recorded."""

    @app.post("/v1/audio/transcriptions")
    async def create_transcription(request: Request) -> dict[str, str]:
        form = await request.form()
        upload = form["file"]
        assert not isinstance(upload, str)
        recorded.append(
            {"model": form["model"], "filename": upload.filename, "size": len(await upload.read())}
        )
        return {"text": transcript()}


def create_openai_app(model: ScriptedModel) -> FastAPI:
    app = FastAPI(title="Local OpenAI-compatible API")

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]}

    @app.post("/v1/chat/completions", response_model=None)
    async def create_completion(request: Request) -> dict[str, Any] | JSONResponse:
        body = await request.json()
        model.requests.append(body)
        model.authorizations.append(request.headers.get("authorization", ""))
        if model.fail_with_status is not None:
            return _error(model.fail_with_status)
        reply = model.next_reply(body)
        delay = reply.delay_seconds + model.delay_seconds
        model.in_flight += 1
        model.most_in_flight = max(model.most_in_flight, model.in_flight)
        try:
            if delay:
                await asyncio.sleep(delay)
            # A threading.Event set by the test thread: polled, as one loop cannot await it.
            while model.gate is not None and not model.gate.is_set():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        finally:
            model.in_flight -= 1
        if reply.status is not None:
            return _error(reply.status)
        return _completion(body, len(model.requests), reply)

    @app.post("/v1/embeddings")
    async def create_embeddings(request: Request) -> dict[str, Any]:
        body = await request.json()
        model.embedding_requests.append(body)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return {
            "object": "list",
            "model": body.get("model", "text-embedding-3-small"),
            "data": [
                {"object": "embedding", "index": i, "embedding": hashed_vector(t, 64)}
                for i, t in enumerate(texts)
            ],
            "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)},
        }

    add_transcriptions(app, model.transcriptions, lambda: model.transcript)
    return app
