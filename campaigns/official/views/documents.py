"""The document itself: the on-screen preview and the Word and PDF files."""

import io

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.templatetags.static import static
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe

from ...models import OfficialReport
from .. import pdf
from ..build import build_document
from ..docx import render_docx
from .access import (
    CONTENT_TYPES,
    State,
    readable_report,
    report_document,
)


def _preview_fonts(html: str) -> str:
    """The renderer names its fonts by their files (file://), which a browser does not load
    from a web page; the preview takes the same files from the static folder."""
    for face, uri in pdf.font_urls().items():
        name = pdf.FONT_FILES[face]
        html = html.replace(uri, static(f"fonts/liberation-serif/{name}"))
    return html


@require_safe
@login_required
@csp_override(
    {
        "default-src": [CSP.NONE],
        "style-src": [CSP.UNSAFE_INLINE],
        "font-src": [CSP.SELF],
        "frame-ancestors": [CSP.NONE],
    }
)
def report_preview(request, pk: int):
    """The document as the PDF draws it, as one HTML page: its styles are inline, so this
    response allows inline styles and nothing else (no scripts, no images)."""
    report = readable_report(request, pk)
    return HttpResponse(_preview_fonts(pdf.render_html(report_document(report))))


def file_name(report: OfficialReport, extension: str) -> str:
    stem = "bao-cao" if report.language == "vi" else "report"
    name = f"{stem}-{report.unit.code}-{report.as_of.isoformat()}"
    if report.state == State.DRAFT:
        name += "-du-thao" if report.language == "vi" else "-draft"
    return f"{name}.{extension}"


@require_safe
@login_required
def report_file(request, pk: int, extension: str):
    """The Word file or the PDF: a draft drawn from today's data, an issued report exactly the
    bytes drawn when it was issued."""
    report = readable_report(request, pk)
    if report.state == State.DRAFT:
        document = build_document(report).document
        data = render_docx(document) if extension == "docx" else pdf.render_pdf(document)
    else:
        stored = report.docx if extension == "docx" else report.pdf
        if stored is None:
            raise Http404
        data = bytes(stored)
    response = FileResponse(
        io.BytesIO(data),
        as_attachment=True,
        filename=file_name(report, extension),
        content_type=CONTENT_TYPES[extension],
    )
    response["Cache-Control"] = "private, no-store"
    return response
