"""Local mode refuses what the API server refuses: the models check the CRDs' rules too."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.crds.cases import AGENT, INVALID_ON_CREATE, TENANT, InvalidCase
from wta_runtime.specs import AIAgentSpec, WhatsAppTenantSpec

LOCAL_CASES = [c for c in INVALID_ON_CREATE if c.local_message is not None]


def _model(case: InvalidCase) -> type[WhatsAppTenantSpec] | type[AIAgentSpec]:
    return WhatsAppTenantSpec if case.manifest["kind"] == "WhatsAppTenant" else AIAgentSpec


def test_examples_are_valid_specs() -> None:
    WhatsAppTenantSpec.model_validate(TENANT["spec"])
    AIAgentSpec.model_validate(AGENT["spec"])


@pytest.mark.parametrize("case", LOCAL_CASES, ids=lambda c: c.id)
def test_spec_model_refuses_what_the_api_server_refuses(case: InvalidCase) -> None:
    assert case.local_message is not None

    with pytest.raises(ValidationError) as refused:
        _model(case).model_validate(case.manifest["spec"])

    assert case.local_message in str(refused.value)
