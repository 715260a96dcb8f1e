"""Which attachments the console shows in the page and which it only lets staff download."""

from __future__ import annotations

import pytest

from wta_runtime.console.attachments import disposition, shown_as


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        ("image/jpeg", "picture"),
        ("image/webp", "picture"),
        ("audio/ogg; codecs=opus", "sound"),
        ("application/pdf", "document"),
        ("image/svg+xml", "document"),
        ("text/html", "document"),
        (None, "document"),
    ],
)
def test_only_pictures_and_sound_are_shown_inline(content_type: str | None, shown: str) -> None:
    assert shown_as(content_type) == shown
    inline = disposition(content_type, 0).startswith("inline")
    assert inline == (shown != "document")
