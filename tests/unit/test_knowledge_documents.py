"""Knowledge documents as the worker reads them: each format's text, its passages, its rules."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker

from tests.conftest import EXAMPLES
from tests.utils.documents import pdf_of
from wta_runtime.agents.agent_catalog import load_agent_catalog
from wta_runtime.agents.choose import AgentSettings, agent_runtime
from wta_runtime.agents.document_sources import FetchPolicy, SourceError, check_url
from wta_runtime.agents.document_text import (
    CHUNK_CHARS,
    DocumentError,
    extract,
    guess_format,
    html_text,
    split,
)
from wta_runtime.agents.knowledge import as_bytes, build_index, config_maps_from_manifests
from wta_runtime.settings import Settings
from wta_runtime.specs import Knowledge

HANDBOOK = "\n\n".join(
    [
        "# Shop handbook",
        "## Returns",
        "Returns are accepted within 30 days with the receipt. " * 12,
        "## Delivery",
        "We deliver within 5 km for free; farther away it costs 3 euros. " * 12,
    ]
)


def test_markdown_is_cut_into_passages_that_keep_their_sections() -> None:
    chunks = split(extract(HANDBOOK.encode(), "markdown"), "markdown")

    assert all(len(c.text) <= CHUNK_CHARS for c in chunks)
    assert [c.text.split("\n", 1)[0] for c in chunks] == ["# Shop handbook", "## Delivery"]
    assert "Returns are accepted" in chunks[0].text
    assert "Returns are accepted" not in chunks[1].text


def test_html_gives_its_visible_text_by_paragraph() -> None:
    page = (
        "<!doctype html><html><head><title>Shop</title><style>p{color:red}</style></head>"
        "<body><h1>Opening hours</h1><p>We open at <b>nine</b> &amp; close at six.</p>"
        "<script>track('visit')</script><ul><li>Mon-Fri</li><li>Sat</li></ul></body></html>"
    )

    expected = "Opening hours\n\nWe open at nine & close at six.\n\nMon-Fri\n\nSat"
    assert html_text(page) == expected
    [section] = extract(page.encode(), "html")
    assert "track" not in section.text


def test_a_pdf_gives_the_text_of_each_page_with_its_page_number() -> None:
    document = pdf_of(["Opening hours\nWe open at nine.", "Returns\nWithin 30 days."])

    sections = extract(document, "pdf")
    chunks = split(sections, "pdf")

    assert [s.location for s in sections] == ["page 1", "page 2"]
    assert "We open at nine." in sections[0].text
    assert [(c.location, "30 days" in c.text) for c in chunks] == [
        ("page 1", False),
        ("page 2", True),
    ]


def test_unreadable_documents_are_refused_with_a_reason() -> None:
    with pytest.raises(DocumentError, match="not a readable PDF"):
        extract(b"%PDF-1.7 this is not really a pdf", "pdf")
    with pytest.raises(DocumentError, match="not UTF-8"):
        extract("café".encode("latin-1"), "text")


@pytest.mark.parametrize(
    ("name", "content_type", "data", "expected"),
    [
        ("faq.md", None, b"# FAQ", "markdown"),
        ("/docs/prices.HTML", None, b"", "html"),
        ("menu.pdf", None, b"", "pdf"),
        ("/download", "application/pdf", b"", "pdf"),
        ("/page", "text/html; charset=utf-8", b"", "html"),
        ("blob", None, b"%PDF-1.4 ...", "pdf"),
        ("blob", None, b"  <!DOCTYPE html><html>", "html"),
        ("notes", None, b"just words", "text"),
    ],
)
def test_the_format_is_guessed_from_name_then_content_type_then_bytes(
    name: str, content_type: str | None, data: bytes, expected: str
) -> None:
    assert guess_format(name, content_type, data) == expected


def test_a_source_names_exactly_one_kind_and_urls_need_an_allowed_host() -> None:
    with pytest.raises(ValidationError, match="exactly one of configMap, url or s3"):
        Knowledge.model_validate(
            {"sources": [{"configMap": {"name": "faq", "key": "a.md"}, "s3": {"key": "a.md"}}]}
        )
    with pytest.raises(ValidationError, match=re.escape("docs.example.com is not")):
        Knowledge.model_validate({"sources": [{"url": "https://docs.example.com/faq.md"}]})
    with pytest.raises(ValidationError, match=r"cannot have a \.\. segment"):
        Knowledge.model_validate({"sources": [{"s3": {"key": "knowledge/../other/x.pdf"}}]})
    with pytest.raises(ValidationError, match="listed twice"):
        Knowledge.model_validate({"sources": [{"s3": {"key": "a.md"}}, {"s3": {"key": "a.md"}}]})


def test_a_url_source_is_named_without_its_query_string() -> None:
    knowledge = Knowledge.model_validate(
        {
            "sources": [
                {"url": "https://docs.example.com/faq.md?token=s3cret"},
                {"configMap": {"name": "faq", "key": "returns.md"}},
                {"s3": {"key": "knowledge/menu.pdf"}, "format": "pdf"},
            ],
            "allowedHosts": ["docs.example.com"],
        }
    )

    labels = [s.label for s in knowledge.sources]

    assert labels == [
        "https://docs.example.com/faq.md",
        "configmap/faq/returns.md",
        "s3/knowledge/menu.pdf",
    ]


def test_plain_http_is_fetched_only_when_the_platform_allows_it() -> None:
    knowledge = Knowledge.model_validate(
        {"sources": [{"url": "http://127.0.0.1:8081/faq.md"}], "allowedHosts": ["127.0.0.1:8081"]}
    )

    with pytest.raises(SourceError, match="must be https"):
        check_url("http://127.0.0.1:8081/faq.md", knowledge, FetchPolicy())
    check_url("http://127.0.0.1:8081/faq.md", knowledge, FetchPolicy(allow_http=True))
    with pytest.raises(
        SourceError, match=re.escape("127.0.0.1:9999 is not in knowledge.allowedHosts")
    ):
        check_url("http://127.0.0.1:9999/faq.md", knowledge, FetchPolicy(allow_http=True))


def test_binary_configmap_data_comes_back_byte_for_byte(tmp_path: Path) -> None:
    document = pdf_of(["Menu\nMargherita 8 euros."])
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "shop-menu"},
        "data": {"notes.md": "# Notes"},
        "binaryData": {"menu.pdf": base64.b64encode(document).decode()},
    }
    (tmp_path / "menu.yaml").write_text(yaml.safe_dump(manifest))

    [data] = config_maps_from_manifests(tmp_path).values()

    assert as_bytes(data["menu.pdf"]) == document
    assert data["notes.md"] == "# Notes"
    # configMapRefs search text only: the PDF is not a passage of the in-memory index.
    refs = Knowledge.model_validate({"configMapRefs": [{"name": "shop-menu"}]})
    assert [p.title for p in build_index(refs, {"shop-menu": data}).passages] == [
        "shop-menu/notes.md"
    ]


def test_plain_http_knowledge_urls_are_refused_outside_local_mode() -> None:
    production = Settings(environment="production")

    with pytest.raises(ValueError, match="KNOWLEDGE_ALLOW_HTTP is for local mode only"):
        agent_runtime(
            production,
            AgentSettings(knowledge_allow_http=True),
            load_agent_catalog(EXAMPLES),
            async_sessionmaker(),
        )
