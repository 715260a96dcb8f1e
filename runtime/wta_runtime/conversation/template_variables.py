"""The values a template is sent with: its fixed ones, and those a person gives for one send."""

from __future__ import annotations

from collections.abc import Mapping

from wta_runtime.specs.tenant import OutOfWindowTemplate

# WhatsApp refuses longer placeholder values.
MAX_VALUE_LENGTH = 1024


class TemplateVariablesError(ValueError):
    """Values that do not match what the tenant's template declares; the message says which."""


def _names(names: set[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def per_send_values(
    template: OutOfWindowTemplate | None, given: Mapping[str, str]
) -> dict[str, str]:
    """The values given for one send, checked against the template's per-send variables."""
    declared = {v.name for v in template.per_send_variables} if template else set()
    if template is None and given:
        raise TemplateVariablesError("this tenant has no template, so it takes no variables")
    missing, extra = declared - set(given), set(given) - declared
    if extra:
        raise TemplateVariablesError(
            f"the template has no variable {_names(extra)}; it takes {_names(declared)}"
        )
    if missing:
        raise TemplateVariablesError(f"missing template variable(s): {_names(missing)}")
    values = {name: value.strip() for name, value in given.items()}
    empty = {name for name, value in values.items() if not value}
    if empty:
        raise TemplateVariablesError(f"empty template variable(s): {_names(empty)}")
    long = {name for name, value in values.items() if len(value) > MAX_VALUE_LENGTH}
    if long:
        raise TemplateVariablesError(
            f"template variable(s) {_names(long)} longer than {MAX_VALUE_LENGTH} characters"
        )
    return values


def content_variables(
    template: OutOfWindowTemplate, per_send: Mapping[str, str] | None
) -> dict[str, str] | None:
    """Every placeholder's value for Twilio's ContentVariables; None while one has no value."""
    values = {**template.variables, **(per_send or {})}
    if any(v.name not in values for v in template.per_send_variables):
        return None
    return values
