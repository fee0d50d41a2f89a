"""The invariants the database holds for campaigns and study sessions, whatever writes them."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from campaigns.models import Campaign, StudySession
from tests.factories import CampaignFactory, StudySessionFactory


def test_session_with_more_attendees_than_expected_is_refused(district, campaign):
    with (
        pytest.raises(IntegrityError, match="session_attendees_le_expected"),
        transaction.atomic(),
    ):
        StudySessionFactory(
            campaign=campaign, unit=district.cell, members_expected=40, attendees=41
        )
    assert not StudySession.objects.exists()


def test_session_expecting_no_members_is_refused(district, campaign):
    with pytest.raises(IntegrityError, match="session_expected_positive"), transaction.atomic():
        StudySessionFactory(campaign=campaign, unit=district.cell, members_expected=0, attendees=0)
    assert not StudySession.objects.exists()


def test_session_with_full_attendance_is_allowed(district, campaign):
    StudySessionFactory(campaign=campaign, unit=district.cell, members_expected=40, attendees=40)
    assert StudySession.objects.filter(unit=district.cell).count() == 1


@pytest.mark.parametrize("share", [0, 101])
def test_campaign_study_share_outside_1_to_100_is_refused(db, share):
    with pytest.raises(IntegrityError, match="campaign_study_share_1_100"), transaction.atomic():
        CampaignFactory(required_study_share=share)
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("share", [1, 100])
def test_campaign_study_share_at_the_bounds_is_allowed(db, share):
    assert Campaign.objects.get(pk=CampaignFactory(required_study_share=share).pk)


def test_campaign_ending_before_it_starts_is_refused(db):
    # The study deadline cannot lie inside such a campaign either, so either check may fire.
    with (
        pytest.raises(
            IntegrityError, match=r"campaign_ends_after_start|campaign_study_deadline_in_campaign"
        ),
        transaction.atomic(),
    ):
        CampaignFactory(starts_on=date(2024, 12, 31), ends_on=date(2024, 2, 29))
    assert not Campaign.objects.exists()


def test_campaign_study_deadline_after_its_end_is_refused(db):
    with (
        pytest.raises(IntegrityError, match="campaign_study_deadline_in_campaign"),
        transaction.atomic(),
    ):
        CampaignFactory(ends_on=date(2024, 3, 30), study_deadline=date(2024, 3, 31))
