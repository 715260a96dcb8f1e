"""Whether a contact's message is an opt-out or opt-in keyword, and the confirmation it gets.

A keyword counts only as the whole message (case, accents, surrounding spaces and punctuation
aside), so "stop sending me the menu twice" is a message for the bot, and "STOP." is an opt-out.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from wta_runtime.conversation.intents import fold

ConsentKind = Literal["opt_out", "opt_in"]
OPT_OUT: ConsentKind = "opt_out"
OPT_IN: ConsentKind = "opt_in"

# Twilio's standard English keywords, and their usual Portuguese and Spanish counterparts.
DEFAULT_OPT_OUT_KEYWORDS: dict[str, list[str]] = {
    "en": ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"],
    "pt": ["PARAR", "SAIR", "CANCELAR", "DESCADASTRAR"],
    "es": ["BAJA", "DETENER"],
}
DEFAULT_OPT_IN_KEYWORDS: dict[str, list[str]] = {
    "en": ["START", "UNSTOP", "SUBSCRIBE"],
    "pt": ["VOLTAR", "INICIAR", "CADASTRAR"],
    "es": ["ALTA", "REANUDAR"],
}
DEFAULT_OPT_OUT_REPLIES: dict[str, str] = {
    "en": "You will not receive any more messages from us. Reply START to receive them again.",
    "pt": "Você não receberá mais mensagens nossas. Envie VOLTAR para voltar a recebê-las.",
    "es": "No recibirás más mensajes nuestros. Envía ALTA para volver a recibirlos.",
}
DEFAULT_OPT_IN_REPLIES: dict[str, str] = {
    "en": "You will receive our messages again. Reply STOP at any time to stop them.",
    "pt": "Você voltará a receber nossas mensagens. Envie PARAR a qualquer momento para parar.",
    "es": "Volverás a recibir nuestros mensajes. Envía BAJA en cualquier momento para dejarlos.",
}


@dataclass(frozen=True)
class ConsentKeyword:
    """A message that was one keyword: what it asks, in which language, and the keyword."""

    kind: ConsentKind
    language: str
    keyword: str


def _is_edge(char: str) -> bool:
    """Whitespace or punctuation around a keyword ("STOP." "¡alta!"); an emoji is not."""
    return char.isspace() or unicodedata.category(char).startswith("P")


def _whole(text: str) -> str:
    folded = fold(text)
    start, end = 0, len(folded)
    while start < end and _is_edge(folded[start]):
        start += 1
    while end > start and _is_edge(folded[end - 1]):
        end -= 1
    return " ".join(folded[start:end].split())


def consent_keyword(
    text: str,
    *,
    opt_out: Mapping[str, Sequence[str]],
    opt_in: Mapping[str, Sequence[str]],
) -> ConsentKeyword | None:
    """The keyword `text` is, as a whole message; None when it says anything else."""
    said = _whole(text)
    if not said:
        return None
    for kind, keywords in ((OPT_OUT, opt_out), (OPT_IN, opt_in)):
        for language, words in keywords.items():
            for word in words:
                if _whole(word) == said:
                    return ConsentKeyword(kind, language, word)
    return None


def confirmation(replies: Mapping[str, str], language: str) -> str:
    """The confirmation in the keyword's language, else English, else the first one given."""
    return replies.get(language) or replies.get("en") or next(iter(replies.values()))


def overlapping_keywords(
    opt_out: Mapping[str, Sequence[str]], opt_in: Mapping[str, Sequence[str]]
) -> list[str]:
    """Keywords listed both to opt out and to opt in (a spec error: which would win?)."""
    outs = {_whole(w) for words in opt_out.values() for w in words}
    return sorted({w for words in opt_in.values() for w in words if _whole(w) in outs})
