"""Tenant-scoped API keys of the handoff and conversation API; only SHA-256 hashes are stored."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.tables import ApiKey

PREFIX = "wta_"


def hash_key(key: str) -> str:
    """Keys are long random strings, so a plain SHA-256 is as good as a slow hash here."""
    return hashlib.sha256(key.encode()).hexdigest()


async def issue_api_key(session: AsyncSession, *, tenant: str, name: str, now: datetime) -> str:
    """Create a key for `tenant`; the only time the plain key exists is this return value."""
    key = PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiKey(id=uuid.uuid4(), tenant=tenant, name=name, key_hash=hash_key(key), created_at=now)
    )
    return key


async def tenant_of_key(session: AsyncSession, key: str) -> str | None:
    """The tenant a valid, unrevoked key belongs to; None for any other string."""
    return await session.scalar(
        select(ApiKey.tenant).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    )


async def revoke_api_key(session: AsyncSession, *, tenant: str, name: str, now: datetime) -> int:
    """Revoke the tenant's keys called `name`; returns how many."""
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.tenant == tenant, ApiKey.name == name, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiKey.id)
    )
    return len(result.all())
