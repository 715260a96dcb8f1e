"""Staff console: staff accounts (argon2 hashes), login sessions, internal notes.

A branch of its own (label `console`) so it never collides with the conversation engine's chain;
`wta migrate` upgrades to `heads`.

Revision ID: c001_staff
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "c001_staff"
down_revision = "0001"
branch_labels = ("console",)
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    uuid = postgresql.UUID(as_uuid=True)
    op.create_table(
        "staff_members",
        sa.Column("id", uuid, primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.CheckConstraint("role IN ('agent', 'supervisor')", name="staff_members_role"),
    )
    op.create_index("staff_members_login", "staff_members", ["tenant", "email"], unique=True)
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "staff_id",
            uuid,
            sa.ForeignKey("staff_members.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("expires_at", ts, nullable=False),
    )
    op.create_index("ix_staff_sessions_staff_id", "staff_sessions", ["staff_id"])
    op.create_table(
        "internal_notes",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column(
            "conversation_id",
            uuid,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author", sa.String(254), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_index("internal_notes_by_conversation", "internal_notes", ["conversation_id", "id"])


def downgrade() -> None:
    op.drop_table("internal_notes")
    op.drop_table("staff_sessions")
    op.drop_table("staff_members")
