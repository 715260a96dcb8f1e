"""Thread leases: which worker answers a conversation thread, until when, under which token.

Replaces the session advisory lock, which held a database connection for a whole turn.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tokens come from one sequence, so a row may be deleted and re-created without a token
    # ever being reused: a stale holder can never match a newer lease by accident.
    op.execute("CREATE SEQUENCE thread_lease_tokens")
    op.create_table(
        "thread_leases",
        sa.Column("thread", sa.Text, primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("token", sa.BigInteger, nullable=False, unique=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("thread_leases_expiry", "thread_leases", ["expires_at"])


def downgrade() -> None:
    op.drop_table("thread_leases")
    op.execute("DROP SEQUENCE thread_lease_tokens")
