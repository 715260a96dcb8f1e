"""Calls to the chat completions API with a retry budget; failures become `ModelFailure` values."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import openai
from openai import AsyncOpenAI, DefaultAioHttpClient, RequestOptions
from openai.types.chat import ChatCompletion
from pydantic import SecretStr

from wta_runtime.agents.turn import Usage

FailureReason = Literal[
    "timeout", "rate_limited", "server_error", "connection", "malformed", "rejected", "empty"
]
RETRYABLE: frozenset[FailureReason] = frozenset(
    {"timeout", "rate_limited", "server_error", "connection", "malformed", "empty"}
)


class ModelFailure(Exception):
    """The model gave no usable answer; `reason` says why, `usage` what it cost anyway."""

    def __init__(self, reason: FailureReason, detail: str, usage: Usage | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: FailureReason = reason
        self.usage = usage or Usage()


class MalformedReply(ValueError):
    """The completion cannot be used as it is (e.g. a tool call with broken arguments)."""


@dataclass(frozen=True)
class RetryBudget:
    """How often a failing model call is tried again, and how long to wait in between."""

    attempts: int = 3
    backoff_seconds: float = 0.25


def classify(exc: Exception) -> FailureReason:
    """The reason of a failed call, as the retry decision sees it."""
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited"
    if isinstance(exc, openai.APIStatusError):
        return "server_error" if exc.status_code >= 500 else "rejected"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    if isinstance(exc, MalformedReply):
        return "malformed"
    return "rejected"


def usage_of(completion: ChatCompletion) -> Usage:
    if completion.usage is None:
        return Usage(model_calls=1)
    return Usage(completion.usage.prompt_tokens, completion.usage.completion_tokens, 1)


async def _create(client: AsyncOpenAI, request: dict[str, Any]) -> ChatCompletion:
    """`client.chat.completions.create(**request)` without the SDK walking the request to
    transform it: ours is plain JSON already, and that walk cost more CPU than the whole HTTP
    exchange. `post` is the SDK's own documented way to a path (errors, auth and parsing alike).
    """
    body = {name: value for name, value in request.items() if name != "timeout"}
    options: RequestOptions = {}
    if "timeout" in request:
        options["timeout"] = request["timeout"]
    return await client.post(
        "/chat/completions", body=body, cast_to=ChatCompletion, options=options
    )


async def complete(
    client: AsyncOpenAI,
    request: dict[str, Any],
    *,
    budget: RetryBudget,
    check: Callable[[ChatCompletion], None] = lambda _: None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[ChatCompletion, Usage]:
    """One completion, retried within `budget` on timeouts, 429, 5xx and malformed replies."""
    spent = Usage()
    for attempt in range(1, budget.attempts + 1):
        try:
            completion = await _create(client, request)
            spent = spent + usage_of(completion)
            if not completion.choices:
                raise MalformedReply("the completion has no choices")
            check(completion)
            return completion, spent
        except (TimeoutError, openai.OpenAIError, MalformedReply) as exc:
            if not isinstance(exc, MalformedReply):
                spent = spent + Usage(model_calls=1)
            reason = classify(exc)
            if reason not in RETRYABLE or attempt == budget.attempts:
                raise ModelFailure(reason, str(exc), spent) from exc
            await sleep(budget.backoff_seconds * 2 ** (attempt - 1))
    raise ModelFailure("empty", "no attempt was made", spent)  # attempts < 1


class ModelClients:
    """One AsyncOpenAI client per (key, base URL); the SDK's own retries are off, ours count."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str | None], AsyncOpenAI] = {}

    def get(self, api_key: SecretStr, base_url: str | None) -> AsyncOpenAI:
        key = (api_key.get_secret_value(), base_url)
        if key not in self._clients:
            # aiohttp under the SDK costs less CPU a call than httpx (the SDK ships the transport).
            self._clients[key] = AsyncOpenAI(
                api_key=key[0],
                base_url=base_url,
                max_retries=0,
                http_client=DefaultAioHttpClient(),
            )
        return self._clients[key]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
