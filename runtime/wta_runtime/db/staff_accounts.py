"""Staff accounts, sessions, internal notes and the audit of staff actions: the console's SQL."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.db.staff_tables import InternalNote, StaffAction, StaffMember, StaffSession

# A console table of things that happened in one conversation, in order.
Row = TypeVar("Row", InternalNote, StaffAction)


class StaffExistsError(Exception):
    """The tenant already has a staff member with that email."""


@dataclass(frozen=True)
class SignedIn:
    """The staff member behind a valid session cookie."""

    staff: StaffMember
    csrf_token: str


def token_hash(token: str) -> str:
    """Session tokens are long random strings, so SHA-256 is as good as a slow hash here."""
    return hashlib.sha256(token.encode()).hexdigest()


async def add_staff(
    session: AsyncSession, *, tenant: str, email: str, role: str, password_hash: str, now: datetime
) -> StaffMember:
    """A new staff member; `StaffExistsError` if the tenant already has that email."""
    member = StaffMember(
        id=uuid.uuid4(),
        tenant=tenant,
        email=email,
        role=role,
        password_hash=password_hash,
        created_at=now,
    )
    session.add(member)
    try:
        await session.flush()
    except IntegrityError:
        raise StaffExistsError(f"{tenant} already has a staff member {email}") from None
    return member


async def find_staff(session: AsyncSession, tenant: str, email: str) -> StaffMember | None:
    return await session.scalar(
        select(StaffMember).where(StaffMember.tenant == tenant, StaffMember.email == email)
    )


async def tenant_staff(session: AsyncSession, tenant: str) -> list[StaffMember]:
    """Every staff member of the tenant, by email."""
    rows = await session.scalars(
        select(StaffMember).where(StaffMember.tenant == tenant).order_by(StaffMember.email)
    )
    return list(rows.all())


async def remove_staff(session: AsyncSession, *, tenant: str, email: str) -> bool:
    """Delete the account and, with it, every session it had."""
    result = await session.execute(
        delete(StaffMember)
        .where(StaffMember.tenant == tenant, StaffMember.email == email)
        .returning(StaffMember.id)
    )
    return result.first() is not None


async def set_password(
    session: AsyncSession, *, tenant: str, email: str, password_hash: str
) -> bool:
    """Replace the password hash and end every session of the account."""
    result = await session.execute(
        update(StaffMember)
        .where(StaffMember.tenant == tenant, StaffMember.email == email)
        .values(password_hash=password_hash)
        .returning(StaffMember.id)
    )
    staff_id = result.scalar()
    if staff_id is None:
        return False
    await session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))
    return True


async def open_session(
    session: AsyncSession, *, staff_id: uuid.UUID, now: datetime, lifetime: timedelta
) -> str:
    """A new session; the only time its token exists in plain is this return value."""
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=token_hash(token),
            staff_id=staff_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


async def signed_in(session: AsyncSession, token: str, now: datetime) -> SignedIn | None:
    """The staff member of an unexpired session token, or None."""
    row = (
        await session.execute(
            select(StaffMember, StaffSession.csrf_token)
            .join(StaffSession, StaffSession.staff_id == StaffMember.id)
            .where(StaffSession.token_hash == token_hash(token), StaffSession.expires_at > now)
        )
    ).first()
    return None if row is None else SignedIn(row[0], row[1])


async def close_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))


async def add_note(
    session: AsyncSession,
    *,
    tenant: str,
    conversation_id: uuid.UUID,
    author: str,
    body: str,
    now: datetime,
) -> None:
    session.add(
        InternalNote(
            tenant=tenant, conversation_id=conversation_id, author=author, body=body, created_at=now
        )
    )


async def _of_conversation(
    session: AsyncSession, table: type[Row], tenant: str, conversation_id: uuid.UUID
) -> list[Row]:
    rows = await session.scalars(
        select(table)
        .where(table.tenant == tenant, table.conversation_id == conversation_id)
        .order_by(table.id)
    )
    return list(rows.all())


async def conversation_notes(
    session: AsyncSession, tenant: str, conversation_id: uuid.UUID
) -> list[InternalNote]:
    return await _of_conversation(session, InternalNote, tenant, conversation_id)


async def record_action(
    session: AsyncSession,
    *,
    tenant: str,
    conversation_id: uuid.UUID,
    staff: str,
    action: str,
    detail: str | None,
    now: datetime,
) -> None:
    session.add(
        StaffAction(
            tenant=tenant,
            conversation_id=conversation_id,
            staff=staff,
            action=action,
            detail=detail,
            created_at=now,
        )
    )


async def conversation_actions(
    session: AsyncSession, tenant: str, conversation_id: uuid.UUID
) -> list[StaffAction]:
    return await _of_conversation(session, StaffAction, tenant, conversation_id)
