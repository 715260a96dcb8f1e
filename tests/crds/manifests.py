"""Factories for tenant and agent manifests: the examples' own, changed one field at a time."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

Manifest = dict[str, Any]


def example(kind: str) -> Manifest:
    """A fresh copy of the first manifest of `kind` in examples/."""
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == kind:
                return copy.deepcopy(doc)
    raise LookupError(f"examples/ defines no {kind}")


def changed(manifest: Manifest, path: str, value: Any) -> Manifest:
    """A copy of `manifest` with the dotted `path` set to `value` (parents created)."""
    result = copy.deepcopy(manifest)
    node = result
    *parents, last = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return result


def without(manifest: Manifest, path: str) -> Manifest:
    """A copy of `manifest` with the dotted `path` removed."""
    result = copy.deepcopy(manifest)
    node = result
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    del node[last]
    return result


def to_yaml(*manifests: Manifest) -> str:
    return yaml.safe_dump_all(manifests, sort_keys=False)
