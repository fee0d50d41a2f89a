"""Reporting periods of a campaign (months or quarters), their due dates, and the working-day
calendar every deadline goes through.

Working days are Monday to Friday, less Vietnam's public holidays (Tết included, from the
`holidays` package, which also knows the Saturdays worked in exchange for a bridge day off) and
the days off the district office adds (`DayOff`). `effective_deadline` is the one meaning of "the
day a deadline falls on": when the campaign's `deadlines_on_working_days` is on, a deadline on a
day off moves to the next working day. The engine, the reminders, the digests and every page
read deadlines through it.
"""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import holidays
from django.core.cache import cache
from django.utils import formats, timezone
from django.utils.translation import get_language, gettext

if TYPE_CHECKING:
    from .models import Campaign


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


@functools.cache
def _public_calendar(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Vietnam's public holidays of a year and the weekend days worked in exchange for a bridge
    day off. Built once per year and process: the package computes the lunar calendar."""
    calendar = holidays.country_holidays("VN", years=year)
    worked = frozenset(d for d in calendar.weekend_workdays if d.year == year)
    return frozenset(calendar), worked


DAYS_OFF_CACHE_KEY = "campaigns:days-off"


class _DaysOffRead:
    """The days off as first read inside a `days_off_read_once` block (None: not yet)."""

    value: frozenset[date] | None = None


_days_off_read: ContextVar[_DaysOffRead | None] = ContextVar("days_off_read", default=None)


@contextmanager
def days_off_read_once() -> Iterator[None]:
    """Inside the block, `days_off()` asks the cache the first time only and then answers the
    same: an export of 10,000 units works out 15,000 deadlines, and each was a cache read (a
    round trip to Redis in production). Nothing is read if nothing in the block asks."""
    token = _days_off_read.set(_DaysOffRead())
    try:
        yield
    finally:
        _days_off_read.reset(token)


def days_off() -> frozenset[date]:
    """The days off the district office added (a handful a year), from the cache, where they stay
    until one is added, changed or deleted (`DayOff`'s signals forget them): the engine and the
    pages ask per deadline, and no page's query count may depend on them. With Redis every
    process sees a change at once; with the local-memory cache (one machine, no Redis) the other
    processes see it when they restart."""
    read = _days_off_read.get()
    if read is not None and read.value is not None:
        return read.value
    cached = cache.get(DAYS_OFF_CACHE_KEY)
    if cached is None:
        from .models import DayOff

        cached = frozenset(DayOff.objects.values_list("date", flat=True))
        cache.set(DAYS_OFF_CACHE_KEY, cached, None)
    if read is not None:
        read.value = cached
    return cached


def forget_days_off() -> None:
    cache.delete(DAYS_OFF_CACHE_KEY)


def _reason(day: date, off: frozenset[date]) -> str | None:
    public, worked = _public_calendar(day.year)
    if day in public:
        return "holiday"
    if day in off:
        return "day_off"
    if day in worked:
        return None
    if day.weekday() == 5:
        return "saturday"
    if day.weekday() == 6:
        return "sunday"
    return None


def day_off_reason(day: date) -> str | None:
    """Why no one works on `day` ("holiday", "day_off", "saturday", "sunday"), None on a working
    day. A public holiday is named before a weekend: it is the reason people remember."""
    return _reason(day, days_off())


def next_working_day(day: date) -> date:
    """`day` itself if it is a working day, else the first working day after it."""
    off = days_off()
    while _reason(day, off) is not None:
        day += timedelta(days=1)
    return day


def days_off_runs(start: date, end: date) -> list[tuple[date, date]]:
    """The runs of consecutive days off (first, last) that begin from `start` to `end`: a
    deadline set on any day of a run falls on the day after its last."""
    off = days_off()
    runs = []
    day = start
    while day <= end:
        if _reason(day, off) is None:
            day += timedelta(days=1)
            continue
        first = day
        while _reason(day + timedelta(days=1), off) is not None:
            day += timedelta(days=1)
        runs.append((first, day))
        day += timedelta(days=2)
    return runs


def effective_deadline(campaign: "Campaign", day: date) -> date:
    """The day a deadline set on `day` falls on for `campaign`: the next working day when the
    campaign moves deadlines off weekends and holidays, `day` itself otherwise."""
    return next_working_day(day) if campaign.deadlines_on_working_days else day


@dataclass(frozen=True, order=True)
class Deadline:
    """A deadline as people read it: the day it falls on (`due_on`, what the rules judge
    against), and the day it was set on when that was a day off. Ordered by `due_on`.
    `str()` gives "01/04/2024 (31/03/2024 is a Sunday)" in the active language."""

    due_on: date
    set_on: date = field(compare=False)

    @property
    def moved(self) -> bool:
        return self.due_on != self.set_on

    def __str__(self) -> str:
        return deadline_text(self.set_on, self.due_on)


def deadline(campaign: "Campaign", day: date) -> Deadline:
    return Deadline(due_on=effective_deadline(campaign, day), set_on=day)


def deadline_text(set_on: date, due_on: date) -> str:
    """The one way a deadline is written: its day, and why it moved when it did."""
    if set_on == due_on:
        return short_date(due_on)
    reasons = {
        "holiday": gettext("%(date)s is a public holiday"),
        "day_off": gettext("%(date)s is a day off"),
        "saturday": gettext("%(date)s is a Saturday"),
        "sunday": gettext("%(date)s is a Sunday"),
    }
    why = reasons.get(day_off_reason(set_on) or "", gettext("%(date)s is a day off"))
    return f"{short_date(due_on)} ({why % {'date': short_date(set_on)}})"


def report_deadline(campaign: "Campaign", period: Period) -> Deadline:
    """A reporting period's due date (its end plus the campaign's grace days), moved like every
    deadline."""
    return deadline(campaign, period.due_on(campaign.report_grace_days))


def add_working_days(day: date, count: int) -> date:
    """The day `count` working days after `day`: weekends, public holidays and the district's
    days off are skipped (a Saturday worked in exchange for a bridge day off counts)."""
    off = days_off()
    while count > 0:
        day += timedelta(days=1)
        if _reason(day, off) is None:
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
    return _short_date(day, get_language())


@functools.lru_cache(maxsize=4096)
def _short_date(day: date, language: str | None) -> str:
    # Remembered per day and language: an export of 10,000 units writes 65,000 dates, and
    # Django's formatter was a fifth of its time. The formats come from files (dongda/formats).
    return formats.date_format(day, "SHORT_DATE_FORMAT")
