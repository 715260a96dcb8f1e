"""The text of a knowledge document (Markdown, HTML, PDF or plain text) cut into passages.

langchain-text-splitters and pypdf are imported only when a document is ingested, so a worker
whose agents have no `knowledge.sources` never loads them.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import get_args

from wta_runtime.specs.agent import KnowledgeFormat

CHUNK_CHARS = 800
CHUNK_OVERLAP = 100
FORMATS: tuple[KnowledgeFormat, ...] = get_args(KnowledgeFormat)
_SUFFIXES: dict[str, KnowledgeFormat] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".txt": "text",
}
_CONTENT_TYPES: dict[str, KnowledgeFormat] = {
    "text/markdown": "markdown",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "text/plain": "text",
}
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "tr", "table", "section", "article", "header", "footer"}
    | {"ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_HIDDEN = frozenset({"script", "style", "noscript", "template", "head"})


class DocumentError(Exception):
    """The document cannot be read as its format; the message says why (never its content)."""


@dataclass(frozen=True)
class Section:
    """Text of a part of a document, and where it is (a PDF page), when it is worth saying."""

    text: str
    location: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A passage to embed and store."""

    text: str
    location: str | None = None


def guess_format(name: str, content_type: str | None, data: bytes) -> KnowledgeFormat:
    """The format a name's suffix, then a content type, then the bytes themselves suggest."""
    lowered = name.lower().split("?", 1)[0]
    for suffix, found in _SUFFIXES.items():
        if lowered.endswith(suffix):
            return found
    if content_type:
        kind = content_type.split(";", 1)[0].strip().lower()
        if kind in _CONTENT_TYPES:
            return _CONTENT_TYPES[kind]
    if data.startswith(b"%PDF-"):
        return "pdf"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "text"


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The visible text of an HTML page, a paragraph per block element (no script, no style)."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.parts))
    paragraphs = (p.strip() for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p)


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError("the document is not UTF-8 text") from None


def pdf_sections(data: bytes) -> list[Section]:
    """The text of each page of a PDF, located as `page N`."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError(f"not a readable PDF ({type(exc).__name__})") from None
    return [Section(t, f"page {n}") for n, t in enumerate(pages, start=1) if t.strip()]


def extract(data: bytes, fmt: KnowledgeFormat) -> list[Section]:
    """The document's text, in sections (one per PDF page; one for the other formats)."""
    if fmt == "pdf":
        return pdf_sections(data)
    text = _decoded(data)
    return [Section(html_text(text) if fmt == "html" else text)]


def split(sections: list[Section], fmt: KnowledgeFormat) -> list[Chunk]:
    """Passages of about CHUNK_CHARS characters: Markdown-aware for Markdown, else recursive
    (paragraphs, lines, sentences, words)."""
    from langchain_text_splitters import Language, RecursiveCharacterTextSplitter

    if fmt == "markdown":
        splitter = RecursiveCharacterTextSplitter.from_language(
            Language.MARKDOWN, chunk_size=CHUNK_CHARS, chunk_overlap=CHUNK_OVERLAP
        )
    else:
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=CHUNK_CHARS, chunk_overlap=CHUNK_OVERLAP
        )
    return [
        Chunk(piece.strip(), section.location)
        for section in sections
        for piece in splitter.split_text(section.text)
        if piece.strip()
    ]
