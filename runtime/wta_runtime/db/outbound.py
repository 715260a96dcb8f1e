"""Outbound messages: stored before they are sent, then marked sent, refused or failed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.channel.delivery_status import ATTEMPTED, PENDING, UNSENT
from wta_runtime.db.agent_records import TurnRecordRows, record_ctes
from wta_runtime.db.driver import Driver, Sql, jsonb
from wta_runtime.db.row_objects import from_row
from wta_runtime.db.spend import ADD_MESSAGE
from wta_runtime.db.storable import storable_json, storable_text
from wta_runtime.db.tables import Conversation, Message


def part_key(key: str, index: int) -> str:
    """The key of part `index` (0-based) of a message split in several: key, key#2, key#3..."""
    return key if index == 0 else f"{key}#{index + 1}"


def with_media(parts: Sequence[str], media_urls: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Each part's body and media: the first file with the first part, each other one alone."""
    # WhatsApp delivers one media per message (Twilio ignores the others): one file per part.
    bodies = list(parts) or [""]
    laid_out = [
        (body, [media_urls[0]] if index == 0 and media_urls else [])
        for index, body in enumerate(bodies)
    ]
    return laid_out + [("", [url]) for url in media_urls[1:]]


def outbound_rows(
    *,
    conversation: Conversation,
    key: str,
    parts: list[str],
    author: str,
    agent: str | None,
    provider: str | None,
    now: datetime,
    details: dict[str, Any] | None = None,
    media_urls: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The rows of an outbound message's parts (media laid out one per part), storable."""
    laid_out = with_media(parts, media_urls) if media_urls else [(p, []) for p in parts]
    rows: list[dict[str, Any]] = []
    for index, (body, media) in enumerate(laid_out):
        part_details = {**(details or {}), "part": index + 1, "parts": len(laid_out)}
        if media:
            part_details["media_urls"] = media
        rows.append(
            {
                "id": uuid.uuid4(),
                "tenant": conversation.tenant,
                "conversation_id": conversation.id,
                "direction": "outbound",
                "author": author,
                "idempotency_key": part_key(key, index),
                "body": storable_text(body),
                "agent": agent,
                "provider": provider,
                "delivery_status": PENDING,
                "details": storable_json(part_details),
                "created_at": now,
            }
        )
    return rows


# The columns `outbound_rows` fills.
_PART_COLUMNS = (
    "id",
    "tenant",
    "conversation_id",
    "direction",
    "author",
    "idempotency_key",
    "body",
    "agent",
    "provider",
    "delivery_status",
    "details",
    "created_at",
)
_MESSAGE_COLUMNS = ", ".join(c.name for c in Message.__table__.columns)


def _save_fenced(record: str = "") -> Sql:
    """While the lease holds (FOR SHARE: a takeover waits until this statement has committed),
    the parts are stored in their order and the messages they answer are settled; `record`:
    more CTEs, written under the same condition.

    The messages answered are found through their conversation (`messages_unanswered`): by `id`
    alone, the plan PostgreSQL keeps for the statement (made while the table is nearly empty)
    reads the whole table, since it cannot tell how many ids the array holds."""
    return Sql(
        f"""
    WITH held AS (
        SELECT token FROM thread_leases
        WHERE token = :token AND expires_at > clock_timestamp() FOR SHARE
    ),
    inserted AS (
        INSERT INTO messages ({", ".join(_PART_COLUMNS)})
        SELECT {", ".join(f"part.{name}" for name in _PART_COLUMNS)}
        FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS laid(row, n),
             LATERAL jsonb_populate_record(NULL::messages, laid.row) AS part
        WHERE {_HELD}
        ORDER BY laid.n
        ON CONFLICT (tenant, idempotency_key) DO NOTHING
        RETURNING {_MESSAGE_COLUMNS}
    ),
    settled AS (
        UPDATE messages SET answered_by = :key
        WHERE conversation_id = :answered_conversation AND direction = 'inbound'
          AND answered_by IS NULL AND id = ANY(CAST(:answers AS uuid[])) AND {_HELD}
    ){"," if record else ""}
    {record}
    SELECT {_MESSAGE_COLUMNS} FROM inserted ORDER BY ordinal
    """  # noqa: S608 (constants of ours, no input)
    )


_HELD = "EXISTS (SELECT 1 FROM held)"
_SAVE_FENCED = _save_fenced()
# The same with the agent's record of the turn: it lands with its reply, and only while the
# lease holds (a worker that lost the thread records nothing; the new owner's turn is recorded).
_SAVE_FENCED_RECORDED = _save_fenced(record_ctes(_HELD))


async def save_outbound_fenced(
    db: Driver,
    *,
    token: int,
    rows: list[dict[str, Any]],
    key: str,
    conversation: uuid.UUID,
    answers: Sequence[uuid.UUID],
    record: TurnRecordRows | None = None,
) -> list[Message]:
    """One statement: while lease `token` holds, store the parts, settle what they answer and
    write the agent's `record` of the turn, if any.

    `rows` are `outbound_rows`; `answers` are inbound messages of `conversation`. Returns the
    parts stored; fewer than `rows` when the lease was lost or some part was stored before (the
    caller then takes the transactional way, which tells which).
    """
    laid = [{name: row[name] for name in _PART_COLUMNS} for row in rows]
    stored = await db.fetch(
        _SAVE_FENCED if record is None else _SAVE_FENCED_RECORDED,
        token=token,
        rows=json.dumps(laid, default=str),
        key=key,
        answered_conversation=conversation,
        answers=list(answers),
        **(record.params() if record is not None else {}),
    )
    return [from_row(Message, row) for row in stored]


async def save_outbound(
    session: AsyncSession,
    *,
    conversation: Conversation,
    key: str,
    parts: list[str],
    author: str,
    agent: str | None,
    provider: str | None,
    now: datetime,
    details: dict[str, Any] | None = None,
    media_urls: Sequence[str] = (),
) -> list[Message]:
    """Store every part of an outbound message (media too) as `pending`; parts stored before win."""
    rows = outbound_rows(
        conversation=conversation,
        key=key,
        parts=parts,
        author=author,
        agent=agent,
        provider=provider,
        now=now,
        details=details,
        media_urls=media_urls,
    )
    # Every part in one statement; RETURNING gives them back unless some were stored before.
    inserted = await session.scalars(
        select(Message)
        .from_statement(
            insert(Message)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["tenant", "idempotency_key"])
            .returning(Message)
        )
        .execution_options(populate_existing=True)
    )
    stored = sorted(inserted.all(), key=lambda m: m.ordinal)
    if len(stored) == len(rows):
        return stored
    return await message_parts(session, conversation.tenant, key)


# Parts looked up a query at a time: nearly every reply has fewer, so one query finds them all.
PARTS_A_LOOKUP = 8


def parts_query(tenant: str, key: str, first: int) -> Select[Message]:
    """Parts `first`.. of the outbound message `key`, by their exact keys: the unique (tenant,
    idempotency_key) index finds them, where a LIKE on the key's prefix was only a filter over
    every message of the tenant (a redelivered turn read them all)."""
    keys = [part_key(key, index) for index in range(first, first + PARTS_A_LOOKUP)]
    return (
        select(Message)
        .where(Message.tenant == tenant, Message.idempotency_key.in_(keys))
        .order_by(Message.ordinal)
        .execution_options(populate_existing=True)
    )


async def message_parts(session: AsyncSession, tenant: str, key: str) -> list[Message]:
    """Every stored part of the outbound message `key`, in order (their keys have no gaps)."""
    parts: list[Message] = []
    while True:
        found = list((await session.scalars(parts_query(tenant, key, len(parts)))).all())
        parts += found
        if len(found) < PARTS_A_LOOKUP:
            return parts


async def mark_attempted(
    session: AsyncSession,
    *,
    message_id: uuid.UUID,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """Right before the part is handed to Twilio: if its answer is never recorded, look there."""
    values: dict[str, Any] = {"delivery_status": ATTEMPTED, "send_attempted_at": now}
    if details:
        values["details"] = Message.details.op("||")(details)
    await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.delivery_status.in_(UNSENT))
        .values(**values)
    )


# Marks the part sent and, the first time, counts it in the tenant's messages of the day:
# common table expressions, then the UPDATE (a statement, or one more expression of a larger one).
MARK_SENT_CTES = f"""
    before AS (
        SELECT tenant, sent_at IS NULL AS first FROM messages WHERE id = :message
    ),
    counted AS ({ADD_MESSAGE})
"""  # noqa: S608 (constants of ours, no input)
MARK_SENT_UPDATE = """
    UPDATE messages
    SET twilio_sid = :sid, delivery_status = :status, sent_at = :now,
        details = details || CAST(:details AS jsonb)
    WHERE id = :message
"""
_MARK_SENT = Sql(f"WITH {MARK_SENT_CTES} {MARK_SENT_UPDATE}")


def sent_params(
    *,
    message_id: uuid.UUID,
    twilio_sid: str,
    status: str,
    now: datetime,
    day: date,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    """The parameters of `MARK_SENT_CTES` and `MARK_SENT_UPDATE`."""
    return {
        "sid": twilio_sid,
        "status": status,
        "now": now,
        "day": day,
        "details": jsonb(details or {}),
        "message": message_id,
    }


async def mark_sent(
    db: Driver,
    *,
    message_id: uuid.UUID,
    twilio_sid: str,
    status: str,
    now: datetime,
    day: date,
    details: dict[str, Any] | None = None,
) -> None:
    """Twilio has the part (its answer, or the message found there after a crash): its SID.

    `day` is the tenant's day the message is billed in.
    """
    await db.execute(
        _MARK_SENT,
        **sent_params(
            message_id=message_id,
            twilio_sid=twilio_sid,
            status=status,
            now=now,
            day=day,
            details=details,
        ),
    )


async def mark_unsent(
    session: AsyncSession,
    *,
    message_id: uuid.UUID,
    status: str,
    reason: str,
    error_code: int | None = None,
    now: datetime,
) -> None:
    """A message that will never leave: `refused` by our rules or `failed` at Twilio.

    An `attempted` part is refused only after Twilio was asked and does not have it.
    """
    await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.delivery_status.in_(UNSENT))
        .values(
            delivery_status=status,
            failure_reason=storable_text(reason),
            error_code=str(error_code) if error_code is not None else None,
            status_updated_at=now,
        )
    )
