"""Receiving an inbound message in one statement: the usual case of `Inbox.store`.

Stores a new message in its contact's open conversation (or a new one, with its first history
row), records the conversation's and the contact's last inbound time, and returns the stored
row. It returns nothing, and the caller takes the step-by-step way, when that way has more to
do or to tell: the message was stored before, the conversation is paused (`idle_timeout`) and
resumes, or another writer opened the same conversation in the same instant.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from wta_runtime.db.driver import Driver, Sql, jsonb
from wta_runtime.db.row_objects import from_row
from wta_runtime.db.tables import OPEN_STATES, Message
from wta_runtime.db.thread_leases import LeaseAsk, acquire_body

_SQL = """
WITH found AS (
    SELECT 1 FROM messages WHERE tenant = :tenant AND idempotency_key = :key
),
open_conv AS (
    SELECT id, status FROM conversations
    WHERE tenant = :tenant AND contact_number = :contact AND business_number = :business
      AND status IN ({open_states}) AND NOT EXISTS (SELECT 1 FROM found)
    FOR UPDATE
),
opened AS (
    INSERT INTO conversations (id, tenant, contact_number, business_number, contact_name, status,
                               version, previous_conversation_id, created_at, updated_at,
                               expires_at, last_inbound_at)
    SELECT CAST(:conversation AS uuid), :tenant, :contact, :business, :profile_name, 'pending', 1,
           (SELECT id FROM conversations
            WHERE tenant = :tenant AND contact_number = :contact AND business_number = :business
            ORDER BY created_at DESC LIMIT 1),
           CAST(:now AS timestamptz), :now, CAST(:pending_expiry AS timestamptz), :now
    WHERE NOT EXISTS (SELECT 1 FROM found) AND NOT EXISTS (SELECT 1 FROM open_conv)
    ON CONFLICT DO NOTHING
    RETURNING id
),
history AS (
    INSERT INTO conversation_state_history
        (conversation_id, from_status, to_status, reason, changed_at)
    SELECT id, NULL, 'pending', 'first_inbound_message', :now FROM opened
),
target AS (
    SELECT id FROM open_conv WHERE status <> 'idle_timeout'
    UNION ALL
    SELECT id FROM opened
),
inserted AS (
    INSERT INTO messages (id, tenant, conversation_id, direction, author, idempotency_key, body,
                          twilio_sid, details, stream_seq, created_at)
    SELECT CAST(:message AS uuid), :tenant, target.id, 'inbound', 'user', :key, :body, :key,
           CAST(:details AS jsonb), CAST(:stream_seq AS bigint), CAST(:created_at AS timestamptz)
    FROM target
    ON CONFLICT (tenant, idempotency_key) DO NOTHING
    RETURNING {message_columns}
),
seen AS (
    UPDATE conversations SET last_inbound_at = :now, updated_at = :now
    WHERE id IN (SELECT id FROM open_conv) AND EXISTS (SELECT 1 FROM inserted)
),
contact AS (
    INSERT INTO contacts AS k
        (tenant, business_number, contact_number, profile_name, last_inbound_at)
    SELECT :tenant, :business, :contact, :profile_name, :now
    WHERE EXISTS (SELECT 1 FROM inserted)
    ON CONFLICT (tenant, business_number, contact_number) DO UPDATE
        SET last_inbound_at = EXCLUDED.last_inbound_at, profile_name = EXCLUDED.profile_name
        WHERE k.last_inbound_at < EXCLUDED.last_inbound_at
){lease}
SELECT {message_columns}{lease_token} FROM inserted
"""


def _statement(*, lease: bool) -> Sql:
    return Sql(
        _SQL.format(
            open_states=", ".join(f"'{state}'" for state in OPEN_STATES),
            message_columns=", ".join(column.name for column in Message.__table__.columns),
            # A new message's thread: its lease taken too, when free (see `receive`).
            lease=f",\nlease AS ({acquire_body('EXISTS (SELECT 1 FROM inserted)')})"  # noqa: S608
            if lease
            else "",
            lease_token=", (SELECT token FROM lease) AS lease_token" if lease else "",
        )
    )


_STATEMENT = _statement(lease=False)
_WITH_LEASE = _statement(lease=True)


@dataclass(frozen=True)
class Received:
    """The message stored, and the thread's lease token when it was asked for and free."""

    message: Message
    lease_token: int | None = None


async def receive(
    db: Driver,
    *,
    tenant: str,
    contact: str,
    business: str,
    profile_name: str | None,
    message_sid: str,
    body: str,
    details: dict[str, Any],
    stream_seq: int | None,
    received_at: datetime,
    now: datetime,
    pending_timeout: timedelta,
    lease: LeaseAsk | None = None,
) -> Received | None:
    """The stored message when this statement stored it; None for the step-by-step way.

    With `lease`, a message stored now has its thread's lease taken in the same statement when
    the thread is free: the turn that answers it needs no round trip of its own to own it.
    """
    row = await db.fetchrow(
        _STATEMENT if lease is None else _WITH_LEASE,
        tenant=tenant,
        contact=contact,
        business=business,
        profile_name=profile_name,
        key=message_sid,
        body=body,
        details=jsonb(details),
        stream_seq=stream_seq,
        created_at=received_at,
        now=now,
        pending_expiry=now + pending_timeout,
        conversation=uuid.uuid4(),
        message=uuid.uuid4(),
        **(lease.params() if lease is not None else {}),
    )
    if row is None:
        return None
    values = dict(row)
    token = values.pop("lease_token", None)
    return Received(from_row(Message, values), None if token is None else int(token))
