"""R5: units keep a log of pressing local incidents and resolve them promptly; an incident open
longer than the campaign's limit is flagged as stale.

The limit is a count of calendar days, but the day it runs out is a deadline like the others:
when it falls on a day off and the campaign moves its deadlines, the incident is stale only after
the next working day (an incident opened on 01/03/2024 with a 30-day limit runs out on Sunday
31/03, so it is flagged from 02/04, not 01/04). Each incident has its own last day, so the SQL
below shifts whole runs of days off at once rather than asking the calendar per row."""

from datetime import date, timedelta

from django.db.models import Case, CharField, DateField, F, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..engine.asof import items_as_of
from ..engine.flags import pairs
from ..engine.status import StatusQuery, sql_date
from ..models import Campaign, FlagKind, Incident
from ..periods import days_off_runs, effective_deadline, short_date
from ..registry import ChecklistItem, FlagRule, ReportKind, Rule, StatusPart, UnitFacts
from ..reporting.forms import IncidentForm

INCIDENTS = ReportKind(
    "incidents",
    "R5",
    Incident,
    IncidentForm,
    gettext_lazy("Incident"),
    gettext_lazy("Record an incident"),
    order=60,
    section_template="campaigns/sections/incidents.html",
)


def _stale_before(campaign: Campaign, today: date) -> date:
    """Incidents opened before this day are stale on `today`. An incident's limit runs out on
    opened_on + limit; it is stale once the effective day of that (the next working day when the
    campaign moves deadlines) is over. That is the case exactly when its last day falls before
    the run of days off, if any, that ends yesterday."""
    last_day = today - timedelta(days=1)
    while last_day != effective_deadline(campaign, last_day):
        last_day -= timedelta(days=1)
    # last_day is now the latest day before today whose limit has run out by today's start.
    return last_day + timedelta(days=1) - timedelta(days=campaign.incident_age_limit_days)


def _stale_since(campaign: Campaign, today: date):
    """The day each incident became stale: the day after its limit's effective last day. Per
    row in SQL: the calendar day after the limit, except for limits that run out within a run of
    days off, which fall due on the working day after the run (about sixty runs a year: weekends
    and holidays)."""
    limit = timedelta(days=campaign.incident_age_limit_days)
    plain = Cast(F("opened_on") + limit + timedelta(days=1), DateField())
    if not campaign.deadlines_on_working_days:
        return plain
    # Incidents are opened within the campaign's year (the report form says so).
    first = min(campaign.starts_on, date(campaign.year, 1, 1))
    moved = [
        When(
            opened_on__gte=run_first - limit,
            opened_on__lte=run_last - limit,
            then=Value(run_last + timedelta(days=2)),
        )
        for run_first, run_last in days_off_runs(first, today)
    ]
    return Case(*moved, default=plain, output_field=DateField()) if moved else plain


def _stale(campaign: Campaign, today: date, units: QuerySet) -> list[QuerySet]:
    """Incidents open (as of `today`) for longer than the campaign's limit; the condition began
    the day after the limit ran out. An incident resolved after `today` was still open then."""
    stale = (
        items_as_of(Incident, today, units)
        .filter(campaign=campaign, opened_on__lt=_stale_before(campaign, today))
        .filter(Q(resolved_on__isnull=True) | Q(resolved_on__gt=today))
    )
    subject = Concat(Value("incident:"), Cast("id", CharField()), output_field=CharField())
    since = _stale_since(campaign, today)
    return [pairs(stale, unit="unit_id", subject=subject, since=since)]


def _describe(flag, item, campaign: Campaign) -> str:
    if item is None:
        return str(flag.get_kind_display())
    return _(
        "Incident “%(title)s”, opened on %(date)s, is still open after more than %(days)s days."
    ) % {
        "title": item.title,
        "date": short_date(item.opened_on),
        "days": campaign.incident_age_limit_days,
    }


def _status(query: StatusQuery) -> None:
    campaign = query.campaign
    stale_before = _stale_before(campaign, query.today)
    units_sql, units_params = query.units("unit_id")
    incidents, incidents_params = query.source(Incident)
    today = sql_date(query.today)
    # Open as of the day: not resolved, or resolved only after it.
    still_open = "(resolved_on IS NULL OR resolved_on > %s)"
    query.cte(
        "inc",
        "SELECT unit_id, "
        f"SUM(CASE WHEN {still_open} THEN 1 ELSE 0 END) AS open_n, "
        f"SUM(CASE WHEN {still_open} AND opened_on < %s THEN 1 ELSE 0 END) AS stale_n "
        f"FROM {incidents} x WHERE campaign_id = %s AND opened_on <= %s{units_sql} "
        "GROUP BY unit_id",
        today,
        today,
        sql_date(stale_before),
        *incidents_params,
        campaign.pk,
        today,
        *units_params,
    )
    query.column("incidents_open", "COALESCE(inc.open_n, 0)")
    query.column("incidents_stale", "COALESCE(inc.stale_n, 0)")


def _checklist(facts: UnitFacts) -> ChecklistItem | None:
    if not facts.reporting:
        return None
    incidents = facts.items.get("incidents", [])
    still_open = [i for i in incidents if i.resolved_on is None]
    stale_before = _stale_before(facts.campaign, facts.today)
    stale = [i for i in still_open if i.opened_on < stale_before]
    return ChecklistItem(
        "R5",
        _("Pressing local incidents"),
        "overdue" if stale else "done",
        ngettext("%(count)d incident open", "%(count)d incidents open", len(still_open))
        % {"count": len(still_open)},
        None,
    )


def _day_changes(campaign: Campaign, since: date, today: date) -> list[QuerySet]:
    """An incident changes its unit's standing on its own on three days: the day it starts to
    count (opened_on), the day its limit runs out and the day it is resolved (resolved_on may
    be entered ahead). Each window is taken a day wider on both sides: more is harmless."""
    one = timedelta(days=1)
    return [
        Incident.objects.filter(campaign=campaign).filter(
            Q(
                opened_on__gte=_stale_before(campaign, since) - one,
                opened_on__lte=_stale_before(campaign, today) + one,
            )
            | Q(resolved_on__gte=since - one, resolved_on__lte=today + one)
            | Q(opened_on__gte=since - one, opened_on__lte=today + one)
        )
    ]


RULE = Rule(
    "R5",
    kinds=(INCIDENTS,),
    flags=(
        FlagRule(
            FlagKind.STALE_INCIDENT,
            _stale,
            reads=("incidents",),
            describe=_describe,
            subject_kind="incidents",
        ),
    ),
    status=StatusPart(_status),
    day_changes=_day_changes,
    checklist=_checklist,
    demo="campaigns.demo.reports.incidents",
)
