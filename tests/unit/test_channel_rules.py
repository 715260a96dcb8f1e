"""Pure channel rules: WhatsApp-sized parts and the furthest delivery status."""

from __future__ import annotations

import itertools
import re

import pytest

from wta_runtime.channel.delivery_status import RANK, TERMINAL, is_further
from wta_runtime.channel.split import ELLIPSIS, WHATSAPP_BODY_LIMIT, split_message


def _words(text: str) -> list[str]:
    return re.findall(r"\S+", text)


def test_a_short_reply_is_one_message() -> None:
    assert split_message("  Hello!  ") == ["Hello!"]


def test_a_long_reply_is_split_at_paragraphs_first() -> None:
    paragraphs = [f"Paragraph {i}. " + "word " * 150 for i in range(6)]
    text = "\n\n".join(p.strip() for p in paragraphs)

    parts = split_message(text)

    assert len(text) > WHATSAPP_BODY_LIMIT
    assert all(len(p) <= WHATSAPP_BODY_LIMIT for p in parts)
    assert all(p.startswith("Paragraph ") for p in parts)
    assert _words(" ".join(parts)) == _words(text)


def test_a_long_paragraph_is_split_at_sentences() -> None:
    sentences = [f"Sentence number {i} says something useful about pizza." for i in range(60)]
    text = " ".join(sentences)

    parts = split_message(text)

    assert len(parts) > 1
    assert all(len(p) <= WHATSAPP_BODY_LIMIT for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert _words(" ".join(parts)) == _words(text)


def test_text_without_any_boundary_is_still_cut_to_size_in_order() -> None:
    text = "x" * 4000

    parts = split_message(text, limit=1600)

    assert [len(p) for p in parts] == [1600, 1600, 800]
    assert "".join(parts) == text


def test_a_reply_capped_at_two_parts_is_cut_at_a_word_with_an_ellipsis() -> None:
    sentences = [f"Sentence number {i} says something useful about pizza." for i in range(90)]
    text = " ".join(sentences)
    uncapped = split_message(text)

    parts = split_message(text, max_parts=2)

    assert len(uncapped) > 2
    assert len(parts) == 2
    assert parts[0] == uncapped[0]
    assert all(len(p) <= WHATSAPP_BODY_LIMIT for p in parts)
    assert parts[1].endswith(ELLIPSIS)
    said = _words(" ".join(parts).removesuffix(ELLIPSIS))
    assert said == _words(text)[: len(said)]  # whole words, in order, nothing invented


def test_a_capped_reply_that_fits_is_not_touched() -> None:
    text = "word " * 500

    assert split_message(text, max_parts=3) == split_message(text)
    assert split_message("Hello!", max_parts=1) == ["Hello!"]


def test_one_part_of_text_without_spaces_is_cut_to_size() -> None:
    parts = split_message("x" * 4000, limit=1600, max_parts=1)

    assert parts == ["x" * (1600 - len(ELLIPSIS)) + ELLIPSIS]


def test_status_callbacks_in_any_order_end_at_the_furthest_status() -> None:
    for order in itertools.permutations(["queued", "sent", "delivered", "read"]):
        current: str | None = "pending"
        for status in order:
            if is_further(current, status):
                current = status
        assert current == "read", order


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
def test_failed_and_undelivered_are_terminal(terminal: str) -> None:
    assert is_further("sent", terminal)
    assert all(not is_further(terminal, later) for later in RANK)


def test_unknown_statuses_never_move_a_message() -> None:
    assert not is_further("sent", "partially_delivered")
