"""Splits long replies into WhatsApp-sized messages at paragraph, then sentence, then word ends."""

from __future__ import annotations

import re

WHATSAPP_BODY_LIMIT = 1600
ELLIPSIS = "…"

_PARAGRAPHS = re.compile(r"(\n\s*\n)")
_SENTENCES = re.compile(r"(?<=[.!?…])(\s+)")
_WORDS = re.compile(r"(\s+)")


def _pieces(text: str, limit: int, splitters: tuple[re.Pattern[str], ...]) -> list[str]:
    """Pieces of at most `limit` characters, each keeping the separator that followed it."""
    if len(text) <= limit:
        return [text]
    if not splitters:
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    parts = splitters[0].split(text)
    # re.split with a group alternates text and separator: glue each separator to its text.
    units = ["".join(parts[i : i + 2]) for i in range(0, len(parts), 2)]
    found: list[str] = []
    for unit in units:
        found.extend(_pieces(unit, limit, splitters[1:]))
    return found


def split_message(
    text: str, limit: int = WHATSAPP_BODY_LIMIT, *, max_parts: int | None = None
) -> list[str]:
    """The text as one or more messages of at most `limit` characters, in order.

    With `max_parts`, a text that needs more is cut: the parts before the last are filled as
    usual and the last ends at a word with an ellipsis (each message is billed; the cap says
    how many one reply may cost).
    """
    text = text.strip()
    if len(text) <= limit:
        return [text]
    parts = _fill(text, limit)
    if max_parts is None or len(parts) <= max_parts:
        return parts
    return [*parts[: max_parts - 1], _cut(" ".join(parts[max_parts - 1 :]), limit)]


def _cut(text: str, limit: int) -> str:
    """`text` cut at a word so that it ends with an ellipsis within `limit` characters."""
    room = limit - len(ELLIPSIS)
    head = text[: room + 1]
    space = max(head.rfind(" "), head.rfind("\n"))
    # A single word longer than the room is cut inside it.
    cut = head[:space] if space > 0 else text[:room]
    return cut.rstrip(" \n,;:") + ELLIPSIS


def _fill(text: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, limit, (_PARAGRAPHS, _SENTENCES, _WORDS)):
        if len((current + piece).rstrip()) <= limit:
            current += piece
        else:
            chunks.append(current)
            current = piece
    chunks.append(current)
    return [chunk.strip() for chunk in chunks if chunk.strip()]
