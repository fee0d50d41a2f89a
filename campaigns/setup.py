"""Setting a campaign up for a new year: copying one, and taking the member counts it is judged on.

A copy carries every setting and rule of its source (read from the model's fields, so a setting
added later is copied without touching this module), moves every date by whole years unless the
staff typed it, and copies nothing of the reports. Each campaign keeps the member counts it was
judged on (`CampaignMembers`): taken when it is created or copied, and again only when the
district office asks for it, so correcting a unit's count in a new year leaves the figures of
the years before as they were.
"""

import copy
from collections.abc import Mapping
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext

from units.models import Unit, User

from .models import Campaign, CampaignMembers

#: Sent (with `campaign`) once the member counts of an existing campaign have been taken again:
#: campaigns.signals re-judges its flags and status rows in the same transaction. The engine
#: lives on a floor above this one, so it is told rather than called.
member_counts_taken = Signal()

# What a copy never takes from its source: what names it (typed by the staff), its dates
# (moved or typed), whether it is active (a copy starts active) and when its counts were taken.
NOT_COPIED = {"id", "code", "year", "title", "short_title", "is_active"}
NOT_COPIED |= {"members_taken_at", "members_taken_by"}


def _translated_bases() -> set[str]:
    """The model fields that django-modeltranslation splits into _vi and _en columns: their
    language columns are copied, not the field itself (its attribute writes the active
    language's column)."""
    return {
        field.translated_field.name
        for field in Campaign._meta.concrete_fields
        if hasattr(field, "translated_field")
    }


def date_fields() -> list[str]:
    """Every calendar date of a campaign: its first and last day, then its deadlines."""
    return [
        field.name
        for field in Campaign._meta.concrete_fields
        if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField)
    ]


def _copied_fields() -> list[models.Field]:
    bases = _translated_bases()
    dates = set(date_fields())
    fields = []
    for field in Campaign._meta.concrete_fields:
        base = field.translated_field.name if hasattr(field, "translated_field") else field.name
        if field.primary_key or base in NOT_COPIED or field.name in dates:
            continue
        if field.name in bases:
            continue
        fields.append(field)
    return fields


def move_by_years(day: date, years: int) -> date:
    """The same day `years` later; 29/02 becomes 28/02 in a year without it."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def moved_dates(source: Campaign, year: int) -> dict[str, date]:
    """The source's dates moved to `year` (what the copy form offers before anyone types)."""
    return {
        name: move_by_years(getattr(source, name), year - source.year) for name in date_fields()
    }


def take_member_counts(campaign: Campaign, *, by: User | None, at: datetime | None = None) -> int:
    """Replaces the campaign's member counts with every unit's current count (two statements,
    whatever the size of the tree) and records who took them and when; returns how many units
    were counted. The write alone: `campaign_members_refresh` also brings the figures along."""
    CampaignMembers.objects.filter(campaign=campaign).delete()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(CampaignMembers._meta.db_table)} "  # noqa: S608 - table names
            "(campaign_id, unit_id, member_count) "
            f"SELECT %s, id, member_count FROM {quote(Unit._meta.db_table)}",
            [campaign.pk],
        )
        counted = cursor.rowcount
    campaign.members_taken_at = at or timezone.now()
    campaign.members_taken_by = by
    Campaign.objects.filter(pk=campaign.pk).update(
        members_taken_at=campaign.members_taken_at, members_taken_by=by
    )
    return counted


@transaction.atomic
def campaign_members_refresh(*, campaign: Campaign, by: User) -> int:
    """The district office takes the campaign's member counts again, on purpose: from now on
    the campaign judges every unit on its current count. Its flags and status rows follow in
    the same transaction."""
    counted = take_member_counts(campaign, by=by)
    member_counts_taken.send(sender=Campaign, campaign=campaign)
    return counted


@transaction.atomic
def campaign_copy(
    *,
    source: Campaign,
    code: str,
    year: int,
    title_vi: str,
    short_title_vi: str,
    title_en: str = "",
    short_title_en: str = "",
    dates: Mapping[str, date | None] | None = None,
    by: User | None,
) -> Campaign:
    """A new campaign with every setting and rule of `source`, named as given, its dates moved
    by whole years from the source's (or as typed in `dates`), none of the source's reports,
    and its own member counts taken now. Refused with every problem named, in the active
    language, and nothing written: a code already used, dates out of order, a deadline outside
    the campaign, or days on which another active campaign runs."""
    typed = {name: day for name, day in (dates or {}).items() if day is not None}
    unknown = set(typed) - set(date_fields())
    if unknown:
        raise ValueError(f"not dates of a campaign: {sorted(unknown)}")
    campaign = Campaign()
    for field in _copied_fields():
        setattr(campaign, field.attname, copy.deepcopy(getattr(source, field.attname)))
    for name, day in moved_dates(source, year).items():
        setattr(campaign, name, typed.get(name, day))
    campaign.code = code.strip()
    campaign.year = year
    campaign.title_vi, campaign.title_en = title_vi.strip(), title_en.strip()
    campaign.short_title_vi, campaign.short_title_en = (
        short_title_vi.strip(),
        short_title_en.strip(),
    )
    campaign.is_active = True

    errors: dict = {}
    try:
        # The code's uniqueness is checked below, with a message that names the code.
        campaign.full_clean(validate_unique=False)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if campaign.code and Campaign.objects.filter(code=campaign.code).exists():
        errors.setdefault("code", []).append(
            gettext("The code “%(code)s” is already used by another campaign.")
            % {"code": campaign.code}
        )
    if errors:
        raise ValidationError(errors)
    campaign.save()
    take_member_counts(campaign, by=by)
    return campaign
