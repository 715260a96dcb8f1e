"""Conversations, messages and state history.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATES = (
    "pending",
    "progress",
    "human_handoff",
    "idle_timeout",
    "agent_closed",
    "support_closed",
    "user_closed",
    "expired",
    "failed",
)
OPEN_STATES = ("pending", "progress", "human_handoff", "idle_timeout")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    uuid = postgresql.UUID(as_uuid=True)
    op.create_table(
        "conversations",
        sa.Column("id", uuid, primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("contact_number", sa.String(64), nullable=False),
        sa.Column("business_number", sa.String(64), nullable=False),
        sa.Column("contact_name", sa.String(256)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("agent", sa.String(253)),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("previous_conversation_id", uuid, sa.ForeignKey("conversations.id")),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("last_inbound_at", ts),
        sa.Column("expires_at", ts),
        sa.Column("closed_at", ts),
        sa.CheckConstraint(_in("status", STATES), name="conversations_status_valid"),
    )
    op.create_index(
        "conversations_one_open",
        "conversations",
        ["tenant", "contact_number", "business_number"],
        unique=True,
        postgresql_where=sa.text(_in("status", OPEN_STATES)),
    )
    op.create_index("conversations_due", "conversations", ["status", "expires_at"])
    op.create_table(
        "messages",
        sa.Column("id", uuid, primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("conversation_id", uuid, sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
        sa.Column("twilio_sid", sa.String(64)),
        sa.Column("delivery_status", sa.String(32)),
        sa.Column("error_code", sa.String(16)),
        sa.Column("agent", sa.String(253)),
        sa.Column("provider", sa.String(64)),
        sa.Column("details", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("sent_at", ts),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="messages_direction_valid"),
    )
    op.create_index("messages_idempotency", "messages", ["tenant", "idempotency_key"], unique=True)
    op.create_index("messages_by_conversation", "messages", ["conversation_id", "created_at"])
    op.create_table(
        "conversation_state_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", uuid, sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("from_status", sa.String(32)),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(128), nullable=False),
        sa.Column("changed_at", ts, nullable=False),
    )
    op.create_index(
        "conversation_state_history_conversation_id",
        "conversation_state_history",
        ["conversation_id"],
    )


def downgrade() -> None:
    op.drop_table("conversation_state_history")
    op.drop_table("messages")
    op.drop_table("conversations")
