"""No index on `thread_leases.expires_at`: no statement reads leases by their expiry.

Every statement finds a lease by its thread (take) or its token (renew, fence, release); a
lease's expiry is checked on the row found. The index cost one more entry a lease and kept the
renewals (which change only `expires_at`) from updating their rows in place.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("thread_leases_expiry", table_name="thread_leases")


def downgrade() -> None:
    op.create_index("thread_leases_expiry", "thread_leases", ["expires_at"])
