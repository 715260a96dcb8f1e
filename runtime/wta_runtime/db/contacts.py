"""Contacts of a tenant's numbers: when each last wrote (WhatsApp's 24 h window)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.tables import Contact


async def last_inbound_at(
    session: AsyncSession, *, tenant: str, business: str, contact: str
) -> datetime | None:
    """When the contact last wrote to this business number; None if never."""
    return await session.scalar(
        select(Contact.last_inbound_at).where(
            Contact.tenant == tenant,
            Contact.business_number == business,
            Contact.contact_number == contact,
        )
    )
