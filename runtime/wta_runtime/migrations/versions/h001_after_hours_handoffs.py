"""Handoffs outside business hours: marked on the conversation, with when people are back.

A branch of its own (label `hours`) so it never collides with the other chains; `wta migrate`
upgrades to `heads`.

Revision ID: h001_after_hours_handoffs
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "h001_after_hours_handoffs"
down_revision = "0001"
branch_labels = ("hours",)
depends_on = None


def upgrade() -> None:
    op.add_column(
        "conversations",
        sa.Column("after_hours", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("conversations", sa.Column("back_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("conversations", "back_at")
    op.drop_column("conversations", "after_hours")
