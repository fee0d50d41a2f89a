"""What a review of the official report found, each pinned: figures counted as the rules count
them, an untouched paragraph that keeps following the figures, malformed addresses, look-alike
numbers, the report compared with the one in force."""

from datetime import date

import pytest
import time_machine

from campaigns.engine.status import refresh_unit_status
from campaigns.models import OfficialReport, PropagandaActivity, ReviewStatus
from campaigns.official import services
from campaigns.official.build import build_document, previous_issued
from tests.campaigns.official.test_views import TODAY, draft, form_data, url
from tests.factories import (
    BreakthroughTaskFactory,
    ProgressReportFactory,
    StudySessionFactory,
    moment,
)


@pytest.fixture(autouse=True)
def in_2024():
    with time_machine.travel(moment(TODAY, 10), tick=False):
        yield


def figures_of(report) -> dict:
    refresh_unit_status(report.campaign)  # as of today the report reads the live status rows
    return build_document(report).figures


def test_people_reached_count_the_activities_the_status_rows_count(district, campaign, staff):
    for status, audience in ((ReviewStatus.ACCEPTED, 100), (ReviewStatus.RETURNED, 1000)):
        PropagandaActivity.objects.create(
            campaign=campaign,
            unit=district.cell,
            held_on=date(2024, 4, 2),
            channel=PropagandaActivity.Channel.values[0],
            audience=audience,
            status=status,
            created_by=staff,
        )
    figures = figures_of(draft(staff, district.root, campaign, day=TODAY))
    assert (figures["propaganda"], figures["people_reached"]) == (1, 100)


def test_a_tasks_progress_is_its_latest_report_not_its_highest(district, campaign, staff):
    task = BreakthroughTaskFactory(campaign=campaign, unit=district.cell)
    ProgressReportFactory(
        task=task, period_start=date(2024, 1, 1), percent=60, status=ReviewStatus.ACCEPTED
    )
    ProgressReportFactory(
        task=task, period_start=date(2024, 4, 1), percent=20, status=ReviewStatus.ACCEPTED
    )
    figures = figures_of(draft(staff, district.root, campaign, day=TODAY))
    assert figures["progress_economy"] == 20


def test_the_committee_directs_the_organisations_directly_under_it(district, campaign, staff):
    figures = figures_of(draft(staff, district.root, campaign, day=TODAY, language="en"))
    assert (figures["units"], figures["direct_units"]) == (4, 2)
    text = (
        build_document(draft(staff, district.root, campaign, day=TODAY, language="en"))
        .document.paragraphs()["requirements"]
        .text
    )
    assert "directed the 2 party organisations under it" in text


def test_an_untouched_paragraph_keeps_following_the_figures(client, district, campaign, staff):
    report = draft(staff, district.root, campaign, day=TODAY)
    client.force_login(staff)
    data = form_data(client, report)
    # A report arrives between showing the form and saving it: the app's text moves on.
    StudySessionFactory(campaign=campaign, unit=district.cell, held_on=date(2024, 5, 2))
    refresh_unit_status(campaign)
    assert client.post(url("detail", report), data).status_code == 302
    report.refresh_from_db()
    assert report.edits == {}


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?replaces=%C2%B2", 404),
        ("?replaces=99999999999999999999", 404),
        # A NUL is refused at the door (dongda.middleware_requests), before any view.
        ("?committee=%00", 400),
        ("?committee=" + "x" * 70, 404),
    ],
)
def test_malformed_addresses_of_the_new_page_are_refused(
    client, district, campaign, staff, query, status
):
    client.force_login(staff)
    assert client.get(url("new") + query).status_code == status


def test_a_look_alike_number_is_refused(client, district, campaign, staff):
    report = draft(staff, district.root, campaign)
    client.force_login(staff)
    data = form_data(client, report)
    data["number"] = "１５"
    response = client.post(url("detail", report), data)
    assert response.status_code == 400
    assert "number" in response.context["form"].errors


def test_the_comparison_is_with_the_report_in_force(district, campaign, staff):
    first = draft(staff, district.root, campaign, day=date(2024, 4, 10))
    first = services.issue(report_id=first.pk, user=staff, expected_version=first.version)
    replacement = services.start_draft(
        user=staff,
        campaign=campaign,
        committee=district.root,
        as_of=date(2024, 4, 5),
        language="vi",
        supersedes=first,
    )
    replacement = services.issue(
        report_id=replacement.pk, user=staff, expected_version=replacement.version
    )
    first.refresh_from_db()
    assert first.state == OfficialReport.State.SUPERSEDED
    later = draft(staff, district.root, campaign, day=date(2024, 5, 1))
    assert previous_issued(later) == replacement


def test_the_list_shows_only_the_drafts_the_person_may_open(
    client, district, campaign, staff, ward_secretary
):
    ward_draft = draft(ward_secretary, district.ward, campaign)
    district.ward.is_active = False
    district.ward.save()
    client.force_login(ward_secretary)
    listed = client.get(url("list"))
    assert url("detail", ward_draft) not in listed.text
    assert client.get(url("detail", ward_draft)).status_code == 404


def test_the_confirmation_names_the_rewritten_paragraphs(client, district, campaign, staff):
    report = draft(staff, district.root, campaign, edits={"plans": "Văn bản tự viết."})
    client.force_login(staff)
    page = client.get(url("issue", report))
    assert page.status_code == 200
    assert 'data-testid="edited-warning"' in page.text
    assert "Kế hoạch thực hiện" in page.text.split('data-testid="edited-warning"')[1]
    untouched = draft(staff, district.sibling_ward, campaign)
    assert 'data-testid="edited-warning"' not in client.get(url("issue", untouched)).text
