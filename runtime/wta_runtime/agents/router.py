"""The LLM router: the model picks one of the tenant's agents, offered to it as functions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from wta_runtime.agents.chat_model import ChatModel, StepRequest
from wta_runtime.agents.model_calls import RetryBudget, complete
from wta_runtime.agents.turn import HistoryEntry, Usage
from wta_runtime.catalog import Agent, Tenant
from wta_runtime.specs import ModelSettings

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

ROUTER_CONTEXT = 6  # recent messages shown to the router besides the new one


def function_name(agent_name: str) -> str:
    """An agent's name as a function name (letters, digits, _ and -; at most 64)."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", agent_name)[:64]


def router_tools(agents: Sequence[Agent]) -> list[ChatCompletionToolParam]:
    return [
        {
            "type": "function",
            "function": {
                "name": function_name(agent.name),
                "description": agent.spec.selection.description or agent.name,
                "parameters": {"type": "object", "properties": {}},
            },
        }
        for agent in agents
    ]


def router_messages(
    tenant: Tenant, user_text: str, history: Sequence[HistoryEntry]
) -> list[ChatCompletionMessageParam]:
    seen = "\n".join(f"{e.role}: {e.text}" for e in history[-ROUTER_CONTEXT:])
    return [
        {
            "role": "system",
            "content": (
                f"You route WhatsApp messages sent to {tenant.spec.display_name} to the assistant "
                "best suited to answer. Call exactly one of the functions; do not answer yourself."
            ),
        },
        {"role": "user", "content": f"{seen}\nuser: {user_text}".strip()},
    ]


async def route(
    chat: ChatModel,
    *,
    tenant: Tenant,
    agents: Sequence[Agent],
    model: ModelSettings,
    user_text: str,
    history: Sequence[HistoryEntry],
    budget: RetryBudget,
) -> tuple[Agent | None, Usage]:
    """The agent the model chose, or None when it chose none of them; raises ModelFailure."""
    step, usage = await complete(
        chat,
        StepRequest(
            model=model.name,
            messages=router_messages(tenant, user_text, history),
            temperature=0,
            max_tokens=50,
            timeout_seconds=model.timeout_seconds,
            tools=router_tools(agents),
        ),
        budget=budget,
    )
    by_function = {function_name(a.name): a for a in agents}
    for call in step.tool_calls:
        if call.name in by_function:
            return by_function[call.name], usage
    # Models without tool support may answer with the name itself.
    answer = step.text.strip().strip(".")
    return by_function.get(function_name(answer)), usage
