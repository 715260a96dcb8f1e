"""A template's values: fixed ones from the spec, per-send ones from a person, checked by name."""

from __future__ import annotations

import pytest

from wta_runtime.conversation.template_variables import (
    TemplateVariablesError,
    content_variables,
    per_send_values,
)
from wta_runtime.specs.tenant import OutOfWindowTemplate

TEMPLATE = OutOfWindowTemplate.model_validate(
    {
        "contentSid": "HX" + "a" * 32,
        "variables": {"1": "Acme"},
        "perSendVariables": [{"name": "2"}, {"name": "date", "example": "Friday"}],
    }
)


def test_a_persons_values_are_merged_with_the_fixed_ones() -> None:
    values = per_send_values(TEMPLATE, {"2": " A-1042 ", "date": "Friday"})

    assert values == {"2": "A-1042", "date": "Friday"}
    assert content_variables(TEMPLATE, values) == {"1": "Acme", "2": "A-1042", "date": "Friday"}


def test_the_bot_without_values_gets_no_template_that_needs_them() -> None:
    assert content_variables(TEMPLATE, None) is None
    fixed_only = OutOfWindowTemplate.model_validate(
        {"contentSid": "HX" + "a" * 32, "variables": {"1": "Acme"}}
    )
    assert content_variables(fixed_only, None) == {"1": "Acme"}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"2": "A-1"}, "missing template variable(s): date"),
        ({"2": "A-1", "date": "x", "3": "y"}, "the template has no variable 3; it takes 2, date"),
        ({"2": "A-1", "date": "   "}, "empty template variable(s): date"),
        ({"2": "A" * 1025, "date": "x"}, "template variable(s) 2 longer than 1024 characters"),
    ],
)
def test_values_that_do_not_match_the_declaration_are_refused_with_the_reason(
    given: dict[str, str], message: str
) -> None:
    with pytest.raises(TemplateVariablesError) as refused:
        per_send_values(TEMPLATE, given)
    assert str(refused.value) == message


def test_a_tenant_without_a_template_takes_no_variables() -> None:
    assert per_send_values(None, {}) == {}
    with pytest.raises(TemplateVariablesError, match="no template"):
        per_send_values(None, {"1": "x"})
