"""Timer sweeps: progress -> idle_timeout after the idle timer, open -> expired at `expires_at`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.conversation.lifecycle import State, check_move

# SKIP LOCKED lets several scheduler replicas sweep at once without acting on one row twice.
_MOVE = text(
    """
    WITH due AS (
        SELECT id, status FROM conversations
        WHERE tenant = :tenant AND status = ANY(:from_states) AND {condition}
        ORDER BY id
        LIMIT :batch
        FOR UPDATE SKIP LOCKED
    ), moved AS (
        UPDATE conversations c
        SET status = :to_state, version = c.version + 1, updated_at = :now,
            closed_at = CASE WHEN :closes THEN :now ELSE c.closed_at END
        FROM due WHERE c.id = due.id
        RETURNING c.id, due.status AS from_status
    )
    INSERT INTO conversation_state_history
        (conversation_id, from_status, to_status, reason, changed_at)
    SELECT id, from_status, :to_state, :reason, :now FROM moved
    RETURNING conversation_id
    """
)


async def _move(
    session: AsyncSession,
    *,
    condition: str,
    tenant: str,
    from_states: list[str],
    to_state: str,
    reason: str,
    now: datetime,
    extra: dict[str, object],
    batch: int,
) -> int:
    for state in from_states:  # the sweeps make lifecycle moves like everyone else
        check_move(State(state), State(to_state))
    statement = text(_MOVE.text.replace("{condition}", condition))
    result = await session.execute(
        statement,
        {
            "tenant": tenant,
            "from_states": from_states,
            "to_state": to_state,
            "reason": reason,
            "now": now,
            "closes": to_state == "expired",
            "batch": batch,
            **extra,
        },
    )
    return len(result.all())


async def idle_conversations(
    session: AsyncSession, *, tenant: str, now: datetime, idle: timedelta, batch: int = 500
) -> int:
    """Pause conversations in progress with no message for the idle timer; return how many."""
    return await _move(
        session,
        condition="updated_at <= :idle_before",
        tenant=tenant,
        from_states=["progress"],
        to_state="idle_timeout",
        reason="idle_timer",
        now=now,
        extra={"idle_before": now - idle},
        batch=batch,
    )


async def expire_conversations(
    session: AsyncSession, *, tenant: str, now: datetime, batch: int = 500
) -> int:
    """Expire every open conversation whose `expires_at` has passed; return how many."""
    return await _move(
        session,
        condition="expires_at IS NOT NULL AND expires_at <= :now",
        tenant=tenant,
        from_states=["pending", "progress", "idle_timeout", "human_handoff"],
        to_state="expired",
        reason="expiry_timer",
        now=now,
        extra={},
        batch=batch,
    )
