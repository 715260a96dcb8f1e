"""Lifecycle moves of stored conversations: checked, versioned, written to the history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.conversation.lifecycle import CLOSED, State, check_move, stronger_close
from wta_runtime.db.tables import Conversation, StateChange

MAX_ATTEMPTS = 5


class ConcurrentUpdateError(RuntimeError):
    """Other writers kept changing the conversation; the move was not applied."""


class ConversationNotFoundError(LookupError):
    """No conversation has this id."""


@dataclass(frozen=True)
class Moved:
    """The outcome of a move: the state before and after, and the row's version after it."""

    conversation_id: uuid.UUID
    before: State
    after: State
    version: int

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _closing_race_won(current: State, target: State, version: int, seen: int | None) -> bool:
    """A close that lost the race to one weaker close (exactly one write since we looked) wins."""
    return (
        seen is not None
        and version == seen + 1
        and current != target
        and stronger_close(target, current) == target
    )


async def transition(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    target: State,
    *,
    reason: str,
    now: datetime,
    seen_version: int | None = None,
    values: dict[str, Any] | None = None,
    known: tuple[State, int] | None = None,
) -> Moved:
    """Move a conversation to `target` with optimistic locking on `version`.

    The move is checked against the lifecycle (`IllegalMoveError` if not allowed; the self-move is
    a no-op). A close of a closed conversation is a no-op, unless it raced a weaker close: then
    the closing priority decides. `seen_version` is the version the caller's decision was based on.
    """
    for _ in range(MAX_ATTEMPTS):
        if known is not None:
            # The caller just read status and version: try with them; a conflict reads again.
            (current, version), known = known, None
        else:
            row = (
                await session.execute(
                    select(Conversation.status, Conversation.version).where(
                        Conversation.id == conversation_id
                    )
                )
            ).one_or_none()
            if row is None:
                raise ConversationNotFoundError(f"no conversation {conversation_id}")
            current, version = State(row.status), int(row.version)
        if current in CLOSED and target in CLOSED:
            if not _closing_race_won(current, target, version, seen_version):
                return Moved(conversation_id, current, current, version)
            reason = f"{reason} (wins over {current.value})"
        elif not check_move(current, target):
            return Moved(conversation_id, current, current, version)
        changes: dict[str, Any] = {
            "status": target.value,
            "version": version + 1,
            "updated_at": now,
            **(values or {}),
        }
        if target in CLOSED:
            changes["closed_at"] = now
        applied = await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.version == version)
            .values(**changes)
            .returning(Conversation.version)
        )
        if applied.scalar_one_or_none() is None:
            continue  # another writer moved it since we read it: read again and re-check
        session.add(
            StateChange(
                conversation_id=conversation_id,
                from_status=current.value,
                to_status=target.value,
                reason=reason,
                changed_at=now,
            )
        )
        await session.flush()
        return Moved(conversation_id, current, target, version + 1)
    raise ConcurrentUpdateError(f"conversation {conversation_id} kept changing; move not applied")


async def touch(
    session: AsyncSession, conversation_id: uuid.UUID, *, now: datetime, values: dict[str, Any]
) -> None:
    """Change a conversation's fields without moving it; the version still increments."""
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(updated_at=now, version=Conversation.version + 1, **values)
    )
