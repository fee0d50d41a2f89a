"""A one-sheet .xlsx written as it is read: rows go straight into the zip, one at a time, so a
100,000-row export holds one row in memory, whatever its size.

Why not a library. Measured on 100,000 rows of the unit table (22 columns; bench/export.py,
this machine): openpyxl's write-only mode, which already uses lxml here, 43 s; xlsxwriter's
`constant_memory` mode 29 s; this writer 10 s. Both libraries spend their time in per-cell
calls (styles looked up, cell references parsed, each value checked and escaped by a method
call); a sheet of plain values needs none of it. What the exports need is small and fixed: a
styled header, column widths, a frozen header, a filter button on every column, dates shown
dd/mm/yyyy, text that stays text, and numbers. The parts around the sheet follow what
xlsxwriter writes (which Excel, LibreOffice and openpyxl open), less the theme and document
properties, which are optional.

Text is written inline (`t="inlineStr"`), never as a formula: "=HYPERLINK(…)" typed into a
report's title is text in Excel. The control characters a worksheet cannot hold (all but tab
and line ends) are dropped, as openpyxl's ILLEGAL_CHARACTERS_RE did.
"""

import io
import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

# What XML 1.0 cannot carry at all (control characters but tab and line ends, and the two
# non-characters); a carriage return is kept as a character reference, or a reader would turn
# it into a line feed.
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Excel's day 0 (its serial dates count from 30/12/1899, leap-year bug included).
EPOCH = date(1899, 12, 30).toordinal()
# Style ids in styles.xml below (cellXfs): 0 plain, 1 header, 2 date, 3 date and time.
HEADER, DATE, DATETIME = 1, 2, 3
# Rows are gathered into one write this often: far fewer calls into the zip's compressor.
ROWS_PER_WRITE = 200

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)
STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>'
    '<numFmt numFmtId="165" formatCode="dd/mm/yyyy hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><color rgb="FFFFFFFF"/><name val="Calibri"/><family val="2"/>'
    "</font></fonts>"
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFB3121B"/><bgColor indexed="64"/>'
    "</patternFill></fill></fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" '
    'applyFill="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0"/></styleSheet>'
)
SHEET_NAMESPACES = (
    'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def clean_text(value: str) -> str:
    return ILLEGAL.sub("", value)


def _text_cell(ref: str, value: str, style: str = "") -> str:
    # str.replace, not str.translate: four scans in C beat one per-character lookup in Python
    # (a third of the time on Vietnamese text).
    text = (
        ILLEGAL.sub("", value)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", "&#13;")
    )
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _row_xml(number: int, columns: list[str], values: Iterable) -> str:
    """One <row>; empty cells (None, "") are left out, as Excel itself does."""
    cells = []
    for letter, value in zip(columns, values, strict=False):
        if value is None or value == "":
            continue
        kind = type(value)
        if kind is str:
            cells.append(_text_cell(f"{letter}{number}", value))
        elif kind is int or kind is float:
            cells.append(f'<c r="{letter}{number}"><v>{value!r}</v></c>')
        elif kind is bool:
            cells.append(f'<c r="{letter}{number}" t="b"><v>{int(value)}</v></c>')
        elif kind is datetime:
            # Naive, in the district's time (the callers make it so); serial days and fraction.
            seconds = value.hour * 3600 + value.minute * 60 + value.second
            serial = value.toordinal() - EPOCH + (seconds + value.microsecond / 1e6) / 86400
            cells.append(f'<c r="{letter}{number}" s="{DATETIME}"><v>{serial!r}</v></c>')
        elif kind is date:
            serial = value.toordinal() - EPOCH
            cells.append(f'<c r="{letter}{number}" s="{DATE}"><v>{serial}</v></c>')
        elif isinstance(value, int | float):  # an int or float subclass (an IntEnum, say)
            cells.append(f'<c r="{letter}{number}"><v>{value!r}</v></c>')
        else:
            cells.append(_text_cell(f"{letter}{number}", str(value)))
    return f'<row r="{number}">{"".join(cells)}</row>'


def write_xlsx(
    target: BinaryIO,
    *,
    title: str,
    header: list[tuple[str, int]],
    rows: Iterable[Iterable],
    on_rows: Callable[[int], None] | None = None,
    every: int = 2000,
) -> int:
    """Writes a workbook of one sheet, `title`, to `target` (a file opened for binary writing;
    it need not be seekable). `header` is (label, width) per column. `on_rows(n)` is called
    with the number of rows written so far every `every` rows, for a progress bar. Returns the
    number of rows written (the header not counted)."""
    title = clean_text(title)[:31] or "Sheet1"
    columns = [column_letter(index) for index in range(1, len(header) + 1)]
    last = columns[-1] if columns else "A"
    written = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", ROOT_RELS)
        zf.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", STYLES)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            sheet = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            widths = "".join(
                f'<col min="{index}" max="{index}" width="{width}" customWidth="1"/>'
                for index, (_label, width) in enumerate(header, start=1)
            )
            header_cells = "".join(
                _text_cell(f"{letter}1", label, f' s="{HEADER}"')
                for letter, (label, _width) in zip(columns, header, strict=True)
            )
            sheet.write(
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f"<worksheet {SHEET_NAMESPACES}>"
                '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                "</sheetView></sheetViews>"
                '<sheetFormatPr defaultRowHeight="15"/>'
                f"{f'<cols>{widths}</cols>' if widths else ''}"
                f'<sheetData><row r="1">{header_cells}</row>'
            )
            batch: list[str] = []
            for row in rows:
                written += 1
                batch.append(_row_xml(written + 1, columns, row))
                if len(batch) >= ROWS_PER_WRITE:
                    sheet.write("".join(batch))
                    batch.clear()
                if on_rows is not None and written % every == 0:
                    on_rows(written)
            sheet.write("".join(batch))
            # A filter button on every column header, over every row written.
            sheet.write(
                f'</sheetData><autoFilter ref="A1:{last}{written + 1}"/>'
                '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
                'footer="0.3"/></worksheet>'
            )
            sheet.flush()
            sheet.detach()
        quoted = "'" + title.replace("'", "''") + "'"
        zf.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f"<workbook {SHEET_NAMESPACES}>"
            '<bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095" '
            'windowHeight="9660"/></bookViews>'
            f'<sheets><sheet name={quoteattr(title)} sheetId="1" r:id="rId1"/></sheets>'
            '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" '
            f'hidden="1">{escape(quoted)}!$A$1:${last}${written + 1}</definedName>'
            '</definedNames><calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>',
        )
    if on_rows is not None:
        on_rows(written)
    return written
