"""Evidence files (minutes, plans, progress evidence): what is accepted and how it is checked,
under which name it is handed out, and when it leaves the disk.

A file is recognised by its first bytes, never by its name or by the Content-Type the browser
sent, so a renamed executable or an HTML page called "bien-ban.pdf" is refused. Word and Excel
files carrying macros, ActiveX controls or embedded programs are refused too. The size limit is
checked before anything is stored, and the stored name is opaque (see `evidence_path`) with the
extension of what the file is. The person's own file name, diacritics included, is kept in a
column and shown as it is; a download is named after it but always ends in the extension of
what the file is (`download_name`), so a PDF called "bien-ban.cmd" downloads as "bien-ban.pdf".

A file replaced by another or left by a deleted report is removed from the disk once the
transaction that let go of it commits (`discard_on_commit`), never before: a rolled-back edit
still has its file.
"""

import logging
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass

from defusedxml import ElementTree
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dongda.text import nfc

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvidenceType:
    label: str
    extension: str
    content_type: str
    #: Other extensions people give files of this type, kept in a download name as they are.
    aliases: tuple[str, ...] = ()

    @property
    def extensions(self) -> tuple[str, ...]:
        return (self.extension, *self.aliases)


PDF = EvidenceType("PDF", ".pdf", "application/pdf")
DOCX = EvidenceType(
    "DOCX", ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)
XLSX = EvidenceType(
    "XLSX", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)
JPEG = EvidenceType("JPG", ".jpg", "image/jpeg", aliases=(".jpeg",))
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


#: Parts of a Word or Excel file that run code or carry it: the macro project (VBA and its
#: signature), Excel 4 macro sheets and dialog sheets, ActiveX controls, and a macro-enabled or
#: binary Office file anywhere inside.
ACTIVE_PART = re.compile(
    r"(^|/)(vbaproject\.bin|vbaprojectsignature\.bin|vbadata\.xml)$"
    r"|(^|/)(activex|macrosheets|dialogsheets)/"
    r"|\.(docm|dotm|xlsm|xltm|xlam|xlsb|pptm|potm|ppsm|ppam|sldm)$",
    re.IGNORECASE,
)
#: What an embedded object may be: a plain Office document (a chart's data) or a picture.
#: Anything else is an OLE package (oleObject1.bin, which can hold any program), a legacy Office
#: file (which can hold macros), or something Office would hand to another program to open.
SAFE_EMBEDDING = re.compile(r"\.(docx|xlsx|pptx|png|jpe?g|gif|emf|wmf)$", re.IGNORECASE)
#: Content types declared only by a macro-enabled file or one with controls or objects in it.
ACTIVE_CONTENT_TYPE = re.compile(r"macroenabled|vbaproject|activex|oleobject|macrosheet", re.I)
#: The one kind of relationship that may point outside the file: a hyperlink, which Office
#: opens only when the reader clicks it. Any other external target (a template, an OLE object,
#: a frame, a sub-document, an image) is fetched, or run, when the file opens: the way a .docx
#: without macros of its own brings them in ("Follina", CVE-2022-30190, was an external OLE
#: object in word/_rels/document.xml.rels).
HYPERLINK_RELATIONSHIP = re.compile(r"/relationships/hyperlink$", re.I)
#: The XML parts read here are a few kilobytes; a much bigger one is a ZIP bomb, not a document.
XML_PART_MAX_BYTES = 1024 * 1024


def has_active_content(uploaded) -> bool:
    """Whether a Word or Excel file (a ZIP) carries macros, ActiveX controls, embedded programs
    or a template fetched from elsewhere when it opens (the usual way to bring macros into a
    .docx that has none of its own). Reads the list of parts and two small XML parts."""
    uploaded.seek(0)
    try:
        with zipfile.ZipFile(uploaded) as archive:
            infos = archive.infolist()
            for info in infos:
                name = info.filename
                if ACTIVE_PART.search(name):
                    return True
                if "/embeddings/" in f"/{name.lower()}" and not SAFE_EMBEDDING.search(name):
                    return True
            for info in infos:
                content_types = info.filename == "[Content_Types].xml"
                if not (content_types or info.filename.lower().endswith(".rels")):
                    continue
                if info.file_size > XML_PART_MAX_BYTES:
                    return True
                # Parsed, not searched as bytes: the XML may be UTF-16, quote its attributes
                # either way or space them out, and still mean the same to Office.
                root = ElementTree.fromstring(archive.read(info))
                for element in root.iter():
                    attributes = {_local(k).lower(): v for k, v in element.attrib.items()}
                    if content_types and ACTIVE_CONTENT_TYPE.search(
                        attributes.get("contenttype", "")
                    ):
                        return True
                    external = attributes.get("targetmode", "").strip().lower() == "external"
                    if external and not HYPERLINK_RELATIONSHIP.search(
                        attributes.get("type", "").strip()
                    ):
                        return True
    except (
        ElementTree.ParseError,
        zipfile.BadZipFile,
        OSError,
        ValueError,
        EOFError,
        NotImplementedError,  # a compression method zipfile lacks
        RuntimeError,  # an encrypted part
        zlib.error,
    ):
        return True  # what cannot be looked into is not passed on
    finally:
        uploaded.seek(0)
    return False


def _local(name: str) -> str:
    """An XML attribute's name without its namespace ("{ns}TargetMode" → "TargetMode")."""
    return name.rsplit("}", 1)[-1]


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
        "active_content": _(
            "“%(name)s” contains macros, ActiveX controls or embedded programs, which are not "
            "accepted. Save it as an ordinary .docx or .xlsx file (or as a PDF) and choose it "
            "again."
        ),
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
                # The size itself is not shown: past the limit the upload handler stops keeping
                # the file (dongda.uploads), so the size seen is only how far it got.
                params={"name": display_name, "limit": filesizeformat(limit)},
            )
        kind = sniff(uploaded)
        if kind is None:
            raise forms.ValidationError(
                self.error_messages["bad_type"], code="bad_type", params={"name": display_name}
            )
        if kind in (DOCX, XLSX) and has_active_content(uploaded):
            raise forms.ValidationError(
                self.error_messages["active_content"],
                code="active_content",
                params={"name": display_name},
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


#: What a computer takes for a file's type at the end of its name: a few letters or digits, at
#: least one a letter. ".2024" in "Biên bản 12.3.2024" is part of a date, not an extension.
EXTENSION_LIKE = re.compile(r"\.(?=[0-9]*[A-Za-z])[A-Za-z0-9]{1,8}$")
#: Handed out, never opened by us, when a stored file is none of the accepted types (one put
#: there some other way): no program claims this extension, so nothing runs or renders it.
UNKNOWN_EXTENSION = ".bin"


def download_name(display_name: str, kind: EvidenceType | None, *, fallback: str) -> str:
    """The name a file is downloaded under: the name the person gave it, ending in the extension
    of what the file is. An extension that says otherwise is replaced, not kept in front of the
    right one ("bien-ban.cmd" → "bien-ban.pdf", "bao-cao.pdf.lnk" → "bao-cao.pdf"): a name
    like "bien-ban.cmd.pdf" shows as "bien-ban.cmd" where extensions are hidden. A name without
    one gets it added ("Biên bản 12.3.2024" → "Biên bản 12.3.2024.pdf"). `fallback` stands for
    a name that is nothing but an extension."""
    extensions = kind.extensions if kind else (UNKNOWN_EXTENSION,)

    def ends_right(name: str) -> bool:
        return any(name.lower().endswith(e) and len(name) > len(e) for e in extensions)

    # Windows drops trailing dots and spaces, which would uncover what stands before them.
    name = (display_name or "").rstrip(". \t")
    if ends_right(name):
        return name
    if other := EXTENSION_LIKE.search(name):
        name = name[: other.start()].rstrip(". \t")
        if ends_right(name):
            return name
    return (name or fallback) + extensions[0]


def discard_on_commit(*stored) -> None:
    """Removes stored evidence files once the current transaction commits; nothing happens if
    it rolls back, so a failed edit keeps the file its report still points to. A file that
    cannot be removed is logged, not raised: the change it belongs to is already saved."""
    for field_file in stored:
        if not field_file or not field_file.name:
            continue
        storage, name = field_file.storage, field_file.name

        def remove(storage=storage, name=name) -> None:
            storage.delete(name)
            logger.info("evidence file removed: %s", name)

        transaction.on_commit(remove, robust=True)
