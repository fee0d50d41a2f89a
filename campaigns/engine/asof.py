"""One meaning of "as of a day", for every rule, figure and flag.

As of day D, only what had happened by the end of D counts: a session held, an item submitted,
accepted or returned by then, in the state and with the figures it had then. So a replay
(`flag_overdue --today D` on a database holding the whole year) sees what a live run on D saw.

The record of what an item looked like at a moment is its django-simple-history row: every write
of a report goes through `save()` in a service, and each save leaves a row with the item's fields
and the moment (`history_date`). An item as of D is its newest history row before the end of D,
unless that row records its deletion.

As of today (or later) the newest history row is the item itself, so the live tables are read
instead: same answer, cheaper. Every reader asks `items_as_of` and never picks the table itself.
"""

from datetime import date, datetime, time, timedelta

from django.db.models import Max, Model, QuerySet, Subquery
from django.utils import timezone

from ..registry import ReportKind


def end_of_day(day: date) -> datetime:
    """The first instant after `day` in the deployment's time zone: what happened before it
    happened on or before that calendar day."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def is_live(day: date | None) -> bool:
    return day is None or day >= timezone.localdate()


def items_as_of(model: type[Model], day: date | None, units: QuerySet | None = None) -> QuerySet:
    """The model's rows as they stood at the end of `day` (the live rows when `day` is today or
    None), of `units` only if given. Both querysets have the model's field names; an item's id
    is `id` in both (a history row's own primary key is `history_id`), so readers say `id`, never
    `pk`. Narrowing by `units` here, rather than after, keeps the work of re-judging one unit
    (after a report is saved, or in a replay) proportional to that unit's rows."""
    if is_live(day):
        rows = model.objects.all()
        return rows if units is None else rows.filter(unit__in=units)
    history = model.history.model
    narrowed = history.objects.all() if units is None else history.objects.filter(unit__in=units)
    # History rows are written in the order things happen (each save writes its row at that
    # moment; the demo writes an item's steps in order), so an item's newest row before the cut
    # is the one with the highest history_id. Uncorrelated, so the database works the set out
    # once per statement, however many units ask about it.
    newest = (
        narrowed.filter(history_date__lt=end_of_day(day))
        .order_by()
        .values("id")
        .annotate(newest=Max("history_id"))
        .values("newest")
    )
    return history.objects.filter(history_id__in=Subquery(newest)).exclude(history_type="-")


def kind_items_as_of(
    kind: ReportKind, campaign, day: date | None, units: QuerySet | None = None
) -> QuerySet:
    """A report kind's items of one campaign as of `day`."""
    return items_as_of(kind.model, day, units).filter(**{kind.campaign_lookup: campaign})
