"""`/api/v1/tenants/{tenant}/conversations`: list and read conversations, messages, history."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy.ext.asyncio import AsyncSession

from wta_runtime.conversation.lifecycle import State
from wta_runtime.db.conversation_queries import (
    conversation_history,
    conversation_messages,
    list_conversations,
    tenant_conversation,
)
from wta_runtime.db.tables import Conversation
from wta_runtime.gateway.api_auth import TenantDep
from wta_runtime.gateway.schemas import (
    MAX_OFFSET,
    ConversationPublic,
    MessagePublic,
    StateChangePublic,
    StorableStr,
)
from wta_runtime.gateway.state import GatewayDep

router = APIRouter(prefix="/api/v1/tenants/{tenant}", tags=["conversations"])


async def found(session: AsyncSession, tenant: str, conversation_id: uuid.UUID) -> Conversation:
    """The tenant's conversation or 404 (another tenant's conversation is not found either)."""
    conversation = await tenant_conversation(session, tenant, conversation_id)
    if conversation is None:
        raise HTTPException(404, f"no conversation {conversation_id}")
    return conversation


@router.get("/conversations", response_model=list[ConversationPublic])
async def read_conversations(
    *,
    tenant: TenantDep,
    state: GatewayDep,
    status: Annotated[list[State], Query(max_length=len(State))] = [],  # noqa: B006 - copied
    contact: Annotated[StorableStr | None, Query(min_length=1, max_length=64)] = None,
    flagged: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[Conversation]:
    """The tenant's conversations, most recently active first."""
    async with state.database(tenant).sessions() as session:
        return await list_conversations(
            session,
            tenant.name,
            status=status,
            contact=contact,
            flagged=flagged,
            limit=limit,
            offset=offset,
        )


@router.get("/conversations/{conversation_id}", response_model=ConversationPublic)
async def read_conversation(
    *, tenant: TenantDep, state: GatewayDep, conversation_id: uuid.UUID
) -> Conversation:
    """One conversation."""
    async with state.database(tenant).sessions() as session:
        return await found(session, tenant.name, conversation_id)


@router.get("/conversations/{conversation_id}/messages", response_model=list[MessagePublic])
async def read_messages(
    *, tenant: TenantDep, state: GatewayDep, conversation_id: uuid.UUID
) -> list[object]:
    """Every message of a conversation, oldest first, with its delivery status."""
    async with state.database(tenant).sessions() as session:
        await found(session, tenant.name, conversation_id)
        return list(await conversation_messages(session, conversation_id))


@router.get("/conversations/{conversation_id}/history", response_model=list[StateChangePublic])
async def read_history(
    *, tenant: TenantDep, state: GatewayDep, conversation_id: uuid.UUID
) -> list[object]:
    """Every lifecycle move of a conversation, in order."""
    async with state.database(tenant).sessions() as session:
        await found(session, tenant.name, conversation_id)
        return list(await conversation_history(session, conversation_id))
