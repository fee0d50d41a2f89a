"""The dashboard, the unit table and the exports as of a past day (`?as_of=dd/mm/yyyy`): the
figures of that day, worked out by the same rules, and nothing of it kept."""

from datetime import date

import pytest
import time_machine

from campaigns.engine.run import deadline_engine_run
from campaigns.models import Flag, ReviewStatus, UnitStatus
from tests.campaigns.dashboard.test_dashboard import figures as figures_on
from tests.factories import StudySessionFactory, change, moment


@pytest.fixture
def story(district, campaign):
    """The cell sends its whole session on 29/03 (held 27/03); the district accepts it on 03/04;
    the other units do nothing."""
    item = StudySessionFactory(
        campaign=campaign,
        unit=district.cell,
        held_on=date(2024, 3, 27),
        status=ReviewStatus.SUBMITTED,
        at=date(2024, 3, 29),
    )
    change(item, date(2024, 4, 3), status=ReviewStatus.ACCEPTED)
    with time_machine.travel(moment(date(2024, 6, 1)), tick=False):
        deadline_engine_run()
    return district


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_dashboard_shows_a_past_day_and_says_so(client, staff, story, lang):
    client.force_login(staff)
    with time_machine.travel(moment(date(2024, 6, 1)), tick=False):
        rows_before = list(UnitStatus.objects.order_by("pk").values())
        flags_before = list(Flag.objects.order_by("pk").values())
        on_1_april = client.get(f"/{lang}/dashboard/?as_of=01/04/2024")
        on_5_april = client.get(f"/{lang}/dashboard/?as_of=05/04/2024")
        today = client.get(f"/{lang}/dashboard/")
    # on time, late, awaiting the district, in progress, not started
    assert figures_on(on_1_april.text) == [0, 0, 1, 0, 3]
    assert figures_on(on_5_april.text) == [1, 0, 0, 0, 3]
    assert figures_on(today.text) == [1, 0, 0, 0, 3]
    note = {
        "vi": "Số liệu tính đến hết ngày 01/04/2024",
        "en": "Figures as of the end of 01/04/2024",
    }
    assert note[lang] in on_1_april.text
    # Nothing of the past day is kept.
    assert list(UnitStatus.objects.order_by("pk").values()) == rows_before
    assert list(Flag.objects.order_by("pk").values()) == flags_before


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31/02/2024", "không phải ngày theo dạng dd/mm/yyyy"),
        ("01/07/2099", "Không thể xem số liệu của một ngày chưa tới"),
    ],
)
def test_a_day_that_cannot_be_shown_is_refused_with_a_message_and_today_shown(
    client, staff, story, typed, message
):
    client.force_login(staff)
    response = client.get("/vi/dashboard/", {"as_of": typed})
    assert response.status_code == 200
    assert message in response.text
    assert "Số liệu tính đến hôm nay" in response.text
    export = client.get("/vi/dashboard/export.xlsx", {"as_of": typed})
    assert export.status_code == 302 and "/vi/dashboard/units/" in export["Location"]


def test_the_unit_table_and_its_export_follow_the_day(client, staff, story):
    client.force_login(staff)
    with time_machine.travel(moment(date(2024, 6, 1)), tick=False):
        table = client.get("/vi/dashboard/units/?as_of=01/04/2024&kind=party_cell")
        export = client.get("/vi/dashboard/export.csv?as_of=01/04/2024&kind=party_cell")
    assert "Chờ quận duyệt" in table.text
    assert 'name="as_of" value="01/04/2024"' in table.text
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "Đã gửi, chờ quận duyệt" in text and "2024-04-01" in export["Content-Disposition"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("01/01/0001", "Chuyên đề bắt đầu từ ngày 29/02/2024"),
        ("28/02/2024", "Chuyên đề bắt đầu từ ngày 29/02/2024"),
        ("x" * 5000, "“" + "x" * 20 + "…” không phải ngày"),
    ],
)
def test_any_day_before_the_campaign_or_any_text_is_a_page_never_an_error(
    client, staff, story, typed, message
):
    client.force_login(staff)
    for path in ("/vi/dashboard/", "/vi/dashboard/units/"):
        response = client.get(path, {"as_of": typed})
        assert response.status_code == 200
        assert message in response.text
        assert "Số liệu tính đến hôm nay" in response.text
