"""The built-in tools: hand off, close the conversation, look up the knowledge, send a file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wta_runtime.agents.knowledge import KnowledgeIndex
from wta_runtime.agents.turn import ActionKind, AgentAction, ToolStatus
from wta_runtime.db.knowledge_store import StoredPassage
from wta_runtime.specs.agent import SEND_MEDIA
from wta_runtime.specs.agent_media import MediaEntry

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionToolParam

# Each file after the first goes as a WhatsApp message of its own: keep a reply short.
MAX_MEDIA_PER_REPLY = 5

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
            "description": (
                "Search the business's knowledge (FAQ and documents) for an answer. Each "
                "passage is headed by its source in brackets: name it when you quote it."
            ),
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


def lookup(
    index: KnowledgeIndex, query: str, documents: Sequence[StoredPassage] = (), limit: int = 3
) -> str:
    """The best passages as text the model can quote, or a clear 'nothing found': entries and
    ConfigMap documents first, then the ingested documents' passages, each headed by its
    source so the reply can cite it."""
    passages = index.search(query, limit)
    if not passages and not documents:
        return "Nothing in the knowledge matches this question."
    found = [f"[{p.title}]\n{p.text}" for p in passages]
    found += [f"[source: {d.citation}]\n{d.text}" for d in documents]
    return "\n\n".join(found)


def send_media_definition(media: Sequence[MediaEntry]) -> ChatCompletionToolParam:
    """The send_media tool; its description lists the agent's files, so the model can choose."""
    listed = "\n".join(
        f"- {m.name}: {m.description}" + (f" ({m.content_type})" if m.content_type else "")
        for m in media
    )
    return {
        "type": "function",
        "function": {
            "name": SEND_MEDIA,
            "description": (
                "Attach one of the business's files to your reply; WhatsApp delivers it with "
                "your text. Call it once per file, then write the reply. The files:\n" + listed
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "name": {
                        "type": "string",
                        "enum": [m.name for m in media],
                        "description": "The file's name, as listed.",
                    }
                },
                "required": ["name"],
            },
        },
    }


class MediaChoice:
    """The files one reply carries: picked by name from the agent's media, each once, few."""

    def __init__(self, media: Sequence[MediaEntry]) -> None:
        self._media = {m.name: m for m in media}
        self.urls: list[str] = []

    def pick(self, name: object) -> tuple[str, ToolStatus]:
        """Attach the file called `name`; the result the model reads, and its status."""
        entry = self._media.get(name) if isinstance(name, str) else None
        if entry is None:
            names = ", ".join(self._media)
            return f"error: there is no file named {name!r}; the files are: {names}", "error"
        if entry.url in self.urls:
            return f"{entry.name} is already attached to your reply.", "ok"
        if len(self.urls) >= MAX_MEDIA_PER_REPLY:
            return f"refused: a reply carries at most {MAX_MEDIA_PER_REPLY} files", "refused"
        self.urls.append(entry.url)
        return f"attached {entry.name}: it is sent with your reply. Now write the reply.", "ok"
