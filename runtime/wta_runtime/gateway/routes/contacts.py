"""`/api/v1/tenants/{tenant}/contacts/{number}/consent`: a contact's opt-out state and trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from wta_runtime.conversation.consent import OPT_OUT
from wta_runtime.db.consent import consent_events
from wta_runtime.gateway.api_auth import TenantDep
from wta_runtime.gateway.schemas import ConsentEventPublic, ContactConsentPublic
from wta_runtime.gateway.state import GatewayDep
from wta_runtime.specs.tenant import E164

router = APIRouter(prefix="/api/v1/tenants/{tenant}", tags=["contacts"])


@router.get("/contacts/{number}/consent", response_model=ContactConsentPublic)
async def read_contact_consent(
    *,
    tenant: TenantDep,
    state: GatewayDep,
    number: Annotated[str, Path(pattern=E164, description="The contact's number, +E.164.")],
) -> ContactConsentPublic:
    """Whether the contact opted out of the tenant's messages, with when and why."""
    async with state.database(tenant).sessions() as session:
        events = await consent_events(session, tenant=tenant.name, contact=number)
    return ContactConsentPublic(
        contact_number=number,
        opted_out=bool(events) and events[-1].kind == OPT_OUT,
        events=[ConsentEventPublic.model_validate(e) for e in events],
    )
