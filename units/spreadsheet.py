"""Reading and writing the district's organisation sheet: one row per unit, with up to two people.

This module knows files and cells only: which columns exist and what they are called in each
language, how to get rows out of an .xlsx or a .csv (UTF-8, UTF-16 or the Windows Vietnamese code
page Excel writes), and what the blank template looks like. Whether a row makes sense for the
tree is `units.importing`'s business.

The reader refuses what it cannot read faithfully rather than guessing: formulas (their cached
value may be stale or missing), merged cells (only the top-left cell holds the value), headers it
does not know or misses, more rows than MAX_ROWS.
"""

import codecs
import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass

from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from dongda.text import fold

from .models import Role, UnitKind, UnitSector

# A district has a few hundred units, a city a few thousand; a province's sheet fits too. The cap
# keeps a mistaken upload (a whole database dump) from holding a worker.
MAX_ROWS = 50_000
MAX_CELL_CHARS = 500


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # lazy text: the header in the active language
    required: bool
    example: str = ""


# One literal per header, so that each is translated (a lazy text formatted at import time would
# be frozen in the language active then).
PERSON_LABELS = {
    1: (gettext_lazy("Person 1: full name"), gettext_lazy("Person 1: e-mail"),
        gettext_lazy("Person 1: phone"), gettext_lazy("Person 1: role")),
    2: (gettext_lazy("Person 2: full name"), gettext_lazy("Person 2: e-mail"),
        gettext_lazy("Person 2: phone"), gettext_lazy("Person 2: role")),
}  # fmt: skip
PERSON_EXAMPLE = {
    1: ("Nguyễn Thị Thu Hà", "thuha@example.vn", "0912 345 678", "secretary"),
    2: ("", "", "", ""),
}


def _person_columns(n: int) -> list[Column]:
    parts = ("name", "email", "phone", "role")
    return [
        Column(f"person{n}_{part}", label, False, example)
        for part, label, example in zip(parts, PERSON_LABELS[n], PERSON_EXAMPLE[n], strict=True)
    ]


COLUMNS: tuple[Column, ...] = (
    Column("code", gettext_lazy("Unit code"), True, "p-kim-lien-cb01"),
    Column("name_vi", gettext_lazy("Unit name (Vietnamese)"), True, "Chi bộ Tổ dân phố số 1"),
    Column(
        "name_en", gettext_lazy("Unit name (English)"), False, "Residential Group No. 1 Party Cell"
    ),
    Column("kind", gettext_lazy("Kind"), True, "party_cell"),
    Column("parent_code", gettext_lazy("Parent unit code"), True, "p-kim-lien"),
    Column("member_count", gettext_lazy("Party members"), True, "35"),
    Column("sector", gettext_lazy("Sector"), False, "residential"),
    *_person_columns(1),
    *_person_columns(2),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}


def header_key(text: str) -> str:
    """Headers compare without case, accents, punctuation or spacing: "Mã đơn vị" = "ma don vi"."""
    return "".join(ch for ch in fold(text) if ch.isalnum())


def header_labels() -> dict[str, str]:
    """Every accepted header (in each language) to its column key."""
    labels = {}
    for language in ("vi", "en"):
        with translation.override(language):
            for column in COLUMNS:
                labels[header_key(str(column.label))] = column.key
    for column in COLUMNS:  # the keys themselves, for scripts
        labels[header_key(column.key)] = column.key
    return labels


def column_label(key: str) -> str:
    return str(COLUMN_BY_KEY[key].label)


class SheetError(Exception):
    """The file as a whole cannot be read; the message is in the active language."""


@dataclass
class Sheet:
    """The rows of the file: `rows[i]` is the cells of spreadsheet row `line[i]` by column key."""

    columns: list[str]
    rows: list[dict[str, object]]
    lines: list[int]


# -- reading ---------------------------------------------------------------------------------


def read_sheet(data: bytes, name: str = "") -> Sheet:
    """The rows of an .xlsx or .csv given as bytes; SheetError for a file that cannot be read
    whole and faithfully. The content decides the format, not the name."""
    if not data.strip():
        raise SheetError(_("The file is empty."))
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise SheetError(
            _("This is an old Excel file (.xls). Save it as .xlsx (Excel Workbook) and try again.")
        )
    text = _decode_text(data)
    return _read_csv(text)


def _decode_text(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SheetError(_("The file is neither an Excel workbook nor a CSV file.")) from exc
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Excel's "CSV (Comma delimited)" on a Vietnamese Windows writes code page 1258,
            # whose tones are separate combining marks (normalised to NFC below).
            text = data.decode("cp1258", errors="replace")
            if "\ufffd" in text:
                raise SheetError(
                    _("The file is neither an Excel workbook nor a CSV file.")
                ) from None
    # A CSV holds text: NULs and other control characters (bar tab and line ends) mean a binary.
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text[:65536]):
        raise SheetError(_("The file is neither an Excel workbook nor a CSV file."))
    return unicodedata.normalize("NFC", text)


def _read_csv(text: str) -> Sheet:
    first_line = text.split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(first_line, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise SheetError(_("The file is empty.")) from None
    except csv.Error as exc:
        raise SheetError(_("The file is neither an Excel workbook nor a CSV file.")) from exc
    columns = _columns_from_header(header)
    rows, lines = [], []
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            _check_row_count(len(rows))
            if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
                raise SheetError(
                    _("Row %(row)s has more cells than the header has columns.") % {"row": number}
                )
            rows.append(_row(columns, cells))
            lines.append(number)
    except csv.Error as exc:
        raise SheetError(_("The file is neither an Excel workbook nor a CSV file.")) from exc
    return _sheet(columns, rows, lines)


def _read_xlsx(data: bytes) -> Sheet:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise SheetError(_("The file is neither an Excel workbook nor a CSV file."))
        # First a streaming pass that only counts rows, so a sheet of a million rows is refused
        # without being loaded; then a full load, because merged cells and formulas are only
        # visible on a full worksheet.
        streamed = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        for count, _cells in enumerate(streamed.worksheets[0].iter_rows(values_only=True)):
            if count > MAX_ROWS:
                _check_row_count(count)
        streamed.close()
        workbook = load_workbook(io.BytesIO(data), data_only=False)
    except SheetError:
        raise
    except Exception as exc:  # a damaged ZIP or XML: openpyxl raises many kinds
        raise SheetError(_("The Excel file could not be read; it may be damaged.")) from exc
    sheet = workbook.worksheets[0]
    for merged in sheet.merged_cells.ranges:
        raise SheetError(
            _(
                "Cells %(cells)s are merged. Unmerge every cell (the import reads one value per "
                "cell) and try again."
            )
            % {"cells": merged.coord}
        )
    iterator = sheet.iter_rows()
    try:
        header_cells = next(iterator)
    except StopIteration:
        raise SheetError(_("The file is empty.")) from None
    header = [_cell_text(cell) for cell in header_cells]
    columns = _columns_from_header(header)
    rows, lines = [], []
    for cells in iterator:
        values = []
        for cell in cells:
            if cell.data_type == "f":
                raise SheetError(
                    _(
                        "Cell %(cell)s holds a formula. Replace formulas with their values "
                        "(copy, then paste values only) and try again."
                    )
                    % {"cell": cell.coordinate}
                )
            values.append(cell.value)
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        _check_row_count(len(rows))
        extra = values[len(columns) :]
        if any(v is not None and str(v).strip() for v in extra):
            raise SheetError(
                _("Row %(row)s has more cells than the header has columns.") % {"row": cells[0].row}
            )
        rows.append(_row(columns, values))
        lines.append(cells[0].row)
    return _sheet(columns, rows, lines)


def _check_row_count(count: int) -> None:
    if count >= MAX_ROWS:
        raise SheetError(
            _("The file has more than %(max)s rows; split it into smaller files.")
            % {"max": number_format(MAX_ROWS, force_grouping=True)}
        )


def _cell_text(cell) -> str:
    return "" if cell.value is None else str(cell.value)


def _columns_from_header(header: list) -> list[str]:
    labels = header_labels()
    while header and not str(header[-1] or "").strip():
        header = header[:-1]  # empty cells after the last header
    columns: list[str] = []
    for position, text in enumerate(header, start=1):
        text = unicodedata.normalize("NFC", str(text or "")).strip()
        key = labels.get(header_key(text))
        if not text:
            raise SheetError(_("Column %(n)s has no header.") % {"n": position})
        if key is None:
            raise SheetError(
                _(
                    "The column “%(header)s” is not one the import knows. "
                    "Use the template's headers."
                )
                % {"header": text[:80]}
            )
        if key in columns:
            raise SheetError(_("The column “%(header)s” appears twice.") % {"header": text[:80]})
        columns.append(key)
    missing = [column_label(c.key) for c in COLUMNS if c.required and c.key not in columns]
    if missing:
        raise SheetError(
            _("These columns are missing: %(columns)s. Use the template's headers.")
            % {"columns": ", ".join(f"“{m}”" for m in missing)}
        )
    return columns


def _row(columns: list[str], cells: list) -> dict[str, object]:
    return {key: (cells[i] if i < len(cells) else None) for i, key in enumerate(columns)}


def _sheet(columns: list[str], rows: list, lines: list) -> Sheet:
    if not rows:
        raise SheetError(_("The file has headers but no rows of units."))
    return Sheet(columns=columns, rows=rows, lines=lines)


# -- the template ----------------------------------------------------------------------------


def template_bytes() -> bytes:
    """The blank sheet, headers in the active language, an example row, and a second sheet
    listing the kinds, sectors and roles (by code and by label: both are accepted)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Units")[:31]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE7F0")
    for position, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=position, value=str(column.label))
        cell.font = bold
        cell.fill = fill
        sheet.cell(row=2, column=position, value=column.example or None)
        sheet.column_dimensions[cell.column_letter].width = max(14, len(str(column.label)) + 2)
    sheet.freeze_panes = "A2"

    lists = workbook.create_sheet(_("Allowed values")[:31])
    lists.append([_("Kind"), _("Code"), _("Allowed under")])
    for cell in lists[1]:
        cell.font = bold
    from .importing import ALLOWED_PARENT_KINDS  # the rule lives with the import

    labels = dict(UnitKind.choices)
    for value, label in UnitKind.choices:
        parents = ALLOWED_PARENT_KINDS.get(value, ())
        under = ", ".join(str(labels[p]) for p in parents) or _("(the district itself, no parent)")
        lists.append([str(label), value, under])
    lists.append([])
    lists.append([_("Sector"), _("Code")])
    lists.cell(row=lists.max_row, column=1).font = bold
    for value, label in UnitSector.choices:
        lists.append([str(label), value])
    lists.append([])
    lists.append([_("Role"), _("Code")])
    lists.cell(row=lists.max_row, column=1).font = bold
    for role in (Role.SECRETARY, Role.CLERK):
        lists.append([str(role.label), role.value])
    for letter, width in (("A", 40), ("B", 24), ("C", 70)):
        lists.column_dimensions[letter].width = width

    # A drop-down on the kind column helps whoever fills the sheet; codes or labels both import.
    kind_letter = sheet.cell(row=1, column=[c.key for c in COLUMNS].index("kind") + 1)
    validation = DataValidation(
        type="list", formula1='"' + ",".join(UnitKind.values) + '"', allow_blank=True
    )
    validation.showErrorMessage = False
    sheet.add_data_validation(validation)
    validation.add(f"{kind_letter.column_letter}2:{kind_letter.column_letter}{MAX_ROWS + 1}")

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
