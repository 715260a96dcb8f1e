"""The built-in tools: hand off to a person, close the conversation, look up the knowledge."""

from __future__ import annotations

from typing import Any

from openai.types.chat import ChatCompletionToolParam

from wta_runtime.agents.knowledge import KnowledgeIndex
from wta_runtime.agents.turn import ActionKind, AgentAction

_REASON: dict[str, object] = {
    "type": "object",
    "properties": {"reason": {"type": "string", "description": "Why, in a few words."}},
    "required": ["reason"],
}

DEFINITIONS: dict[str, ChatCompletionToolParam] = {
    "handoff_to_human": {
        "type": "function",
        "function": {
            "name": "handoff_to_human",
            "description": (
                "Pass the conversation to a person of the business: when the customer asks for "
                "one, is upset, or needs something you cannot do. Then tell the customer."
            ),
            "parameters": _REASON,
        },
    },
    "close_conversation": {
        "type": "function",
        "function": {
            "name": "close_conversation",
            "description": (
                "Close the conversation when the customer's request is fully handled and they "
                "said goodbye. Then say goodbye."
            ),
            "parameters": _REASON,
        },
    },
    "lookup_knowledge": {
        "type": "function",
        "function": {
            "name": "lookup_knowledge",
            "description": "Search the business's knowledge (FAQ and documents) for an answer.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string", "description": "What to look up."}},
                "required": ["query"],
            },
        },
    },
}

# What the user reads when the model asked for an action but wrote no text itself.
ACTION_TEXT: dict[ActionKind, str] = {
    "handoff_to_human": "I am passing you to a person from our team; they will reply here soon.",
    "close_conversation": "Thank you for writing to us. Goodbye!",
}


def action_of(name: str, arguments: dict[str, Any]) -> AgentAction | None:
    """The lifecycle action a built-in tool call stands for, if any."""
    kind: ActionKind
    if name == "handoff_to_human":
        kind = "handoff_to_human"
    elif name == "close_conversation":
        kind = "close_conversation"
    else:
        return None
    return AgentAction(kind, str(arguments.get("reason") or "requested by the agent")[:200])


def lookup(index: KnowledgeIndex, query: str, limit: int = 3) -> str:
    """The best passages as text the model can quote, or a clear 'nothing found'."""
    passages = index.search(query, limit)
    if not passages:
        return "Nothing in the knowledge matches this question."
    return "\n\n".join(f"[{p.title}]\n{p.text}" for p in passages)
