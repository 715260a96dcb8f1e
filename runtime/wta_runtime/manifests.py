"""Reads Kubernetes manifests (WhatsAppTenant, AIAgent, Secret) from YAML files on disk."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wta_runtime.specs.common import API_GROUP


class ManifestError(ValueError):
    """A manifest file cannot be used; the message says which file and what to fix."""


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object read from a file."""

    kind: str
    name: str
    namespace: str
    body: dict[str, Any]
    source: Path


@dataclass
class ManifestSet:
    """Every object of the kinds we use, found in a folder."""

    tenants: list[Manifest] = field(default_factory=list)
    agents: list[Manifest] = field(default_factory=list)
    secrets: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)


def _documents(path: Path) -> Iterator[dict[str, Any]]:
    try:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise ManifestError(f"{path}: each YAML document must be a mapping")
            yield doc
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: invalid YAML: {exc}") from exc


def _secret_data(doc: dict[str, Any], source: Path) -> dict[str, str]:
    data: dict[str, str] = {}
    for key, value in (doc.get("data") or {}).items():
        try:
            data[key] = base64.b64decode(str(value), validate=True).decode("utf-8")
        except ValueError as exc:
            raise ManifestError(f"{source}: Secret data key {key!r} is not base64") from exc
    data.update({k: str(v) for k, v in (doc.get("stringData") or {}).items()})
    return data


def folder_fingerprint(*folders: Path | None) -> str:
    """A digest of every file below the folders (Secret volumes included): changes with any file."""
    digest = hashlib.sha256()
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            # Kubernetes volumes keep old versions in hidden `..2026_...` folders: skip them.
            if any(part.startswith("..") for part in path.relative_to(folder).parts):
                continue
            if path.is_file():
                digest.update(str(path).encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def read_manifests(folder: Path) -> ManifestSet:
    """Read the `*.yaml`/`*.yml` files of a folder (not recursive): our kinds and Secrets."""
    if not folder.is_dir():
        raise ManifestError(f"manifest folder {folder} does not exist")
    return read_manifest_files(sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]))


def read_manifest_files(files: Sequence[Path]) -> ManifestSet:
    """Our kinds and Secrets from the given files, in order."""
    found = ManifestSet()
    for path in files:
        if not path.is_file():
            raise ManifestError(f"manifest file {path} does not exist")
        for doc in _documents(path):
            kind = doc.get("kind")
            meta = doc.get("metadata") or {}
            name = meta.get("name")
            namespace = meta.get("namespace") or "default"
            if not kind or not name:
                raise ManifestError(f"{path}: every object needs kind and metadata.name")
            api_version = str(doc.get("apiVersion", ""))
            if kind == "Secret" and api_version == "v1":
                # The same Secret may come from several files (one per tenant): merge its keys.
                found.secrets.setdefault((namespace, name), {}).update(_secret_data(doc, path))
            elif api_version.startswith(f"{API_GROUP}/") and kind == "WhatsAppTenant":
                found.tenants.append(Manifest(kind, name, namespace, doc, path))
            elif api_version.startswith(f"{API_GROUP}/") and kind == "AIAgent":
                found.agents.append(Manifest(kind, name, namespace, doc, path))
    return found
