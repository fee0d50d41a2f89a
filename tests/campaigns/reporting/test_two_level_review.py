"""Two-level review (`Campaign.two_level_review`): a ward committee's secretary reviews its own
cells' items first (passes them on to the district office or returns them with a comment); the
district office sees only what a committee passed on, plus items with no committee above them,
and can still return anything. Scope holds: another ward's secretary and a cell's secretary
cannot review; every step is in the item's history; a late step is the committee's or the
district's delay, whichever is late."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from campaigns.flagtexts import describe_flags
from campaigns.mail.messages import build_message
from campaigns.models import Actor, Flag, FlagKind, OutgoingMail, ReviewStatus, StudySession
from campaigns.reporting.queue import QueueFilters, review_queue
from campaigns.reporting.selectors import committee_review_backlog, report_history
from campaigns.reporting.services import ReportStateError, report_committee_review, report_review
from tests.factories import StudySessionFactory, UnitFactory, UserFactory, assign
from units.models import Role

pytestmark = pytest.mark.django_db

QUEUE = "/vi/dashboard/review/"


@pytest.fixture(autouse=True)
def in_2024():
    with time_machine.travel(datetime(2024, 5, 20, 3, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def two_level(campaign):
    campaign.two_level_review = True
    campaign.save(update_fields=["two_level_review"])
    return campaign


def _submitted(unit, campaign, **fields) -> StudySession:
    session = StudySessionFactory(campaign=campaign, unit=unit, status=ReviewStatus.DRAFT)
    from campaigns.reporting.services import report_submit

    return report_submit(item=session, user=None, expected_version=session.version)


def _url(name, item, kind="sessions") -> str:
    return reverse(f"reports:{name}", kwargs={"code": item.unit.code, "kind": kind, "pk": item.pk})


def _post(client, item, decision, comment="", **extra):
    item.refresh_from_db()
    data = {"decision": decision, "comment": comment, "version": item.version, **extra}
    return client.post(_url("review", item), data)


def test_off_by_default_the_ward_secretary_reviews_nothing(
    client, district, campaign, ward_secretary, staff
):
    assert campaign.two_level_review is False
    session = _submitted(district.cell, campaign)
    client.force_login(ward_secretary)
    assert client.get(QUEUE).status_code == 403
    assert _post(client, session, "accept").status_code == 403
    assert "data-review-form" not in client.get(_url("detail", session)).content.decode()
    # The district office sees it at once, as before.
    assert review_queue(user=staff, campaign=campaign).total == 1


def test_the_ward_passes_one_on_and_returns_another_and_the_district_sees_only_what_passed(
    client, district, two_level, ward_secretary, staff, cell_secretary
):
    cell_secretary.email = "chibo1@example.vn"  # the returned notice goes to an address
    cell_secretary.save(update_fields=["email"])
    passed, returned = _submitted(district.cell, two_level), _submitted(district.cell, two_level)
    own = _submitted(district.ward, two_level)  # the ward's own report: no committee above it
    assert [e.item.pk for e in review_queue(user=staff, campaign=two_level).entries] == [own.pk]
    at_committees = review_queue(
        user=staff, campaign=two_level, filters=QueueFilters(state="at_committee")
    )
    assert {e.item.pk for e in at_committees.entries} == {passed.pk, returned.pk}

    client.force_login(ward_secretary)
    page = client.get(QUEUE)
    assert page.status_code == 200
    assert {e.item.pk for e in page.context["queue"].entries} == {passed.pk, returned.pk}
    detail = client.get(_url("detail", passed))
    assert detail.context["review_level"] == "committee"
    assert "data-review-form" in detail.content.decode()

    assert _post(client, returned, "return", "").status_code == 400  # a return needs a comment
    assert _post(client, passed, "accept").status_code == 302
    assert (
        _post(client, returned, "return", "Biên bản thiếu chữ ký của chủ trì.").status_code == 302
    )

    passed.refresh_from_db()
    returned.refresh_from_db()
    assert passed.status == ReviewStatus.SUBMITTED and passed.passed_by == ward_secretary
    assert passed.review_overdue_from > date(2024, 5, 20)  # the district's own review time
    assert returned.status == ReviewStatus.RETURNED and returned.return_count == 1
    assert returned.review_comment == "Biên bản thiếu chữ ký của chủ trì."
    assert [e.reason for e in report_history(passed)][:2] == ["passed", "submitted"]
    assert report_history(returned)[0].reason == "committee_returned"
    # The cell's secretary is told that its committee, not the district office, returned it.
    notice = OutgoingMail.objects.get(kind=OutgoingMail.Kind.RETURNED, recipient=cell_secretary)
    body = build_message(notice).body
    assert "Cấp ủy cấp trên trực tiếp đã trả lại báo cáo này" in body
    assert "Văn phòng Quận ủy đã trả lại" not in body

    district_queue = review_queue(user=staff, campaign=two_level)
    assert {e.item.pk for e in district_queue.entries} == {own.pk, passed.pk}
    assert committee_review_backlog(unit=district.ward, campaign=two_level) == []

    client.force_login(staff)
    assert _post(client, passed, "accept").status_code == 302
    passed.refresh_from_db()
    assert passed.status == ReviewStatus.ACCEPTED


def test_the_cell_sees_the_committees_comment_and_a_resubmission_starts_at_the_committee(
    client, district, two_level, ward_secretary, cell_secretary
):
    session = _submitted(district.cell, two_level)
    report_committee_review(
        item=session, reviewer=ward_secretary, accept=True, comment="", expected_version=2
    )
    session.refresh_from_db()
    report_review(
        item=session,
        reviewer=UserFactory(),
        accept=False,
        comment="Số dự thiếu, đề nghị bổ sung.",
        expected_version=session.version,
    )
    session.refresh_from_db()
    client.force_login(cell_secretary)
    html = client.get(_url("detail", session)).content.decode()
    assert "Số dự thiếu, đề nghị bổ sung." in html
    client.post(_url("submit", session), {"version": session.version})
    session.refresh_from_db()
    assert session.status == ReviewStatus.SUBMITTED and session.passed_at is None
    assert session.return_count == 1
    assert [
        e.item.pk for e in committee_review_backlog(unit=district.ward, campaign=two_level)
    ] == [session.pk]
    report_committee_review(
        item=session,
        reviewer=ward_secretary,
        accept=False,
        comment="Chi bộ xem lại biên bản.",
        expected_version=session.version,
    )
    page = client.get(_url("detail", session))
    assert "Chi bộ xem lại biên bản." in page.content.decode()
    assert page.context["returned_by_committee"] is True
    # The unit edits it before resubmitting: still the committee that returned it.
    session.refresh_from_db()
    session.attendees = session.attendees - 1
    session._change_reason = "edited"
    session.save()
    assert client.get(_url("detail", session)).context["returned_by_committee"] is True


def test_the_district_can_return_an_item_still_with_its_committee_but_not_accept_it(
    client, district, two_level, staff
):
    session = _submitted(district.cell, two_level)
    with pytest.raises(ReportStateError):
        report_review(item=session, reviewer=staff, accept=True, comment="", expected_version=2)
    session.refresh_from_db()
    assert session.version == 2 and session.status == ReviewStatus.SUBMITTED
    client.force_login(staff)
    html = client.get(_url("detail", session)).content.decode()
    assert 'name="decision" value="return"' in html and 'value="accept"' not in html
    assert _post(client, session, "return", "Đề nghị chi bộ bổ sung biên bản.").status_code == 302
    session.refresh_from_db()
    assert session.status == ReviewStatus.RETURNED


def test_another_wards_secretary_and_a_cells_secretary_cannot_review(
    client, district, two_level, sibling_secretary, cell_secretary, ward_secretary
):
    session = _submitted(district.cell, two_level)
    client.force_login(sibling_secretary)
    assert client.get(_url("detail", session)).status_code == 404
    assert _post(client, session, "accept").status_code == 404
    queue = client.get(QUEUE)  # their own (empty) queue: nothing of Kim Liên in it
    assert queue.status_code == 200 and queue.context["queue"].total == 0
    assert client.get(QUEUE + "?committee=p-kim-lien").context["queue"].total == 0
    client.force_login(cell_secretary)
    assert client.get(QUEUE).status_code == 403
    assert _post(client, session, "accept").status_code == 403
    # The ward's secretary does not review the ward's own report (it goes to the district).
    own = _submitted(district.ward, two_level)
    client.force_login(ward_secretary)
    assert _post(client, own, "accept").status_code == 403
    for item in (session, own):
        item.refresh_from_db()
        assert item.status == ReviewStatus.SUBMITTED and item.passed_at is None


def test_a_clerk_of_the_committee_reviews_too_but_a_standing_committee_member_does_not(
    client, district, two_level, standing
):
    clerk = assign(UserFactory(), district.ward, Role.CLERK)
    session = _submitted(district.cell, two_level)
    client.force_login(standing)
    assert _post(client, session, "accept").status_code == 403
    client.force_login(clerk)
    assert _post(client, session, "accept").status_code == 302
    session.refresh_from_db()
    assert session.passed_by == clerk


def test_a_late_review_is_the_late_levels_delay(district, two_level, ward_secretary):
    session = _submitted(district.cell, two_level)
    flag = Flag.objects.create(
        campaign=two_level,
        unit=district.cell,
        kind=FlagKind.REVIEW_OVERDUE,
        subject=f"sessions:{session.pk}",
        opened_on=date(2024, 5, 20),
    )
    (text,) = describe_flags([flag], two_level)
    assert text.actor == Actor.COMMITTEE
    report_committee_review(
        item=session, reviewer=ward_secretary, accept=True, comment="", expected_version=2
    )
    (text,) = describe_flags([flag], two_level)
    assert text.actor == Actor.DISTRICT
    two_level.two_level_review = False
    two_level.save(update_fields=["two_level_review"])
    other = _submitted(district.cell, two_level)
    flag.subject = f"sessions:{other.pk}"
    (text,) = describe_flags([flag], two_level)
    assert text.actor == Actor.DISTRICT


def test_the_committee_backlog_has_a_fixed_query_count(
    district, two_level, django_assert_num_queries
):
    grassroots = UnitFactory(parent=district.ward, code="kl-gr", kind="grassroots_committee")
    deep = UnitFactory(parent=grassroots, code="kl-gr-cb")
    for unit in (district.cell, deep, district.sibling_cell, district.ward):
        _submitted(unit, two_level)
    with django_assert_num_queries(1 + 7) as few:
        backlog = committee_review_backlog(unit=district.ward, campaign=two_level)
    assert {e.item.unit.code for e in backlog} == {"p-kim-lien-cb01", "kl-gr-cb"}
    assert {e.item.unit.committee_name for e in backlog} == {"Đảng bộ phường Kim Liên"}
    for _n in range(20):
        _submitted(deep, two_level)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(committee_review_backlog(unit=district.ward, campaign=two_level)) == 22
    assert committee_review_backlog(unit=district.cell, campaign=two_level) == []


def test_the_district_backlog_counts_a_passed_item_from_the_day_it_was_passed_on(
    district, two_level, ward_secretary
):
    """The district's review time restarts when the committee passes an item on; its digest's
    backlog bands wait the same way (an item sent long ago but passed on today is fresh)."""
    from campaigns.mail.agenda import review_backlog

    sent_at = datetime(2024, 4, 1, 2, tzinfo=UTC)
    with time_machine.travel(sent_at, tick=False):
        session = _submitted(district.cell, two_level)
    passed_at = datetime(2024, 5, 20, 2, tzinfo=UTC)
    with time_machine.travel(passed_at, tick=False):
        report_committee_review(
            item=session, reviewer=ward_secretary, accept=True, comment="", expected_version=2
        )
    backlog = review_backlog(campaign=two_level, as_of=date(2024, 5, 21))
    assert [band.count for band in backlog.bands] == [1, 0, 0]
    at_committee = review_backlog(
        campaign=two_level, as_of=date(2024, 5, 1), committee=district.ward
    )
    assert [band.count for band in at_committee.bands] == [0, 0, 1]
