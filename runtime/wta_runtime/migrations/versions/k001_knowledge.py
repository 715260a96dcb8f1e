"""Knowledge from documents: each ingested source of an agent, and its passages (chunks).

A source row per (tenant, agent, source) keeps the checksum of what was ingested, when, how many
chunks, the last error, and the lease of the worker replica ingesting it now. Its chunks hold
the text, where in the document it is (a PDF page) and the embedding as `real[]` (ranked with
pgvector when the extension is installed, as agent_memory). A branch of its own (label
`knowledge`); `wta migrate` upgrades to `heads`.

Revision ID: k001_knowledge
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "k001_knowledge"
down_revision = "0001"
branch_labels = ("knowledge",)
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "knowledge_sources",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("agent", sa.String(253), nullable=False),
        sa.Column("source", sa.String(2048), nullable=False),
        sa.Column("checksum", sa.String(64)),
        sa.Column("chunks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("embedding_model", sa.String(200)),
        sa.Column("ingested_at", ts),
        sa.Column("checked_at", ts, nullable=False),
        sa.Column("error", sa.String(1024)),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_until", ts),
    )
    op.create_index(
        "knowledge_sources_key", "knowledge_sources", ["tenant", "agent", "source"], unique=True
    )
    op.create_table(
        "knowledge_chunks",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column(
            "source_id",
            sa.BigInteger,
            sa.ForeignKey("knowledge_sources.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("agent", sa.String(253), nullable=False),
        sa.Column("chunk_index", sa.Integer, nullable=False),
        sa.Column("location", sa.String(64)),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("embedding", postgresql.ARRAY(postgresql.REAL), nullable=False),
        sa.Column("embedding_model", sa.String(200), nullable=False),
        sa.Column(
            "search",
            postgresql.TSVECTOR,
            sa.Computed("to_tsvector('simple', content)", persisted=True),
        ),
    )
    op.create_index("knowledge_chunks_by_agent", "knowledge_chunks", ["tenant", "agent"])
    op.create_index("knowledge_chunks_by_source", "knowledge_chunks", ["source_id", "chunk_index"])
    op.create_index(
        "knowledge_chunks_search", "knowledge_chunks", ["search"], postgresql_using="gin"
    )


def downgrade() -> None:
    op.drop_table("knowledge_chunks")
    op.drop_table("knowledge_sources")
