"""Reads that every part of the campaign app needs: which campaign is current, which are under
way, and the member count a campaign judges a unit on."""

from datetime import date

from django.db.models import F, FilteredRelation, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from units.models import Unit

from .models import Campaign, CampaignMembers


def current_campaign(today: date | None = None) -> Campaign | None:
    """The campaign the pages and the weekly digest show on `today` (the local date by default),
    one at a time, by date: the active campaign under way (its first day to its last); when
    none is, the one that ended last, so the 2024 figures stay on the dashboard until the 2025
    campaign begins; before any campaign has begun, the first to come.

    Two active campaigns cannot overlap (`Campaign.clean`); should old data hold two, the one
    that began last wins. One query: a district keeps a campaign a year."""
    today = today or timezone.localdate()
    campaigns = list(Campaign.objects.filter(is_active=True))
    under_way = [c for c in campaigns if c.starts_on <= today <= c.ends_on]
    if under_way:
        return max(under_way, key=lambda c: (c.starts_on, c.year, c.pk))
    ended = [c for c in campaigns if c.ends_on < today]
    if ended:
        return max(ended, key=lambda c: (c.ends_on, c.year, c.pk))
    return min(campaigns, key=lambda c: (c.starts_on, c.pk), default=None)


def active_campaigns(today: date) -> QuerySet[Campaign]:
    """The campaigns begun by `today` and still active: the jobs that judge units (the deadline
    engine, the reminders) work on each of them, an ended one included, since a late unit's
    items still arrive and its flags still close. The digest is about one of them only, the
    current one."""
    return Campaign.objects.filter(is_active=True, starts_on__lte=today).order_by("pk")


def with_campaign_members(
    queryset: QuerySet, campaign: Campaign, *, unit: str = "", name: str = "members"
) -> QuerySet:
    """Annotates each row with `name`: the member count `campaign` judges the row's unit on
    (`unit` is the path to it, "" when the rows are units), that is the count the campaign took,
    or the unit's live count for a unit that came after. A LEFT JOIN, one per statement, not a
    query per unit."""
    prefix = f"{unit}__" if unit else ""
    relation = f"{prefix}campaign_members"
    counted = f"taken_{name}"
    return queryset.alias(
        **{counted: FilteredRelation(relation, condition=Q(**{f"{relation}__campaign": campaign}))}
    ).annotate(**{name: Coalesce(F(f"{counted}__member_count"), F(f"{prefix}member_count"))})


def campaign_member_count(*, campaign: Campaign, unit: Unit) -> int:
    """The member count `campaign` judges `unit` on (one query)."""
    taken = (
        CampaignMembers.objects.filter(campaign=campaign, unit=unit)
        .values_list("member_count", flat=True)
        .first()
    )
    return unit.member_count if taken is None else taken
