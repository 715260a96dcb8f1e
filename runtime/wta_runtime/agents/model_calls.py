"""Model calls with a retry budget, whatever the provider; failures become `ModelFailure` values.

The `openai` provider lives here too: the SDK on a deliberately short path (`OpenAIChatModel`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from wta_runtime.agents.chat_model import ChatModel, FailureReason, ModelStep, StepCall, StepRequest
from wta_runtime.agents.turn import Usage
from wta_runtime.egress.connections import egress_client2
from wta_runtime.egress.policy import EgressPolicy, EgressRefused
from wta_runtime.openai_errors import openai_errors

if TYPE_CHECKING:
    from openai import AsyncOpenAI, RequestOptions

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
    """The reply cannot be used as it is (e.g. a tool call with broken arguments); `usage` is
    what the reply cost when the provider adapter refused it before it was counted."""

    def __init__(self, detail: str, usage: Usage | None = None) -> None:
        super().__init__(detail)
        self.usage = usage or Usage()


@dataclass(frozen=True)
class RetryBudget:
    """How often a failing model call is tried again, and how long to wait in between."""

    attempts: int = 3
    backoff_seconds: float = 0.25


def classify(exc: Exception) -> FailureReason:
    """The reason of a failed OpenAI SDK call, as the retry decision sees it."""
    import openai

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


def usage_of(completion: Mapping[str, Any]) -> Usage:
    """The tokens a chat completion (its JSON) counted; a call without usage counts as a call."""
    usage = completion.get("usage")
    if not isinstance(usage, dict):
        return Usage(model_calls=1)
    prompt, completed = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return Usage(
        prompt if isinstance(prompt, int) else 0, completed if isinstance(completed, int) else 0, 1
    )


def step_of(completion: object) -> ModelStep:
    """The neutral step of a chat completion's JSON; MalformedReply when it has no usable choice."""
    if not isinstance(completion, dict):
        raise MalformedReply("the completion is not a JSON object")
    usage = usage_of(completion)
    choices = completion.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else None
    if not isinstance(choice, dict):
        raise MalformedReply("the completion has no choices", usage)
    message = choice.get("message")
    if not isinstance(message, dict):
        raise MalformedReply("the choice has no message", usage)
    content = message.get("content") or ""
    if not isinstance(content, str):
        raise MalformedReply("the message's content is not text", usage)
    calls = []
    for call in message.get("tool_calls") or []:
        kind = call.get("type") if isinstance(call, dict) else None
        if kind != "function":
            raise MalformedReply(f"unsupported tool call type {kind!r}", usage)
        function = call.get("function")
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise MalformedReply("a tool call has no function name", usage)
        arguments = function.get("arguments")
        calls.append(
            StepCall(
                str(call.get("id")),
                function["name"],
                arguments if isinstance(arguments, str) else "",
            )
        )
    return ModelStep(content, tuple(calls), usage)


class OpenAIChatModel:
    """Provider `openai`: any OpenAI-compatible endpoint, through the SDK's `post`."""

    provider = "openai"

    def __init__(self, client: AsyncOpenAI) -> None:
        self._client = client

    async def step(self, request: StepRequest) -> ModelStep:
        """`client.chat.completions.create(...)` without the SDK walking the request to
        transform it: ours is plain JSON already, and that walk cost more CPU than the whole
        HTTP exchange. `post` is the SDK's own documented way to a path (errors and auth
        alike)."""
        body: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        }
        if request.tools:
            body["tools"] = request.tools
            if request.no_more_tools:
                body["tool_choice"] = "none"
        options: RequestOptions = {"timeout": request.timeout_seconds}
        # `object`: the SDK hands back the JSON as it came; reading the few fields a step has
        # costs less than building the SDK's ChatCompletion objects.
        completion = await self._client.post(
            "/chat/completions", body=body, cast_to=object, options=options
        )
        return step_of(completion)

    def failure_reason(self, exc: Exception) -> FailureReason | None:
        if isinstance(exc, EgressRefused):
            return "rejected"  # the platform's policy: asking again changes nothing
        return classify(exc) if isinstance(exc, openai_errors(TimeoutError)) else None


async def complete(
    model: ChatModel,
    request: StepRequest,
    *,
    budget: RetryBudget,
    check: Callable[[ModelStep], None] = lambda _: None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[ModelStep, Usage]:
    """One step, retried within `budget` on timeouts, 429, 5xx and malformed replies."""
    spent = Usage()
    for attempt in range(1, budget.attempts + 1):
        reason: FailureReason
        error: Exception
        try:
            step = await model.step(request)
            spent = spent + step.usage
            check(step)
            return step, spent
        except MalformedReply as exc:
            spent, reason, error = spent + exc.usage, "malformed", exc
        except Exception as exc:
            found = model.failure_reason(exc)
            if found is None:
                raise
            spent, reason, error = spent + Usage(model_calls=1), found, exc
        if reason not in RETRYABLE or attempt == budget.attempts:
            raise ModelFailure(reason, str(error), spent) from error
        await sleep(budget.backoff_seconds * 2 ** (attempt - 1))
    raise ModelFailure("empty", "no attempt was made", spent)  # attempts < 1


class ModelClients:
    """One AsyncOpenAI client per (key, base URL); the SDK's own retries are off, ours count.

    A base URL a tenant wrote (`checked`) is reached only where `egress` allows."""

    def __init__(self, egress: EgressPolicy | None = None) -> None:
        self._egress = egress or EgressPolicy()
        self._clients: dict[tuple[str, str | None, bool], AsyncOpenAI] = {}

    def get(
        self, api_key: SecretStr, base_url: str | None, *, checked: bool = False
    ) -> AsyncOpenAI:
        key = (api_key.get_secret_value(), base_url, checked)
        if key not in self._clients:
            from openai import (
                DEFAULT_CONNECTION_LIMITS,
                DEFAULT_TIMEOUT,
                AsyncOpenAI,
                DefaultAioHttpClient,
            )

            # aiohttp under the SDK costs less CPU a call than httpx (the SDK ships the transport);
            # a tenant's endpoint goes through httpx2, whose connections the egress policy checks.
            http = (
                egress_client2(
                    self._egress,
                    timeout=DEFAULT_TIMEOUT,
                    limits=DEFAULT_CONNECTION_LIMITS,
                    follow_redirects=True,
                )
                if checked
                else DefaultAioHttpClient()
            )
            self._clients[key] = AsyncOpenAI(
                api_key=key[0], base_url=base_url, max_retries=0, http_client=http
            )
        return self._clients[key]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
