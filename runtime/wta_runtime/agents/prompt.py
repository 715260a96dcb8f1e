"""Builds the model's messages: instructions with their variables, knowledge, memory, history."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from wta_runtime.agents.agent_catalog import AgentResources
from wta_runtime.agents.handoff_policy import business_hours_of, describe_hours
from wta_runtime.agents.turn import HistoryEntry
from wta_runtime.catalog import Tenant

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

# `{{tenant}}`, `{{contact_name}}`, `{{language}}`, `{{business_hours}}`, `{{now}}`.
_VARIABLE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
INLINE_ENTRIES_LIMIT = 50


@dataclass(frozen=True)
class PromptInputs:
    """What goes into one turn's messages besides the agent's own definition."""

    tenant: Tenant
    resources: AgentResources
    user_text: str
    history: Sequence[HistoryEntry]
    now: datetime
    contact_name: str | None = None
    language: str | None = None
    recalled: Sequence[str] = ()
    earlier_tools: Sequence[str] = ()


def render_instructions(text: str, variables: Mapping[str, str]) -> str:
    """Replace known `{{name}}` variables; anything else is left as written."""
    return _VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), text)


def variables(inputs: PromptInputs) -> dict[str, str]:
    hours = business_hours_of(inputs.tenant.spec, inputs.resources.agent.spec)
    return {
        "tenant": inputs.tenant.spec.display_name,
        "contact_name": inputs.contact_name or "the customer",
        "language": inputs.language or "the customer's language",
        "business_hours": describe_hours(hours),
        "now": inputs.now.strftime("%Y-%m-%d %H:%M %Z").strip(),
    }


def _knowledge_lines(inputs: PromptInputs) -> list[str]:
    spec = inputs.resources.agent.spec
    if "lookup_knowledge" in spec.tools.builtin:
        return ["", "Use lookup_knowledge to find facts about the business before answering."]
    lines: list[str] = []
    if spec.knowledge.entries:
        lines += ["", "Knowledge:"]
        for entry in spec.knowledge.entries[:INLINE_ENTRIES_LIMIT]:
            lines.append(f"- Q: {entry.question}\n  A: {entry.answer}")
    documents = [p for p in inputs.resources.knowledge.search(inputs.user_text) if "/" in p.title]
    if documents:
        lines += ["", "From the business's documents:"]
        lines += [f"[{p.title}]\n{p.text}" for p in documents]
    return lines


def system_prompt(inputs: PromptInputs) -> str:
    """Instructions, business facts, then what memory recalled about this contact."""
    spec = inputs.resources.agent.spec
    values = variables(inputs)
    lines = [
        render_instructions(spec.instructions.strip(), values),
        "",
        f"Business: {values['tenant']}.",
    ]
    if inputs.contact_name:
        lines.append(f"Customer name: {inputs.contact_name}.")
    lines += _knowledge_lines(inputs)
    if inputs.recalled:
        lines += ["", "Earlier conversations with this customer (may help):"]
        lines += [f"- {item}" for item in inputs.recalled]
    if inputs.earlier_tools:
        lines += ["", "Tool results earlier in this conversation:"]
        lines += [f"- {item}" for item in inputs.earlier_tools]
    return "\n".join(lines)


def chat_messages(inputs: PromptInputs) -> list[ChatCompletionMessageParam]:
    """System prompt, the recent window of the conversation, then the user's message."""
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": system_prompt(inputs)}
    ]
    for entry in inputs.history:
        if entry.role == "user":
            messages.append({"role": "user", "content": entry.text})
        else:
            messages.append({"role": "assistant", "content": entry.text})
    messages.append({"role": "user", "content": inputs.user_text})
    return messages
