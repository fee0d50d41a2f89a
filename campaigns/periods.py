"""Reporting periods of a campaign (months or quarters) and their due dates."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import formats, timezone
from django.utils.translation import get_language, gettext


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def due_on(self, grace_days: int) -> date:
        return self.end + timedelta(days=grace_days)


def _next_start(start: date, months: int) -> date:
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def reporting_periods(*, starts_on: date, ends_on: date, frequency: str) -> list[Period]:
    """Calendar months or quarters that overlap the campaign, in order. A handful per campaign,
    so callers may loop over them: the count never depends on the number of units."""
    months = 1 if frequency == "monthly" else 3
    first_month = starts_on.month if months == 1 else 3 * ((starts_on.month - 1) // 3) + 1
    start = date(starts_on.year, first_month, 1)
    periods = []
    while start <= ends_on:
        following = _next_start(start, months)
        periods.append(Period(start=start, end=following - timedelta(days=1)))
        start = following
    return periods


def add_working_days(day: date, count: int) -> date:
    """The day `count` working days (Monday to Friday) after `day`. Public holidays are not
    known yet: a campaign's calendar of them is a later piece of work."""
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def review_overdue_from(submitted_at: datetime, review_days: int) -> date:
    """The day an item submitted at `submitted_at` becomes overdue for the district's review: the
    day after its last working day for review, counted from the local day it was submitted."""
    return add_working_days(timezone.localdate(submitted_at), review_days) + timedelta(days=1)


def period_label(start: date, frequency: str) -> str:
    """A reporting period as people say it, in the active language: "Quý II/2024" or "Q2 2024"
    for a quarter, "Tháng 4/2024" or "04/2024" for a month. Vietnamese writes the quarter in
    Roman numerals."""
    if frequency == "monthly":
        return gettext("Month %(month)s/%(year)s") % {"month": start.month, "year": start.year}
    quarter = (start.month - 1) // 3 + 1
    vietnamese = (get_language() or "vi").startswith("vi")
    return gettext("Q%(quarter)s %(year)s") % {
        "quarter": ("I", "II", "III", "IV")[quarter - 1] if vietnamese else quarter,
        "year": start.year,
    }


def short_date(day: date) -> str:
    """dd/mm/yyyy in both languages (the locales' SHORT_DATE_FORMAT), for sentences built in
    Python (flags, checklists, e-mails)."""
    return formats.date_format(day, "SHORT_DATE_FORMAT")
