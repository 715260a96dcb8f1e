"""`/api/v1/tenants/{tenant}/...`: hand a conversation to a person, reply as them, hand it back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException

from wta_runtime.catalog import Tenant
from wta_runtime.channel.sender import SendError
from wta_runtime.channel.split import split_message
from wta_runtime.conversation.business_hours import after_hours
from wta_runtime.conversation.lifecycle import IllegalMoveError, State
from wta_runtime.conversation.template_variables import TemplateVariablesError, per_send_values
from wta_runtime.conversation.window import window_open
from wta_runtime.db.consent import opted_out
from wta_runtime.db.contacts import last_inbound_at
from wta_runtime.db.conversation_queries import handoff_queue
from wta_runtime.db.handoffs import NOT_WAITING, handoff_values
from wta_runtime.db.outbound import save_outbound
from wta_runtime.db.tables import Conversation
from wta_runtime.db.transitions import touch, transition
from wta_runtime.gateway.api_auth import TenantDep
from wta_runtime.gateway.routes.conversations import found
from wta_runtime.gateway.schemas import (
    AssignRequest,
    ConversationPublic,
    HandoffRequest,
    HumanReplyCreate,
    HumanReplyPublic,
    MessagePublic,
    StorableStr,
)
from wta_runtime.gateway.state import GatewayDep, GatewayState

router = APIRouter(prefix="/api/v1/tenants/{tenant}", tags=["handoff"])


def _now() -> datetime:
    return datetime.now(UTC)


async def _move(
    state: GatewayState,
    tenant: Tenant,
    conversation_id: uuid.UUID,
    target: State,
    reason: str,
    values: dict[str, Any] | None = None,
) -> Conversation:
    async with state.database(tenant).sessions.begin() as session:
        await found(session, tenant.name, conversation_id)
        try:
            await transition(
                session, conversation_id, target, reason=reason, now=_now(), values=values
            )
        except IllegalMoveError as exc:
            raise HTTPException(409, str(exc)) from None
        return await found(session, tenant.name, conversation_id)


async def with_a_person(
    state: GatewayState, tenant: Tenant, conversation_id: uuid.UUID
) -> Conversation:
    async with state.database(tenant).sessions() as session:
        conversation = await found(session, tenant.name, conversation_id)
    if conversation.status != State.HUMAN_HANDOFF:
        raise HTTPException(409, f"the conversation is {conversation.status}, not with a person")
    return conversation


async def may_be_written_to(
    state: GatewayState, tenant: Tenant, conversation: Conversation
) -> None:
    """409 when the contact opted out: nothing reaches them, not even a person's reply."""
    async with state.database(tenant).sessions() as session:
        opt_out = await opted_out(session, tenant=tenant.name, contact=conversation.contact_number)
    if opt_out is not None:
        raise HTTPException(
            409,
            f"the contact opted out of {tenant.name}'s messages at "
            f"{opt_out.created_at.isoformat()} ({opt_out.reason}); nothing is sent to them "
            "until they opt back in by writing one of the tenant's opt-in keywords (e.g. START)",
        )


async def _template_values(
    state: GatewayState,
    tenant: Tenant,
    conversation: Conversation,
    given: Mapping[str, str] | None,
) -> dict[str, str] | None:
    """422 unless the values match the template's per-send variables; needed only when the
    window has closed and the template declares some."""
    template = tenant.spec.template
    if given is None:
        if template is None or not template.per_send_variables:
            return None
        async with state.database(tenant).sessions() as session:
            last = await last_inbound_at(
                session,
                tenant=tenant.name,
                business=conversation.business_number,
                contact=conversation.contact_number,
            )
        if window_open(last, _now()):
            return None
        names = ", ".join(v.name for v in template.per_send_variables)
        raise HTTPException(
            422,
            "the 24 h window has closed, so the tenant's template is sent instead of the text: "
            f"give template_variables for {names}",
        )
    try:
        return per_send_values(template, given)
    except TemplateVariablesError as exc:
        raise HTTPException(422, str(exc)) from None


def _zone(tenant: Tenant) -> str | None:
    hours = tenant.spec.business_hours
    return hours.time_zone if hours is not None else None


@router.get("/handoffs", response_model=list[ConversationPublic])
async def read_handoff_queue(*, tenant: TenantDep, state: GatewayDep) -> list[ConversationPublic]:
    """Conversations with a person: unassigned first, then longest waiting first."""
    async with state.database(tenant).sessions() as session:
        queue = await handoff_queue(session, tenant.name)
    return [ConversationPublic.model_validate(c).in_zone(_zone(tenant)) for c in queue]


@router.post("/conversations/{conversation_id}/handoff", response_model=ConversationPublic)
async def request_handoff(
    *, tenant: TenantDep, state: GatewayDep, conversation_id: uuid.UUID, body: HandoffRequest
) -> ConversationPublic:
    """Take the conversation away from the bot; it waits in the queue for a person (marked
    after-hours outside the tenant's business hours)."""
    now = _now()
    values = {
        **handoff_values(body.reason, after_hours(tenant.spec.business_hours, now), now),
        "assigned_to": None,
        "expires_at": now + tenant.spec.timers.progress,
    }
    moved = await _move(state, tenant, conversation_id, State.HUMAN_HANDOFF, "handoff_api", values)
    return ConversationPublic.model_validate(moved).in_zone(_zone(tenant))


@router.post("/conversations/{conversation_id}/assign", response_model=ConversationPublic)
async def assign_conversation(
    *, tenant: TenantDep, state: GatewayDep, conversation_id: uuid.UUID, body: AssignRequest
) -> Conversation:
    """Give a conversation that is with a person to one staff member."""
    await with_a_person(state, tenant, conversation_id)
    async with state.database(tenant).sessions.begin() as session:
        await touch(session, conversation_id, now=_now(), values={"assigned_to": body.staff})
        return await found(session, tenant.name, conversation_id)


@router.post(
    "/conversations/{conversation_id}/replies", response_model=HumanReplyPublic, status_code=201
)
async def send_human_reply(
    *,
    tenant: TenantDep,
    state: GatewayDep,
    conversation_id: uuid.UUID,
    body: HumanReplyCreate,
    idempotency_key: Annotated[StorableStr | None, Header(max_length=64)] = None,
) -> HumanReplyPublic:
    """Send a person's message to WhatsApp now (stored first; a retry with the same key is safe)."""
    conversation = await with_a_person(state, tenant, conversation_id)
    await may_be_written_to(state, tenant, conversation)
    variables = await _template_values(state, tenant, conversation, body.template_variables)
    key = f"support:{conversation_id}:{idempotency_key or uuid.uuid4()}"
    async with state.database(tenant).sessions.begin() as session:
        parts = await save_outbound(
            session,
            conversation=conversation,
            key=key,
            parts=split_message(body.text),
            author="support",
            agent=None,
            provider="human",
            now=_now(),
            details={"staff": body.staff},
            media_urls=body.media_urls,
        )
    try:
        report = await state.database(tenant).delivery.deliver(
            tenant, conversation, parts, template_variables=variables
        )
    except SendError as exc:
        status = 503 if exc.retryable else 502
        raise HTTPException(status, f"not sent: {exc}") from None
    return HumanReplyPublic(
        messages=[MessagePublic.model_validate(p) for p in parts],
        sent=report.sent,
        refused_reason=report.refused_reason,
        template=report.template,
    )


@router.post("/conversations/{conversation_id}/release", response_model=ConversationPublic)
async def release_to_bot(
    *, tenant: TenantDep, state: GatewayDep, conversation_id: uuid.UUID
) -> Conversation:
    """Hand the conversation back to the bot, which is told a person handled it."""
    await with_a_person(state, tenant, conversation_id)
    values = {
        **NOT_WAITING,
        "assigned_to": None,
        "expires_at": _now() + tenant.spec.timers.progress,
    }
    return await _move(state, tenant, conversation_id, State.PROGRESS, "released_to_bot", values)


@router.post("/conversations/{conversation_id}/close", response_model=ConversationPublic)
async def close_conversation(
    *, tenant: TenantDep, state: GatewayDep, conversation_id: uuid.UUID
) -> Conversation:
    """Close the conversation as support_closed; the contact's next message opens a new one."""
    return await _move(state, tenant, conversation_id, State.SUPPORT_CLOSED, "closed_by_support")
