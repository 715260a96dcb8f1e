"""Agents: long-term memory (embeddings + full-text), tool calls, usage, selections.

A branch of its own (label `agents`) so it never collides with the conversation engine's chain;
`wta migrate` upgrades to `heads`.

Revision ID: a001_agent_memory
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "a001_agent_memory"
down_revision = "0001"
branch_labels = ("agents",)
depends_on = None


def _install_pgvector() -> None:
    """Install pgvector when this role may; recall works without it (ranked in Python)."""
    bind = op.get_bind()
    available = bind.scalar(
        sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
    )
    superuser = bind.scalar(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    if available and superuser:
        op.execute("CREATE EXTENSION IF NOT EXISTS vector")


def upgrade() -> None:
    _install_pgvector()
    ts = sa.DateTime(timezone=True)
    uuid = postgresql.UUID(as_uuid=True)
    op.create_table(
        "agent_memory",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("contact_number", sa.String(64), nullable=False),
        sa.Column("conversation_id", uuid),
        sa.Column("source_key", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("embedding", postgresql.ARRAY(postgresql.REAL), nullable=False),
        sa.Column("embedding_model", sa.String(200), nullable=False),
        sa.Column(
            "search",
            postgresql.TSVECTOR,
            sa.Computed("to_tsvector('simple', content)", persisted=True),
        ),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_index("agent_memory_source", "agent_memory", ["tenant", "source_key"], unique=True)
    op.create_index(
        "agent_memory_by_contact", "agent_memory", ["tenant", "contact_number", "created_at"]
    )
    op.create_index("agent_memory_search", "agent_memory", ["search"], postgresql_using="gin")
    op.create_table(
        "agent_tool_calls",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("agent", sa.String(253), nullable=False),
        sa.Column("conversation_id", uuid),
        sa.Column("turn_key", sa.String(160), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("arguments", postgresql.JSONB, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_index(
        "agent_tool_calls_by_conversation", "agent_tool_calls", ["conversation_id", "id"]
    )
    op.create_table(
        "agent_usage",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("agent", sa.String(253), nullable=False),
        sa.Column("conversation_id", uuid),
        sa.Column("turn_key", sa.String(160), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200)),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
        sa.Column("model_calls", sa.Integer, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_index("agent_usage_by_agent", "agent_usage", ["tenant", "agent", "created_at"])
    op.create_index("agent_usage_by_conversation", "agent_usage", ["conversation_id", "id"])
    op.create_table(
        "agent_selections",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("conversation_id", uuid),
        sa.Column("turn_key", sa.String(160), nullable=False),
        sa.Column("agent", sa.String(253), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(256)),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_index(
        "agent_selections_by_conversation", "agent_selections", ["conversation_id", "id"]
    )


def downgrade() -> None:
    for table in ("agent_selections", "agent_usage", "agent_tool_calls", "agent_memory"):
        op.drop_table(table)
