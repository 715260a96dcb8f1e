"""When a part was handed to Twilio, so a redelivery can look for it there before sending again.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("send_attempted_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("messages", "send_attempted_at")
