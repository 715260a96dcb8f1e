"""Headers sent with an agent's tool requests (HTTP tools, MCP servers): plain or from Secrets."""

from __future__ import annotations

from pydantic import ConfigDict, Field, model_validator

from wta_runtime.specs.common import SecretKeyRef, SpecModel, cel, validations

HEADER_ONE_SOURCE = "each header needs exactly one of value or secretKeyRef"


class HttpHeader(SpecModel):
    """A header sent with every call of an HTTP tool or MCP server."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel("has(self.value) != has(self.secretKeyRef)", HEADER_ONE_SOURCE)
        )
    )

    name: str = Field(
        pattern=r"^[A-Za-z0-9-]+$", max_length=100, description="Header name, e.g. Authorization."
    )
    value: str | None = Field(default=None, max_length=4096, description="A plain value.")
    secret_key_ref: SecretKeyRef | None = Field(
        default=None, description="Secret key holding the value, for credentials."
    )

    @model_validator(mode="after")
    def _one_source(self) -> HttpHeader:
        if (self.value is None) == (self.secret_key_ref is None):
            raise ValueError(HEADER_ONE_SOURCE)
        return self
