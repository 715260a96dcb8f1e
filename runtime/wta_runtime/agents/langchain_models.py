"""Providers other than `openai`: a LangChain chat-model integration behind the provider seam.

Imported only when an agent names such a provider (LangChain is heavy for a process that never
uses it). The project keeps its own tool loop, retries and failure reasons: the integration
makes one attempt (`max_retries=0`), its messages are converted from and to ours here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import httpx
from langchain.chat_models import init_chat_model
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from openai.types.chat import ChatCompletionMessageParam
from pydantic import SecretStr

from wta_runtime.agents.chat_model import FailureReason, ModelStep, StepCall, StepRequest
from wta_runtime.agents.model_calls import MalformedReply
from wta_runtime.agents.turn import Usage
from wta_runtime.egress.connections import check_host_now
from wta_runtime.egress.policy import EgressPolicy, EgressRefused

# How each integration spells "describe the tools, call none" (the loop's last step).
_NO_TOOL_CHOICE: dict[str, Any] = {"anthropic": {"type": "none"}}
# Status codes of "try again later" without a 5xx: request timeout, too early, rate limited.
_TIMEOUT_STATUSES = frozenset({408})
_RATE_LIMIT_STATUSES = frozenset({429})


def to_langchain(messages: Sequence[ChatCompletionMessageParam]) -> list[BaseMessage]:
    """The project's chat-completions shaped history as LangChain messages."""
    converted: list[BaseMessage] = []
    for message in messages:
        content: Any = message.get("content") or ""
        if message["role"] == "system" or message["role"] == "developer":
            converted.append(SystemMessage(content=content))
        elif message["role"] == "user":
            converted.append(HumanMessage(content=content))
        elif message["role"] == "assistant":
            calls = [
                {
                    "id": call["id"],
                    "name": call["function"]["name"],
                    "args": json.loads(call["function"]["arguments"] or "{}"),
                    "type": "tool_call",
                }
                for call in message.get("tool_calls") or []
                if call["type"] == "function"
            ]
            converted.append(AIMessage(content=content, tool_calls=calls))
        elif message["role"] == "tool":
            converted.append(ToolMessage(content=content, tool_call_id=message["tool_call_id"]))
    return converted


def usage_of(message: AIMessage) -> Usage:
    """Tokens from the integration's `usage_metadata`; one call without tokens when absent."""
    counted = message.usage_metadata
    if counted is None:
        return Usage(model_calls=1)
    return Usage(counted["input_tokens"], counted["output_tokens"], 1)


def step_of(message: BaseMessage) -> ModelStep:
    """The neutral step of the model's reply; MalformedReply when its tool calls are broken."""
    if not isinstance(message, AIMessage):
        raise MalformedReply(f"the model answered with a {type(message).__name__}")
    usage = usage_of(message)
    if message.invalid_tool_calls:
        broken = message.invalid_tool_calls[0]
        raise MalformedReply(
            f"tool call {broken.get('name')!r} is malformed: {broken.get('error')}", usage
        )
    calls = tuple(
        StepCall(call.get("id") or f"call_{i}", call["name"], json.dumps(call["args"]))
        for i, call in enumerate(message.tool_calls)
    )
    return ModelStep(str(message.text), calls, usage)


def _names(exc: BaseException) -> list[str]:
    return [kind.__name__ for kind in type(exc).__mro__]


def _status(exc: BaseException) -> int | None:
    """The HTTP status an integration's error carries, however the integration spells it."""
    for owner in (exc, getattr(exc, "response", None)):
        status = getattr(owner, "status_code", None)
        if isinstance(status, int):
            return status
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def failure_reason(exc: Exception) -> FailureReason:
    """The reason of an integration's failure, read from what every SDK has in common: timeout,
    rate limit and connection error classes, and the HTTP status of API errors."""
    names = _names(exc)
    if isinstance(exc, TimeoutError | httpx.TimeoutException) or any("Timeout" in n for n in names):
        return "timeout"
    status = _status(exc)
    if status in _RATE_LIMIT_STATUSES or any("RateLimit" in n for n in names):
        return "rate_limited"
    if status in _TIMEOUT_STATUSES:
        return "timeout"
    if status is not None:
        return "server_error" if status >= 500 else "rejected"
    if isinstance(exc, ConnectionError | httpx.TransportError) or any(
        "Connection" in n for n in names
    ):
        return "connection"
    return "rejected"


class LangChainChatModel:
    """One provider account (key and endpoint); a LangChain chat model per request settings."""

    def __init__(
        self,
        provider: str,
        api_key: SecretStr,
        base_url: str | None,
        *,
        egress: EgressPolicy | None = None,
    ) -> None:
        """`egress`: the policy a `base_url` the tenant wrote is checked against before each
        call. The integrations open their own connections, resolving the name again, so this
        is a check, not a pin (a name that changes its address in between is not caught)."""
        self.provider = provider
        self._api_key = api_key
        self._base_url = base_url
        self._egress = egress
        self._models: dict[tuple[str, float, int, float], BaseChatModel] = {}

    def _model(self, request: StepRequest) -> BaseChatModel:
        settings = (request.model, request.temperature, request.max_tokens, request.timeout_seconds)
        if settings not in self._models:
            options: dict[str, Any] = {
                "api_key": self._api_key.get_secret_value(),
                "temperature": request.temperature,
                "max_tokens": request.max_tokens,
                "timeout": request.timeout_seconds,
                "max_retries": 0,
            }
            if self._base_url:
                options["base_url"] = self._base_url
            self._models[settings] = init_chat_model(
                request.model, model_provider=self.provider, **options
            )
        return self._models[settings]

    async def step(self, request: StepRequest) -> ModelStep:
        if self._egress is not None and self._base_url:
            await asyncio.to_thread(check_host_now, self._egress, self._base_url)
        model: Any = self._model(request)
        if request.tools:
            choice = _NO_TOOL_CHOICE.get(self.provider, "none") if request.no_more_tools else None
            model = model.bind_tools(request.tools, tool_choice=choice)
        return step_of(await model.ainvoke(to_langchain(request.messages)))

    def failure_reason(self, exc: Exception) -> FailureReason | None:
        if isinstance(exc, EgressRefused):
            return "rejected"  # the platform's policy: asking again changes nothing
        # Whatever an integration raises is its failure: a turn falls back rather than crashes.
        return failure_reason(exc)
