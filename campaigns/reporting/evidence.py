"""Evidence files (minutes, plans, progress evidence): what is accepted and how it is checked.

A file is recognised by its first bytes, never by its name or by the Content-Type the browser
sent, so a renamed executable or an HTML page called "bien-ban.pdf" is refused. The size limit is
checked before anything is stored, and the stored name is opaque (see `evidence_path`); the
person's own file name, diacritics included, is kept in a column and given back on download.
"""

import unicodedata
import zipfile
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dongda.text import nfc


@dataclass(frozen=True)
class EvidenceType:
    label: str
    extension: str
    content_type: str


PDF = EvidenceType("PDF", ".pdf", "application/pdf")
DOCX = EvidenceType(
    "DOCX", ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)
XLSX = EvidenceType(
    "XLSX", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)
JPEG = EvidenceType("JPG", ".jpg", "image/jpeg")
PNG = EvidenceType("PNG", ".png", "image/png")
ACCEPTED_TYPES = (PDF, DOCX, XLSX, JPEG, PNG)
BY_EXTENSION = {t.extension: t for t in ACCEPTED_TYPES} | {".jpeg": JPEG}


def sniff(uploaded) -> EvidenceType | None:
    """The accepted type the content is, or None. Office files are ZIP archives: they are told
    apart by the parts inside (word/document.xml, xl/workbook.xml), which a plain ZIP lacks."""
    uploaded.seek(0)
    head = uploaded.read(16)
    uploaded.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(uploaded) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            uploaded.seek(0)
        if "[Content_Types].xml" not in names:
            return None
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
    return None


def clean_display_name(name: str) -> str | None:
    """The file name as the person gave it, NFC, or None when it could be a path: a name is a
    name, and one holding a separator or a control character is refused rather than guessed at."""
    name = nfc(name or "").strip()
    if not name or name in {".", ".."} or "/" in name or "\\" in name:
        return None
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        return None
    return name[:255]


class EvidenceField(forms.FileField):
    """A file field that accepts the evidence types only, by content, under the size limit."""

    default_error_messages = {
        "bad_type": _(
            "“%(name)s” is not a PDF, DOCX, XLSX, JPG or PNG file (its content was checked, not "
            "its name)."
        ),
        "too_big": _("“%(name)s” is larger than the %(limit)s a file may be."),
        "bad_name": _("The file name must not contain folders or special characters."),
    }

    def __init__(self, *args, **kwargs):
        # Lazy: a form class is built once at import, and its help text must follow the
        # language of each request (and a changed size limit).
        kwargs.setdefault("help_text", lazy(_help_text, str)())
        kwargs.setdefault("widget", forms.FileInput(attrs={"accept": accept_attribute()}))
        super().__init__(*args, **kwargs)

    def to_python(self, data):
        uploaded = super().to_python(data)
        if uploaded is None or not isinstance(uploaded, UploadedFile):
            return uploaded
        display_name = clean_display_name(uploaded.name)
        if display_name is None:
            raise forms.ValidationError(self.error_messages["bad_name"], code="bad_name")
        limit = settings.EVIDENCE_MAX_BYTES
        if uploaded.size > limit:
            raise forms.ValidationError(
                self.error_messages["too_big"],
                code="too_big",
                # The size itself is not shown: past the limit the upload stops being read.
                params={"name": display_name, "limit": filesizeformat(limit)},
            )
        kind = sniff(uploaded)
        if kind is None:
            raise forms.ValidationError(
                self.error_messages["bad_type"], code="bad_type", params={"name": display_name}
            )
        uploaded.evidence_type = kind
        uploaded.display_name = display_name
        # The stored name gets the extension of what the file is, whatever it was called.
        uploaded.name = f"evidence{kind.extension}"
        return uploaded


def _help_text() -> str:
    return gettext("PDF, DOCX, XLSX, JPG or PNG, at most %(limit)s.") % {
        "limit": filesizeformat(settings.EVIDENCE_MAX_BYTES)
    }


def accept_attribute() -> str:
    return ",".join([*BY_EXTENSION, *{t.content_type for t in ACCEPTED_TYPES}])


def content_type_of(stored_name: str) -> str:
    """The type a stored file was recognised as, from the extension we gave it on upload."""
    suffix = "." + stored_name.rsplit(".", 1)[-1].lower() if "." in stored_name else ""
    kind = BY_EXTENSION.get(suffix)
    return kind.content_type if kind else "application/octet-stream"
