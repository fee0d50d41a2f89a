"""The district office makes its official report in a real browser, in Vietnamese, on the demo
district: it drafts the district's report as of 05/04/2024 from the menu, rewrites a paragraph,
issues it through the confirmation page and downloads it. A unit's report is then submitted and
accepted; the issued report downloads byte for byte as before, and a new draft as of a later day
shows the new figure beside the issued one ("previous report").

The pages are found by their test ids and the URLs, not by their words: the Vietnamese
translations of these pages come after the code. The draft page is photographed at desktop and
phone width, and the issued PDF's first page is drawn to PNG with poppler's `pdftoppm`, into
test-artifacts/ (official-report-*.png).

The clock is moved in this process (the live server's thread shares it), so the session and CSRF
cookies are made to last the browser session (see test_as_of_flow.py)."""

import hashlib
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Page, expect

from breakthroughs.models import BreakthroughTask
from campaigns.demo import DEFAULT_PASSWORD, seed_demo
from campaigns.engine.run import deadline_engine_run, figures_as_of
from campaigns.models import OfficialReport, ReviewStatus
from campaigns.official.build import build_document
from campaigns.official.figures import committee_figures
from campaigns.reporting.services import report_review, report_submit
from campaigns.selectors import current_campaign
from tests.conftest import require
from tests.factories import BreakthroughTaskFactory, moment
from units.models import Unit, UnitKind, User

from .test_sign_in import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
STUDY_TEXT = (
    "Ban Thường vụ Quận ủy đã chỉ đạo 100% tổ chức cơ sở đảng tổ chức học tập chuyên đề; "
    "một số chi bộ còn chậm, đề nghị khẩn trương học bù <trước 30/4>."
)


@pytest.fixture
def demo(transactional_db):
    """The Đống Đa demo district and its 2024 campaign (without the day-by-day replay)."""
    seed_demo(units=None, replay=False)
    deadline_engine_run()
    campaign = current_campaign()
    assert campaign is not None
    return campaign


@pytest.fixture
def cookies_for_the_browser_session(settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None


def settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")


def click_and_wait(page: Page, locator) -> None:
    with page.expect_navigation():
        locator.click()
    settle(page)


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/vi/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    click_and_wait(page, page.locator("#main form button[type=submit]").first)


def download(page: Page, test_id: str, target: Path) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.get_by_test_id(test_id).first.click()
    info.value.save_as(target)
    return info.value.suggested_filename, target.read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def no_horizontal_overflow(page: Page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def shoot(page: Page, artifacts_dir: Path, step: str) -> Path:
    width = page.viewport_size["width"]
    path = artifacts_dir / f"official-report-vi-{step}-{width}.png"
    page.screenshot(path=path, full_page=True)
    assert no_horizontal_overflow(page), f"{step} at {width}px is wider than the screen"
    return path


def figure(page: Page, key: str) -> str:
    return page.get_by_test_id(f"figure-{key}").inner_text().strip()


def test_staff_draft_issue_and_compare_the_districts_report(
    live_server, page_factory, demo, artifacts_dir, tmp_path, cookies_for_the_browser_session
):
    require(shutil.which("pdftoppm") is not None, "poppler-utils (pdftoppm)")
    base = live_server.url
    staff = User.objects.get(username="vanphong")
    district = Unit.objects.get(depth=1)

    # 08/04: the office drafts the district's report as of 05/04, from the menu.
    with time_machine.travel(moment(date(2024, 4, 8), 9), tick=True):
        desk = page_factory(**DESKTOP)
        sign_in(desk, base, staff.username)
        menu = desk.get_by_role("navigation").first
        menu.locator(".dropdown-toggle").click()
        click_and_wait(desk, menu.locator('a.dropdown-item[href="/vi/official-reports/"]'))
        expect(desk.locator("html")).to_have_attribute("lang", "vi")
        click_and_wait(desk, desk.get_by_test_id("new-report"))
        committee = desk.locator("select[name=committee]")
        expect(committee).to_have_value(str(district.pk))
        expect(desk.locator("input[name=language][value=vi]")).to_be_checked()
        desk.locator("input[name=as_of]").fill("05/04/2024")
        click_and_wait(desk, desk.get_by_test_id("start-draft"))
        report = OfficialReport.objects.get()
        assert desk.url == f"{base}/vi/official-reports/{report.pk}/"
        assert (report.as_of, report.unit, report.language) == (date(2024, 4, 5), district, "vi")

        # The figures beside the form are those of the document as of 05/04.
        expected = {f.key: f for f in build_document(report).document.figures}
        for key, entry in expected.items():
            assert figure(desk, key) == entry.display, key
            assert entry.previous_display == ""  # the district's first report
        shoot(desk, artifacts_dir, "draft")

        # The number, a signer and one paragraph rewritten; the others stay the app's.
        desk.locator("input[name=number]").fill("15")
        desk.locator("details summary").first.click()
        signer = User.objects.get(username="thuongtruc")  # a Standing Committee member signs
        desk.locator("select[name=signer]").select_option(str(signer.pk))
        study = desk.locator('[data-paragraph="study"] textarea')
        study.fill(STUDY_TEXT)
        click_and_wait(desk, desk.get_by_test_id("save"))
        report.refresh_from_db()
        assert report.edits == {"study": STUDY_TEXT} and report.number == "15"
        expect(desk.locator('[data-paragraph="study"]')).to_have_attribute("data-edited", "true")
        expect(desk.locator('[data-paragraph="plans"]')).to_have_attribute("data-edited", "false")
        expect(desk.locator('[data-paragraph="study"] textarea')).to_have_value(STUDY_TEXT)
        shoot(desk, artifacts_dir, "draft-edited")

        # Issuing goes through a confirmation page.
        click_and_wait(desk, desk.get_by_test_id("save-and-issue"))
        assert desk.url == f"{base}/vi/official-reports/{report.pk}/issue/"
        expect(desk.get_by_test_id("number")).to_have_text("15-BC/QU")
        shoot(desk, artifacts_dir, "confirm")
        assert OfficialReport.objects.get().state == "draft"
        click_and_wait(desk, desk.get_by_test_id("confirm-issue"))
        assert desk.url == f"{base}/vi/official-reports/{report.pk}/"
        expect(desk.get_by_test_id("report-state")).to_have_attribute("data-state", "issued")
        expect(desk.get_by_test_id("report-text")).to_contain_text(STUDY_TEXT)
        shoot(desk, artifacts_dir, "issued")
        report.refresh_from_db()
        assert report.state == "issued" and report.issued_by == staff
        name, issued_docx = download(desk, "download-docx", tmp_path / "issued.docx")
        assert name == "bao-cao-dongda-2024-04-05.docx"
        name, issued_pdf = download(desk, "download-pdf", tmp_path / "issued.pdf")
        assert name == "bao-cao-dongda-2024-04-05.pdf"
        assert issued_docx == bytes(report.docx) and issued_pdf == bytes(report.pdf)

    # The issued PDF's first page, for a person to look at.
    (artifacts_dir / "official-report-vi-issued.pdf").write_bytes(issued_pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
            str(artifacts_dir / "official-report-vi-issued.pdf"),
            str(artifacts_dir / "official-report-vi-issued-page1"),
        ],
        check=True,
        timeout=60,
    )
    assert (artifacts_dir / "official-report-vi-issued-page1.png").stat().st_size > 10_000

    # 10/04: a cell submits a breakthrough task and the office accepts it (the services).
    cell = Unit.objects.filter(kind=UnitKind.PARTY_CELL).order_by("path").first()
    secretary = User.objects.filter(assignments__unit=cell).first()
    later_day = date(2024, 4, 11)
    # The demo's own reports move the figures between 05/04 and 11/04 too: the task is what
    # makes the difference between the figures as of 11/04 before and after it (worked out
    # from a day after 11/04: as of today, or a day to come, the figures are the live ones).
    with (
        time_machine.travel(moment(date(2024, 4, 12), 8), tick=False),
        figures_as_of(demo, later_day),
    ):
        tasks_before = committee_figures(demo, district, later_day, "vi")["tasks"]
    with time_machine.travel(moment(date(2024, 4, 10), 9), tick=True):
        task = BreakthroughTaskFactory(
            campaign=demo,
            unit=cell,
            status=ReviewStatus.DRAFT,
            title_vi="Xây dựng tuyến phố văn minh Lương Định Của",
            at=moment(date(2024, 4, 10), 9),
        )
        task = report_submit(item=task, user=secretary, expected_version=task.version)
        task = report_review(
            item=task, reviewer=staff, accept=True, comment="", expected_version=task.version
        )
    assert BreakthroughTask.objects.get(pk=task.pk).status == ReviewStatus.ACCEPTED

    # 12/04: the issued report downloads unchanged; a new draft as of 11/04 compares with it.
    with time_machine.travel(moment(date(2024, 4, 12), 9), tick=True):
        desk.goto(f"{base}/vi/official-reports/{report.pk}/")
        _name, again_docx = download(desk, "download-docx", tmp_path / "again.docx")
        _name, again_pdf = download(desk, "download-pdf", tmp_path / "again.pdf")
        assert sha256(again_docx) == sha256(issued_docx)
        assert sha256(again_pdf) == sha256(issued_pdf)

        desk.goto(f"{base}/vi/official-reports/")
        expect(desk.locator(f'[data-report="{report.pk}"]')).to_have_attribute(
            "data-state", "issued"
        )
        shoot(desk, artifacts_dir, "list")
        click_and_wait(desk, desk.get_by_test_id("new-report"))
        desk.locator("input[name=as_of]").fill("11/04/2024")
        click_and_wait(desk, desk.get_by_test_id("start-draft"))
        later = OfficialReport.objects.get(state="draft")
        old = {f["key"]: f for f in report.snapshot["document"]["figures"]}
        new = {f.key: f for f in build_document(later).document.figures}
        assert new["tasks"].value == tasks_before + 1
        assert new["tasks"].display != old["tasks"]["display"]
        assert figure(desk, "tasks") == new["tasks"].display
        previous = desk.get_by_test_id("previous-tasks")
        expect(previous).to_contain_text("05/04/2024")
        expect(previous).to_contain_text(old["tasks"]["display"])
        for key, entry in new.items():
            assert entry.previous_display == old[key]["display"], key
        shoot(desk, artifacts_dir, "later-draft")

        # The same draft on a phone.
        phone = page_factory(**PHONE)
        sign_in(phone, base, staff.username)
        phone.goto(f"{base}/vi/official-reports/{later.pk}/")
        expect(phone.get_by_test_id("figures-panel")).to_be_visible()
        shoot(phone, artifacts_dir, "later-draft")
        phone.goto(f"{base}/vi/official-reports/{report.pk}/")
        shoot(phone, artifacts_dir, "issued")
        assert phone.console_errors == []
    assert desk.console_errors == []
