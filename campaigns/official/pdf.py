"""The official report as a PDF: the body drawn by WeasyPrint from an HTML template, the appendix
by ReportLab (`pdf_table.py`: WeasyPrint takes minutes and gigabytes for a district's 10,000
rows), joined by pypdf into one file.

Laid out like the Word file (`docx.py`), in the Central Office's format (guidance 36-HD/VPTW,
2018). The fonts are the project's own copy of Liberation Serif (Times New Roman's metrics),
loaded by `@font-face` from their files, so a PDF looks the same whichever server draws it and
embeds every Vietnamese glyph it uses. The template is autoescaped: every text in a
`ReportDocument` is plain text, and markup a person typed shows as the characters they typed.
"""

import dataclasses
import io

from django.conf import settings
from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from .content import ReportDocument
from .docx import column_shares, document_paragraphs, plain_text
from .pdf_table import render_appendix_pdf

TEMPLATE = "campaigns/official/report_pdf.html"
LANGUAGE_TAGS = {"vi": "vi-VN", "en": "en-GB"}
FONT_FILES = {
    "regular": "LiberationSerif-Regular.ttf",
    "bold": "LiberationSerif-Bold.ttf",
    "italic": "LiberationSerif-Italic.ttf",
    "bold_italic": "LiberationSerif-BoldItalic.ttf",
}


def render_html(document: ReportDocument, *, include_appendix: bool = True) -> str:
    """The report as one HTML page: the whole of it for a preview on screen, the body pages
    alone (`include_appendix=False`) for WeasyPrint."""
    return render_to_string(TEMPLATE, _context(document, include_appendix=include_appendix))


def render_pdf(document: ReportDocument) -> bytes:
    """The body pages (to the signature) by WeasyPrint and the appendix's by ReportLab, in one
    file with the report's title and language."""
    # The body's page has no appendix; its rows are not copied and cleaned for nothing.
    body_document = dataclasses.replace(
        document, appendix=dataclasses.replace(document.appendix, rows=[])
    )
    # The page names nothing but the font files; refusing other schemes keeps it that way.
    fetcher = URLFetcher(allowed_protocols={"file"})
    html = HTML(string=render_html(body_document, include_appendix=False), url_fetcher=fetcher)
    body = html.write_pdf(font_config=FontConfiguration())
    appendix = render_appendix_pdf(document.appendix, document.language)

    writer = PdfWriter()
    body_pages = PdfReader(io.BytesIO(body))
    writer.append(body_pages)
    if appendix:
        writer.append(PdfReader(io.BytesIO(appendix)))
    # pypdf copies pages, not a file's properties: the title, author and language are set again.
    metadata = dict(body_pages.metadata or {})
    for key, value in (
        ("/Title", document.document_title),
        ("/Author", document.header.issuing_body),
    ):
        if plain_text(value):
            metadata[key] = plain_text(value)
    writer.add_metadata(metadata)
    writer.root_object[NameObject("/Lang")] = TextStringObject(_language_tag(document))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def font_urls() -> dict[str, str]:
    directory = settings.BASE_DIR / "static" / "fonts" / "liberation-serif"
    return {face: (directory / name).as_uri() for face, name in FONT_FILES.items()}


def _plain(value):
    """The content's data with every string cleaned as for the Word file: a lone surrogate stops
    WeasyPrint, and a control character is drawn as a missing-glyph box."""
    if isinstance(value, str):
        return plain_text(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _language_tag(document: ReportDocument) -> str:
    return LANGUAGE_TAGS.get(document.language, "vi-VN")


def _context(document: ReportDocument, *, include_appendix: bool) -> dict:
    document = ReportDocument.from_data(_plain(document.to_data()))
    appendix = document.appendix
    return {
        "document": document,
        "include_appendix": include_appendix,
        "header": document.header,
        "language_tag": _language_tag(document),
        "fonts": font_urls(),
        "title_lines": [line.strip() for line in document.header.title.split("\n")],
        "sections": [
            {
                "heading": section.heading,
                "paragraphs": [
                    piece
                    for paragraph in section.paragraphs
                    for piece in document_paragraphs(paragraph.text)
                ],
            }
            for section in document.sections
        ],
        # Strings, so that the Vietnamese locale's decimal comma never reaches the CSS.
        "column_widths": [f"{100 * share:.3f}%" for share in column_shares(appendix)],
        # nth-child counts from 1.
        "numeric_columns": [str(index + 1) for index in appendix.numeric],
    }
