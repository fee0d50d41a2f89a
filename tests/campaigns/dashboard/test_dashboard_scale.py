"""The dashboard, the unit table and the exports cost the same number of SQL statements for a
50-unit district and a 2,000-unit one: every figure is an aggregate over the status rows."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from campaigns.demo import seed_demo
from campaigns.engine.run import deadline_engine_run
from units.models import User

from .test_background_exports import measure_export_start
from .test_page_scale import check_unit_pages_at_scale, measure_unit_pages

pytestmark = pytest.mark.django_db

PAGES = {
    "overview": "/vi/dashboard/",
    "drill-down": "/vi/dashboard/?unit=p-kim-lien",
    "table": "/vi/dashboard/units/?kind=party_cell&study=not_started&sort=-flags",
    "search": "/vi/dashboard/units/?q=kim+lien",
    "table page 2": "/vi/dashboard/units/?page=2",
    # The unit table in every order, filtered, searched and paged: its total comes from the
    # rollups or a count stopped at a cap, its rows from a walk that stops after the page.
    "table no filter": "/vi/dashboard/units/",
    "table by name": "/vi/dashboard/units/?sort=name",
    "table by name, reversed": "/vi/dashboard/units/?sort=-name&page=2",
    "table by members": "/vi/dashboard/units/?sort=members",
    "table by attendance": "/vi/dashboard/units/?sort=coverage",
    "table by flags": "/vi/dashboard/units/?sort=-flags&page=2",
    "table of a kind": "/vi/dashboard/units/?kind=party_cell&page=2",
    "table filtered, page 2": "/vi/dashboard/units/?study=not_started&page=2",
    "table past the end": "/vi/dashboard/units/?page=99999",
    "table of a ward": "/vi/dashboard/units/?unit=p-kim-lien&sort=name",
    "search, English name": "/vi/dashboard/units/?q=ward+party",
    "search, code": "/vi/dashboard/units/?q=p-kim-lien",
    "search, short needle": "/vi/dashboard/units/?q=1",
    "search, page 2": "/vi/dashboard/units/?q=chi+bo&page=2",
    "xlsx": "/vi/dashboard/export.xlsx?study=on_time",
    "csv": "/vi/dashboard/export.csv?flag=any",
    "review queue": "/vi/dashboard/review/",
    # A past day: the engine works that day's rows out (and rolls them back) in the request.
    "overview as of": "/vi/dashboard/?as_of=05/04/2024",
    "table as of": "/vi/dashboard/units/?as_of=05/04/2024&page=2",
    "xlsx as of": "/vi/dashboard/export.xlsx?as_of=05/04/2024&study=on_time",
}


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(queries)


def _district(units: int) -> None:
    seed_demo(units=units, reset=True, replay=False)
    deadline_engine_run()


def test_query_counts_are_the_same_for_50_and_2000_units(
    client, settings, django_capture_on_commit_callbacks
):
    """Every page pinned at scale, measured on one seeding of each size (seeding 2,000 units is
    most of the time): the dashboard here, the unit pages and the review queue
    (test_page_scale.py) and the start of a background export (test_background_exports.py)."""
    counts, unit_counts, unit_pages, export_start = {}, {}, {}, {}
    for size in (50, 2000):
        _district(size)
        client.force_login(User.objects.get(username="vanphong"))
        client.get("/vi/dashboard/")  # the session row is written on the first request
        counts[size] = {name: _count(client, url) for name, url in PAGES.items()}
        unit_counts[size], unit_pages[size] = measure_unit_pages(client)
        export_start[size] = measure_export_start(
            client, settings, django_capture_on_commit_callbacks
        )
    check_unit_pages_at_scale(unit_counts, unit_pages)
    assert export_start[50] == export_start[2000], export_start
    assert counts[50] == counts[2000], counts
    # And they stay small: session, user, scope, campaign, engine runs, then the figures.
    assert counts[2000]["overview"] <= 11
    assert counts[2000]["table"] <= 6
    # Every order, filter and page of the table costs the same: the total, then the rows.
    same = [name for name in PAGES if name.startswith(("table", "search"))]
    same = [name for name in same if "as of" not in name and "ward" not in name]
    assert {name: counts[2000][name] for name in same} == dict.fromkeys(same, counts[2000]["table"])
    # The export also reads the open flags and, one query per report kind, the items they name;
    # first it counts its rows, up to the background threshold (EXPORT_BACKGROUND_ROWS).
    assert counts[2000]["xlsx"] <= 5 + 1 + 7 + 1


def test_the_export_holds_the_filtered_units_with_vietnamese_headers(client):
    _district(60)
    client.force_login(User.objects.get(username="vanphong"))
    page = client.get("/vi/dashboard/units/?q=KIM+LIÊN").content.decode()
    codes_on_page = {
        line.split('data-unit="')[1].split('"')[0]
        for line in page.splitlines()
        if 'data-unit="' in line
    }
    assert codes_on_page
    response = client.get("/vi/dashboard/export.xlsx?q=KIM+LIÊN")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="don-vi-' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    assert header[:5] == ["Mã", "Đơn vị", "Đảng bộ", "Loại đơn vị", "Số đảng viên"]
    assert header[-1] == "Việc còn thiếu"
    assert sheet.freeze_panes == "A2"
    # A filter button on every column, over every row written.
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(header))}{sheet.max_row}"
    assert sheet.column_dimensions["B"].width >= 40
    codes = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert codes == codes_on_page
    for row in sheet.iter_rows(min_row=2):
        if row[8].value is not None:  # study completed on
            assert row[8].number_format == "dd/mm/yyyy"

    english = client.get("/en/dashboard/export.xlsx?q=kim+lien")
    assert 'filename="units-' in english["Content-Disposition"]
    header = [cell.value for cell in load_workbook(io.BytesIO(english.content)).active[1]]
    assert header[:5] == ["Code", "Unit", "Committee", "Kind of unit", "Party members"]

    # Cells (about twenty are called "Chi bộ Tổ dân phố số 1") are told apart by their ward.
    response = client.get("/vi/dashboard/export.xlsx?kind=party_cell")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) > 10
    assert all(row[2] and row[2].startswith("Đảng bộ") for row in rows[1:])


def test_the_csv_export_opens_in_excel_with_diacritics(client):
    _district(60)
    client.force_login(User.objects.get(username="vanphong"))
    response = client.get("/vi/dashboard/export.csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeffMã,Đơn vị,")
    assert "Quận ủy Đống Đa" in body


def test_a_secretary_sees_and_exports_only_their_subtree(client):
    _district(200)
    secretary = User.objects.get(username="bt-p-kim-lien")
    client.force_login(secretary)
    page = client.get("/vi/dashboard/units/").content.decode()
    assert "Đảng bộ phường Kim Liên" in page
    assert "Đảng bộ phường Cát Linh" not in page
    sheet = load_workbook(io.BytesIO(client.get("/vi/dashboard/export.xlsx").content)).active
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes and all(code.startswith("p-kim-lien") for code in codes)
    # Another ward's subtree, asked for by code, is not there to be found.
    assert client.get("/vi/dashboard/?unit=p-cat-linh").status_code == 404
    assert client.get("/vi/dashboard/units/?unit=p-cat-linh").status_code == 404
    assert client.get("/vi/dashboard/export.xlsx?unit=p-cat-linh").status_code == 404
    assert client.get("/vi/dashboard/review/").status_code == 403
    assert client.get("/vi/dashboard/review/export.xlsx").status_code == 403


@pytest.mark.parametrize("query", ["dong da", "ĐỐNG ĐA", "Đống Đa", "đống đa"])
def test_search_ignores_diacritics_and_case(client, query):
    _district(60)
    client.force_login(User.objects.get(username="vanphong"))
    page = client.get("/vi/dashboard/units/", {"q": query}).content.decode()
    assert 'data-unit="dongda"' in page


def test_a_title_that_looks_like_a_formula_stays_text_in_the_exports(client, district, campaign):
    from campaigns.engine.status import refresh_unit_status
    from campaigns.models import Incident, ReviewStatus
    from tests.factories import UserFactory, assign
    from units.models import Role

    formula = '=HYPERLINK("http://x","Bấm vào đây")'
    Incident.objects.create(
        campaign=campaign,
        unit=district.cell,
        title_vi=formula,
        opened_on="2024-03-10",
        owner="Tổ dân phố",
        status=ReviewStatus.SUBMITTED,
        submitted_at="2024-03-11T08:00:00+07:00",
    )
    refresh_unit_status(campaign)
    staff = assign(UserFactory(), district.root, Role.DISTRICT_STAFF)
    client.force_login(staff)
    sheet = load_workbook(io.BytesIO(client.get("/vi/dashboard/review/export.xlsx").content)).active
    assert sheet.max_row == 2
    titles = [row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert titles == [formula]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
    csv_body = b"".join(client.get("/vi/dashboard/review/export.csv").streaming_content).decode()
    assert "'" + formula.replace('"', '""') in csv_body


def _both_ways(**kwargs):
    """The overview from the rollups, and the same overview summed from the status rows."""
    from campaigns.dashboard import selectors as dashboard_selectors

    fast = dashboard_selectors.overview(**kwargs)
    slow = dashboard_selectors.overview(**kwargs, use_rollups=False)
    return fast, slow


def _comparable(summary):
    branches = sorted((row["unit"].code, row["total"], row["done"]) for row in summary.by_branch)
    return summary.figures, summary.by_kind, branches, summary.per_day


def test_the_rollups_add_up_to_the_status_rows(client):
    from campaigns.models import Campaign, StudySession
    from campaigns.reporting.services import report_review, report_submit
    from units.models import Unit

    _district(300)
    campaign = Campaign.objects.get()
    staff = User.objects.get(username="vanphong")
    ward = Unit.objects.get(code="p-kim-lien")
    secretary = User.objects.get(username="bt-p-kim-lien")
    views = [
        {"user": staff, "campaign": campaign},
        {"user": staff, "campaign": campaign, "root": ward},
        {"user": secretary, "campaign": campaign},
    ]
    for kwargs in views:
        fast, slow = _both_ways(**kwargs)
        assert fast.from_rollups and not slow.from_rollups
        assert _comparable(fast) == _comparable(slow)
        assert fast.figures["units"] > 0

    # A report reviewed through the services moves both the status row and the rollups.
    session = StudySession.objects.filter(unit__path__startswith=ward.path, status="draft").first()
    if session is None:
        session = StudySession.objects.filter(unit__path__startswith=ward.path).first()
        StudySession.objects.filter(pk=session.pk).update(status="draft")
        session.refresh_from_db()
    before = _both_ways(user=staff, campaign=campaign, root=ward)[0].figures
    session = report_submit(
        item=session, user=session.unit.assignments.first().user, expected_version=session.version
    )
    fast, slow = _both_ways(user=staff, campaign=campaign, root=ward)
    assert _comparable(fast) == _comparable(slow)
    assert fast.figures["awaiting_review"] == before["awaiting_review"] + 1
    report_review(
        item=session, reviewer=staff, accept=True, comment="", expected_version=session.version
    )
    fast, slow = _both_ways(user=staff, campaign=campaign, root=ward)
    assert _comparable(fast) == _comparable(slow)
    assert fast.figures["awaiting_review"] == before["awaiting_review"]


def _rollup_state(campaign) -> tuple[set, set]:
    from campaigns.engine.status import ROLLUP_SUMS
    from campaigns.models import CompletionRollup, StatusRollup

    fields = ["level", "anchor", "kind", *ROLLUP_SUMS]
    rows = {
        row
        for row in StatusRollup.objects.filter(campaign=campaign).values_list(*fields)
        if any(row[3:])  # a row the differences brought to zero is the same as no row
    }
    days = {
        row
        for row in CompletionRollup.objects.filter(campaign=campaign).values_list(
            "anchor", "completed_on", "units"
        )
        if row[2]
    }
    return rows, days


def test_rollups_kept_by_differences_equal_a_rebuild(client):
    """Many single-unit refreshes (what the report services do) leave the rollups exactly as a
    rebuild from the status rows would."""
    from campaigns.engine.status import rebuild_rollups, refresh_unit_status
    from campaigns.models import Campaign, ReviewStatus, StudySession
    from campaigns.reporting.services import report_review

    _district(200)
    campaign = Campaign.objects.get()
    staff = User.objects.get(username="vanphong")
    waiting = StudySession.objects.filter(status=ReviewStatus.SUBMITTED)[:15]
    for number, session in enumerate(waiting):
        report_review(
            item=session,
            reviewer=staff,
            accept=number % 2 == 0,
            comment="" if number % 2 == 0 else "Bổ sung biên bản",
            expected_version=session.version,
        )
    # A unit moved to another kind changes which rollup rows it adds to.
    unit = StudySession.objects.first().unit
    type(unit).objects.filter(pk=unit.pk).update(kind="grassroots_committee")
    refresh_unit_status(campaign, unit_ids=[unit.pk])
    kept = _rollup_state(campaign)
    rebuild_rollups(campaign)
    assert kept == _rollup_state(campaign)
