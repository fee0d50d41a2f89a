"""The official report's appendix as PDF pages, drawn by ReportLab; `pdf.py` joins them to the
body's pages (WeasyPrint's) with pypdf.

The appendix has a row per unit of the committee, 10,000 for a large district: WeasyPrint takes two
minutes and 2 GB for that many table rows, this module two to three seconds. Its pages match the
body's: landscape A4 with the same margins (20/20/30/15 mm), Liberation Serif from
`static/fonts/liberation-serif/` (embedded: every cell style and paragraph style names it and the
canvas starts in it, so no unembedded base-14 font such as Helvetica is named), the title centred in
bold, the subtitle in italics, then the table with its header row on every page.

The rows are laid out here, page by page, rather than by ReportLab's table splitting: a `Table` of
10,000 rows splits in time that grows with the square of its length (each split copies the rest),
and chunk tables stacked on a page would each show their header row in the middle of it. So each
row's height is worked out once, the rows are packed into pages, and each page has a `Table` of the
header row and its rows, row heights given, then a page break: one continuous table, one header per
page. A row taller than a page (a pasted essay for a unit name) has a table of its own, which
ReportLab splits inside the row.

Speed: a cell is drawn as plain lines of text, not as a `Paragraph`. A text that fits its column is
one line; a longer one is broken into lines here (`wrap_lines`: at spaces, a word wider than the
column between letters), which is what a `Paragraph` would do for one font and one alignment at a
fraction of the cost, and leaves no markup to escape: "<b>" and "&" are the characters typed. A
number is never broken: one wider than its column's room ("10.000" in the column of row numbers)
is drawn into the padding, smaller if need be (`_Number`). A page's cells go into one PDF text
object (`_PageTable`) instead of one each, the cell styles are shared objects instead of style
commands applied cell by cell, and each distinct text of a column is measured once.
"""

import io
import threading
from xml.sax.saxutils import escape

from django.conf import settings
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)
from reportlab.platypus.tables import CellStyle

from .content import Appendix
from .docx import column_shares, plain_text

LANGUAGE_TAGS = {"vi": "vi-VN", "en": "en-GB"}
PAGE_SIZE = landscape(A4)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 20 * mm, 20 * mm, 30 * mm, 15 * mm
FRAME_WIDTH = PAGE_SIZE[0] - MARGIN_LEFT - MARGIN_RIGHT
FRAME_HEIGHT = PAGE_SIZE[1] - MARGIN_TOP - MARGIN_BOTTOM

#: ReportLab's names for the faces, and their files in `static/fonts/liberation-serif/`.
REGULAR, BOLD, ITALIC, BOLD_ITALIC = (
    "LiberationSerif",
    "LiberationSerif-Bold",
    "LiberationSerif-Italic",
    "LiberationSerif-BoldItalic",
)
FONT_FILES = {
    REGULAR: "LiberationSerif-Regular.ttf",
    BOLD: "LiberationSerif-Bold.ttf",
    ITALIC: "LiberationSerif-Italic.ttf",
    BOLD_ITALIC: "LiberationSerif-BoldItalic.ttf",
}

FONT_SIZE = 10
LEADING = 12
PADDING_X = 4
PADDING_TOP = 2
PADDING_BOTTOM = 3
GRID = 0.5
#: The padding left beside a number too wide for its column's usual padding ("10.000" in the
#: column of row numbers): a number is never broken between its digits.
NUMBER_PADDING = 1
#: Room left at the foot of each page, so that rounding never pushes a page's table over.
SLACK = 0.5

_fonts_lock = threading.Lock()
_fonts_registered = False


def register_fonts() -> None:
    """Liberation Serif for ReportLab, once per process (the registry is global)."""
    global _fonts_registered
    if _fonts_registered:
        return
    with _fonts_lock:
        if _fonts_registered:
            return
        directory = settings.BASE_DIR / "static" / "fonts" / "liberation-serif"
        for name, file in FONT_FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(directory / file)))
        pdfmetrics.registerFontFamily(
            REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC
        )
        _fonts_registered = True


def render_appendix_pdf(appendix: Appendix, language: str) -> bytes:
    """The appendix on landscape A4 pages; no pages at all (b"") when it has no columns."""
    if not appendix.columns:
        return b""
    register_fonts()
    output = io.BytesIO()
    document = BaseDocTemplate(
        output,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=plain_text(appendix.title),
        lang=LANGUAGE_TAGS.get(language, "vi-VN"),
        initialFontName=REGULAR,
        initialFontSize=FONT_SIZE,
        initialLeading=LEADING,
    )
    frame = Frame(
        MARGIN_LEFT,
        MARGIN_BOTTOM,
        FRAME_WIDTH,
        FRAME_HEIGHT,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="appendix",
    )
    document.addPageTemplates([PageTemplate(id="appendix", frames=[frame])])
    document.build(_Layout(appendix).flowables())
    return output.getvalue()


_TITLE = ParagraphStyle(
    "AppendixTitle",
    fontName=BOLD,
    fontSize=14,
    leading=16,
    alignment=TA_CENTER,
)
_SUBTITLE = ParagraphStyle(
    "AppendixSubtitle",
    fontName=ITALIC,
    fontSize=12,
    leading=14,
    alignment=TA_CENTER,
    spaceAfter=12,
)


class _Layout:
    """The appendix's flowables: the title, the subtitle and one table per page."""

    def __init__(self, appendix: Appendix):
        self.count = count = len(appendix.columns)
        self.title = plain_text(appendix.title)
        self.subtitle = plain_text(appendix.subtitle)
        self.widths = [FRAME_WIDTH * share for share in column_shares(appendix)]
        self.numeric = numeric = {index for index in appendix.numeric if 0 <= index < count}
        self.rows = appendix.rows
        # A district's rows repeat their texts (committees, states, numbers): each distinct text
        # of a column is measured, and broken into lines, once.
        self._cells = [{} for _ in range(count)]
        self.header, self.header_height = self._row(appendix.columns, font=BOLD, cache=False)
        # Every cell's font, alignment and padding, as shared cell styles rather than table
        # style commands (which ReportLab applies cell by cell, table by table).
        header_styles = [_cell_style("header", BOLD, "CENTER", "MIDDLE") for _ in range(count)]
        body_styles = [
            _cell_style("body", REGULAR, "RIGHT" if index in numeric else "LEFT", "TOP")
            for index in range(count)
        ]
        self._styles = (header_styles, body_styles)
        self.style = TableStyle([("GRID", (0, 0), (-1, -1), GRID, colors.black)])

    def flowables(self) -> list:
        title = Paragraph(escape(self.title), _TITLE)
        subtitle = Paragraph(escape(self.subtitle), _SUBTITLE)
        heading = [title, subtitle]
        heading_height = (
            sum(paragraph.wrap(FRAME_WIDTH, FRAME_HEIGHT)[1] for paragraph in heading)
            + subtitle.getSpaceAfter()
        )
        page_room = FRAME_HEIGHT - self.header_height - SLACK
        flowables = list(heading)
        room = page_room - heading_height
        cells, heights = [], []
        for row in self.rows:
            values, height = self._row(row)
            if height > room and cells:
                flowables += [self._table(cells, heights), PageBreak()]
                cells, heights, room = [], [], page_room
            if height > room:
                # Taller than a page: on pages of its own (or under the heading), split
                # inside the row by ReportLab.
                flowables += [self._table([values], None, split_in_row=True), PageBreak()]
                room = page_room
                continue
            cells.append(values)
            heights.append(height)
            room -= height
        if cells or len(flowables) == len(heading):
            flowables.append(self._table(cells, heights))
        else:
            flowables.pop()  # the page break after the last table
        return flowables

    def _table(self, cells, heights, *, split_in_row=False) -> Table:
        header_styles, body_styles = self._styles
        return _PageTable(
            [self.header, *cells],
            colWidths=self.widths,
            rowHeights=None if heights is None else [self.header_height, *heights],
            style=self.style,
            cellStyles=[header_styles, *([body_styles] * len(cells))],
            normalizedData=1,
            repeatRows=1,
            splitInRow=1 if split_in_row else 0,
            spaceBefore=0,
            spaceAfter=0,
            hAlign="LEFT",
        )

    def _row(self, texts, *, font=REGULAR, cache=True) -> tuple[list[str], float]:
        """The row's cell texts, broken into lines to fit their columns, and its height."""
        values = []
        height = LEADING
        for index in range(self.count):
            text = texts[index] if index < len(texts) else ""
            cells = self._cells[index]
            cell = cells.get(text) if cache else None
            if cell is None:
                cell = self._cell(text, self.widths[index], font, cache and index in self.numeric)
                if cache:
                    cells[text] = cell
            value, lines_height = cell
            values.append(value)
            if lines_height > height:
                height = lines_height
        return values, height + PADDING_TOP + PADDING_BOTTOM

    @staticmethod
    def _cell(text, width, font, numeric=False):
        """The text drawn for a cell of a column of that width, its lines broken to fit, and the
        height of its lines."""
        text = plain_text(str(text)).replace("\t", " ").strip()
        room = width - 2 * PADDING_X
        if "\n" not in text:
            text_width = pdfmetrics.stringWidth(text, font, FONT_SIZE)
            if text_width <= room:
                return text, LEADING
            if numeric and len(text.split()) == 1:
                return _Number.fitted(text, text_width, width), LEADING
        lines = wrap_lines(text, font, FONT_SIZE, room)
        return "\n".join(lines), len(lines) * LEADING


class _Number(str):
    """A number wider than its column less the usual padding, drawn whole: right-aligned up to
    `NUMBER_PADDING` from the grid line, and in a smaller size if it is wider than that."""

    size = FONT_SIZE

    @classmethod
    def fitted(cls, text: str, text_width: float, column_width: float) -> "_Number":
        number = cls(text)
        room = column_width - 2 * NUMBER_PADDING
        if text_width > room:
            number.size = FONT_SIZE * room / text_width
        return number


def wrap_lines(text: str, font: str, size: float, room: float) -> list[str]:
    """The text's lines in a column `room` points wide: each "\\n" starts a line, words go on a
    line while they fit, and a word wider than the column is cut between letters."""
    space = pdfmetrics.stringWidth(" ", font, size)
    lines = []
    for piece in text.split("\n"):
        line, used = [], 0.0
        for word in piece.split():
            width = pdfmetrics.stringWidth(word, font, size)
            if line and used + space + width <= room:
                line.append(word)
                used += space + width
                continue
            if line:
                lines.append(" ".join(line))
            if width <= room:
                line, used = [word], width
                continue
            parts = _cut_word(word, font, size, room)
            lines += parts[:-1]
            line = [parts[-1]]
            used = pdfmetrics.stringWidth(parts[-1], font, size)
        lines.append(" ".join(line))
    return lines


def _cut_word(word: str, font: str, size: float, room: float) -> list[str]:
    parts, start, used = [], 0, 0.0
    for index, letter in enumerate(word):
        width = pdfmetrics.stringWidth(letter, font, size)
        if used + width > room and index > start:
            parts.append(word[start:index])
            start, used = index, 0.0
        used += width
    parts.append(word[start:])
    return parts


class _PageTable(Table):
    """A table that writes its text cells into one text object rather than one each: the
    cells' texts are most of the appendix, and a text object per cell is most of its time."""

    def draw(self):
        self._text = self.canv.beginText()
        self._text_font = None
        super().draw()
        self.canv.drawText(self._text)
        del self._text

    def _drawCell(self, cellval, cellstyle, pos, size):
        """A text cell's lines where `Table._drawCell` would put them, in the page's text
        object; anything else as `Table` draws it."""
        if not isinstance(cellval, str):
            return super()._drawCell(cellval, cellstyle, pos, size)
        if not cellval:
            return None
        text = self._text
        font = (cellstyle.fontname, cellstyle.fontsize, cellstyle.leading)
        if font != self._text_font:
            text.setFont(*font)
            self._text_font = font
        name, size_pt, leading = font
        left, bottom = pos
        width, height = size
        lines = cellval.split("\n")
        if cellstyle.valign == "MIDDLE":
            y = (
                bottom
                + (cellstyle.bottomPadding + height - cellstyle.topPadding + len(lines) * leading)
                / 2
                - size_pt
            )
        else:
            y = bottom + height - cellstyle.topPadding - size_pt
        alignment = cellstyle.alignment
        if isinstance(cellval, _Number):
            # On the line's baseline, whatever its size.
            text.setFont(name, cellval.size, leading)
            self._text_font = (name, cellval.size, leading)
            line_width = pdfmetrics.stringWidth(cellval, name, cellval.size)
            text.setTextOrigin(left + width - NUMBER_PADDING - line_width, y)
            text.textOut(cellval)
            return None
        for line in lines:
            if not line:
                y -= leading
                continue
            if alignment == "LEFT":
                x = left + cellstyle.leftPadding
            else:
                line_width = pdfmetrics.stringWidth(line, name, size_pt)
                if alignment == "RIGHT":
                    x = left + width - cellstyle.rightPadding - line_width
                else:
                    x = (
                        left
                        + (width + cellstyle.leftPadding - cellstyle.rightPadding - line_width) / 2
                    )
            text.setTextOrigin(x, y)
            text.textOut(line)
            y -= leading
        return None


def _cell_style(name, font, alignment, valign) -> CellStyle:
    style = CellStyle(name)
    style.fontname = font
    style.fontsize = FONT_SIZE
    style.leading = LEADING
    style.alignment = alignment
    style.valign = valign
    style.leftPadding = style.rightPadding = PADDING_X
    style.topPadding = PADDING_TOP
    style.bottomPadding = PADDING_BOTTOM
    return style
