"""What the agent reads for one turn: the contact's messages, buttons and attachments, in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

HUMAN_HANDLED_NOTE = (
    "A person from the business took over this conversation earlier and has handed it back to "
    "you; their messages are marked (support). Continue normally from here."
)


@dataclass(frozen=True)
class Attachment:
    """One attachment as the agent learns about it."""

    content_type: str | None
    transcript: str | None = None
    refused_reason: str | None = None


@dataclass(frozen=True)
class ContactMessage:
    """One inbound message reduced to what the agent should read."""

    body: str
    button_text: str | None = None
    button_payload: str | None = None
    attachments: Sequence[Attachment] = field(default_factory=tuple)


def _attachment_line(item: Attachment) -> str:
    kind = (item.content_type or "file").split("/")[0]
    if item.refused_reason:
        return f"[{kind} attachment not accepted: {item.refused_reason}]"
    if item.transcript is not None:
        return f"[voice message] {item.transcript}".rstrip()
    return f"[{kind} attachment: {item.content_type or 'unknown type'}]"


def message_text(message: ContactMessage) -> str:
    """One message as text: the body, the tapped button, and a line per attachment."""
    lines = [message.body.strip()] if message.body.strip() else []
    if message.button_text or message.button_payload:
        label = message.button_text or message.button_payload
        payload = f" (payload: {message.button_payload})" if message.button_payload else ""
        lines.append(f'[tapped the button "{label}"{payload}]')
    lines += [_attachment_line(a) for a in message.attachments]
    return "\n".join(lines)


def turn_text(messages: Sequence[ContactMessage], *, notes: Sequence[str] = ()) -> str:
    """The messages of one burst, oldest first, one per line, as one user turn, after any notes."""
    lines = [f"[note: {note}]" for note in notes]
    lines += [text for text in map(message_text, messages) if text]
    return "\n".join(lines)


def contact_words(user_text: str) -> str:
    """Only what the contact wrote: the `[note: ...]` lines are ours and must not trigger rules."""
    return "\n".join(line for line in user_text.splitlines() if not line.startswith("[note: "))
