"""The lifecycle allows exactly the original product's moves, and closed is final."""

from __future__ import annotations

import itertools

import pytest

from wta_runtime.conversation.lifecycle import (
    CLOSED,
    IllegalMoveError,
    State,
    check_move,
    stronger_close,
)

EXPECTED_MOVES = {
    State.PENDING: {State.PROGRESS, State.HUMAN_HANDOFF, *CLOSED},
    State.PROGRESS: {State.HUMAN_HANDOFF, State.IDLE_TIMEOUT, *CLOSED},
    State.HUMAN_HANDOFF: {State.PROGRESS, *CLOSED},
    State.IDLE_TIMEOUT: {State.PROGRESS, State.HUMAN_HANDOFF, *CLOSED},
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(State, State)))
def test_every_pair_of_states(current: State, target: State) -> None:
    if current == target:
        assert check_move(current, target) is False
    elif target in EXPECTED_MOVES.get(current, set()):
        assert check_move(current, target) is True
    else:
        with pytest.raises(IllegalMoveError, match=f"from {current} to {target}"):
            check_move(current, target)


def test_closing_priority_failed_beats_user_beats_support_beats_agent_beats_expired() -> None:
    order = [
        State.FAILED,
        State.USER_CLOSED,
        State.SUPPORT_CLOSED,
        State.AGENT_CLOSED,
        State.EXPIRED,
    ]
    for stronger, weaker in itertools.combinations(order, 2):
        assert stronger_close(stronger, weaker) == stronger
        assert stronger_close(weaker, stronger) == stronger
