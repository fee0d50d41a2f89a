"""The district office reads the campaign dashboard of the real Đống Đa demo district in a real
browser: the overview and its charts, the unit table narrowed to one ward (drill-down, search with
and without diacritics, filters kept in the URL), a committee's own overview, and the filtered
table exported to Excel. A ward secretary sees the same pages limited to their own subtree.
Run once in Vietnamese (vanphong) and once in English (staff-en).

Everything the people do goes through the pages; the database is only read to check the numbers
the pages show. Every page a person looks at is photographed at phone and desktop width into
test-artifacts/ (dashboard-<lang>-<step>-<width>.png), with the print version as a PDF and a
print-media screenshot (dashboard-<lang>-print.pdf, dashboard-<lang>-print-1280.png)."""

import re
from pathlib import Path
from urllib.parse import parse_qs, quote_plus, urlsplit

import openpyxl
import polib
import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from campaigns.demo import DEFAULT_PASSWORD, seed_demo
from campaigns.engine.run import deadline_engine_run
from campaigns.models import ReviewStatus, UnitStatus
from campaigns.selectors import current_campaign
from dongda.text import fold
from units.models import Unit, UnitKind

from .test_sign_in import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
KIM_LIEN = "p-kim-lien"
CAT_LINH = "p-cat-linh"
CHARTS = ("curve-chart", "study-chart", "fields-chart", "branch-chart")

# What the pages say, per language (the msgids are English, the Vietnamese is their msgstr).
TEXT = {
    "vi": {
        "username": "Tên đăng nhập",
        "password": "Mật khẩu",
        "sign_in": "Đăng nhập",
        "main_menu": "Trình đơn chính",
        "open_menu": "Mở trình đơn",
        "dashboard_menu": "Tổng quan",
        "units_menu": "Đơn vị",
        "overview": "Tổng quan chuyên đề",
        "unit_table": "Bảng đơn vị",
        "kind": "Loại đơn vị",
        "search": "Tìm theo tên",
        "apply": "Lọc",
        "everything": "Toàn bộ phạm vi của tôi",
        "by_branch": "Theo phường và đảng bộ",
        "show_numbers": "Xem số liệu",
        "breadcrumb": "Đường dẫn",
        "kim_lien": "Đảng bộ phường Kim Liên",
        "cat_linh": "Đảng bộ phường Cát Linh",
        "file_stem": "don-vi",
        "header": [
            "Mã",
            "Đơn vị",
            "Đảng bộ",
            "Loại đơn vị",
            "Số đảng viên",
            "Lượt tham dự trong hội nghị đã duyệt",
            "Tỷ lệ học tập (%)",
            "Học tập",
            "Ngày hoàn thành học tập",
            "Kế hoạch triển khai thực hiện",
            "Nhiệm vụ kinh tế",
            "Nhiệm vụ văn hóa",
            "Nhiệm vụ xã hội",
            "Báo cáo tiến độ",
            "Báo cáo tiến độ đúng hạn",
            "Mô hình mới",
            "Vụ việc chưa giải quyết",
            "Hoạt động tuyên truyền",
            "Cảnh báo đang mở",
            "Chờ duyệt",
            "Quá hạn duyệt",
            "Việc còn thiếu",
        ],
    },
    "en": {
        "username": "Username",
        "password": "Password",
        "sign_in": "Sign in",
        "main_menu": "Main menu",
        "open_menu": "Open the menu",
        "dashboard_menu": "Dashboard",
        "units_menu": "Units",
        "overview": "Campaign overview",
        "unit_table": "Unit table",
        "kind": "Kind of unit",
        "search": "Search by name",
        "apply": "Apply",
        "everything": "Everything in my scope",
        "by_branch": "By ward and committee",
        "show_numbers": "Show the numbers",
        "breadcrumb": "Breadcrumb",
        "kim_lien": "Kim Lien Ward Party Committee",
        "cat_linh": "Cat Linh Ward Party Committee",
        "file_stem": "units",
        "header": [
            "Code",
            "Unit",
            "Committee",
            "Kind of unit",
            "Party members",
            "Attendees in accepted sessions",
            "Coverage (%)",
            "Study",
            "Study completed on",
            "Implementation plan",
            "Economy tasks",
            "Culture tasks",
            "Society tasks",
            "Progress reports",
            "Progress reports on time",
            "New models",
            "Open incidents",
            "Propaganda activities",
            "Open flags",
            "Awaiting review",
            "Reviews overdue",
            "What is missing",
        ],
    },
}
STAFF = {"vi": "vanphong", "en": "staff-en"}


# --- The demo district ------------------------------------------------------------------------


@pytest.fixture
def demo(transactional_db):
    """The real Đống Đa district and its 2024 campaign, with the flags and status rows the
    deadline engine keeps."""
    seed_demo(units=None, replay=False)
    deadline_engine_run()
    campaign = current_campaign()
    assert campaign is not None
    assert UnitStatus.objects.filter(campaign=campaign).count() == Unit.objects.count()
    return campaign


def db_figures(campaign, root: Unit | None = None, *, reviewer: bool = True) -> dict[str, int]:
    """The headline figures worked out here, in Python, from the status rows of `root`'s subtree
    (the whole district when None): what the dashboard's cards must show."""
    rows = UnitStatus.objects.filter(campaign=campaign)
    if root is not None:
        rows = rows.filter(unit__path__startswith=root.path)
    rows = list(rows)
    reporting = [r for r in rows if r.reporting]
    figures = {
        "study-on-time": sum(r.study_state == "on_time" for r in rows),
        "study-late": sum(r.study_state == "late" for r in rows),
        "study-in-progress": sum(r.study_state == "in_progress" for r in rows),
        "study-not-started": sum(r.study_state == "not_started" for r in rows),
        "plans-accepted": sum(r.plan_status == ReviewStatus.ACCEPTED for r in reporting),
        "units-with-task": sum(
            r.tasks_economy + r.tasks_culture + r.tasks_society > 0 for r in reporting
        ),
        "reports-on-time": sum(r.reports_on_time for r in rows),
        "initiatives": sum(r.initiatives for r in rows),
        "incidents-open": sum(r.incidents_open for r in rows),
        "reporting-units": len(reporting),
    }
    if reviewer:
        figures["awaiting-review"] = sum(r.awaiting_review for r in rows)
    return figures


def subtree_codes(code: str) -> list[str]:
    """The codes of a unit's subtree in tree order (the table's default sort)."""
    root = Unit.objects.get(code=code)
    return list(
        Unit.objects.filter(path__startswith=root.path)
        .order_by("path")
        .values_list("code", flat=True)
    )


def search_codes(query: str, root_code: str | None = None) -> list[str]:
    """What a search for `query` must list: names matching without diacritics or case."""
    units = Unit.objects.order_by("path")
    if root_code:
        units = units.filter(path__startswith=Unit.objects.get(code=root_code).path)
    needle = fold(query)
    return [u.code for u in units if needle in fold(u.name_vi) or u.code == query]


# --- What the pages show ----------------------------------------------------------------------


def settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")


def click_and_wait(page: Page, locator) -> None:
    with page.expect_navigation():
        locator.click()
    settle(page)


def sign_in(page: Page, base_url: str, lang: str, username: str) -> None:
    t = TEXT[lang]
    page.goto(f"{base_url}/{lang}/accounts/login/")
    page.get_by_label(t["username"]).fill(username)
    page.get_by_label(t["password"]).fill(DEFAULT_PASSWORD)
    click_and_wait(page, page.get_by_role("button", name=t["sign_in"], exact=True))


def nav_link(page: Page, lang: str, name: str):
    """A link of the main menu, opening the menu first where it is folded (phones)."""
    t = TEXT[lang]
    menu = page.get_by_role("navigation", name=t["main_menu"])
    toggler = menu.get_by_role("button", name=t["open_menu"])
    if toggler.is_visible():
        toggler.click()
    link = menu.get_by_role("link", name=name, exact=True)
    expect(link).to_be_visible()
    return link


def wait_for_charts(page: Page, charts=CHARTS) -> None:
    for chart in charts:
        page.wait_for_selector(f'#{chart}[data-drawn="true"]')


def number(page: Page, testid: str) -> int:
    text = page.get_by_test_id(testid).inner_text().strip()
    # intcomma groups thousands with "." in Vietnamese and "," in English.
    assert re.fullmatch(r"\d{1,3}([.,]\d{3})*", text), f"{testid} shows {text!r}, not a number"
    return int(re.sub(r"\D", "", text))


def page_figures(page: Page, expected: dict[str, int]) -> dict[str, int]:
    shown = {key: number(page, key) for key in expected if key != "reporting-units"}
    # "All units" in the footer of the table by kind of unit: the number of reporting units.
    total = page.locator("#study-table tfoot td").first.inner_text()
    shown["reporting-units"] = int(re.sub(r"\D", "", total))
    return shown


def listed_codes(page: Page) -> list[str]:
    return page.locator("tr[data-unit]").evaluate_all("rows => rows.map(r => r.dataset.unit)")


def query_of(page: Page) -> dict[str, list[str]]:
    """The page's filters as the URL holds them (the form also sends the default sort)."""
    query = parse_qs(urlsplit(page.url).query)
    if query.get("sort") == ["tree"]:
        del query["sort"]
    return query


def no_horizontal_overflow(page: Page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def shoot(page: Page, artifacts_dir: Path, lang: str, step: str) -> None:
    width = page.viewport_size["width"]
    page.screenshot(path=artifacts_dir / f"dashboard-{lang}-{step}-{width}.png", full_page=True)
    # Whatever a table does inside its own scroll box, the page itself never scrolls sideways.
    assert no_horizontal_overflow(page), f"{step} at {width}px is wider than the screen"


# --- Language: no English UI text on the Vietnamese pages, no Vietnamese on the English ones ----

VI_LETTERS = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)


def _english_ui_strings() -> list[str]:
    """The English msgids the Vietnamese catalogue translates into something else: any of them
    on a Vietnamese page is a string that escaped translation."""
    catalogue = polib.pofile(str(settings.BASE_DIR / "locale/vi/LC_MESSAGES/django.po"))
    strings = set()
    for entry in catalogue:
        if entry.obsolete or "%" in entry.msgid or "{" in entry.msgid:
            continue
        translated = entry.msgstr or next(iter(entry.msgstr_plural.values()), "")
        if not translated or translated == entry.msgid:
            continue
        if len(entry.msgid) >= 5 and re.search(r"[A-Za-z]{3}", entry.msgid):
            strings.add(entry.msgid)
    return sorted(strings, key=len, reverse=True)


def visible_words(page: Page) -> str:
    """Everything a person reads or a screen reader says on the page: the visible text, the
    title, the labels, placeholders and tooltips, and the chart labels drawn on the canvases."""
    return page.evaluate(
        """() => {
            const parts = [document.title, document.body.innerText];
            for (const el of document.querySelectorAll('[aria-label], [placeholder], [title]')) {
                for (const name of ['aria-label', 'placeholder', 'title']) {
                    if (el.hasAttribute(name)) parts.push(el.getAttribute(name));
                }
            }
            const data = document.getElementById('dashboard-data');
            if (data) {
                const chart = JSON.parse(data.textContent);
                parts.push(...chart.curve.labels.filter(l => /[A-Za-z]/.test(l)));
                parts.push(...Object.values(chart.curve.names), ...chart.state.labels,
                           ...chart.fields.labels, chart.branches.name, ...chart.branches.labels);
            }
            return parts.join('\\n');
        }"""
    )


def wrong_language(page: Page, lang: str) -> list[str]:
    text = visible_words(page)
    # The signed-in person's name (the profile link in the menu) is a name, not interface text.
    user = page.locator(".app-user")
    if user.count():
        text = text.replace(user.text_content().strip(), "")
    if lang == "vi":
        # The language switcher's "English" button is meant to be in English.
        text = text.replace("English", "")
        found = []
        for msgid in _english_ui_strings():
            if re.search(rf"(?<![\w]){re.escape(msgid)}(?![\w])", text):
                found.append(msgid)
                text = text.replace(msgid, "")
        return found
    # The switcher's "Tiếng Việt" is meant to be in Vietnamese. "Đống Đa" is a proper name: the
    # English catalogue keeps it with its diacritics in the page title and the footer (though the
    # English unit names spell it "Dong Da"), which is a choice of style, not a missing string.
    text = text.replace("Tiếng Việt", "").replace("Đống Đa", "")
    return sorted({word for word in re.findall(r"[^\W\d_]+", text) if VI_LETTERS.search(word)})


def check_page(page: Page, lang: str, where: str, problems: list[str]) -> None:
    """Language and console checks for the page as it is now; language problems are collected
    (and asserted at the end of the test), so that one report lists them all."""
    expect(page.locator("html")).to_have_attribute("lang", lang)
    words = wrong_language(page, lang)
    if words:
        problems.append(f"{where} ({page.viewport_size['width']}px): {words}")
    assert page.console_errors == [], f"{where}: {page.console_errors}"


def download_xlsx(page: Page, target: Path):
    with page.expect_download() as info:
        page.get_by_test_id("export-xlsx").click()
    download = info.value
    assert download.failure() is None
    download.save_as(target)
    workbook = openpyxl.load_workbook(target)
    return download.suggested_filename, workbook.active


# --- The tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_staff_read_the_dashboard_drill_down_search_and_export(
    lang, live_server, page_factory, demo, artifacts_dir
):
    t = TEXT[lang]
    base = live_server.url
    campaign = demo
    kim_lien = Unit.objects.get(code=KIM_LIEN)
    cat_linh = Unit.objects.get(code=CAT_LINH)
    language_problems: list[str] = []

    desk = page_factory(**DESKTOP)
    phone = page_factory(**PHONE)
    for page in (desk, phone):
        sign_in(page, base, lang, STAFF[lang])
        assert page.url == f"{base}/{lang}/dashboard/"

    # --- 1. The overview: the charts draw and the figures are the database's. ----------------
    expected = db_figures(campaign)
    # The demo has a believable spread, not a page of zeros.
    assert expected["study-on-time"] and expected["study-late"] and expected["study-not-started"]
    for page in (desk, phone):
        wait_for_charts(page)
        expect(page.get_by_role("heading", level=1)).to_have_text(t["overview"])
        assert page_figures(page, expected) == expected
        check_page(page, lang, "overview", language_problems)
        shoot(page, artifacts_dir, lang, "overview")

    # --- 2. The unit table, narrowed to Kim Liên by drilling down from its row. ---------------
    click_and_wait(desk, desk.get_by_role("link", name=t["unit_table"], exact=True))
    click_and_wait(phone, nav_link(phone, lang, t["units_menu"]))
    for page in (desk, phone):
        assert page.url == f"{base}/{lang}/dashboard/units/"
        expect(page.get_by_role("heading", level=1)).to_have_text(t["unit_table"])
        # Every unit of the district, 50 to a page, in tree order.
        assert listed_codes(page) == list(
            Unit.objects.order_by("path").values_list("code", flat=True)[:50]
        )

    # The wards only, then Kim Liên's "N units below".
    desk.get_by_label(t["kind"], exact=True).select_option(UnitKind.WARD_COMMITTEE.value)
    click_and_wait(desk, desk.get_by_role("button", name=t["apply"], exact=True))
    assert query_of(desk)["kind"] == [UnitKind.WARD_COMMITTEE.value]
    wards = list(
        Unit.objects.filter(kind=UnitKind.WARD_COMMITTEE)
        .order_by("path")
        .values_list("code", flat=True)
    )
    assert listed_codes(desk) == wards and len(wards) == 21
    ward_row = desk.locator(f'tr[data-unit="{KIM_LIEN}"]')
    expect(ward_row.get_by_role("link", name=t["kim_lien"], exact=True)).to_be_visible()
    click_and_wait(desk, ward_row.get_by_test_id("drill-down"))
    assert query_of(desk) == {"unit": [KIM_LIEN]}
    expect(desk.get_by_test_id("drill-root")).to_have_text(t["kim_lien"])
    kim_lien_codes = subtree_codes(KIM_LIEN)
    assert len(kim_lien_codes) == kim_lien.numchild + 1 and len(kim_lien_codes) <= 50
    assert listed_codes(desk) == kim_lien_codes
    expect(desk.get_by_test_id("table-count")).to_contain_text(str(len(kim_lien_codes)))
    drilled_url = desk.url
    phone.goto(drilled_url)
    settle(phone)
    assert listed_codes(phone) == kim_lien_codes
    for page in (desk, phone):
        check_page(page, lang, "unit table of Kim Liên", language_problems)
        shoot(page, artifacts_dir, lang, "units")

    # --- 4. (on the drilled-down table) The export lists exactly what the page listed. -------
    filename, sheet = download_xlsx(desk, artifacts_dir / f"dashboard-{lang}-units.xlsx")
    assert re.fullmatch(rf"{t['file_stem']}-{KIM_LIEN}-\d{{4}}-\d{{2}}-\d{{2}}\.xlsx", filename)
    header = [cell.value for cell in next(sheet.iter_rows(min_row=1, max_row=1))]
    assert header == t["header"]
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == kim_lien_codes
    # Names in the page's language.
    assert dict((row[0], row[1]) for row in rows)[KIM_LIEN] == t["kim_lien"]

    # Searching inside the ward: without diacritics, then in capitals with them.
    search = desk.get_by_label(t["search"], exact=True)
    inside = search_codes("kim lien", KIM_LIEN)
    assert inside == [KIM_LIEN]
    for query in ("kim lien", "KIM LIÊN"):
        search.fill(query)
        click_and_wait(desk, desk.get_by_role("button", name=t["apply"], exact=True))
        assert query_of(desk) == {"unit": [KIM_LIEN], "q": [query]}
        assert listed_codes(desk) == inside, query
        expect(search).to_have_value(query)

    # The whole district: the ward and the units elsewhere named after it (the primary school's
    # cell, the market board's cell), found from either spelling.
    click_and_wait(
        desk,
        desk.get_by_role("navigation", name=t["breadcrumb"]).get_by_role(
            "link", name=t["everything"], exact=True
        ),
    )
    assert query_of(desk) == {}
    everywhere = search_codes("kim lien")
    assert KIM_LIEN in everywhere and len(everywhere) >= 2
    assert not all(code.startswith(KIM_LIEN) for code in everywhere)
    for query in ("kim lien", "KIM LIÊN"):
        search.fill(query)
        click_and_wait(desk, desk.get_by_role("button", name=t["apply"], exact=True))
        assert query_of(desk) == {"q": [query]}
        assert f"q={quote_plus(query)}" in desk.url
        assert listed_codes(desk) == everywhere, query
        # The filters live in the URL: loading it again shows the same rows.
        desk.reload()
        settle(desk)
        assert listed_codes(desk) == everywhere, f"{query} after a reload"
        expect(search).to_have_value(query)
    searched_url = desk.url
    phone.goto(searched_url)
    settle(phone)
    assert listed_codes(phone) == everywhere
    for page in (desk, phone):
        check_page(page, lang, "unit table searched", language_problems)
        shoot(page, artifacts_dir, lang, "units-search")
    # The search is exported too.
    _filename, sheet = download_xlsx(desk, artifacts_dir / f"dashboard-{lang}-units-search.xlsx")
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == everywhere

    # --- 3. A committee's own overview, reached from the table by ward and committee. --------
    for page in (desk, phone):
        click_and_wait(page, nav_link(page, lang, t["dashboard_menu"]))
        assert page.url == f"{base}/{lang}/dashboard/"
        wait_for_charts(page)
        branches = page.get_by_role("region", name=t["by_branch"])
        branches.get_by_text(t["show_numbers"], exact=True).click()
        click_and_wait(page, branches.get_by_role("link", name=t["cat_linh"], exact=True))
        assert query_of(page) == {"unit": [CAT_LINH]}
        expect(page.get_by_test_id("drill-root")).to_have_text(t["cat_linh"])
        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"{t['overview']}: {t['cat_linh']}"
        )
        # A ward has no wards below it: three charts, no breakdown by ward.
        wait_for_charts(page, CHARTS[:3])
        expect(page.locator("#branch-chart")).to_have_count(0)
        expected = db_figures(campaign, cat_linh)
        assert expected["reporting-units"] == cat_linh.numchild + 1
        assert page_figures(page, expected) == expected
        check_page(page, lang, "overview of Cát Linh", language_problems)
        shoot(page, artifacts_dir, lang, "drill")

    # --- 6. The overview on paper. -------------------------------------------------------------
    click_and_wait(desk, nav_link(desk, lang, t["dashboard_menu"]))
    wait_for_charts(desk)
    desk.emulate_media(media="print")
    expect(desk.get_by_role("navigation", name=t["main_menu"])).to_be_hidden()
    expect(desk.get_by_role("link", name=t["unit_table"], exact=True)).to_be_hidden()
    desk.pdf(path=artifacts_dir / f"dashboard-{lang}-print.pdf", format="A4", print_background=True)
    desk.screenshot(path=artifacts_dir / f"dashboard-{lang}-print-1280.png", full_page=True)
    desk.emulate_media(media="screen")

    # --- 7. Nothing went wrong in either browser. ----------------------------------------------
    for page in (desk, phone):
        assert page.console_errors == []
    assert language_problems == []


def test_ward_secretary_sees_only_their_subtree(live_server, page_factory, demo, artifacts_dir):
    t = TEXT["vi"]
    base = live_server.url
    campaign = demo
    kim_lien = Unit.objects.get(code=KIM_LIEN)
    codes = subtree_codes(KIM_LIEN)
    language_problems: list[str] = []

    page = page_factory(**DESKTOP)
    sign_in(page, base, "vi", f"bt-{KIM_LIEN}")

    page.goto(f"{base}/vi/dashboard/")
    settle(page)
    wait_for_charts(page)
    expected = db_figures(campaign, kim_lien, reviewer=False)
    assert page_figures(page, expected) == expected
    # The breakdown by ward has the secretary's own ward and nothing else.
    branches = page.get_by_role("region", name=t["by_branch"])
    branches.get_by_text(t["show_numbers"], exact=True).click()
    expect(branches.get_by_role("link")).to_have_text([t["kim_lien"]])
    check_page(page, "vi", "secretary's overview", language_problems)
    shoot(page, artifacts_dir, "vi", "secretary-overview")

    page.goto(f"{base}/vi/dashboard/units/")
    settle(page)
    assert listed_codes(page) == codes
    check_page(page, "vi", "secretary's unit table", language_problems)
    shoot(page, artifacts_dir, "vi", "secretary-units")

    filename, sheet = download_xlsx(page, artifacts_dir / "dashboard-vi-secretary-units.xlsx")
    assert filename.startswith("don-vi-") and filename.endswith(".xlsx")
    exported = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert exported == codes
    assert all(code.startswith(KIM_LIEN) for code in exported)

    # The direct URL of the export gives the same file's rows, and another ward stays hidden.
    with page.expect_download() as info:
        page.evaluate("url => { window.location.href = url; }", f"{base}/vi/dashboard/export.xlsx")
    info.value.save_as(artifacts_dir / "dashboard-vi-secretary-direct.xlsx")
    direct = openpyxl.load_workbook(artifacts_dir / "dashboard-vi-secretary-direct.xlsx").active
    assert [row[0] for row in direct.iter_rows(min_row=2, values_only=True)] == codes
    response = page.request.get(f"{base}/vi/dashboard/units/?unit={CAT_LINH}")
    assert response.status == 404
    assert page.console_errors == []
    assert language_problems == []
