"""Consent events of a tenant's contacts: the newest one says whether they opted out.

Created by the `consent` migration branch (o001_consent_events).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    String,
    Text,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from wta_runtime.conversation.consent import OPT_OUT, ConsentKind
from wta_runtime.db.tables import Base, Message


class ConsentEvent(Base):
    """A contact opted out of (or back in to) every message of a tenant: when and why."""

    __tablename__ = "consent_events"
    __table_args__ = (
        Index("consent_events_of_contact", "tenant", "contact_number", "id"),
        CheckConstraint("kind IN ('opt_out', 'opt_in')", name="consent_events_kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    contact_number: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    # The stored reply that confirms an opt-out: the one message that may still reach them.
    confirmation_key: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


async def lock_contact_consent(session: AsyncSession, *, tenant: str, contact: str) -> None:
    """Serialize changes of one contact's consent (two threads: two business numbers)."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"{tenant}|{contact}"))))


async def record_consent(
    session: AsyncSession,
    *,
    tenant: str,
    contact: str,
    kind: ConsentKind,
    reason: str,
    now: datetime,
    confirmation_key: str | None = None,
) -> None:
    """Add one event to the contact's trail (the caller's transaction)."""
    session.add(
        ConsentEvent(
            tenant=tenant,
            contact_number=contact,
            kind=kind,
            reason=reason[:256],
            confirmation_key=confirmation_key,
            created_at=now,
        )
    )
    await session.flush()


async def consent_events(session: AsyncSession, *, tenant: str, contact: str) -> list[ConsentEvent]:
    """The contact's trail, oldest first."""
    rows = await session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.tenant == tenant, ConsentEvent.contact_number == contact)
        .order_by(ConsentEvent.id)
    )
    return list(rows)


async def opted_out(session: AsyncSession, *, tenant: str, contact: str) -> ConsentEvent | None:
    """The opt-out in force for the contact, or None when they may be written to."""
    latest = await session.scalar(
        select(ConsentEvent)
        .where(ConsentEvent.tenant == tenant, ConsentEvent.contact_number == contact)
        .order_by(ConsentEvent.id.desc())
        .limit(1)
    )
    return latest if latest is not None and latest.kind == OPT_OUT else None


def blocked_by(opt_out: ConsentEvent, parts: Sequence[Message]) -> list[Message]:
    """The parts an opt-out stops: all but those of its own confirmation."""
    key = opt_out.confirmation_key
    return [
        p
        for p in parts
        if key is None or (p.idempotency_key != key and not p.idempotency_key.startswith(key + "#"))
    ]
