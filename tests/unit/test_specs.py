"""Spec models read the same YAML a user applies, and say clearly what is wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from wta_runtime.specs import WhatsAppTenantSpec
from wta_runtime.specs.common import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48h", timedelta(hours=48)),
        ("15m", timedelta(minutes=15)),
        ("1h30m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        (90, timedelta(seconds=90)),
    ],
)
def test_durations_are_read_like_kubernetes_durations(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2 days", "15", "h", "10x", "-5m"])
def test_bad_durations_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="'48h'"):
        parse_duration(text)


def test_durations_round_trip() -> None:
    assert format_duration(parse_duration("1h30m5s")) == "1h30m5s"


def _tenant(**overrides: object) -> dict[str, object]:
    spec: dict[str, object] = {
        "displayName": "Shop",
        "twilio": {
            "accountSid": "AC" + "a" * 32,
            "authTokenSecretRef": {"name": "shop", "key": "token"},
        },
        "numbers": [{"number": "+14155550100"}],
    }
    spec.update(overrides)
    return spec


def test_tenant_defaults_follow_the_original_product_timers() -> None:
    spec = WhatsAppTenantSpec.model_validate(_tenant())

    assert spec.timers.pending == timedelta(hours=48)
    assert spec.timers.progress == timedelta(hours=24)
    assert spec.timers.idle == timedelta(minutes=15)


def test_number_must_be_e164() -> None:
    with pytest.raises(ValidationError, match="numbers"):
        WhatsAppTenantSpec.model_validate(_tenant(numbers=[{"number": "4155550100"}]))


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="authToken"):
        WhatsAppTenantSpec.model_validate(_tenant(authToken="plain-text-token"))


SID = "HX" + "b" * 32


def test_a_template_declares_the_variables_a_person_fills_in_per_send() -> None:
    spec = WhatsAppTenantSpec.model_validate(
        _tenant(
            template={
                "contentSid": SID,
                "variables": {"1": "Shop"},
                "perSendVariables": [{"name": "2", "example": "A-1042"}, {"name": "date"}],
            }
        )
    )

    assert spec.template is not None
    assert [(v.name, v.example) for v in spec.template.per_send_variables] == [
        ("2", "A-1042"),
        ("date", None),
    ]


def test_a_template_without_per_send_variables_is_read_as_before() -> None:
    spec = WhatsAppTenantSpec.model_validate(
        _tenant(template={"contentSid": SID, "variables": {"1": "Shop"}})
    )

    assert spec.template is not None
    assert spec.template.per_send_variables == []


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ([{"name": "1"}], "either fixed in variables or filled in per send"),
        ([{"name": "2"}, {"name": "2"}], "'2' is listed twice"),
        ([{"name": "{{2}}"}], "perSendVariables"),
    ],
)
def test_per_send_variables_are_refused_when_ambiguous(
    variables: list[dict[str, str]], message: str
) -> None:
    template = {"contentSid": SID, "variables": {"1": "Shop"}, "perSendVariables": variables}
    with pytest.raises(ValidationError, match=message):
        WhatsAppTenantSpec.model_validate(_tenant(template=template))
