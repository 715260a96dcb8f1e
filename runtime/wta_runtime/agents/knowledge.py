"""An agent's knowledge as a searchable index: inline entries and ConfigMap documents.

ConfigMap documents come from ConfigMaps mounted at `<configmaps_dir>/<name>/<key>` (how a
Deployment sees them) or, locally, from `kind: ConfigMap` manifests beside the agent's.
"""

from __future__ import annotations

import base64
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from wta_runtime.agents.embeddings import words
from wta_runtime.specs import Knowledge

# Documents are cut into passages of about this many characters, on paragraph boundaries.
PASSAGE_CHARS = 800


@dataclass(frozen=True)
class Passage:
    """A piece of knowledge the agent can quote: an entry's answer or part of a document."""

    title: str
    text: str


ConfigMapData = Mapping[str, Mapping[str, str]]


def as_text(data: bytes) -> str:
    """A ConfigMap value as text; bytes that are not UTF-8 (a PDF of `binaryData`) are kept as
    surrogates, so `as_bytes` gives back exactly the original bytes."""
    return data.decode("utf-8", "surrogateescape")


def as_bytes(text: str) -> bytes:
    """The bytes of a ConfigMap value read by `as_text`."""
    return text.encode("utf-8", "surrogateescape")


def is_text(value: str) -> bool:
    """Whether a ConfigMap value read by `as_text` was UTF-8 text (not a binary file)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def config_maps_from_manifests(folder: Path) -> dict[str, dict[str, str]]:
    """`kind: ConfigMap` manifests of a folder, by name (the local stand-in for mounted ones)."""
    if not folder.is_dir():
        return {}
    return config_maps_from_files(sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]))


def config_maps_from_files(files: Sequence[Path]) -> dict[str, dict[str, str]]:
    """`kind: ConfigMap` manifests of the given files, by name."""
    found: dict[str, dict[str, str]] = {}
    for path in files:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("kind") == "ConfigMap":
                name = str((doc.get("metadata") or {}).get("name", ""))
                data = {str(k): str(v) for k, v in (doc.get("data") or {}).items()}
                data |= {
                    str(k): as_text(base64.b64decode(str(v)))
                    for k, v in (doc.get("binaryData") or {}).items()
                }
                found[name] = data
    return found


def config_maps_from_mounts(folder: Path | None) -> dict[str, dict[str, str]]:
    """ConfigMaps mounted as `<folder>/<name>/<key>` files (dot-files are Kubernetes' own)."""
    found: dict[str, dict[str, str]] = {}
    if folder is None or not folder.is_dir():
        return found
    for directory in sorted(p for p in folder.iterdir() if p.is_dir()):
        found[directory.name] = {
            f.name: as_text(f.read_bytes())
            for f in sorted(directory.iterdir())
            if f.is_file() and not f.name.startswith(".")
        }
    return found


def split_passages(title: str, text: str, limit: int = PASSAGE_CHARS) -> list[Passage]:
    """Cut a document into passages of whole paragraphs, each at most about `limit` characters."""
    passages: list[Passage] = []
    current = ""
    for paragraph in (p.strip() for p in re.split(r"\n\s*\n", text)):
        if not paragraph:
            continue
        if current and len(current) + len(paragraph) > limit:
            passages.append(Passage(title, current))
            current = ""
        current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        passages.append(Passage(title, current))
    return passages


class KnowledgeIndex:
    """Ranks passages by BM25 over words; entry keywords count as extra words of their entry."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        self._terms = [Counter(words(f"{p.title} {p.text}")) for p in passages]
        count = len(passages) or 1
        self._avg_len = sum(sum(t.values()) for t in self._terms) / count or 1.0
        frequency: Counter[str] = Counter()
        for terms in self._terms:
            frequency.update(terms.keys())
        self._idf = {w: math.log(1 + (count - n + 0.5) / (n + 0.5)) for w, n in frequency.items()}

    def search(self, query: str, limit: int = 3) -> list[Passage]:
        """The best passages for `query`, best first; none when no word matches."""
        asked = set(words(query))
        scored: list[tuple[float, int]] = []
        for position, terms in enumerate(self._terms):
            length = sum(terms.values())
            score = 0.0
            for word in asked & terms.keys():
                tf = terms[word]
                score += (
                    self._idf[word] * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / self._avg_len))
                )
            if score > 0:
                scored.append((score, position))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [self.passages[position] for _, position in scored[:limit]]


def build_index(knowledge: Knowledge, config_maps: ConfigMapData) -> KnowledgeIndex:
    """Index the entries (question, keywords and answer) and the referenced documents."""
    passages = [
        Passage(f"{e.question} {' '.join(e.keywords)}", e.answer) for e in knowledge.entries
    ]
    for ref in knowledge.config_map_refs:
        data = config_maps.get(ref.name, {})
        for key in ref.keys or sorted(data):
            if key in data and is_text(data[key]):
                passages += split_passages(f"{ref.name}/{key}", data[key])
    return KnowledgeIndex(passages)
