"""The golden conversation files of `wta eval`: what the contact says and what must follow.

A file names the manifests to run (tenant and AIAgent YAML, relative to the file) and its cases;
each case is the contact's messages, one per turn, with expectations per turn and for the whole
conversation. A mistake is reported as the file, the case and the field to fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class EvalFileError(ValueError):
    """A golden file cannot be used; the message names the file, the case and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pattern(_Strict):
    """Text to find (case-insensitive) or a regular expression (searched, case-insensitive)."""

    text: str | None = None
    regex: str | None = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_of(self) -> Pattern:
        if (self.text is None) == (self.regex is None):
            raise ValueError("give either text or regex")
        return self

    def found_in(self, text: str) -> bool:
        if self.regex is not None:
            return re.search(self.regex, text, re.IGNORECASE) is not None
        return (self.text or "").casefold() in text.casefold()

    def __str__(self) -> str:
        return f"/{self.regex}/" if self.regex is not None else repr(self.text)


class ToolExpectation(_Strict):
    """A tool the agent must call; each named argument must match (strings as regexes)."""

    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)


class Expectations(_Strict):
    """What must hold; for a conversation, mentions and calls in any turn, limits in every one."""

    must_mention: list[Pattern] = Field(default_factory=list)
    must_not_mention: list[Pattern] = Field(default_factory=list)
    must_hand_off: bool | None = None
    must_call_tool: list[ToolExpectation] = Field(default_factory=list)
    max_parts: int | None = Field(default=None, ge=1)
    language: str | None = None

    @field_validator("must_mention", "must_not_mention", mode="before")
    @classmethod
    def _plain_strings_are_text(cls, value: object) -> object:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return [{"text": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("must_call_tool", mode="before")
    @classmethod
    def _names_are_tools(cls, value: object) -> object:
        if isinstance(value, str | dict):
            value = [value]
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value


class Turn(_Strict):
    """One message of the contact and what the agent's answer to it must satisfy."""

    say: str = Field(min_length=1)
    expect: Expectations = Field(default_factory=Expectations)


class Case(_Strict):
    """One golden conversation."""

    name: str = Field(min_length=1)
    contact: str = "+15005550006"
    turns: list[Turn] = Field(min_length=1)
    expect: Expectations = Field(default_factory=Expectations)


class GoldenFile(BaseModel):
    """A parsed golden file: manifests resolved against its folder, its tenant, its cases."""

    path: Path
    manifests: list[Path]
    tenant: str | None
    cases: list[Case]


def _field(error: Any) -> str:
    return ".".join(str(part) for part in error["loc"]) or "(top level)"


def _case(raw: object, path: Path, index: int) -> Case:
    label = f"case {index + 1}"
    if isinstance(raw, dict) and isinstance(raw.get("name"), str):
        label = f"case {raw['name']!r}"
    try:
        return Case.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise EvalFileError(f"{path}: {label}: field {_field(first)}: {first['msg']}") from None


def load_golden_file(path: Path) -> GoldenFile:
    """Read and check one golden file; raises EvalFileError naming file, case and field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvalFileError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise EvalFileError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise EvalFileError(f"{path}: must be a mapping with manifests and cases")
    unknown = set(raw) - {"manifests", "tenant", "cases"}
    if unknown:
        raise EvalFileError(
            f"{path}: unknown field {sorted(unknown)[0]} (manifests, tenant, cases)"
        )
    manifests = raw.get("manifests")
    if not (
        isinstance(manifests, list) and manifests and all(isinstance(m, str) for m in manifests)
    ):
        raise EvalFileError(f"{path}: field manifests: a list of tenant and AIAgent YAML files")
    tenant = raw.get("tenant")
    if tenant is not None and not isinstance(tenant, str):
        raise EvalFileError(f"{path}: field tenant: must be a tenant name")
    cases = raw.get("cases")
    if not (isinstance(cases, list) and cases):
        raise EvalFileError(f"{path}: field cases: at least one case is needed")
    parsed = [_case(item, path, i) for i, item in enumerate(cases)]
    names = [case.name for case in parsed]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise EvalFileError(f"{path}: case {duplicate!r}: field name: used by two cases")
    return GoldenFile(
        path=path,
        manifests=[(path.parent / m).resolve() for m in manifests],
        tenant=tenant,
        cases=parsed,
    )
