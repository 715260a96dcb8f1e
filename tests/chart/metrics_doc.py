"""docs/metrics.md read as data: each documented metric's type, labels and named values."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.chart.helm import ROOT

DOC = ROOT / "docs" / "metrics.md"
# | `name` | type | labels | process | meaning |
ROW = re.compile(r"^\| `(wta_[a-z0-9_]+)` \| (\w+) \| ([^|]*) \|[^|]*\|(.*)\|\s*$")
METRIC = re.compile(r"\b(wta_[a-z0-9_]+)")
HISTOGRAM_SERIES = re.compile(r"_(bucket|sum|count)$")


@dataclass(frozen=True)
class Documented:
    name: str
    type: str
    labels: frozenset[str]
    emitted: bool
    # Words the meaning column quotes: label values such as `dead_letter` or `WhatsAppTenant`.
    quoted: frozenset[str]


def documented() -> dict[str, Documented]:
    found: dict[str, Documented] = {}
    section = ""
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:].strip().lower()
        row = ROW.match(line)
        if row and section in {"emitted", "planned"}:
            labels = frozenset(re.findall(r"`(\w+)`", row[3]))
            quoted = frozenset(re.findall(r"`([^`]+)`", row[4]))
            found[row[1]] = Documented(row[1], row[2], labels, section == "emitted", quoted)
    return found


def metric_of(series_name: str) -> str:
    """The documented metric a series name belongs to (a histogram's _bucket, _sum, _count)."""
    return HISTOGRAM_SERIES.sub("", series_name)


def used_metrics(text: str) -> set[str]:
    return {metric_of(name) for name in METRIC.findall(text)}
