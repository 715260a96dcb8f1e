"""How `wta replay` cuts a stored conversation into turns."""

from __future__ import annotations

from wta_runtime.evals.replay import StoredTurn, stored_turns


def test_a_burst_is_one_turn_and_everything_sent_after_it_is_its_answer() -> None:
    messages = [
        ("outbound", "Your order is ready"),  # a template before the contact wrote
        ("inbound", "hi"),
        ("inbound", "are you open?"),
        ("outbound", "We open at 11:00."),
        ("inbound", "a person please"),
        ("outbound", "Passing you to a person."),
        ("outbound", "Hi, Ana here."),
        ("inbound", "thanks"),
    ]
    assert stored_turns(messages) == (
        StoredTurn("hi\nare you open?", ("We open at 11:00.",)),
        StoredTurn("a person please", ("Passing you to a person.", "Hi, Ana here.")),
        StoredTurn("thanks", ()),
    )
