"""Receiving an inbound message in one statement: the usual case of `Inbox.store`.

Stores a new message in its contact's open conversation (or a new one, with its first history
row), records the conversation's and the contact's last inbound time, and returns the stored
row. It returns nothing, and the caller takes the step-by-step way, when that way has more to
do or to tell: the message was stored before, the conversation is paused (`idle_timeout`) and
resumes, or another writer opened the same conversation in the same instant.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from wta_runtime.db.driver import Driver, Sql, jsonb
from wta_runtime.db.row_objects import from_row
from wta_runtime.db.tables import OPEN_STATES, Message

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
)
SELECT {message_columns} FROM inserted
"""


_STATEMENT = Sql(
    _SQL.format(
        open_states=", ".join(f"'{state}'" for state in OPEN_STATES),
        message_columns=", ".join(column.name for column in Message.__table__.columns),
    )
)


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
) -> Message | None:
    """The stored message when this statement stored it; None for the step-by-step way."""
    row = await db.fetchrow(
        _STATEMENT,
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
    )
    return None if row is None else from_row(Message, row)
