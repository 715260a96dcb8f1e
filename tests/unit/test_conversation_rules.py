"""Pure conversation rules: closing words, bursts, the 24 h window and what the agent reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wta_runtime.conversation.bursts import MAX_WINDOWS, quiet_at, seconds_until
from wta_runtime.conversation.intents import (
    DEFAULT_CLOSING_KEYWORDS,
    is_closing_intent,
    mentions_any,
)
from wta_runtime.conversation.turn_text import Attachment, ContactMessage, turn_text
from wta_runtime.conversation.window import FreeForm, Refuse, UseTemplate, decide_send

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "tchau",
        "Obrigado!",
        "valeu, até mais",
        "OK bye",
        "Thanks a lot",
        "thank  you",
        "Adiós",
        "obrigado pela ajuda, tchau 👋",
    ],
)
def test_closing_words_close_in_any_default_language(text: str) -> None:
    assert is_closing_intent(text, DEFAULT_CLOSING_KEYWORDS)


@pytest.mark.parametrize(
    "text",
    ["byelaw question", "thanksgiving menu", "obrigadoooo", "thanks, what time do you open?"],
)
def test_closing_words_count_only_as_whole_words_and_never_in_a_question(text: str) -> None:
    assert not is_closing_intent(text, DEFAULT_CLOSING_KEYWORDS)


@pytest.mark.parametrize(
    "text",
    [
        "thanks, I want a large pepperoni",
        "Obrigado! Quero uma pizza grande de calabresa",
        "gracias, necesito cambiar mi dirección de entrega",
    ],
)
def test_a_message_that_says_more_than_goodbye_does_not_close(text: str) -> None:
    assert not is_closing_intent(text, DEFAULT_CLOSING_KEYWORDS)


def test_closing_words_are_configurable_per_language() -> None:
    keywords = {"de": ["tschüss"], "fr": ["au revoir"]}

    assert is_closing_intent("Tschuss!", keywords)
    assert is_closing_intent("merci, au revoir", keywords)
    assert not is_closing_intent("thanks", keywords)


def test_handoff_words_match_whole_words() -> None:
    assert mentions_any("I want a HUMAN now", ["human", "person"])
    assert not mentions_any("humane pizza", ["human"])
    assert not mentions_any("anything", [])


def test_a_burst_is_answered_one_window_after_its_newest_message() -> None:
    window = timedelta(seconds=2)

    assert quiet_at(T0, T0 + timedelta(seconds=1), window) == T0 + timedelta(seconds=3)
    assert seconds_until(T0 + timedelta(seconds=3), T0) == 3.0
    assert seconds_until(T0, T0 + timedelta(seconds=1)) == 0.0


def test_a_contact_who_never_stops_typing_still_gets_an_answer() -> None:
    window = timedelta(seconds=2)

    assert quiet_at(T0, T0 + timedelta(minutes=5), window) == T0 + MAX_WINDOWS * window


def test_inside_the_window_free_text_is_allowed() -> None:
    assert decide_send(T0, T0 + timedelta(hours=23, minutes=59), template_sid=None) == FreeForm()


def test_outside_the_window_only_the_template_or_nothing() -> None:
    late = T0 + timedelta(hours=24)

    assert decide_send(T0, late, template_sid="HX1", template_variables={"1": "x"}) == UseTemplate(
        "HX1", {"1": "x"}
    )
    assert decide_send(T0, late, template_sid=None) == Refuse("outside_24h_window")
    assert decide_send(None, T0, template_sid=None) == Refuse("outside_24h_window")


def test_the_agent_reads_the_burst_in_order_with_buttons_and_attachments() -> None:
    text = turn_text(
        [
            ContactMessage("first"),
            ContactMessage("", button_text="Yes, order", button_payload="order_yes"),
            ContactMessage(
                "see this",
                attachments=(
                    Attachment("image/jpeg"),
                    Attachment("audio/ogg", transcript="two pizzas please"),
                    Attachment("application/zip", refused_reason="content type not allowed"),
                ),
            ),
        ],
        notes=("a person handled this",),
    )

    assert text.splitlines() == [
        "[note: a person handled this]",
        "first",
        '[tapped the button "Yes, order" (payload: order_yes)]',
        "see this",
        "[image attachment: image/jpeg]",
        "[voice message] two pizzas please",
        "[application attachment not accepted: content type not allowed]",
    ]


def test_notes_we_add_do_not_count_as_the_contact_words() -> None:
    from wta_runtime.conversation.turn_text import HUMAN_HANDLED_NOTE, contact_words, turn_text

    text = turn_text([], notes=(HUMAN_HANDLED_NOTE,)) + "\ndo you deliver?"

    assert contact_words(text) == "do you deliver?"
