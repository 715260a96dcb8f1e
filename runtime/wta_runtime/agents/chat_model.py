"""The provider seam: one step of a chat model, in the project's own terms whatever serves it.

The tool loop and the router hand a `ChatModel` the conversation (chat-completions shaped
messages, the project's history format) and the tool schemas, and get back a `ModelStep`: text
and/or tool calls, and what the call cost. Retries, failure reasons and usage are decided above
this seam (`model_calls.complete`), so they behave the same for every provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from wta_runtime.agents.turn import Usage

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

FailureReason = Literal[
    "timeout", "rate_limited", "server_error", "connection", "malformed", "rejected", "empty"
]


@dataclass(frozen=True)
class StepCall:
    """A tool call the model asked for; `arguments` is raw JSON, checked by the toolbox."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ModelStep:
    """What the model answered in one call."""

    text: str = ""
    tool_calls: tuple[StepCall, ...] = ()
    usage: Usage = field(default_factory=lambda: Usage(model_calls=1))


@dataclass(frozen=True)
class StepRequest:
    """One call: the model's settings for it, the conversation so far and the tools offered."""

    model: str
    messages: list[ChatCompletionMessageParam]
    temperature: float
    max_tokens: int
    timeout_seconds: float
    tools: list[ChatCompletionToolParam] = field(default_factory=list)
    # The last step of the loop: tools stay described (the history has calls) but not callable.
    no_more_tools: bool = False


class ChatModel(Protocol):
    """A provider's chat model; `step` makes exactly one attempt and raises on any failure."""

    @property
    def provider(self) -> str:
        """The provider's name, as `AIAgent.spec.model.provider` spells it."""
        ...

    async def step(self, request: StepRequest) -> ModelStep: ...

    def failure_reason(self, exc: Exception) -> FailureReason | None:
        """Why a call failed, for an error of this provider; None for anything else (a bug)."""
        ...
