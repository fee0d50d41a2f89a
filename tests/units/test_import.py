"""The spreadsheet import as a service: what a good file writes, what a second import writes
(nothing), what a move keeps, and every bad file or row refused with its row and column, in the
reader's language, writing nothing."""

import io
import unicodedata

import pytest
from django.core.management import call_command
from django.utils import translation
from openpyxl import Workbook, load_workbook

from campaigns.dashboard.selectors import statuses_in_scope
from campaigns.engine.status import refresh_unit_status
from campaigns.models import OutgoingMail, StudySession
from tests.factories import StudySessionFactory, UserFactory, assign
from units.importing import import_units
from units.models import Assignment, HistoricalUnit, Role, Unit, User
from units.selectors import visible_units
from units.spreadsheet import MAX_ROWS, SheetError, read_sheet, template_bytes

from .import_helpers import (
    HEADER_EN,
    HEADER_VI,
    csv_bytes,
    unit_row,
    windows_1258,
    world_state,
    xlsx,
)


def parent(unit: Unit) -> Unit:
    return Unit.objects.get_parent(unit)


pytestmark = pytest.mark.django_db

SECRETARY = ("Trần Văn Nam", "nam.tran@example.vn", "0912 345 678", "secretary")


def run(data: bytes, **options):
    return import_units(read_sheet(data), **options)


def problems_of(data: bytes, language: str = "vi", **options) -> list[str]:
    with translation.override(language):
        plan = run(data, **options).plan
        return [str(p) for p in plan.problems]


# -- a good file ------------------------------------------------------------------------------


def test_a_file_creates_units_and_people_and_queues_their_invitations(district, campaign):
    rows = [
        unit_row("p-kim-lien-cb02", "Chi bộ Tổ dân phố số 2", members=35, person=SECRETARY),
        unit_row(
            "p-kim-lien-cb03",
            "Chi bộ Tổ dân phố số 3",
            members="1.250",
            person=("Lê Thị Hoa", "Hoa.Le@Example.vn", "", "Cán bộ giúp việc"),
        ),
        unit_row("p-moi", "Đảng bộ phường Mới", kind="Đảng bộ phường", parent="dongda", members=9),
        unit_row("p-moi-cb01", "Chi bộ số 1", kind="Party cell", parent="p-moi", members=12),
    ]
    result = run(xlsx(rows))
    assert result.written, [str(p) for p in result.plan.problems]
    cb02 = Unit.objects.get(code="p-kim-lien-cb02")
    assert parent(cb02) == district.ward and cb02.member_count == 35
    assert Unit.objects.get(code="p-kim-lien-cb03").member_count == 1250
    child = Unit.objects.get(code="p-moi-cb01")
    assert parent(child).code == "p-moi" and parent(parent(child)) == district.root
    nam = User.objects.get(email="nam.tran@example.vn")
    assert (nam.last_name, nam.first_name, nam.phone) == ("Trần Văn", "Nam", "0912 345 678")
    assert not nam.has_usable_password() and nam.username == "nam.tran@example.vn"
    hoa = User.objects.get(email="hoa.le@example.vn")
    assert Assignment.objects.get(user=hoa).role == Role.CLERK
    assert Assignment.objects.get(user=nam).unit == cb02
    invitations = OutgoingMail.objects.filter(kind=OutgoingMail.Kind.INVITATION)
    assert sorted(invitations.values_list("recipient__email", flat=True)) == [
        "hoa.le@example.vn",
        "nam.tran@example.vn",
    ]
    assert HistoricalUnit.objects.filter(code="p-moi-cb01", history_change_reason="import").exists()
    # The new units have status rows at once: the ward's dashboard counts its new cells.
    codes = set(
        statuses_in_scope(
            user=assign(UserFactory(), district.ward), campaign=campaign, root=None
        ).values_list("unit__code", flat=True)
    )
    assert {"p-kim-lien-cb02", "p-kim-lien-cb03"} <= codes


def test_the_same_file_twice_changes_nothing_the_second_time(district, campaign):
    data = csv_bytes([
        unit_row("p-kim-lien-cb02", "Chi bộ Tổ dân phố số 2", person=SECRETARY),
        unit_row("p-kim-lien-cb01", "Chi bộ Tổ dân phố số 1 (mới)", members=41),
    ])  # fmt: skip
    first = run(data)
    assert first.written and len(first.plan.renamed) == 1 and len(first.plan.recounted) == 1
    before = world_state()
    second = run(data)
    assert second.plan.ok and second.plan.changes == 0 and not second.written
    assert world_state() == before


def test_a_moved_unit_keeps_its_reports_and_history_and_scopes_follow(
    district, campaign, ward_secretary, sibling_secretary
):
    session = StudySessionFactory(unit=district.cell, campaign=campaign)
    history_before = HistoricalUnit.objects.filter(id=district.cell.pk).count()
    refresh_unit_status(campaign)
    data = xlsx([unit_row("p-kim-lien-cb01", "Chi bộ Tổ dân phố số 1", parent="p-van-mieu",
                          members=40)])  # fmt: skip
    result = run(data)
    assert result.written and [c.code for c in result.plan.moved] == ["p-kim-lien-cb01"]
    cell = Unit.objects.get(pk=district.cell.pk)
    assert parent(cell) == district.sibling_ward
    assert StudySession.objects.get(pk=session.pk).unit_id == cell.pk
    assert HistoricalUnit.objects.filter(id=cell.pk).count() == history_before + 1
    ward_secretary._dongda_scope = sibling_secretary._dongda_scope = None
    assert not visible_units(User.objects.get(pk=ward_secretary.pk)).filter(pk=cell.pk).exists()
    assert visible_units(User.objects.get(pk=sibling_secretary.pk)).filter(pk=cell.pk).exists()
    in_sibling = statuses_in_scope(
        user=User.objects.get(pk=sibling_secretary.pk), campaign=campaign, root=None
    )
    assert in_sibling.filter(unit_id=cell.pk).exists()


def test_a_secretary_moves_with_the_file_and_the_old_role_ends(district, campaign):
    person = assign(
        UserFactory(email="nam.tran@example.vn", last_name="Trần Văn", first_name="Nam"),
        district.cell,
    )
    other = assign(UserFactory(email="old@example.vn"), district.sibling_cell)
    result = run(xlsx([unit_row("p-van-mieu-cb01", "Chi bộ Khu dân cư số 2", parent="p-van-mieu",
                                members=30, person=SECRETARY)]))  # fmt: skip
    assert result.written
    assert list(Assignment.objects.filter(user=person).values_list("unit__code", flat=True)) == [
        "p-van-mieu-cb01"
    ]
    assert not Assignment.objects.filter(user=other).exists()  # the row lists its people
    assert [c.code for c in result.plan.accounts_reassigned] == ["nam.tran@example.vn"]
    assert [c.code for c in result.plan.roles_ended] == ["p-van-mieu-cb01"]
    assert not OutgoingMail.objects.filter(kind=OutgoingMail.Kind.INVITATION).exists()


def test_deactivate_missing_keeps_units_and_never_touches_the_district(district, campaign):
    rows = [
        unit_row("p-kim-lien", "Đảng bộ phường Kim Liên", kind="ward_committee", parent="dongda",
                 members=12),
        unit_row("p-kim-lien-cb01", "Chi bộ Tổ dân phố số 1", members=40),
    ]  # fmt: skip
    plan = run(xlsx(rows), deactivate_missing=True, dry_run=True).plan
    assert sorted(c.code for c in plan.deactivated) == ["p-van-mieu", "p-van-mieu-cb01"]
    assert Unit.objects.filter(is_active=True).count() == 5  # dry run
    run(xlsx(rows), deactivate_missing=True)
    assert set(Unit.objects.filter(is_active=False).values_list("code", flat=True)) == {
        "p-van-mieu",
        "p-van-mieu-cb01",
    }
    assert Unit.objects.count() == 5
    # Listing a deactivated unit again brings it back.
    back = run(xlsx([unit_row("p-van-mieu", "Đảng bộ phường Văn Miếu", kind="ward_committee",
                              parent="dongda", members=10)]))  # fmt: skip
    assert [c.code for c in back.plan.reactivated] == ["p-van-mieu"]


def test_an_empty_app_is_loaded_from_a_file_with_its_district(db):
    rows = [
        unit_row("dongda", "Quận ủy Đống Đa", kind="district", parent="", members=45),
        unit_row("p-cat-linh", "Đảng bộ phường Cát Linh", kind="ward_committee", parent="dongda"),
    ]
    assert run(csv_bytes(rows, header=HEADER_EN, encoding="utf-8")).written
    root = Unit.objects.get(code="dongda")
    assert root.is_root() and Unit.objects.get_children(root).get().code == "p-cat-linh"


@pytest.mark.parametrize(
    "encoding,delimiter", [("utf-8-sig", ","), ("utf-8", ";"), ("cp1258", ","), ("utf-16", "\t")]
)
def test_csv_in_the_encodings_excel_writes(district, encoding, delimiter):
    name = "Chi bộ Tổ dân phố số 2 – Phương Liên"
    rows = [unit_row("p-kim-lien-cb02", name.replace("–", "-"))]
    if encoding == "cp1258":
        data = windows_1258(csv_bytes(rows, encoding="utf-8").decode())
    else:
        data = csv_bytes(rows, encoding=encoding, delimiter=delimiter)
    assert run(data).written
    stored = Unit.objects.get(code="p-kim-lien-cb02").name_vi
    assert stored == unicodedata.normalize("NFC", name.replace("–", "-"))


def test_names_are_trimmed_and_stored_composed(district):
    decomposed = unicodedata.normalize("NFD", "Chi bộ Tổ dân phố số 2")
    assert run(xlsx([unit_row("P-KIM-LIEN-CB02", f"  {decomposed}\u00a0 ")])).written
    unit = Unit.objects.get(code="p-kim-lien-cb02")
    assert unit.name_vi == "Chi bộ Tổ dân phố số 2" and unit.search_name == "chi bo to dan pho so 2"


# -- the template -----------------------------------------------------------------------------


@pytest.mark.parametrize("language,header", [("vi", HEADER_VI), ("en", HEADER_EN)])
def test_the_template_has_the_page_languages_headers_an_example_and_the_kinds(language, header):
    with translation.override(language):
        workbook = load_workbook(io.BytesIO(template_bytes()))
    units, allowed = workbook.worksheets
    assert [c.value for c in units[1]][:6] == header[:6]
    assert [c.value for c in units[1]][7:11] == header[6:10]  # after the sector
    assert units["A2"].value == "p-kim-lien-cb01"
    kinds = {row[1] for row in allowed.iter_rows(values_only=True)}
    assert {"district", "ward_committee", "party_cell", "fatherland_front"} <= kinds
    label = "Chi bộ" if language == "vi" else "Party cell"
    assert label in {row[0] for row in allowed.iter_rows(values_only=True)}


def test_the_filled_template_imports(district, tmp_path):
    path = tmp_path / "mau.xlsx"
    call_command("import_units", "--template", str(path))
    workbook = load_workbook(path)
    workbook.active["B2"] = "Chi bộ Tổ dân phố số 9"
    workbook.active["A2"] = "p-kim-lien-cb09"
    workbook.save(path)
    out = io.StringIO()
    call_command("import_units", str(path), stdout=out)
    assert "written" in out.getvalue()
    assert parent(Unit.objects.get(code="p-kim-lien-cb09")) == district.ward
    assert User.objects.filter(email="thuha@example.vn").exists()


def test_the_command_dry_run_prints_the_plan_and_writes_nothing(district, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(csv_bytes([unit_row("p-kim-lien-cb02", "Chi bộ Tổ dân phố số 2")]))
    before = world_state()
    out = io.StringIO()
    call_command("import_units", str(path), "--dry-run", stdout=out)
    assert "p-kim-lien-cb02" in out.getvalue() and world_state() == before


# -- bad rows: the row, the column and what is wrong; nothing written ---------------------------

GOOD = unit_row("p-kim-lien-cb05", "Chi bộ Tổ dân phố số 5", person=SECRETARY)

BAD_ROWS = {
    "unknown parent": (
        [unit_row("p-x-cb01", "Chi bộ X", parent="p-khong-co")],
        "Dòng 3, cột “Mã đơn vị cấp trên”: không có đơn vị nào mang mã “p-khong-co”",
    ),
    "a cycle in the file": (
        [
            unit_row("a-1", "Đảng bộ A", kind="grassroots_committee", parent="a-2"),
            unit_row("a-2", "Đảng bộ B", kind="grassroots_committee", parent="a-1"),
        ],
        "Dòng 3, cột “Mã đơn vị cấp trên”: “a-1” sẽ nằm dưới chính nó (a-1 → a-2 → a-1)",
    ),
    "moved under its own descendant": (
        [
            unit_row(
                "p-kim-lien",
                "Đảng bộ phường Kim Liên",
                kind="ward_committee",
                parent="p-kim-lien-cb01",
            )
        ],
        "Dòng 3, cột “Mã đơn vị cấp trên”: “p-kim-lien” sẽ nằm dưới chính nó "
        "(p-kim-lien → p-kim-lien-cb01 → p-kim-lien)",
    ),
    "duplicate code by case": (
        [unit_row("p-kim-lien-cb05", "Chi bộ 5 (lần 2)")],
        "Dòng 3, cột “Mã đơn vị”: mã “p-kim-lien-cb05” đã có ở dòng 2",
    ),
    "a kind not allowed under the parent": (
        [
            unit_row(
                "p-kim-lien-cb01-x",
                "Đảng bộ phường trong chi bộ",
                kind="ward_committee",
                parent="p-kim-lien-cb01",
            )
        ],
        "Dòng 3, cột “Loại”: không thể đặt “Đảng bộ phường” dưới “Chi bộ”",
    ),
    "a count that is not a number": (
        [unit_row("p-kim-lien-cb06", "Chi bộ 6", members="ba mươi")],
        "Dòng 3, cột “Số đảng viên”: “ba mươi” không phải là số nguyên",
    ),
    "a malformed e-mail": (
        [unit_row("p-kim-lien-cb06", "Chi bộ 6", person=("Lê Hoa", "hoa@", "", "secretary"))],
        "Dòng 3, cột “Người 1: thư điện tử”: “hoa@” không phải là địa chỉ thư điện tử",
    ),
    "an e-mail given for two people": (
        [
            unit_row(
                "p-kim-lien-cb06",
                "Chi bộ 6",
                person=("Lê Thị Hoa", "nam.tran@example.vn", "", "clerk"),
            )
        ],
        "Dòng 3, cột “Người 1: thư điện tử”: “nam.tran@example.vn” được ghi cho “Trần Văn Nam”",
    ),
    "control characters in a name": (
        [unit_row("p-kim-lien-cb06", "Chi bộ \u202eso 6")],
        "Dòng 3, cột “Tên đơn vị (tiếng Việt)”: có ký tự điều khiển",
    ),
    "an unknown kind": (
        [unit_row("p-kim-lien-cb06", "Chi bộ 6", kind="tổ đảng")],
        "Dòng 3, cột “Loại”: “tổ đảng” không phải là loại đơn vị",
    ),
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_a_bad_row_is_named_and_the_file_writes_nothing(district, campaign, case):
    rows, expected = BAD_ROWS[case]
    if case == "duplicate code by case":
        rows = [[rows[0][0].upper(), *rows[0][1:]]]
    before = world_state()
    found = problems_of(xlsx([GOOD, *rows]))
    assert any(expected in problem for problem in found), found
    assert world_state() == before


def test_codes_differing_only_by_unicode_form_or_case_are_one_code(district):
    rows = [unit_row("p-kim-lien-cb07", "Chi bộ 7"), unit_row("P-Kim-Lien-CB07", "Chi bộ 7")]
    assert any("mã “p-kim-lien-cb07” đã có ở dòng 2" in p for p in problems_of(csv_bytes(rows)))
    # A code typed with Vietnamese letters, composed on one row and decomposed on the next, is
    # refused on both rows (codes are plain letters), rather than becoming two units.
    composed = "p-đống-đa"
    rows = [unit_row(composed, "Chi bộ A"), unit_row(unicodedata.normalize("NFD", composed), "B")]
    found = problems_of(csv_bytes(rows))
    where = [p.split(":")[0] for p in found]
    assert where == ["Dòng 2, cột “Mã đơn vị”", "Dòng 3, cột “Mã đơn vị”"]
    assert all("không phải là mã hợp lệ" in p for p in found)


def test_an_email_of_another_existing_person_is_refused(district):
    UserFactory(email="nam.tran@example.vn", last_name="Phạm", first_name="Minh")
    found = problems_of(xlsx([GOOD]), "en")
    assert any(
        "Row 2, column “Person 1: e-mail”: “nam.tran@example.vn” belongs to another person, "
        "“Phạm Minh”" in p
        for p in found
    ), found


def test_a_deactivated_parent_is_refused(district):
    Unit.objects.filter(pk=district.sibling_ward.pk).update(is_active=False)
    found = problems_of(xlsx([unit_row("p-van-mieu-cb09", "Chi bộ 9", parent="p-van-mieu")]))
    assert any("“p-van-mieu” đã ngừng hoạt động" in p for p in found), found


def test_errors_are_in_english_for_an_english_page(district):
    found = problems_of(xlsx([unit_row("p-x", "X", parent="nowhere")]), "en")
    assert found == [
        "Row 2, column “Parent unit code”: no unit has the code “nowhere”, in the file or in "
        "the app."
    ]


# -- bad files ---------------------------------------------------------------------------------


def _merged_header() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER_VI)
    sheet.merge_cells("A1:B1")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _formula() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER_VI)
    sheet.append(unit_row("p-kim-lien-cb08", "Chi bộ 8", members="=10+20"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


BAD_FILES = {
    "not a spreadsheet": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "không phải"),
    "an empty file": (b"", "Tệp trống"),
    "an old .xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), ".xls"),
    "headers only": (csv_bytes([]), "không có dòng"),
    "an extra column": (csv_bytes([], header=[*HEADER_VI, "Ghi chú"]) + b"x\n", "“Ghi chú”"),
    "a missing column": (csv_bytes([], header=HEADER_VI[:4]) + b"a,b,c,d\n", "Thiếu các cột"),
    "a formula": (_formula(), "Ô F2 có công thức"),
    "merged header cells": (_merged_header(), "A1:B1"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_refused_with_a_message(district, case):
    data, expected = BAD_FILES[case]
    with translation.override("vi"), pytest.raises(SheetError) as caught:
        read_sheet(data)
    assert expected in str(caught.value)


def test_a_million_and_one_rows_are_refused_without_reading_them_all(district):
    line = "p-x,Chi bộ,,party_cell,p-kim-lien,10,,,,\n"
    data = csv_bytes([]) + (line * 1_000_001).encode()
    with translation.override("en"), pytest.raises(SheetError) as caught:
        read_sheet(data)
    assert "more than 50,000 rows" in str(caught.value)


def test_a_million_rows_in_an_xlsx_are_refused(district):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER_VI)
    for number in range(MAX_ROWS + 2):
        sheet.append([f"c{number}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(SheetError):
        read_sheet(buffer.getvalue())


def test_a_file_with_a_ward_but_not_its_cells_leaves_the_cells_where_they_are(district):
    row = unit_row("p-kim-lien", "Đảng bộ phường Kim Liên", kind="ward_committee", parent="dongda",
                   members=13)  # fmt: skip
    result = run(xlsx([row]))
    assert result.plan.problems == [] and result.written
    assert Unit.objects.get(code="p-kim-lien").member_count == 13
    assert parent(Unit.objects.get(code="p-kim-lien-cb01")).code == "p-kim-lien"


def test_a_re_kinded_parent_that_can_no_longer_hold_its_cells_is_refused(district):
    row = unit_row("p-kim-lien", "Chi bộ Kim Liên", kind="party_cell", parent="dongda")
    found = problems_of(xlsx([row]))
    assert any("“p-kim-lien-cb01” (“Chi bộ”, không có trong tệp)" in p for p in found), found


@pytest.mark.parametrize(
    "column,row,limit",
    [
        ("Tên đơn vị (tiếng Việt)", unit_row("p-kim-lien-cb08", "C" * 256), 255),
        ("Người 1: họ và tên",
         unit_row("p-kim-lien-cb08", "Chi bộ 8", person=("N" * 151, "a@example.vn", "", "clerk")),
         150),
        ("Người 1: thư điện tử",
         unit_row("p-kim-lien-cb08", "Chi bộ 8",
                  person=("Lê Hoa", "a" * 250 + "@example.vn", "", "clerk")),
         254),
    ],
)  # fmt: skip
def test_a_value_longer_than_its_column_is_refused_before_anything_is_written(
    district, column, row, limit
):
    before = world_state()
    found = problems_of(xlsx([row]))
    assert f"Dòng 2, cột “{column}”: dài quá {limit} ký tự." in found, found
    assert world_state() == before
