"""Every screen in one language, and usable at every width, in a real browser: the language
switcher keeps the page (its query, and asks before dropping typed text) and leaves the e-mail
language alone; signing in from an English page lands on English pages; the file picker speaks
the page's language; the profile link shows at every width; the dashboard never scrolls sideways
on a phone and its ward chart's names do not overlap. Every page is also checked by axe-core
(conftest.py). Screenshots: test-artifacts/one-language-*.png."""

import itertools

import pytest
from playwright.sync_api import Page, expect

from campaigns.demo import DEFAULT_PASSWORD, seed_demo
from campaigns.engine.run import deadline_engine_run
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844, "mobile": True}


def settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")


def sign_in(page: Page, base: str, lang: str, username: str, password=TEST_PASSWORD) -> None:
    page.goto(f"{base}/{lang}/accounts/login/")
    page.get_by_label("Tên đăng nhập" if lang == "vi" else "Username").fill(username)
    page.get_by_label("Mật khẩu" if lang == "vi" else "Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập" if lang == "vi" else "Sign in").click()
    settle(page)


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def switcher(page: Page, name: str):
    """The language button, opening the folded menu first on a phone."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
    button = page.get_by_role("button", name=name, exact=True)
    expect(button).to_be_visible()
    return button


def test_switching_language_keeps_the_page_and_asks_before_dropping_typed_text(
    live_server, page_factory, district, campaign, cell_secretary, artifacts_dir
):
    for size in ({}, PHONE):
        page = page_factory(**size)
        width = page.viewport_size["width"]
        sign_in(page, live_server.url, "vi", cell_secretary.username)
        form_path = f"/units/{district.cell.code}/sessions/new/"
        page.goto(f"{live_server.url}/vi{form_path}")
        settle(page)
        # Nothing typed yet: the switcher goes straight to the English form.
        with page.expect_navigation():
            switcher(page, "English").click()
        settle(page)
        assert page.url == f"{live_server.url}/en{form_path}"
        with page.expect_navigation():
            switcher(page, "Tiếng Việt").click()
        settle(page)

        page.get_by_label("Báo cáo viên").fill("Đồng chí Nguyễn Văn Hùng")
        switcher(page, "English").click()
        dialog = page.get_by_role("dialog", name="Đổi ngôn ngữ và bỏ nội dung đang nhập?")
        expect(dialog).to_be_visible()
        page.axe_check()  # the open dialog, too
        page.screenshot(path=artifacts_dir / f"one-language-switch-dialog-{width}.png")
        dialog.get_by_role("button", name="Ở lại trang này").click()
        expect(dialog).to_be_hidden()
        assert page.url == f"{live_server.url}/vi{form_path}"
        expect(page.get_by_label("Báo cáo viên")).to_have_value("Đồng chí Nguyễn Văn Hùng")

        switcher(page, "English").click()
        with page.expect_navigation():
            dialog.get_by_role("button", name="Vẫn đổi ngôn ngữ").click()
        settle(page)
        assert page.url == f"{live_server.url}/en{form_path}"
        assert page.locator("html").get_attribute("lang") == "en"
        with page.expect_navigation():
            switcher(page, "Tiếng Việt").click()
        settle(page)
        assert page.console_errors == []
    cell_secretary.refresh_from_db()
    assert cell_secretary.language == "vi"  # the e-mail language is the profile's to change


def test_a_page_keeps_its_query_in_the_other_language(
    live_server, page_factory, district, campaign, staff
):
    page = page_factory()
    sign_in(page, live_server.url, "vi", staff.username)
    page.goto(f"{live_server.url}/vi/dashboard/units/?kind=party_cell&q=to+dan+pho")
    settle(page)
    with page.expect_navigation():
        switcher(page, "English").click()
    settle(page)
    assert page.url == f"{live_server.url}/en/dashboard/units/?kind=party_cell&q=to+dan+pho"
    expect(page.get_by_label("Search by name")).to_have_value("to dan pho")


def test_signing_in_on_an_english_page_lands_on_english_pages(
    live_server, page_factory, district, campaign, staff
):
    """vanphong's saved language is Vietnamese; the page they signed in on was English."""
    page = page_factory()
    page.goto(f"{live_server.url}/en/dashboard/")
    settle(page)
    assert "/en/accounts/login/" in page.url
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    settle(page)
    assert page.url == f"{live_server.url}/en/dashboard/"
    page.goto(f"{live_server.url}/")  # no prefix: the browser's language is now English
    settle(page)
    assert page.url == f"{live_server.url}/en/dashboard/"


def test_the_file_picker_speaks_the_page_language(
    live_server, page_factory, district, campaign, cell_secretary, artifacts_dir, tmp_path
):
    minutes = tmp_path / "bien-ban-hoi-nghi.pdf"
    minutes.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    for lang, button, empty in (
        ("vi", "Chọn tệp", "Chưa chọn tệp nào"),
        ("en", "Choose a file", "No file chosen"),
    ):
        page = page_factory(**PHONE)
        sign_in(page, live_server.url, lang, cell_secretary.username)
        page.goto(f"{live_server.url}/{lang}/units/{district.cell.code}/sessions/new/")
        settle(page)
        picker = page.locator("[data-file-input]")
        expect(picker.locator(".app-file-button")).to_have_text(button)
        expect(picker.locator("[data-file-name]")).to_have_text(empty)
        real = picker.locator("input[type=file]")
        # The browser's own input is there, labelled by the field, but not seen.
        expect(real).to_have_css("opacity", "0")
        expect(page.get_by_label("Biên bản" if lang == "vi" else "Minutes")).to_have_count(1)
        box, shown = real.bounding_box(), picker.locator(".app-file-button").bounding_box()
        assert abs(box["x"] - shown["x"]) < 1 and abs(box["width"] - shown["width"]) < 1
        real.set_input_files(minutes)
        expect(picker.locator("[data-file-name]")).to_have_text("bien-ban-hoi-nghi.pdf")
        picker.scroll_into_view_if_needed()
        page.screenshot(path=artifacts_dir / f"one-language-file-picker-{lang}-390.png")
        assert page.console_errors == []


@pytest.mark.parametrize("width", [1200, 1280, 1399, 390])
def test_the_profile_link_shows_at_every_width(
    live_server, page_factory, district, campaign, staff, artifacts_dir, width
):
    size = PHONE if width == 390 else {"width": width, "height": 800}
    page = page_factory(**size)
    sign_in(page, live_server.url, "vi", staff.username)
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
    link = page.get_by_role("link", name=staff.username, exact=True)
    expect(link).to_be_visible()
    nav = page.locator("nav.app-navbar")
    if width >= 1200:
        # One row: the bar is as tall as a button, not two rows of them.
        assert nav.bounding_box()["height"] < 70, nav.bounding_box()
        assert link.bounding_box()["x"] + link.bounding_box()["width"] <= width
    assert no_sideways_scroll(page)
    nav.screenshot(path=artifacts_dir / f"one-language-navbar-{width}.png")
    link.click()
    settle(page)
    assert page.url == f"{live_server.url}/vi/accounts/profile/"


@pytest.fixture
def demo(transactional_db):
    seed_demo(units=None, replay=False)
    deadline_engine_run()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_dashboard_fits_a_phone_and_the_ward_chart_is_readable(
    live_server, page_factory, demo, artifacts_dir, lang
):
    for size in (PHONE, {"width": 1280, "height": 900}):
        page = page_factory(**size)
        width = page.viewport_size["width"]
        sign_in(page, live_server.url, lang, "vanphong", DEFAULT_PASSWORD)
        page.goto(f"{live_server.url}/{lang}/dashboard/")
        settle(page)
        page.wait_for_selector('#branch-chart[data-drawn="true"]')
        # Every table opened, as on paper: the page still never scrolls sideways.
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        assert no_sideways_scroll(page), f"the dashboard is wider than {width}px"
        for table in page.locator("main table").all():
            box = table.locator("xpath=..").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5
        chart = page.evaluate(
            """() => {
              const chart = Chart.getChart("branch-chart");
              const y = chart.scales.y, x = chart.scales.x;
              const lineHeight = y.options.ticks.font.lineHeight * y.options.ticks.font.size;
              const rows = y.ticks.map((tick, i) => ({
                centre: y.getPixelForTick(i),
                lines: Array.isArray(tick.label) ? tick.label.length : 1,
              }));
              return {
                rows, lineHeight,
                title: x.options.title.display ? x.options.title.text : "",
                ticks: x.ticks.map((tick) => tick.label),
              };
            }"""
        )
        rows, line = chart["rows"], chart["lineHeight"]
        assert len(rows) >= 21  # the 21 wards and the district's other committees
        for above, below in itertools.pairwise(rows):
            room = below["centre"] - above["centre"]
            needed = (above["lines"] + below["lines"]) / 2 * line
            assert room >= needed, (above, below, room, needed)
        assert chart["title"] == (
            "Hoàn thành học tập (%)" if lang == "vi" else "Study-complete (%)"
        )
        assert "100%" in chart["ticks"] and all(t.endswith("%") for t in chart["ticks"])
        page.screenshot(
            path=artifacts_dir / f"one-language-dashboard-{lang}-{width}.png", full_page=True
        )
        page.goto(f"{live_server.url}/{lang}/dashboard/units/")
        settle(page)
        assert no_sideways_scroll(page), f"the unit table is wider than {width}px"
        page.screenshot(
            path=artifacts_dir / f"one-language-units-{lang}-{width}.png", full_page=True
        )
        assert page.console_errors == []
