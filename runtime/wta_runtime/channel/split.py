"""Splits long replies into WhatsApp-sized messages at paragraph, then sentence, then word ends."""

from __future__ import annotations

import re

WHATSAPP_BODY_LIMIT = 1600

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


def split_message(text: str, limit: int = WHATSAPP_BODY_LIMIT) -> list[str]:
    """The text as one or more messages of at most `limit` characters, in order."""
    text = text.strip()
    if len(text) <= limit:
        return [text]
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
