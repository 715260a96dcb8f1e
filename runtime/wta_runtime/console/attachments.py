"""How the console presents an attachment of a given content type."""

from __future__ import annotations

PICTURES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def shown_as(content_type: str | None) -> str:
    """`picture` or `sound` (shown in the page), else `document` (only ever downloaded).

    SVG, HTML and the like are documents: opened inline they could carry script.
    """
    kind = content_type or ""
    if kind.startswith(PICTURES):
        return "picture"
    if kind.startswith("audio/"):
        return "sound"
    return "document"


def disposition(content_type: str | None, position: int) -> str:
    """Inline for what the page shows, a download for every other type."""
    kind = "attachment" if shown_as(content_type) == "document" else "inline"
    return f'{kind}; filename="attachment-{position + 1}"'
