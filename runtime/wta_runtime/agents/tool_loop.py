"""The bounded tool-calling loop: ask the model, run the tools it calls, repeat, then answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wta_runtime.agents.builtin_tools import ACTION_TEXT
from wta_runtime.agents.chat_model import ChatModel, ModelStep, StepRequest
from wta_runtime.agents.model_calls import MalformedReply, ModelFailure, RetryBudget, complete
from wta_runtime.agents.toolbox import Toolbox
from wta_runtime.agents.turn import AgentAction, ToolCallRecord, Usage
from wta_runtime.specs import ModelSettings

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

DEFAULT_MAX_STEPS = 5


@dataclass
class LoopResult:
    """The final text of the turn and everything that happened on the way to it."""

    text: str
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    actions: list[AgentAction] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    # The agent's files the model attached with send_media, in order.
    media_urls: list[str] = field(default_factory=list)


def _request(
    model: ModelSettings, messages: list[ChatCompletionMessageParam], tools: Toolbox, final: bool
) -> StepRequest:
    return StepRequest(
        model=model.name,
        messages=messages,
        temperature=model.temperature,
        max_tokens=model.max_tokens,
        timeout_seconds=model.timeout_seconds,
        tools=tools.definitions(),
        no_more_tools=final,
    )


def _checker(tools: Toolbox, *, allow_empty: bool) -> Any:
    def check(step: ModelStep) -> None:
        for call in step.tool_calls:
            tools.check_call(call.name, call.arguments)
        if not (step.tool_calls or allow_empty or step.text.strip()):
            raise MalformedReply("the model returned neither text nor tool calls")

    return check


async def run_tool_loop(
    chat: ChatModel,
    *,
    model: ModelSettings,
    messages: list[ChatCompletionMessageParam],
    tools: Toolbox,
    budget: RetryBudget,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> LoopResult:
    """At most `max_steps` rounds of tool calls, then an answer; raises ModelFailure."""
    result = LoopResult(text="")
    for step in range(max_steps + 1):
        final = step == max_steps
        # After a handoff or close, an empty answer is fine: the action has its own text. After
        # send_media too: a file on its own is a whole reply.
        check = _checker(tools, allow_empty=bool(result.actions or tools.media_urls))
        try:
            step_reply, used = await complete(
                chat, _request(model, messages, tools, final), budget=budget, check=check
            )
        except ModelFailure as failure:
            failure.usage = result.usage + failure.usage
            raise
        result.usage = result.usage + used
        calls = step_reply.tool_calls
        if final or not calls:
            text = step_reply.text.strip()
            if not text and result.actions:
                text = ACTION_TEXT[result.actions[-1].kind]
            if not text and not tools.media_urls:
                raise ModelFailure("empty", "no text after the tool calls", result.usage)
            result.text = text
            result.media_urls = tools.media_urls
            return result
        messages.append(
            {
                "role": "assistant",
                "content": step_reply.text or None,
                "tool_calls": [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments},
                    }
                    for c in calls
                ],
            }
        )
        for call in calls:
            arguments = tools.check_call(call.name, call.arguments)
            outcome = await tools.run(call.name, arguments)
            result.tool_calls.append(outcome.record)
            if outcome.action is not None:
                result.actions.append(outcome.action)
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": outcome.record.result}
            )
    raise ModelFailure("empty", "the loop ended without an answer", result.usage)
