"""Indexes the worker's lookups use even in the plans PostgreSQL keeps on a fresh database.

A worker's statements are prepared once per connection, and after five runs PostgreSQL keeps a
generic plan, made while a new tenant database is still nearly empty and not analyzed yet. There,
every index starting with `tenant` looks as cheap as any other: the lookups by message key took
`messages_by_twilio_sid` (tenant only) and filtered by key, reading every message of the tenant,
and a new conversation's link to the contact's previous one scanned `conversations`. Such a plan
stays until the table is analyzed, and its cost grows with the table.

- `messages_by_twilio_sid` only holds messages with a SID (the lookups by SID imply it), so a
  lookup by tenant alone cannot use it;
- `conversations_by_contact` finds a contact's conversations, the newest first.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("messages_by_twilio_sid", table_name="messages")
    op.create_index(
        "messages_by_twilio_sid",
        "messages",
        ["tenant", "twilio_sid"],
        postgresql_where=sa.text("twilio_sid IS NOT NULL"),
    )
    op.create_index(
        "conversations_by_contact",
        "conversations",
        ["tenant", "contact_number", "business_number", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("conversations_by_contact", table_name="conversations")
    op.drop_index("messages_by_twilio_sid", table_name="messages")
    op.create_index("messages_by_twilio_sid", "messages", ["tenant", "twilio_sid"])
