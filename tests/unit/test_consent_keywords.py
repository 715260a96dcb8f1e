"""Which messages opt a contact out or back in, and the spec rules for the keywords."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from wta_runtime.conversation.consent import (
    DEFAULT_OPT_IN_KEYWORDS,
    DEFAULT_OPT_OUT_KEYWORDS,
    ConsentKeyword,
    confirmation,
    consent_keyword,
)
from wta_runtime.specs.tenant_consent import ConsentRules


def _keyword(text: str) -> ConsentKeyword | None:
    return consent_keyword(text, opt_out=DEFAULT_OPT_OUT_KEYWORDS, opt_in=DEFAULT_OPT_IN_KEYWORDS)


@pytest.mark.parametrize(
    ("text", "kind", "language"),
    [
        ("STOP", "opt_out", "en"),
        ("  stop\n", "opt_out", "en"),
        ("Unsubscribe", "opt_out", "en"),
        ("parar", "opt_out", "pt"),
        ("SAIR", "opt_out", "pt"),
        ("cancelar", "opt_out", "pt"),
        ("start", "opt_in", "en"),
        ("Voltar", "opt_in", "pt"),
        ("STOP.", "opt_out", "en"),
        ("stop!", "opt_out", "en"),
        ("STOP!?", "opt_out", "en"),
        (" Parar ", "opt_out", "pt"),
        ("¡Baja!", "opt_out", "es"),
        ('"unsubscribe"', "opt_out", "en"),
        ("...start...", "opt_in", "en"),
    ],
)
def test_a_whole_message_keyword_is_recognised_with_its_language(
    text: str, kind: str, language: str
) -> None:
    found = _keyword(text)

    assert found is not None
    assert (found.kind, found.language) == (kind, language)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "?!",
        "stop it please",
        "please stop",
        "stop sending me pizza ads",
        "stop sending me pizza ads.",
        "stopp",
        "start the order",
        "stop 🍕",
        "s.t.o.p",
    ],
)
def test_anything_but_a_whole_keyword_is_no_keyword(text: str) -> None:
    assert _keyword(text) is None


def test_the_confirmation_falls_back_to_english_then_to_the_first_given() -> None:
    assert confirmation({"en": "bye", "pt": "tchau"}, "pt") == "tchau"
    assert confirmation({"en": "bye", "pt": "tchau"}, "es") == "bye"
    assert confirmation({"pt": "tchau"}, "es") == "tchau"


def test_a_keyword_to_opt_out_and_in_at_once_is_refused_with_what_to_fix() -> None:
    with pytest.raises(ValidationError, match="consent keywords GO are listed to opt out and"):
        ConsentRules.model_validate(
            {"optOutKeywords": {"en": ["go"]}, "optInKeywords": {"en": ["GO"]}}
        )


def test_a_tenant_needs_at_least_one_confirmation() -> None:
    with pytest.raises(ValidationError, match="optOutReplies"):
        ConsentRules.model_validate({"optOutReplies": {}})
