"""Checks one agent answer, or a whole conversation, against a golden file's expectations."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wta_runtime.channel.split import split_message
from wta_runtime.conversation.contact_language import contact_language
from wta_runtime.evals.golden_files import Expectations, ToolExpectation


@dataclass(frozen=True)
class ToolUse:
    """A tool the agent used in a turn; a built-in action of the offline agent counts too."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """What the agent did in one turn, as the contact and the conversation would see it."""

    said: str
    text: str
    handed_off: bool
    tools: tuple[ToolUse, ...]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # The tenant's spending.maxReplyParts: the worker cuts a longer reply to that many parts.
    max_reply_parts: int | None = None

    @property
    def parts(self) -> int:
        """WhatsApp messages the reply is sent as (the worker's own split)."""
        if not self.text.strip():
            return 0
        return len(split_message(self.text, max_parts=self.max_reply_parts))

    @property
    def language(self) -> str | None:
        """The reply's language by the project's contact-language guess (en, pt-BR, es), or None."""
        return contact_language([self.text], None)


def _argument_matches(expected: object, actual: object) -> bool:
    if isinstance(expected, str):
        return re.search(expected, str(actual), re.IGNORECASE) is not None
    return expected == actual


def _called(expected: ToolExpectation, tools: Sequence[ToolUse]) -> bool:
    return any(
        tool.name == expected.name
        and all(
            key in tool.arguments and _argument_matches(value, tool.arguments[key])
            for key, value in expected.arguments.items()
        )
        for tool in tools
    )


def _same_language(expected: str, found: str | None) -> bool:
    # "pt" accepts pt-BR and pt-PT; "pt-BR" only itself.
    return found is not None and (found == expected or found.split("-")[0] == expected)


def unmet(expect: Expectations, answers: Sequence[Answer]) -> list[str]:
    """Why the answers fail the expectations (empty when they pass); each reason a short line."""
    failures: list[str] = []
    texts = [answer.text for answer in answers]
    for pattern in expect.must_mention:
        if not any(pattern.found_in(text) for text in texts):
            failures.append(f"does not mention {pattern}")
    for pattern in expect.must_not_mention:
        if any(pattern.found_in(text) for text in texts):
            failures.append(f"mentions {pattern}")
    handed_off = any(answer.handed_off for answer in answers)
    if expect.must_hand_off is True and not handed_off:
        failures.append("did not hand off to a person")
    if expect.must_hand_off is False and handed_off:
        failures.append("handed off to a person")
    tools = [tool for answer in answers for tool in answer.tools]
    for tool in expect.must_call_tool:
        if not _called(tool, tools):
            with_args = f" with {tool.arguments}" if tool.arguments else ""
            called = ", ".join(sorted({t.name for t in tools})) or "none"
            failures.append(f"did not call {tool.name}{with_args} (called: {called})")
    if expect.max_parts is not None:
        for answer in answers:
            if answer.parts > expect.max_parts:
                failures.append(f"sent in {answer.parts} parts (at most {expect.max_parts})")
    if expect.language is not None:
        for answer in answers:
            found = answer.language
            if not _same_language(expect.language, found):
                failures.append(
                    f"answered in {found or 'an unrecognised language'}, not {expect.language}"
                )
    return failures
