"""Conversation engine: turn bookkeeping, delivery tracking, contacts, media, API keys, pacing.

Revision ID: 0002
Revises: 0001
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    uuid = postgresql.UUID(as_uuid=True)
    conversation_columns: list[sa.Column[Any]] = [
        sa.Column("flagged_at", ts),
        sa.Column("flag_reason", sa.String(256)),
        sa.Column("handoff_at", ts),
        sa.Column("handoff_reason", sa.String(256)),
        sa.Column("assigned_to", sa.String(256)),
    ]
    for column in conversation_columns:
        op.add_column("conversations", column)
    op.create_index(
        "conversations_handoff_queue",
        "conversations",
        ["tenant", "handoff_at"],
        postgresql_where=sa.text("status = 'human_handoff'"),
    )
    message_columns: list[sa.Column[Any]] = [
        sa.Column("ordinal", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("failure_reason", sa.String(256)),
        sa.Column("stream_seq", sa.BigInteger),
        sa.Column("answered_by", sa.String(160)),
        sa.Column("status_updated_at", ts),
    ]
    for column in message_columns:
        op.add_column("messages", column)
    op.create_index("messages_by_twilio_sid", "messages", ["tenant", "twilio_sid"])
    op.create_index(
        "messages_unanswered",
        "messages",
        ["conversation_id"],
        postgresql_where=sa.text("direction = 'inbound' AND answered_by IS NULL"),
    )
    op.create_table(
        "contacts",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("business_number", sa.String(64), primary_key=True),
        sa.Column("contact_number", sa.String(64), primary_key=True),
        sa.Column("profile_name", sa.String(256)),
        sa.Column("last_inbound_at", ts, nullable=False),
    )
    op.create_table(
        "media",
        sa.Column("id", uuid, primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("message_id", uuid, sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("source_url", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(256)),
        sa.Column("content_type", sa.String(128)),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("sha256", sa.String(64)),
        sa.Column("storage_key", sa.Text),
        sa.Column("transcript", sa.Text),
        sa.Column("created_at", ts, nullable=False),
        sa.CheckConstraint("status IN ('stored', 'refused')", name="media_status_valid"),
    )
    op.create_index("media_per_message", "media", ["message_id", "position"], unique=True)
    op.create_table(
        "api_keys",
        sa.Column("id", uuid, primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("revoked_at", ts),
    )
    op.create_index("ix_api_keys_tenant", "api_keys", ["tenant"])
    op.create_table(
        "sender_pacing",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("sender", sa.String(64), primary_key=True),
        sa.Column("next_slot_at", ts, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sender_pacing")
    op.drop_table("api_keys")
    op.drop_table("media")
    op.drop_table("contacts")
    op.drop_index("messages_unanswered", table_name="messages")
    op.drop_index("messages_by_twilio_sid", table_name="messages")
    for name in ("status_updated_at", "answered_by", "stream_seq", "failure_reason", "ordinal"):
        op.drop_column("messages", name)
    op.drop_index("conversations_handoff_queue", table_name="conversations")
    for name in ("assigned_to", "handoff_reason", "handoff_at", "flag_reason", "flagged_at"):
        op.drop_column("conversations", name)
