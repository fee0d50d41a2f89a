"""The campaign-wide reads: which campaign the pages show."""

from datetime import date

from campaigns.selectors import current_campaign
from tests.factories import CampaignFactory


def test_current_campaign_is_the_latest_active_one(db):
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
