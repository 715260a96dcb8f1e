"""What each tenant and agent spent per day: tokens, money, model calls and messages sent.

One row per tenant, day and agent ('' for messages, which belong to the tenant), kept by the
statements a turn makes anyway (the turn's record and each part marked sent). A branch of its
own (label `spending`); `wta migrate` upgrades to `heads`.

Revision ID: s001_spend_counters
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "s001_spend_counters"
down_revision = "0001"
branch_labels = ("spending",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spend_counters",
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("agent", sa.String(253), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("completion_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("cost", sa.Numeric(20, 9), nullable=False, server_default="0"),
        sa.Column("model_calls", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("messages", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("tenant", "day", "agent"),
    )


def downgrade() -> None:
    op.drop_table("spend_counters")
