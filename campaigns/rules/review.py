"""The district's own duty: every item a unit submits is accepted or returned within the
campaign's review time (working days). An item that waits longer is flagged to the district
office, on the item's unit but counted apart from the unit's own flags: the unit did its part.
A returned item counts again from the unit's resubmission: each submission stores the first
day the item is overdue (`Reviewable.review_overdue_from`, see `campaigns.periods`).
"""

from datetime import date

from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from ..engine.asof import kind_items_as_of
from ..engine.flags import pairs
from ..models import Campaign, FlagKind, ReviewStatus
from ..periods import short_date
from ..registry import FlagRule, Rule, kind_of, report_kinds


def _review_overdue(campaign: Campaign, today: date, units: QuerySet) -> list[QuerySet]:
    wanted = []
    for kind in report_kinds().values():
        waiting = kind_items_as_of(kind, campaign, today, units).filter(
            status=ReviewStatus.SUBMITTED, review_overdue_from__lte=today
        )
        subject = Concat(Value(f"{kind.slug}:"), Cast("id", CharField()), output_field=CharField())
        wanted.append(pairs(waiting, unit="unit_id", subject=subject, since="review_overdue_from"))
    return wanted


def _describe(flag, item, campaign: Campaign) -> str:
    if item is None:
        return str(flag.get_kind_display())
    kind = kind_of(item)
    return _(
        "%(kind)s “%(item)s”, sent on %(date)s, has waited more than %(days)s working days for "
        "review."
    ) % {
        "kind": kind.label,
        "item": item,
        "date": short_date(timezone.localdate(item.submitted_at)),
        "days": campaign.review_days,
    }


def _day_changes(campaign: Campaign, since: date, today: date) -> list[QuerySet]:
    """The items still waiting whose review time ran out in between."""
    return [
        kind.of_campaign(campaign).filter(
            status=ReviewStatus.SUBMITTED,
            review_overdue_from__gt=since,
            review_overdue_from__lte=today,
        )
        for kind in report_kinds().values()
    ]


RULE = Rule(
    "review",
    flags=(FlagRule(FlagKind.REVIEW_OVERDUE, _review_overdue, all_units=True, describe=_describe),),
    day_changes=_day_changes,
)
