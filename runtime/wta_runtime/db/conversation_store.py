"""Queries that find or open conversations and record their inbound messages and replies."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    String,
    Text,
    bindparam,
    exists,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ExecutableReturnsRows

from wta_runtime.agents.spend_limits import Periods, SpendTotals
from wta_runtime.conversation.consent import OPT_OUT
from wta_runtime.conversation.lifecycle import State
from wta_runtime.db.agent_records import EarlierTurns, earlier_of, earlier_turns_columns
from wta_runtime.db.consent import ConsentEvent
from wta_runtime.db.driver import Driver, Sql
from wta_runtime.db.outbound import (
    MARK_SENT_CTES,
    MARK_SENT_UPDATE,
    mark_sent,
    save_outbound,
    sent_params,
)
from wta_runtime.db.row_objects import from_row
from wta_runtime.db.spend import MONTH_SO_FAR, month_params, totals_of
from wta_runtime.db.tables import OPEN_STATES, Contact, Conversation, Message, StateChange
from wta_runtime.db.transitions import touch, transition

__all__ = [
    "InboundRecord",
    "find_message",
    "mark_answered",
    "mark_sent",
    "move_to_progress",
    "open_conversation",
    "recent_messages",
    "record_inbound",
    "save_reply",
    "unanswered_inbound",
]


@dataclass(frozen=True)
class InboundRecord:
    """The stored inbound message and the conversation it belongs to."""

    conversation: Conversation
    message: Message


@functools.cache
def _open_conversation_statement() -> ExecutableReturnsRows:
    """Open a conversation (linked to the contact's previous one) with its first history row.

    Built once: the statement is the same for every message, only its parameters change.
    """
    where = (
        Conversation.tenant == bindparam("p_tenant"),
        Conversation.contact_number == bindparam("p_contact"),
        Conversation.business_number == bindparam("p_business"),
    )
    previous = (
        select(Conversation.id)
        .where(*where)
        .order_by(Conversation.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    # A concurrent writer may create the same open conversation: the partial unique index decides.
    opened = (
        insert(Conversation)
        .values(
            id=bindparam("p_id"),
            tenant=bindparam("p_tenant"),
            contact_number=bindparam("p_contact"),
            business_number=bindparam("p_business"),
            contact_name=bindparam("p_contact_name", type_=Text()),
            status="pending",
            version=1,
            previous_conversation_id=previous,
            created_at=bindparam("p_now"),
            updated_at=bindparam("p_now"),
            expires_at=bindparam("p_expires_at"),
        )
        .on_conflict_do_nothing()
        .returning(Conversation)
        .cte("opened")
    )
    history = (
        insert(StateChange)
        .from_select(
            ["conversation_id", "from_status", "to_status", "reason", "changed_at"],
            select(
                opened.c.id,
                literal(None, String()),
                literal("pending"),
                literal("first_inbound_message"),
                bindparam("p_now", type_=DateTime(timezone=True)),
            ),
        )
        .cte("history")
    )
    return (
        select(Conversation)
        .from_statement(select(opened).add_cte(history))
        .execution_options(populate_existing=True)
    )


@functools.cache
def _record_inbound_statement() -> ExecutableReturnsRows:
    """Insert an inbound message once; when new, update its conversation and contact too."""
    inserted = (
        insert(Message)
        .values(
            id=bindparam("p_id"),
            tenant=bindparam("p_tenant"),
            conversation_id=bindparam("p_conversation_id"),
            direction="inbound",
            author="user",
            idempotency_key=bindparam("p_key"),
            body=bindparam("p_body"),
            twilio_sid=bindparam("p_key"),
            details=bindparam("p_details", type_=JSONB()),
            stream_seq=bindparam("p_stream_seq", type_=BigInteger()),
            created_at=bindparam("p_created_at"),
        )
        .on_conflict_do_nothing(index_elements=["tenant", "idempotency_key"])
        .returning(Message)
        .cte("inserted")
    )
    stored = exists(select(inserted.c.id))
    now = bindparam("p_now", type_=DateTime(timezone=True))
    seen = (
        update(Conversation)
        .where(Conversation.id == bindparam("p_conversation_id"), stored)
        .values(last_inbound_at=now, updated_at=now)
        .cte("seen")
    )
    contact = insert(Contact).from_select(
        ["tenant", "business_number", "contact_number", "profile_name", "last_inbound_at"],
        select(
            bindparam("p_tenant", type_=String()),
            bindparam("p_business", type_=String()),
            bindparam("p_contact", type_=String()),
            bindparam("p_profile_name", type_=Text()),
            now,
        ).where(stored),
    )
    upserted = contact.on_conflict_do_update(
        index_elements=["tenant", "business_number", "contact_number"],
        set_={
            "last_inbound_at": contact.excluded.last_inbound_at,
            "profile_name": contact.excluded.profile_name,
        },
        where=Contact.last_inbound_at < contact.excluded.last_inbound_at,
    ).cte("contact")
    return (
        select(Message)
        .from_statement(select(inserted).add_cte(seen, upserted))
        .execution_options(populate_existing=True)
    )


async def open_conversation(
    session: AsyncSession,
    *,
    tenant: str,
    contact: str,
    business: str,
    contact_name: str | None,
    now: datetime,
    pending_timeout: timedelta,
) -> Conversation:
    """The open conversation of this contact and number; a new, linked one if none is open."""
    where = (
        Conversation.tenant == tenant,
        Conversation.contact_number == contact,
        Conversation.business_number == business,
    )
    open_one = select(Conversation).where(*where, Conversation.status.in_(OPEN_STATES))
    found = await session.scalar(open_one.with_for_update())
    if found is not None:
        return found
    conversation: Conversation | None = await session.scalar(
        _open_conversation_statement(),
        {
            "p_id": uuid.uuid4(),
            "p_tenant": tenant,
            "p_contact": contact,
            "p_business": business,
            "p_contact_name": contact_name,
            "p_now": now,
            "p_expires_at": now + pending_timeout,
        },
    )
    if conversation is None:  # the other writer's conversation: wait for it, then use it
        conversation = await session.scalar(
            open_one.with_for_update().execution_options(populate_existing=True)
        )
    assert conversation is not None
    return conversation


async def record_inbound(
    session: AsyncSession,
    *,
    conversation: Conversation,
    message_sid: str,
    body: str,
    details: dict[str, Any],
    now: datetime,
    received_at: datetime | None = None,
    stream_seq: int | None = None,
) -> Message:
    """Store an inbound message once, keyed by its `MessageSid`; return the stored row.

    The first time, it also records the contact's last inbound time (WhatsApp's 24 h window);
    message, conversation and contact are written by one statement.
    """
    row: Message | None = await session.scalar(
        _record_inbound_statement(),
        {
            "p_id": uuid.uuid4(),
            "p_tenant": conversation.tenant,
            "p_conversation_id": conversation.id,
            "p_key": message_sid,
            "p_body": body,
            "p_details": details,
            "p_stream_seq": stream_seq,
            "p_created_at": received_at or now,
            "p_business": conversation.business_number,
            "p_contact": conversation.contact_number,
            "p_profile_name": conversation.contact_name,
            "p_now": now,
        },
    )
    if row is not None:
        return row
    found = await find_message(session, conversation.tenant, message_sid)  # stored before
    assert found is not None
    return found


async def find_message(session: AsyncSession, tenant: str, key: str) -> Message | None:
    return await session.scalar(
        select(Message)
        .where(Message.tenant == tenant, Message.idempotency_key == key)
        .execution_options(populate_existing=True)
    )


@dataclass(frozen=True)
class TurnState:
    """What a turn reads before it answers, read together (fresh) in one query."""

    conversation: Conversation
    # What settled the turn's own message (a reply's key or a marker); None when nothing has.
    answered_by: str | None
    # The unanswered inbound messages of the conversation, in the order the contact sent them
    # (empty when the message is settled or the conversation is closed).
    batch: list[Message]
    # A reply to the newest of the batch was stored before (a crash after storing it).
    reply_stored: bool
    # A person handed this conversation back to the bot at some point.
    human_handled: bool
    # The contact's opt-out in force for the tenant (None: they may be written to).
    opt_out: ConsentEvent | None = None
    # What the tenant spent this month so far (None: it sets no spending limit, not read).
    spent: SpendTotals | None = None
    # The conversation's last messages that are not in the batch, oldest first, as
    # (direction, author, body, delivery_status, details): the agent's history.
    recent: Sequence[Sequence[Any]] = ()
    # What the agents' earlier turns of the conversation recorded.
    earlier: EarlierTurns | None = None


def _columns(table: str, alias: str) -> str:
    model = {"conversations": Conversation, "messages": Message, "consent_events": ConsentEvent}
    columns = model[table].__table__.columns
    return ", ".join(f"{alias}.{c.name} AS {alias}_{c.name}" for c in columns)


def _open_states() -> str:
    return ", ".join(f"'{state}'" for state in OPEN_STATES)


# Every turn asks the same: the conversation of a message, what settled it, and its unanswered
# burst in the order the contact sent it, with whether each was replied to already; and what the
# agent is given with it: the messages before the burst and what its earlier turns recorded.
_TURN_STATE = Sql(
    f"""
    WITH target AS (
        SELECT conversation_id, answered_by FROM messages
        WHERE tenant = :tenant AND idempotency_key = :key
    ),
    earlier AS (
        SELECT
            (SELECT json_agg(json_build_array(h.direction, h.author, h.body, h.delivery_status,
                                              h.details) ORDER BY h.created_at, h.ordinal)
             FROM (SELECT direction, author, body, delivery_status, details, created_at, ordinal
                   FROM messages
                   WHERE conversation_id = t.conversation_id
                     AND NOT (direction = 'inbound' AND answered_by IS NULL)
                   ORDER BY created_at DESC, ordinal DESC LIMIT :window) h) AS recent,
            {earlier_turns_columns("t.conversation_id")}
        FROM target t
    )
    SELECT e.recent, e.sticky_agent, e.outcomes, e.tool_calls,
           {_columns("conversations", "c")}, t.answered_by AS target_answered_by,
           {_columns("messages", "p")}, {_columns("consent_events", "ce")},
           EXISTS (
               SELECT 1 FROM messages r
               WHERE r.tenant = :tenant
                 AND r.idempotency_key = CAST(:prefix AS text) || p.idempotency_key
           ) AS replied,
           EXISTS (
               SELECT 1 FROM conversation_state_history h
               WHERE h.conversation_id = c.id AND h.from_status = '{State.HUMAN_HANDOFF.value}'
                 AND h.to_status = '{State.PROGRESS.value}'
           ) AS human,
           {MONTH_SO_FAR} AS spent
    FROM target t
    JOIN conversations c ON c.id = t.conversation_id
    CROSS JOIN earlier e
    LEFT JOIN LATERAL (
        SELECT * FROM consent_events e
        WHERE e.tenant = :tenant AND e.contact_number = c.contact_number
        ORDER BY e.id DESC LIMIT 1
    ) ce ON true
    LEFT JOIN messages p
        ON p.conversation_id = c.id AND p.direction = 'inbound' AND p.answered_by IS NULL
       AND t.answered_by IS NULL AND c.status IN ({_open_states()})
    ORDER BY p.stream_seq ASC NULLS LAST, p.created_at, p.ordinal
    """  # noqa: S608 (constants of ours, no input)
)


def _prefixed(record: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {
        key.removeprefix(prefix): value for key, value in record.items() if key.startswith(prefix)
    }


async def turn_state(
    db: Driver,
    tenant: str,
    key: str,
    *,
    reply_prefix: str,
    periods: Periods | None = None,
    window: int = 0,
    outcomes: int = 0,
    tool_calls: int = 0,
) -> TurnState | None:
    """The conversation of message `key`, what settled it, and the burst still to answer.

    With `periods` (the tenant sets spending limits), also what it spent in them so far; the
    last `window` messages before the burst, the last `outcomes` outcomes and `tool_calls` tool
    calls of the agents' earlier turns.
    """
    rows = await db.fetch(
        _TURN_STATE,
        tenant=tenant,
        key=key,
        prefix=reply_prefix,
        window=window,
        outcomes=outcomes,
        tool_calls=tool_calls,
        **month_params(periods),
    )
    if not rows:
        return None
    batch = [from_row(Message, _prefixed(row, "p_")) for row in rows if row["p_id"] is not None]
    return TurnState(
        conversation=from_row(Conversation, _prefixed(rows[0], "c_")),
        answered_by=rows[0]["target_answered_by"],
        batch=batch,
        reply_stored=bool(batch) and bool(rows[-1]["replied"]),
        human_handled=bool(rows[0]["human"]),
        opt_out=_opt_out(rows[0]),
        spent=totals_of(rows[0]["spent"]) if periods is not None else None,
        recent=rows[0]["recent"] or (),
        earlier=earlier_of(rows[0]),
    )


def _opt_out(row: Mapping[str, Any]) -> ConsentEvent | None:
    if row["ce_kind"] != OPT_OUT:
        return None
    return from_row(ConsentEvent, _prefixed(row, "ce_"))


_RECENT = Sql(
    f"""
    SELECT {", ".join(c.name for c in Message.__table__.columns)} FROM messages
    WHERE conversation_id = :conversation
    ORDER BY created_at DESC, ordinal DESC LIMIT :limit
    """  # noqa: S608 (constants of ours, no input)
)


async def recent_messages(db: Driver, conversation_id: uuid.UUID, limit: int) -> list[Message]:
    """The last `limit` messages of a conversation, oldest first."""
    rows = await db.fetch(_RECENT, conversation=conversation_id, limit=limit)
    return [from_row(Message, row) for row in reversed(rows)]


async def unanswered_inbound(session: AsyncSession, conversation_id: uuid.UUID) -> list[Message]:
    """Inbound messages nothing has answered or settled yet, in the order the contact sent them."""
    rows = await session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == "inbound",
            Message.answered_by.is_(None),
        )
        .order_by(Message.stream_seq.asc().nulls_last(), Message.created_at, Message.ordinal)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def mark_answered(session: AsyncSession, messages: Sequence[Message], by: str) -> None:
    """Settle inbound messages: by a reply's key, or by a marker such as `with_human`."""
    await session.execute(
        update(Message)
        .where(Message.id.in_([m.id for m in messages]), Message.answered_by.is_(None))
        .values(answered_by=by)
    )


async def save_reply(
    session: AsyncSession,
    *,
    conversation: Conversation,
    key: str,
    body: str,
    agent: str | None,
    provider: str,
    now: datetime,
) -> Message:
    """Store a one-part agent reply before it is sent, under a deterministic key."""
    parts = await save_outbound(
        session,
        conversation=conversation,
        key=key,
        parts=[body],
        author="agent",
        agent=agent,
        provider=provider,
        now=now,
    )
    return parts[0]


# A sent reply moves pending/idle to progress (with its history row) or extends progress, and the
# thread's lease is released, in one statement; every other state is left as it is.
_PROGRESS_AND_RELEASE_CTES = """
    old AS (
        SELECT id, status FROM conversations WHERE id = :conversation FOR UPDATE
    ),
    moved AS (
        UPDATE conversations AS c
        SET status = CASE WHEN old.status IN ('pending', 'idle_timeout') THEN 'progress'
                          ELSE c.status END,
            version = c.version + 1, updated_at = CAST(:now AS timestamptz),
            expires_at = CAST(:expires_at AS timestamptz)
        FROM old
        WHERE c.id = old.id AND old.status IN ('pending', 'idle_timeout', 'progress')
        RETURNING old.status AS before
    ),
    history AS (
        INSERT INTO conversation_state_history
            (conversation_id, from_status, to_status, reason, changed_at)
        SELECT CAST(:conversation AS uuid), before, 'progress',
               CASE WHEN before = 'pending' THEN 'first_reply' ELSE 'user_returned' END, :now
        FROM moved WHERE before <> 'progress'
    ),
    released AS (DELETE FROM thread_leases WHERE token = :token)
"""
_PROGRESS_AND_RELEASE = Sql(
    f"WITH {_PROGRESS_AND_RELEASE_CTES} SELECT before FROM moved"  # noqa: S608 (ours, no input)
)
# The same, folded into the `sent` mark of the reply's last part: the usual turn's last write.
_SENT_PROGRESS_AND_RELEASE = Sql(
    f"""
    WITH {MARK_SENT_CTES}, sent AS ({MARK_SENT_UPDATE}), {_PROGRESS_AND_RELEASE_CTES}
    SELECT before FROM moved
    """  # noqa: S608 (constants of ours, no input)
)


@dataclass(frozen=True)
class Progress:
    """What `progress_and_release` is given, for a caller that folds it into another write."""

    conversation_id: uuid.UUID
    timeout: timedelta
    token: int


async def progress_and_release(
    db: Driver,
    *,
    conversation_id: uuid.UUID,
    now: datetime,
    timeout: timedelta,
    token: int,
) -> None:
    """`move_to_progress` and the release of the thread's lease `token`, in one statement."""
    await db.execute(
        _PROGRESS_AND_RELEASE,
        conversation=conversation_id,
        now=now,
        expires_at=now + timeout,
        token=token,
    )


async def sent_progress_and_release(db: Driver, *, progress: Progress, **sent: Any) -> None:
    """`mark_sent` (its arguments in `sent`) and `progress_and_release`, in one statement."""
    params = sent_params(**sent)
    await db.execute(
        _SENT_PROGRESS_AND_RELEASE,
        **params,
        conversation=progress.conversation_id,
        expires_at=params["now"] + progress.timeout,
        token=progress.token,
    )


async def move_to_progress(
    session: AsyncSession, *, conversation: Conversation, now: datetime, timeout: timedelta
) -> None:
    """A reply moves a pending or idle conversation to progress; every reply extends its expiry."""
    row = (
        await session.execute(
            select(Conversation.status, Conversation.version).where(
                Conversation.id == conversation.id
            )
        )
    ).one()
    current = State(row.status)
    extend = {"expires_at": now + timeout}
    if current in (State.PENDING, State.IDLE_TIMEOUT):
        reason = "first_reply" if current == State.PENDING else "user_returned"
        await transition(
            session,
            conversation.id,
            State.PROGRESS,
            reason=reason,
            now=now,
            values=extend,
            known=(current, int(row.version)),
        )
    elif current == State.PROGRESS:
        await touch(session, conversation.id, now=now, values=extend)
