"""Opt-out and opt-in of contacts, one row per change: the audit trail and the current state.

A branch of its own (label `consent`) so it never collides with the conversation engine's chain;
`wta migrate` upgrades to `heads`.

Revision ID: o001_consent_events
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "o001_consent_events"
down_revision = "0001"
branch_labels = ("consent",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_events",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("contact_number", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("confirmation_key", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('opt_out', 'opt_in')", name="consent_events_kind"),
    )
    op.create_index(
        "consent_events_of_contact", "consent_events", ["tenant", "contact_number", "id"]
    )


def downgrade() -> None:
    op.drop_table("consent_events")
