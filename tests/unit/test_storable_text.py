"""What a contact sends is stored as sent, except the characters PostgreSQL refuses (NUL and lone
surrogates), which become U+FFFD: the same answer for ASCII text as for any other."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wta_runtime.db.storable import storable_text

UNSTORABLE = ["\x00", "\ud800", "\udbff", "\udc00", "\udfff"]


def replaced_one_by_one(text: str) -> str:
    return "".join("\ufffd" if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in text)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("", ""),
        ("a pizza please", "a pizza please"),
        ("a pizza\x00 please", "a pizza\ufffd please"),
        ("\x00", "\ufffd"),
        ("\x00\x01\x7f", "\ufffd\x01\x7f"),
        ("café", "café"),
        ("café\x00", "café\ufffd"),
        ("pizza \U0001f355", "pizza \U0001f355"),
        ("lone \ud83c half", "lone \ufffd half"),
        ("\udfff\x00x", "\ufffd\ufffdx"),
    ],
)
def test_only_what_postgresql_refuses_is_replaced(text: str, stored: str) -> None:
    assert storable_text(text) == stored


@given(st.text(st.one_of(st.characters(codec=None), st.sampled_from(UNSTORABLE))))
def test_any_text_is_stored_with_each_refused_character_replaced(text: str) -> None:
    assert storable_text(text) == replaced_one_by_one(text)


@given(st.text(st.one_of(st.characters(max_codepoint=127), st.just("\x00"))))
def test_ascii_text_is_stored_with_each_nul_replaced(text: str) -> None:
    assert storable_text(text) == text.replace("\x00", "\ufffd")
