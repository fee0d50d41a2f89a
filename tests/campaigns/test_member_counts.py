"""Each campaign keeps the member counts it was judged on (CampaignMembers): a unit's count
corrected for a new campaign leaves the old campaign's figures (status rows, rollups, flags, the
R1 summary) as they were; a unit without a count of its own is judged on its live count."""

from datetime import date

import pytest
from django.urls import reverse

from campaigns.engine.run import deadline_engine_run
from campaigns.engine.study import study_summary
from campaigns.models import (
    CampaignMembers,
    CompletionRollup,
    Flag,
    FlagKind,
    ReviewStatus,
    StatusRollup,
    UnitStatus,
)
from campaigns.reporting.forms import StudySessionForm
from campaigns.setup import campaign_copy, campaign_members_refresh, take_member_counts
from tests.factories import StudySessionFactory, UnitFactory
from units.models import Unit

pytestmark = pytest.mark.django_db


def figures(campaign) -> dict:
    """Everything the dashboard, the unit table and the digests read for a campaign."""

    def rows(model, *order, leave_out=("id",)):
        return [
            {k: v for k, v in row.items() if k not in leave_out}
            for row in model.objects.filter(campaign=campaign).order_by(*order).values()
        ]

    return {
        "status": rows(UnitStatus, "unit_id", leave_out=("id", "refreshed_at")),
        "rollups": rows(StatusRollup, "level", "anchor", "kind"),
        "completions": rows(CompletionRollup, "anchor", "completed_on"),
        "flags": list(
            Flag.objects.filter(campaign=campaign)
            .order_by("unit_id", "kind", "subject")
            .values_list("unit_id", "kind", "subject", "opened_on", "closed_on")
        ),
        "summary": study_summary(campaign=campaign, within=Unit.objects.all()),
    }


def save_count(unit: Unit, members: int, capture) -> None:
    """A count corrected in the admin: the unit's save, and what follows its commit."""
    unit.refresh_from_db()
    unit.member_count = members
    with capture(execute=True):
        unit.save()


@pytest.fixture
def year_2024(district, campaign):
    """The 2024 campaign judged on its own counts: the cell covered 38 of its 40 members (95%)
    on time, the ward all 12; the sibling ward is in progress, the sibling cell not started."""
    take_member_counts(campaign, by=None)
    accepted = {"status": ReviewStatus.ACCEPTED, "held_on": date(2024, 3, 15)}
    StudySessionFactory(campaign=campaign, unit=district.cell, attendees=38, **accepted)
    StudySessionFactory(campaign=campaign, unit=district.ward, attendees=12, **accepted)
    StudySessionFactory(campaign=campaign, unit=district.sibling_ward, attendees=5, **accepted)
    deadline_engine_run()
    return campaign


def copy_to_2025(source, by=None):
    return campaign_copy(
        source=source,
        code="cd2025",
        year=2025,
        title_vi="Chuyên đề năm 2025",
        short_title_vi="Chuyên đề năm 2025",
        by=by,
    )


def test_a_member_count_changed_for_a_new_campaign_leaves_the_old_campaigns_figures(
    year_2024, district, staff, django_capture_on_commit_callbacks
):
    before = figures(year_2024)
    cell = UnitStatus.objects.get(campaign=year_2024, unit=district.cell)
    assert (cell.members, cell.study_state) == (40, "on_time")
    study = (FlagKind.STUDY_OVERDUE, FlagKind.STUDY_LATE)
    assert not Flag.objects.filter(campaign=year_2024, unit=district.cell, kind__in=study).exists()

    # 2025: the cell has grown; the office corrects its count, copies the campaign, corrects
    # it again and takes the new campaign's counts once more.
    save_count(district.cell, 60, django_capture_on_commit_callbacks)
    year_2025 = copy_to_2025(year_2024, by=staff)
    save_count(district.cell, 80, django_capture_on_commit_callbacks)
    campaign_members_refresh(campaign=year_2025, by=staff)
    deadline_engine_run()  # both campaigns, as the daily run does

    assert figures(year_2024) == before
    assert UnitStatus.objects.get(campaign=year_2024, unit=district.cell).members == 40
    new_cell = UnitStatus.objects.get(campaign=year_2025, unit=district.cell)
    assert (new_cell.members, new_cell.study_state) == (80, "not_started")
    assert CampaignMembers.objects.get(campaign=year_2024, unit=district.cell).member_count == 40


def test_without_counts_of_its_own_a_campaign_follows_the_live_count(
    year_2024, district, django_capture_on_commit_callbacks
):
    """The control of the test above: what the counts protect against."""
    CampaignMembers.objects.filter(campaign=year_2024).delete()
    before = figures(year_2024)
    save_count(district.cell, 60, django_capture_on_commit_callbacks)
    deadline_engine_run()
    after = figures(year_2024)
    assert after != before
    cell = UnitStatus.objects.get(campaign=year_2024, unit=district.cell)
    assert (cell.members, cell.study_state) == (60, "in_progress")  # 38 of 60
    assert Flag.objects.filter(
        campaign=year_2024, unit=district.cell, kind=FlagKind.STUDY_OVERDUE
    ).exists()


def test_a_unit_added_after_the_counts_were_taken_is_judged_on_its_live_count(
    year_2024, district, staff, django_capture_on_commit_callbacks
):
    newcomer = UnitFactory(parent=district.ward, code="p-kim-lien-cb09", member_count=20)
    StudySessionFactory(
        campaign=year_2024,
        unit=newcomer,
        attendees=20,
        status=ReviewStatus.ACCEPTED,
        held_on=date(2024, 3, 15),
    )
    deadline_engine_run()
    assert UnitStatus.objects.get(campaign=year_2024, unit=newcomer).members == 20
    save_count(newcomer, 30, django_capture_on_commit_callbacks)
    row = UnitStatus.objects.get(campaign=year_2024, unit=newcomer)
    assert (row.members, row.study_state) == (30, "in_progress")
    # Until the office takes the counts again; then the count is the campaign's own.
    campaign_members_refresh(campaign=year_2024, by=staff)
    save_count(newcomer, 20, django_capture_on_commit_callbacks)
    deadline_engine_run()
    assert UnitStatus.objects.get(campaign=year_2024, unit=newcomer).members == 30


def test_the_unit_page_shows_the_campaigns_count(client, year_2024, district, staff):
    Unit.objects.filter(pk__in=[district.ward.pk, district.cell.pk]).update(member_count=77)
    client.force_login(staff)
    page = client.get(reverse("units:detail", kwargs={"code": district.ward.code})).text
    assert "12 đảng viên" in page  # the ward, in the header
    assert "77 đảng viên" not in page  # not the ward's live count
    # The table of units below lists the cell with the campaign's count, not its live one. (Not
    # `"77" not in page`: a random CSRF token holds "77" about once in sixty pages.)
    below = page[page.index('id="children-heading"') :]
    cell_row = below.split('href="/vi/units/p-kim-lien-cb01/"')[1].split("</tr>")[0]
    assert ">40</td>" in cell_row and ">77</td>" not in cell_row


def test_members_expected_is_bounded_by_the_campaigns_count(year_2024, district):
    Unit.objects.filter(pk=district.cell.pk).update(member_count=77)
    district.cell.refresh_from_db()
    data = {
        "held_on": "20/03/2024",
        "kind": "regular",
        "format": "in_person",
        "presenter": "Đồng chí Lê Văn Nam",
        "members_expected": "41",
        "attendees": "30",
    }

    def form(**changes):
        return StudySessionForm(
            data | changes, campaign=year_2024, unit=district.cell, today=date(2024, 3, 25)
        )

    refused = form()
    assert not refused.is_valid()
    assert "40" in refused.errors["members_expected"][0]
    assert form(members_expected="40").is_valid()
    # A new form offers the campaign's count.
    new = StudySessionForm(campaign=year_2024, unit=district.cell, today=date(2024, 3, 25))
    assert new.initial["members_expected"] == 40
