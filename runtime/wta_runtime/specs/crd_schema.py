"""Turn a spec model's Pydantic JSON schema into a structural OpenAPI v3 schema for a CRD.

Kubernetes accepts only "structural" schemas: every node typed, no `$ref`, no `anyOf`/`oneOf`
except the int-or-string form, no `additionalProperties: false`, no `null` types. This module
rewrites Pydantic's output into that form and insists on a description for every field, so
`kubectl explain` documents the whole API.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, NoDefault
from pydantic_core import core_schema

from wta_runtime.specs.common import PATTERN_MESSAGE, format_duration

JsonObject = dict[str, Any]
_VALIDATIONS = "x-kubernetes-validations"
# JSON Schema keywords Kubernetes has no use for (or does not allow) in a CRD.
_DROPPED = {"title", "format", "$defs", "uniqueItems"}


class CrdSchemaError(ValueError):
    """The model cannot be expressed as a structural schema; the message names the field."""


class _CrdJsonSchema(GenerateJsonSchema):
    """Pydantic's generator, with defaults written as the API server should apply them."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is None or schema.get("default_factory_takes_data"):
            return super().get_default_value(schema)
        # The whole default object (not `{}`): the API server checks CEL rules against a default
        # before it fills in the nested fields' own defaults.
        return factory()  # type: ignore[call-arg]

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, timedelta):
            return format_duration(dft)
        return super().encode_default(dft)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _merge(base: JsonObject, overlay: JsonObject) -> JsonObject:
    """`overlay` (the field's own keywords) wins over `base`; CEL rules of both are kept."""
    merged = {**base, **overlay}
    rules = [*base.get(_VALIDATIONS, []), *overlay.get(_VALIDATIONS, [])]
    if rules:
        merged[_VALIDATIONS] = rules
    return merged


def _rule_ordered(rule: JsonObject) -> JsonObject:
    order = ["rule", "message", "fieldPath", "reason"]
    return dict(sorted(rule.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 9))


def _pattern_as_rule(schema: JsonObject, where: str) -> JsonObject:
    out = dict(schema)
    message = out.pop(PATTERN_MESSAGE)
    pattern = out.pop("pattern", None)
    if pattern is None or "'" in pattern or "maxLength" not in out:
        raise CrdSchemaError(
            f"{where}: an explained pattern needs a pattern without ' and a maxLength"
        )
    rule = {"rule": f"self.matches(r'{pattern}')", "message": message}
    out[_VALIDATIONS] = [*out.get(_VALIDATIONS, []), rule]
    return out


class _Converter:
    def __init__(self, defs: dict[str, JsonObject]) -> None:
        self._defs = defs

    def node(self, schema: JsonObject, where: str) -> JsonObject:
        schema = dict(schema)
        if "$ref" in schema:
            name = schema.pop("$ref").rsplit("/", 1)[-1]
            schema = _merge(self._defs[name], schema)
        if "anyOf" in schema and not schema.get("x-kubernetes-int-or-string"):
            options = [o for o in schema.pop("anyOf") if o.get("type") != "null"]
            if len(options) != 1:
                raise CrdSchemaError(f"{where}: unions are not structural; use one type")
            return self.node(_merge(options[0], schema), where)
        if "oneOf" in schema or "allOf" in schema:
            raise CrdSchemaError(f"{where}: oneOf/allOf are not structural")
        out: JsonObject = {}
        for key, value in schema.items():
            if key in _DROPPED:
                continue
            if key == "default":
                if value is not None:
                    out["default"] = _without_nulls(value)
            elif key == "const":
                out["enum"] = [value]
            elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
                out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
                out[key] = True
            elif key == "properties":
                out["properties"] = {
                    name: self.field(prop, f"{where}.{name}") for name, prop in value.items()
                }
            elif key == "items":
                out["items"] = self.node(value, f"{where}[]")
            elif key == "additionalProperties":
                if value is True or value == {}:
                    out["x-kubernetes-preserve-unknown-fields"] = True
                elif isinstance(value, dict):
                    out["additionalProperties"] = self.node(value, f"{where}{{}}")
                # `false` is the structural default (unknown fields are pruned or refused).
            elif key == _VALIDATIONS:
                out[key] = [_rule_ordered(rule) for rule in value]
            elif key == "required":
                out["required"] = list(value)
            else:
                out[key] = value
        if PATTERN_MESSAGE in out:
            out = _pattern_as_rule(out, where)
        if out.get("type") == "object" and not {"properties", "additionalProperties"} & set(out):
            out["x-kubernetes-preserve-unknown-fields"] = True
        if "type" not in out and not out.get("x-kubernetes-int-or-string"):
            raise CrdSchemaError(f"{where}: has no type")
        return out

    def field(self, schema: JsonObject, where: str) -> JsonObject:
        converted = self.node(schema, where)
        if not converted.get("description"):
            raise CrdSchemaError(f"{where}: every field needs a description (kubectl explain)")
        return converted


def structural_schema(model: type[BaseModel]) -> JsonObject:
    """The structural OpenAPI v3 schema of a spec or status model, camelCase, with defaults."""
    raw: JsonSchemaValue = model.model_json_schema(
        by_alias=True, mode="validation", schema_generator=_CrdJsonSchema
    )
    defs = raw.pop("$defs", {})
    return _Converter(defs).node(raw, model.__name__)


__all__ = ["CrdSchemaError", "NoDefault", "structural_schema"]
