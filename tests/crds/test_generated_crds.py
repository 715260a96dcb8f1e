"""crds/ is generated from the spec models, and the generator keeps the schemas structural."""

from __future__ import annotations

from typing import Any

import pytest
from hack.gen_crds import CRDS_DIR, stale_files, write_crds
from pydantic import Field

from wta_runtime.specs.common import SpecModel
from wta_runtime.specs.crd_schema import CrdSchemaError, structural_schema
from wta_runtime.specs.crds import CUSTOM_RESOURCES, custom_resource_definition


def test_crd_files_match_the_spec_models() -> None:
    stale = stale_files(CRDS_DIR)

    assert not stale, f"out of date: {stale}; run: make crds"


def test_generator_writes_files_that_pass_its_own_check(tmp_path: Any) -> None:
    write_crds(tmp_path)

    assert stale_files(tmp_path) == []


def _walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for name, prop in node.get("properties", {}).items():
            found.append((f"{path}.{name}", prop))
            found.extend(_walk(prop, f"{path}.{name}"))
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                found.extend(_walk(node[key], f"{path}[]"))
    return found


@pytest.mark.parametrize("resource", CUSTOM_RESOURCES, ids=lambda r: r.kind)
def test_schemas_are_structural_and_documented(resource: Any) -> None:
    version = custom_resource_definition(resource)["spec"]["versions"][0]
    root = version["schema"]["openAPIV3Schema"]

    for path, prop in _walk(root["properties"]["spec"], "spec"):
        assert prop.get("description"), f"{path} has no description"
        assert "$ref" not in prop, path
        assert "oneOf" not in prop, path
        assert "type" in prop or prop.get("x-kubernetes-int-or-string"), f"{path} has no type"
        assert prop.get("additionalProperties") is not False, path
    assert version["subresources"] == {"status": {}}


def test_defaults_of_nested_objects_are_written_out() -> None:
    schema = structural_schema(CUSTOM_RESOURCES[0].spec)

    assert schema["properties"]["timers"]["default"] == {
        "pending": "48h",
        "progress": "24h",
        "idle": "15m",
    }
    assert schema["properties"]["rateLimit"]["default"] == {"messagesPerSecond": 10}


class _Undocumented(SpecModel):
    """A model with a field nobody explained."""

    size: int = 1


class _Union(SpecModel):
    """A model with a union the API server cannot express."""

    size: int | str = Field(default=1, description="Either.")


def test_a_field_without_description_is_an_error() -> None:
    with pytest.raises(
        CrdSchemaError, match=r"_Undocumented\.size: every field needs a description"
    ):
        structural_schema(_Undocumented)


def test_a_union_is_an_error() -> None:
    with pytest.raises(CrdSchemaError, match="unions are not structural"):
        structural_schema(_Union)
