"""The conversation lifecycle: states, the moves allowed between them, and closing priority."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    PENDING = "pending"
    PROGRESS = "progress"
    HUMAN_HANDOFF = "human_handoff"
    IDLE_TIMEOUT = "idle_timeout"
    AGENT_CLOSED = "agent_closed"
    SUPPORT_CLOSED = "support_closed"
    USER_CLOSED = "user_closed"
    EXPIRED = "expired"
    FAILED = "failed"


ACTIVE = frozenset({State.PENDING, State.PROGRESS, State.HUMAN_HANDOFF})
PAUSED = frozenset({State.IDLE_TIMEOUT})
CLOSED = frozenset(
    {State.AGENT_CLOSED, State.SUPPORT_CLOSED, State.USER_CLOSED, State.EXPIRED, State.FAILED}
)
OPEN = ACTIVE | PAUSED

# When two closings race, the stronger one wins: failed > user > support > agent > expired.
CLOSING_PRIORITY: dict[State, int] = {
    State.FAILED: 5,
    State.USER_CLOSED: 4,
    State.SUPPORT_CLOSED: 3,
    State.AGENT_CLOSED: 2,
    State.EXPIRED: 1,
}

ALLOWED_MOVES: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.PROGRESS, State.HUMAN_HANDOFF}) | CLOSED,
    State.PROGRESS: frozenset({State.HUMAN_HANDOFF, State.IDLE_TIMEOUT}) | CLOSED,
    State.HUMAN_HANDOFF: frozenset({State.PROGRESS}) | CLOSED,
    State.IDLE_TIMEOUT: frozenset({State.PROGRESS, State.HUMAN_HANDOFF}) | CLOSED,
    **{state: frozenset() for state in CLOSED},
}


class IllegalMoveError(ValueError):
    """The lifecycle does not allow this move; the message names both states."""

    def __init__(self, current: State, target: State) -> None:
        super().__init__(f"a conversation cannot move from {current} to {target}")
        self.current = current
        self.target = target


def check_move(current: State, target: State) -> bool:
    """Whether a move changes anything: False for the no-op self-move; raises if not allowed."""
    if current == target:
        return False
    if target not in ALLOWED_MOVES[current]:
        raise IllegalMoveError(current, target)
    return True


def stronger_close(first: State, second: State) -> State:
    """Of two closing states, the one that wins a race."""
    return first if CLOSING_PRIORITY[first] >= CLOSING_PRIORITY[second] else second
