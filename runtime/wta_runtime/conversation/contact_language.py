"""The language a contact writes in: guessed from their words, else from their number's country.

A guess good enough to pick which of a tenant's texts to send (en, pt-BR, es); it is not stored,
and the model answers in whatever language the contact writes anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from wta_runtime.conversation.intents import fold


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Short, frequent words that mostly belong to one of the languages (accents folded).
_WORDS: dict[str, frozenset[str]] = {
    "en": _vocabulary(
        "the and you your i is are to of for with what how can please want talk speak "
        "person someone hello hi my me it this that do does not order"
    ),
    "pt-BR": _vocabulary(
        "o os voce voces eu e um uma com para por favor quero falar pessoa atendente ola oi "
        "meu minha nao sim pedido obrigado tudo bem isso esta estou pode"
    ),
    "es": _vocabulary(
        "el los usted tu yo es una con para por favor quiero hablar persona hola mi "
        "pedido gracias esto esta estoy puede necesito"
    ),
}
# Country calling codes to the language most of their contacts write (longest codes first).
_COUNTRY_LANGUAGE = (
    ("351", "pt-PT"),
    ("244", "pt-PT"),
    ("258", "pt-PT"),
    ("55", "pt-BR"),
    ("52", "es"),
    ("54", "es"),
    ("56", "es"),
    ("57", "es"),
    ("58", "es"),
    ("51", "es"),
    ("34", "es"),
    ("1", "en"),
    ("44", "en"),
    ("61", "en"),
)
_WORD = re.compile(r"\w+")


def _by_words(texts: Iterable[str]) -> str | None:
    words = [w for text in texts for w in _WORD.findall(fold(text))]
    scores = {lang: sum(w in vocabulary for w in words) for lang, vocabulary in _WORDS.items()}
    best = max(scores.values(), default=0)
    winners = [lang for lang, score in scores.items() if score == best]
    return winners[0] if best and len(winners) == 1 else None


def _by_number(number: str | None) -> str | None:
    digits = (number or "").removeprefix("whatsapp:").removeprefix("+")
    return next((lang for code, lang in _COUNTRY_LANGUAGE if digits.startswith(code)), None)


def contact_language(texts: Iterable[str], number: str | None) -> str | None:
    """en, pt-BR, pt-PT or es, as the contact's words show, else as their number suggests."""
    return _by_words(texts) or _by_number(number)
