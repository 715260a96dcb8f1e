"""Which bursts the bot answers, which close without a reply, and which close after one."""

from __future__ import annotations

import pytest

from tests.conftest import EXAMPLES
from wta_runtime.catalog import Tenant, load_catalog
from wta_runtime.db.tables import Conversation, Message
from wta_runtime.worker.settling import answers_plainly, closes_after_reply, needs_answer


@pytest.fixture(scope="module")
def tenant() -> Tenant:
    return load_catalog(EXAMPLES).by_name("acme-pizza")


def burst(*texts: str, media_on: int | None = None) -> list[Message]:
    return [
        Message(body=text, details={"num_media": 1 if i == media_on else 0})
        for i, text in enumerate(texts)
    ]


@pytest.mark.parametrize(
    ("texts", "answered", "closed_after"),
    [
        (["what are your opening hours?", "thanks"], True, True),
        (["hi", "a big pizza", "bye"], True, True),
        (["thanks", "do you deliver?"], True, False),
        (["thanks!", "bye"], False, False),
        (["valeu, tchau"], False, False),
        (["menu"], True, False),
    ],
)
def test_a_goodbye_closes_without_a_reply_only_when_nothing_else_needs_one(
    tenant: Tenant, texts: list[str], answered: bool, closed_after: bool
) -> None:
    messages = burst(*texts)
    agent = tenant.default_agent()
    conversation = Conversation(status="progress")

    assert needs_answer(tenant, messages) is answered
    # The turn's no-write shortcut and the settling transaction must agree on every burst.
    assert answers_plainly(tenant, agent, conversation, messages) is answered
    assert closes_after_reply(tenant, messages) is closed_after


def test_a_goodbye_with_an_attachment_is_answered(tenant: Tenant) -> None:
    assert needs_answer(tenant, burst("thanks", media_on=0))
