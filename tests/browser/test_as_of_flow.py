"""The unit and the district judged apart, in a real browser and in both languages: a cell sends
its whole session on 29/03; as of 01/04 it is "awaiting the district" (not overdue) and the
district's review flag is not yet open; staff accept it on 03/04 and the cell is on time at once,
with no engine run; the dashboard as of 05/04 and as of today says so.

The clock is moved in this process (the live server's thread shares it), so the session and CSRF
cookies are made to last the browser session: a cookie that expires in 2025 by the app's clock
would already be stale in the browser's."""

from datetime import date

import pytest
import time_machine
from playwright.sync_api import expect

from campaigns.models import Flag, FlagKind, StudySession
from tests.factories import moment

from .test_report_flow import TEXT, click_and_wait, field, go_to_queue, review, status_of
from .test_sign_in import sign_in

AWAITING = {"vi": "Chờ quận duyệt", "en": "Awaiting the district"}


@pytest.fixture
def cookies_for_the_browser_session(settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None


def figures(page) -> list[str]:
    ids = ("study-on-time", "study-late", "study-awaiting", "study-in-progress")
    return [page.get_by_test_id(test_id).inner_text().strip() for test_id in ids]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_session_sent_in_time_waits_for_the_district_and_is_on_time_once_accepted(
    lang,
    live_server,
    page_factory,
    district,
    campaign,
    cell_secretary,
    request,
    tmp_path,
    cookies_for_the_browser_session,
):
    t = TEXT[lang]
    base = live_server.url
    reviewer = request.getfixturevalue("staff" if lang == "vi" else "staff_en")
    # Signing in lands on the person's own language: the secretary reads the test's.
    cell_secretary.language = lang
    cell_secretary.save(update_fields=["language"])
    cell = district.cell
    minutes = tmp_path / "bien-ban.pdf"
    minutes.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    # 29/03: the secretary records the session held on 27/03 and sends it.
    with time_machine.travel(moment(date(2024, 3, 29), 10), tick=True):
        sec = page_factory()
        sign_in(sec, base, lang, cell_secretary.username)
        click_and_wait(sec, sec.get_by_role("link", name=t["record_session"], exact=True))
        field(sec, t["held_on"]).fill("27/03/2024")
        sec.get_by_role("radio", name=t["regular"], exact=True).check()
        sec.get_by_role("radio", name=t["in_person"], exact=True).check()
        field(sec, t["presenter"]).fill("Đ/c Nguyễn Văn An")
        field(sec, t["members_expected"]).fill("40")
        field(sec, t["attendees"]).fill("40")
        field(sec, t["minutes"]).set_input_files(minutes)
        click_and_wait(sec, sec.get_by_role("button", name=t["save"], exact=True))
        click_and_wait(sec, sec.get_by_role("button", name=t["submit"], exact=True))
        expect(status_of(sec)).to_have_attribute("data-status", "submitted")

    # 01/04: the deadline has passed; the cell has done its part and waits for the district.
    with time_machine.travel(moment(date(2024, 4, 1), 10), tick=True):
        stf = page_factory()
        sign_in(stf, base, lang, reviewer.username)
        stf.goto(f"{base}/{lang}/dashboard/units/?kind=party_cell")
        row = stf.locator(f'tr[data-unit="{cell.code}"]')
        expect(row).to_contain_text(AWAITING[lang])
        stf.goto(f"{base}/{lang}/dashboard/")
        assert figures(stf) == ["0", "0", "1", "0"]
    # Sent on Friday 29/03: five working days for review run to 05/04.
    assert not Flag.objects.filter(kind=FlagKind.REVIEW_OVERDUE).exists()
    assert not Flag.objects.filter(unit=cell, kind=FlagKind.STUDY_OVERDUE).exists()

    # 03/04: the district accepts it; the cell is on time at once, with no engine run.
    with time_machine.travel(moment(date(2024, 4, 3), 10), tick=True):
        go_to_queue(stf, t)
        # The decision is announced and the queue moves on to what is left (nothing here).
        review(stf, t, kind_label=t["session_kind"], accept=True)
        stf.goto(f"{base}/{lang}/units/{cell.code}/")
        expect(stf.locator('[data-rule="R1"]')).to_have_attribute("data-state", "done")
        stf.goto(f"{base}/{lang}/dashboard/")
        assert figures(stf) == ["1", "0", "0", "0"]
    assert StudySession.objects.get().status == "accepted"

    # The dashboard as of 05/04, and as of today, says the same; as of 01/04 what was true then.
    # (Within the two weeks a sign-in lasts.)
    with time_machine.travel(moment(date(2024, 4, 12), 10), tick=True):
        stf.goto(f"{base}/{lang}/dashboard/?as_of=05/04/2024")
        assert figures(stf) == ["1", "0", "0", "0"]
        expect(stf.get_by_test_id("as-of-note")).to_contain_text("05/04/2024")
        stf.goto(f"{base}/{lang}/dashboard/?as_of=01/04/2024")
        assert figures(stf) == ["0", "0", "1", "0"]
        stf.goto(f"{base}/{lang}/dashboard/")  # today, 12/04
        assert figures(stf) == ["1", "0", "0", "0"]
    assert stf.console_errors == []
