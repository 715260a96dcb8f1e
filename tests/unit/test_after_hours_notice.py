"""What a contact handed to people after hours reads, in their language, and how it is chosen."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from wta_runtime.conversation.after_hours_notice import contact_notice, language_key, model_note
from wta_runtime.conversation.business_hours import AfterHours
from wta_runtime.conversation.contact_language import contact_language
from wta_runtime.specs.tenant_hours import DEFAULT_AFTER_HOURS_MESSAGES

BACK = AfterHours(
    datetime(2026, 12, 28, 9, 0, tzinfo=ZoneInfo("America/Sao_Paulo")), "America/Sao_Paulo"
)


def test_the_contact_reads_when_people_are_back_in_english() -> None:
    text = contact_notice(DEFAULT_AFTER_HOURS_MESSAGES, "en", BACK)

    assert text.endswith("when we are back on Monday, December 28 at 9:00 AM.")


def test_the_contact_reads_when_people_are_back_in_brazilian_portuguese() -> None:
    text = contact_notice(DEFAULT_AFTER_HOURS_MESSAGES, "pt-BR", BACK)

    assert text.endswith("quando voltarmos: segunda-feira, 28 de dezembro, às 09:00.")


def test_a_tenants_own_message_is_used_with_its_placeholders() -> None:
    messages = {"pt-BR": "Voltamos {day} às {time}. Beijos!", "en": "Back {day}, {time}."}

    assert contact_notice(messages, "pt-PT", BACK) == (
        "Voltamos segunda-feira, 28 de dezembro às 09:00. Beijos!"
    )
    assert contact_notice(messages, "de", BACK) == "Back Monday, December 28, 9:00 AM."


@pytest.mark.parametrize(
    ("language", "key"),
    [("pt-BR", "pt-BR"), ("pt", "pt-BR"), ("PT-pt", "pt-BR"), ("fr", "en"), (None, "en")],
)
def test_the_closest_language_the_tenant_wrote_is_chosen(language: str | None, key: str) -> None:
    assert language_key(DEFAULT_AFTER_HOURS_MESSAGES, language) == key


def test_without_english_the_first_message_is_the_last_resort() -> None:
    assert language_key({"es": "x", "pt-BR": "y"}, "de") == "es"


def test_with_no_opening_ahead_the_contact_is_still_told_they_are_queued() -> None:
    text = contact_notice(DEFAULT_AFTER_HOURS_MESSAGES, "pt-BR", AfterHours(None, "UTC"))

    assert (
        text == "Nossa equipe não está disponível agora. Sua conversa está na fila para uma pessoa."
    )


def test_the_model_is_told_the_opening_in_the_hours_zone_and_to_keep_helping() -> None:
    note = model_note(BACK, "Back Monday.")

    assert "outside business hours" in note
    assert "Monday 2026-12-28 09:00 (America/Sao_Paulo)" in note
    assert "keep helping" in note


@pytest.mark.parametrize(
    ("texts", "number", "language"),
    [
        (["Quero falar com um atendente, por favor"], "+14155550100", "pt-BR"),
        (["I want to talk to a person please"], "+5511999990000", "en"),
        (["Quiero hablar con una persona"], None, "es"),
        (["ok"], "+5511999990000", "pt-BR"),
        (["ok"], "whatsapp:+351912345678", "pt-PT"),
        (["ok"], "+4915112345678", None),
    ],
)
def test_the_contacts_language_comes_from_their_words_else_their_number(
    texts: list[str], number: str | None, language: str | None
) -> None:
    assert contact_language(texts, number) == language
