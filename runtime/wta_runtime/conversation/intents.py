"""What a contact's words mean for the lifecycle: closing and handoff words, as whole words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

# Used when a tenant configures none; per language, matched as whole words, accents aside.
DEFAULT_CLOSING_KEYWORDS: dict[str, list[str]] = {
    "pt": ["tchau", "obrigado", "obrigada", "valeu", "ate logo", "ate mais"],
    "en": ["bye", "goodbye", "thanks", "thank you"],
    "es": ["adios", "gracias", "hasta luego"],
}


def fold(text: str) -> str:
    """Lower case without accents, so 'Adiós' and 'adios' match the same keyword."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    return _compiled(tuple(keywords))


# Every turn matches the same few keyword lists (the tenant's and its agents'): built once each.
@lru_cache(maxsize=1024)
def _compiled(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    words = sorted({fold(k).strip() for k in keywords if k.strip()}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def mentions_any(text: str, keywords: Iterable[str]) -> bool:
    """Whether `text` has one of `keywords` as a whole word or phrase (case and accents aside)."""
    pattern = _pattern(keywords)
    return pattern is not None and pattern.search(fold(text)) is not None


# A farewell may carry a few words more ("thanks a lot", "obrigado pela ajuda"); a message with
# more than this besides its closing words says something else ("thanks, I want a pizza"), and
# closing it would leave the contact unanswered. A missed farewell costs one polite reply.
MAX_WORDS_BESIDE_FAREWELL = 3
_WORD = re.compile(r"\w+")


def is_closing_intent(text: str, keywords: Mapping[str, Iterable[str]]) -> bool:
    """A message that is a farewell: closing words in any configured language and at most a few
    other words; a message asking something never closes."""
    if "?" in text:
        return False
    pattern = _pattern(word for words in keywords.values() for word in words)
    if pattern is None:
        return False
    folded = fold(text)
    if pattern.search(folded) is None:
        return False
    return len(_WORD.findall(pattern.sub(" ", folded))) <= MAX_WORDS_BESIDE_FAREWELL
