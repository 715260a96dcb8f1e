"""What Twilio sends has no arbitrary length limit: profile names, error codes, content types.

A 300-character `ProfileName` was refused by `String(256)` and the message was never stored.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# (table, column, the type it had)
WIDENED = (
    ("conversations", "contact_name", sa.String(256)),
    ("contacts", "profile_name", sa.String(256)),
    ("messages", "error_code", sa.String(16)),
    ("messages", "failure_reason", sa.String(256)),
    ("media", "content_type", sa.String(128)),
    ("media", "reason", sa.String(256)),
)


def upgrade() -> None:
    for table, column, before in WIDENED:
        op.alter_column(table, column, type_=sa.Text, existing_type=before)


def downgrade() -> None:
    # Longer values are cut to fit again: the downgrade must not fail on data the upgrade allowed.
    for table, column, before in WIDENED:
        op.alter_column(
            table,
            column,
            type_=before,
            existing_type=sa.Text,
            postgresql_using=f"left({column}, {before.length})",
        )
