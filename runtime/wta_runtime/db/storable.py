"""Text PostgreSQL can hold: what a contact sends is stored, never refused for a character.

PostgreSQL's `text` and `jsonb` refuse the NUL character (and a lone UTF-16 surrogate cannot be
encoded as UTF-8 at all). Twilio passes on whatever a contact typed, so such characters are
replaced by U+FFFD, the usual mark of a character that could not be represented.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(text: str) -> str:
    """`text` with every character PostgreSQL refuses replaced by U+FFFD."""
    # Surrogates are never ASCII, NUL is: ASCII text without NUL (nearly all of it) is storable.
    # `isascii` reads a flag of the string and `in` one memchr, far less than the search.
    if text.isascii() and "\x00" not in text:
        return text
    return _UNSTORABLE.sub(REPLACEMENT, text)


def storable_json(value: Any) -> Any:
    """A JSON value (keys included) whose every string PostgreSQL's `jsonb` accepts."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): storable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(v) for v in value]
    return value


# A string field of a stream message: what the worker stores from it is storable.
StorableStr = Annotated[str, AfterValidator(storable_text)]
