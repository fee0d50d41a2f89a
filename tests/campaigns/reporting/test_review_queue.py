"""The district office's review queue at scale: filters (committee, kind, state, age), search
that ignores diacritics, pages read from the database a page at a time, chips that filter,
the most overdue first, and "next" after a decision opening the next item of the same filter."""

from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Incident, ReviewStatus, StudySession, search_title_of
from campaigns.reporting.queue import QueueFilters, review_queue
from tests.factories import IncidentFactory, UnitFactory

pytestmark = pytest.mark.django_db

QUEUE = "/vi/dashboard/review/"


@pytest.fixture(autouse=True)
def in_2024():
    with time_machine.travel(datetime(2024, 5, 20, 3, tzinfo=UTC), tick=False):
        yield


def _sessions(unit, campaign, count: int, *, start: int = 0, **fields) -> list[StudySession]:
    """`count` submitted sessions written in one bulk_create (no save(): the title is folded
    here as the demo does), the first submitted earliest."""
    base = datetime(2024, 4, 1, 2, tzinfo=UTC)
    rows = []
    for n in range(start, start + count):
        session = StudySession(
            campaign=campaign,
            unit=unit,
            held_on=date(2024, 3, 1),
            presenter=f"Đồng chí Báo cáo viên {n}",
            members_expected=40,
            attendees=38,
            status=ReviewStatus.SUBMITTED,
            submitted_at=base + timedelta(minutes=n),
            review_overdue_from=date(2024, 4, 9) + timedelta(days=n // 1000),
            **fields,
        )
        session.search_title = search_title_of(session)
        rows.append(session)
    return StudySession.objects.bulk_create(rows, batch_size=500)


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(queries)


QUEUE_URLS = {
    "plain": QUEUE,
    "committee": QUEUE + "?committee=p-kim-lien",
    "kind": QUEUE + "?kind=sessions",
    "overdue": QUEUE + "?state=overdue",
    "resubmitted": QUEUE + "?state=resubmitted",
    "age": QUEUE + "?age=7",
    "search": QUEUE + "?q=" + quote("báo cáo viên"),
    "page 2": QUEUE + "?page=2",
    "csv": "/vi/dashboard/review/export.csv?committee=p-kim-lien",
    "xlsx": "/vi/dashboard/review/export.xlsx?state=overdue",
}


def test_query_counts_are_equal_for_100_and_10000_waiting_items(
    client, district, campaign, staff, settings
):
    # The exports answered at once at both sizes (above the threshold they become a background
    # job, whose start is pinned in test_background_exports.py).
    settings.EXPORT_BACKGROUND_ROWS = 1_000_000
    IncidentFactory(
        campaign=campaign, unit=district.cell, status=ReviewStatus.SUBMITTED, return_count=1
    )
    client.force_login(staff)
    client.get(QUEUE)  # the session row is written on the first request
    _sessions(district.cell, campaign, 60)
    _sessions(district.sibling_cell, campaign, 40, start=60)
    small = {name: _count(client, url) for name, url in QUEUE_URLS.items()}
    _sessions(district.cell, campaign, 5_900, start=100)
    _sessions(district.sibling_cell, campaign, 4_000, start=6_000)
    assert StudySession.objects.filter(status=ReviewStatus.SUBMITTED).count() == 10_000
    large = {name: _count(client, url) for name, url in QUEUE_URLS.items()}
    assert small == large, (small, large)
    # Session, user, scope, campaign; the committees; one aggregate per kind; the page's ids;
    # the page's rows, one query per kind; the committees' names.
    assert large["plain"] <= 4 + 1 + 7 + 1 + 7 + 1 + 2
    page = client.get(QUEUE + "?page=2").content.decode()
    assert page.count('data-testid="queue-row"') == 50
    assert "51–100" in page


def test_the_most_overdue_comes_first_and_pages_follow_the_order(district, campaign, staff):
    late = IncidentFactory(campaign=campaign, unit=district.cell, status=ReviewStatus.SUBMITTED)
    Incident.objects.filter(pk=late.pk).update(review_overdue_from=date(2024, 1, 2))
    _sessions(district.cell, campaign, 120)
    first = review_queue(user=staff, campaign=campaign, filters=QueueFilters())
    assert first.total == 121 and first.num_pages == 3
    assert first.entries[0].item.pk == late.pk
    presenters = [entry.item.presenter for entry in first.entries[1:]]
    assert presenters == [f"Đồng chí Báo cáo viên {n}" for n in range(49)]
    third = review_queue(user=staff, campaign=campaign, filters=QueueFilters(page=99))
    assert third.page == 3 and len(third.entries) == 21
    assert third.entries[-1].item.presenter == "Đồng chí Báo cáo viên 119"


def test_filters_narrow_and_chips_count_across_the_other_filters(client, district, campaign, staff):
    with time_machine.travel(datetime(2024, 5, 1, 3, tzinfo=UTC), tick=False):
        IncidentFactory(
            campaign=campaign,
            unit=district.sibling_cell,
            title_vi="Ngập úng đường Xã Đàn",
            status=ReviewStatus.SUBMITTED,
        )
    resubmitted = _sessions(district.cell, campaign, 3)
    StudySession.objects.filter(pk=resubmitted[0].pk).update(
        return_count=2, submitted_at=datetime(2024, 5, 19, 2, tzinfo=UTC)
    )
    StudySession.objects.filter(pk=resubmitted[1].pk).update(
        submitted_at=datetime(2024, 5, 18, 2, tzinfo=UTC),
        review_overdue_from=date(2024, 5, 25),
    )
    StudySession.objects.filter(pk=resubmitted[2].pk).update(
        submitted_at=datetime(2024, 5, 18, 2, tzinfo=UTC),
        review_overdue_from=date(2024, 5, 25),
    )

    def total(**filters) -> int:
        return review_queue(user=staff, campaign=campaign, filters=QueueFilters(**filters)).total

    assert total() == 4
    assert total(committee="p-kim-lien") == 3
    assert total(committee="p-van-mieu") == 1
    assert total(committee="no-such-ward") == 4  # an unknown committee filters nothing
    assert total(kind="incidents") == 1
    assert total(state="resubmitted") == 1
    assert total(state="new") == 3
    assert total(state="overdue") == 2  # the incident (sent 01/05) and the first session
    assert total(age="7") == 1  # only the incident was sent more than a week ago
    # Diacritics or none, upper or lower case: the unit's name and the item's title.
    assert total(q="ngap ung") == total(q="NGẬP ÚNG") == 1
    assert total(q="to dan pho so 1") == total(q="Tổ dân phố số 1") == 3
    assert total(q="xa dan", kind="sessions") == 0
    page = review_queue(user=staff, campaign=campaign, filters=QueueFilters(committee="p-kim-lien"))
    assert page.kind_counts["sessions"] == 3 and page.kind_counts["incidents"] == 0
    assert page.state_counts == {"": 3, "new": 2, "resubmitted": 1, "overdue": 1}

    client.force_login(staff)
    html = client.get(QUEUE + "?committee=p-kim-lien").content.decode()
    # Chips are links that keep the other filters.
    assert 'href="?committee=p-kim-lien&amp;state=resubmitted"' in html
    assert 'href="?committee=p-kim-lien&amp;kind=incidents"' in html
    # Each row names the unit's committee.
    assert html.count("Đảng bộ phường Kim Liên") >= 3
    # Rows carry the filter to the item, for "next".
    assert "?next=" + quote("/vi/dashboard/review/?committee=p-kim-lien", safe="") in html


def test_after_a_decision_the_next_item_of_the_same_filter_opens(client, district, campaign, staff):
    other_ward = _sessions(district.sibling_cell, campaign, 1)[0]
    first, second = _sessions(district.cell, campaign, 2, start=5)
    back = "/vi/dashboard/review/?committee=p-kim-lien"
    client.force_login(staff)
    detail = client.get(_detail(district.cell, first) + "?next=" + quote(back, safe=""))
    assert f'name="next" value="{back}"' in detail.content.decode()
    response = client.post(
        _review(district.cell, first),
        {"decision": "accept", "version": first.version, "next": back},
    )
    assert response.status_code == 302
    assert response["Location"] == _detail(district.cell, second) + "?next=" + quote(back, safe="")
    response = client.post(
        _review(district.cell, second),
        {"decision": "accept", "version": second.version, "next": back},
    )
    # Nothing left for Kim Liên (the Văn Miếu item is another filter): back to the queue.
    assert response["Location"] == back
    other_ward.refresh_from_db()
    assert other_ward.status == ReviewStatus.SUBMITTED


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/vi/dashboard/review/", "//evil.example/x", "/vi/units/"]
)
def test_a_next_that_is_not_this_sites_queue_is_ignored(
    client, district, campaign, staff, next_url
):
    first, _second = _sessions(district.cell, campaign, 2)
    client.force_login(staff)
    page = client.get(_detail(district.cell, first) + "?next=" + quote(next_url, safe=""))
    html = page.content.decode()
    assert 'data-testid="back-to-queue"' not in html
    assert f'name="next" value="{next_url}"' not in html
    response = client.post(
        _review(district.cell, first),
        {"decision": "accept", "version": first.version, "next": next_url},
    )
    assert response["Location"] == _detail(district.cell, first)


def test_a_return_needs_a_comment_and_an_accept_does_not(client, district, campaign, staff):
    first, second = _sessions(district.cell, campaign, 2)
    client.force_login(staff)
    refused = client.post(_review(district.cell, first), {"decision": "return", "comment": " "})
    assert refused.status_code == 400
    assert refused.context["review_form"].errors["comment"]
    first.refresh_from_db()
    assert first.status == ReviewStatus.SUBMITTED
    client.post(_review(district.cell, second), {"decision": "accept", "version": second.version})
    second.refresh_from_db()
    assert second.status == ReviewStatus.ACCEPTED


def test_the_item_page_announces_the_keyboard_shortcuts(client, district, campaign, staff):
    (item,) = _sessions(district.cell, campaign, 1)
    client.force_login(staff)
    html = client.get(_detail(district.cell, item)).content.decode()
    assert 'src="/static/js/review-keys.js"' in html
    assert 'data-testid="review-keys-hint"' in html
    assert "data-review-form" in html and 'aria-live="polite"' in html


def test_the_export_holds_the_whole_filter_in_the_queues_order(client, district, campaign, staff):
    _sessions(district.cell, campaign, 3)
    _sessions(district.sibling_cell, campaign, 2, start=3)
    client.force_login(staff)
    response = client.get("/vi/dashboard/review/export.csv?committee=p-van-mieu")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 3
    assert all("Chi bộ Khu dân cư số 2" in line for line in lines[1:])
    assert all("Đảng bộ phường Văn Miếu" in line for line in lines[1:])
    assert lines[1].startswith("01/04/2024 09:03") and lines[2].startswith("01/04/2024 09:04")


def test_a_unit_secretary_without_two_level_review_cannot_open_the_queue(
    client, district, campaign, ward_secretary, standing
):
    for user in (ward_secretary, standing):
        client.force_login(user)
        assert client.get(QUEUE).status_code == 403
        assert client.get("/vi/dashboard/review/export.csv").status_code == 403


def test_a_deeper_tree_keeps_the_committee_of_the_ward(district, campaign, staff):
    """A cell under a grassroots committee under a ward: its committee is the ward."""
    grassroots = UnitFactory(parent=district.ward, code="kl-truong", kind="grassroots_committee")
    deep = UnitFactory(parent=grassroots, code="kl-truong-cb1")
    _sessions(deep, campaign, 1)
    page = review_queue(user=staff, campaign=campaign, filters=QueueFilters(committee="p-kim-lien"))
    assert page.total == 1
    assert page.entries[0].item.unit.committee_name == "Đảng bộ phường Kim Liên"


def _detail(unit, item, kind="sessions") -> str:
    return reverse("reports:detail", kwargs={"code": unit.code, "kind": kind, "pk": item.pk})


def _review(unit, item, kind="sessions") -> str:
    return reverse("reports:review", kwargs={"code": unit.code, "kind": kind, "pk": item.pk})


@pytest.mark.parametrize("page", ["²", "٣", "-1", "9" * 12, "1.5"])
def test_a_page_number_that_is_not_one_shows_the_first_page(
    client, district, campaign, staff, page
):
    _sessions(district.cell, campaign, 3)
    client.force_login(staff)
    response = client.get(QUEUE, {"page": page})
    assert response.status_code == 200 and response.context["queue"].page == 1
    assert client.get(QUEUE + "export.csv", {"page": page}).status_code == 200
