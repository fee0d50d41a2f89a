"""Sheets for the import tests, built in memory the way Excel or a script would write them."""

import csv
import io
import unicodedata

from openpyxl import Workbook

from campaigns.models import OutgoingMail
from units.models import Assignment, HistoricalUnit, Unit, User

HEADER_VI = [
    "Mã đơn vị", "Tên đơn vị (tiếng Việt)", "Tên đơn vị (tiếng Anh)", "Loại", "Mã đơn vị cấp trên",
    "Số đảng viên", "Người 1: họ và tên", "Người 1: thư điện tử", "Người 1: điện thoại",
    "Người 1: vai trò",
]  # fmt: skip
HEADER_EN = [
    "Unit code", "Unit name (Vietnamese)", "Unit name (English)", "Kind", "Parent unit code",
    "Party members", "Person 1: full name", "Person 1: e-mail", "Person 1: phone",
    "Person 1: role",
]  # fmt: skip


def unit_row(code, name, kind="party_cell", parent="p-kim-lien", members=20, person=None):
    """One row in the template's column order; `person` is (name, e-mail, phone, role)."""
    name_en = ""
    person = person or ("", "", "", "")
    return [code, name, name_en, kind, parent, members, *person]


def xlsx(rows, header=HEADER_VI) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, header=HEADER_VI, encoding="utf-8-sig", delimiter=",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def world_state() -> dict:
    """Everything an import may write, to compare before and after a refused file."""
    return {
        "units": sorted(
            Unit.objects.values_list(
                "code", "path", "name_vi", "name_en", "kind", "member_count", "is_active"
            )
        ),
        "unit_history": HistoricalUnit.objects.count(),
        "users": sorted(User.objects.values_list("username", "email", "first_name", "phone")),
        "assignments": sorted(Assignment.objects.values_list("user__email", "unit__code", "role")),
        "mail": OutgoingMail.objects.count(),
    }


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below


def windows_1258(text: str) -> bytes:
    """`text` as Excel writes it on a Vietnamese Windows: code page 1258, which has the letters
    with circumflex, breve and horn but writes the five tones as separate combining marks."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
            tones = "".join(c for c in parts if c in TONE_MARKS)
            out += (base + tones).encode("cp1258")
    return bytes(out)
