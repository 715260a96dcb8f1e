"""The expectations of `wta eval` golden files, judged on answers built by hand."""

from __future__ import annotations

from wta_runtime.channel.split import WHATSAPP_BODY_LIMIT
from wta_runtime.evals.expectations import Answer, ToolUse, unmet
from wta_runtime.evals.golden_files import Expectations


def answer(text: str, *tools: ToolUse, handed_off: bool = False) -> Answer:
    return Answer(said="hi", text=text, handed_off=handed_off, tools=tools)


def expect(**fields: object) -> Expectations:
    return Expectations.model_validate(fields)


def test_mentions_are_case_insensitive_text_or_regex() -> None:
    reply = answer("We are OPEN from 11:00.")
    assert unmet(expect(must_mention=["open", {"regex": r"\d\d:00"}]), [reply]) == []
    assert unmet(expect(must_mention=["closed"]), [reply]) == ["does not mention 'closed'"]
    assert unmet(expect(must_not_mention=[{"regex": "^we"}]), [reply]) == ["mentions /^we/"]


def test_a_conversation_mentions_in_any_turn_and_limits_every_turn() -> None:
    short, long = answer("Margherita."), answer("word " * WHATSAPP_BODY_LIMIT)
    assert unmet(expect(must_mention=["margherita"]), [long, short]) == []
    assert unmet(expect(max_parts=1), [short, long]) == [f"sent in {long.parts} parts (at most 1)"]


def test_tool_arguments_match_as_regexes_or_equal_values() -> None:
    sent = answer("Here it is.", ToolUse("send_media", {"name": "menu", "count": 2}))
    ok = {"name": "send_media", "arguments": {"name": "^MENU$", "count": 2}}
    assert unmet(expect(must_call_tool=[ok]), [sent]) == []
    wrong = {"name": "send_media", "arguments": {"count": 3}}
    assert unmet(expect(must_call_tool=[wrong]), [sent]) == [
        "did not call send_media with {'count': 3} (called: send_media)"
    ]


def test_hand_off_both_ways() -> None:
    assert unmet(expect(must_hand_off=True), [answer("ok")]) == ["did not hand off to a person"]
    assert unmet(expect(must_hand_off=False), [answer("ok", handed_off=True)]) == [
        "handed off to a person"
    ]


def test_language_by_the_projects_guess_with_pt_for_either_portuguese() -> None:
    portuguese = answer("Olá, o seu pedido está pronto, obrigado!")
    assert unmet(expect(language="pt"), [portuguese]) == []
    assert unmet(expect(language="en"), [portuguese]) == ["answered in pt-BR, not en"]
    assert unmet(expect(language="en"), [answer("11:00")]) == [
        "answered in an unrecognised language, not en"
    ]
