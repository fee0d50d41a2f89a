"""The campaign-wide reads: which campaign the pages show."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from campaigns.models import Campaign
from campaigns.selectors import active_campaigns, current_campaign
from tests.factories import CampaignFactory


def test_after_every_campaign_ended_the_current_one_is_the_last_active_one(db):
    CampaignFactory(code="cd2024", year=2024)
    newest = CampaignFactory(
        code="cd2025",
        year=2025,
        starts_on=date(2025, 1, 1),
        ends_on=date(2025, 12, 31),
        study_deadline=date(2025, 3, 31),
    )
    CampaignFactory(
        code="cd2026",
        year=2026,
        is_active=False,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        study_deadline=date(2026, 3, 31),
    )
    assert current_campaign() == newest


def test_no_active_campaign_gives_none(db):
    CampaignFactory(is_active=False)
    assert current_campaign() is None


# One current campaign at a time, by date


@pytest.fixture
def two_years(db):
    """2024 (29/02 to 31/12/2024) and 2025 (03/03 to 31/12/2025), both active."""
    first = CampaignFactory(code="cd2024", year=2024)
    second = CampaignFactory(
        code="cd2025",
        year=2025,
        starts_on=date(2025, 3, 3),
        ends_on=date(2025, 12, 31),
        study_deadline=date(2025, 3, 31),
        plan_deadline=date(2025, 4, 30),
        breakthrough_deadline=date(2025, 4, 30),
    )
    return first, second


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2024, 1, 15), "cd2024"),  # before any has begun: the first to come
        (date(2024, 2, 29), "cd2024"),  # its first day
        (date(2024, 12, 31), "cd2024"),  # its last day, although 2025 has the later year
        (date(2025, 1, 20), "cd2024"),  # between the two: the one that ended, still shown
        (date(2025, 3, 3), "cd2025"),
        (date(2026, 6, 1), "cd2025"),  # after both: the one that ended last
    ],
)
def test_the_current_campaign_is_chosen_by_date(two_years, today, expected):
    assert current_campaign(today).code == expected


def test_an_inactive_campaign_is_never_current(two_years):
    first, second = two_years
    Campaign.objects.filter(pk=second.pk).update(is_active=False)
    assert current_campaign(date(2025, 6, 1)) == first


def test_the_current_campaign_is_one_query(two_years, django_assert_num_queries):
    with django_assert_num_queries(1):
        current_campaign(date(2025, 6, 1))


def test_the_jobs_work_on_every_campaign_begun(two_years):
    first, second = two_years
    assert list(active_campaigns(date(2025, 1, 20))) == [first]
    assert list(active_campaigns(date(2025, 6, 1))) == [first, second]


def test_two_active_campaigns_on_the_same_days_are_refused(two_years):
    first, _second = two_years
    overlapping = CampaignFactory.build(
        code="cd2024b",
        year=2024,
        starts_on=date(2024, 12, 1),
        ends_on=date(2024, 12, 31),
        study_deadline=date(2024, 12, 15),
        plan_deadline=date(2024, 12, 20),
        breakthrough_deadline=date(2024, 12, 20),
    )
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        overlapping.full_clean()
    assert caught.value.message_dict["starts_on"] == [
        "These dates overlap those of “2024 thematic study” (29/02/2024 to 31/12/2024), which "
        "is active too; only one campaign can be active at a time. Change the dates or make one "
        "of them inactive."
    ]
    overlapping.is_active = False
    overlapping.full_clean()  # an inactive one may share the days
    # Editing a campaign does not find it overlapping itself.
    first.full_clean()
