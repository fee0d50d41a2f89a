"""Reporting periods of a campaign (months or quarters) and their due dates."""

from dataclasses import dataclass
from datetime import date, timedelta


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
