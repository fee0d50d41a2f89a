"""R5: units keep a log of pressing local incidents and resolve them promptly; an incident open
longer than the campaign's limit is flagged as stale."""

from datetime import date, timedelta

from django.db.models import CharField, DateField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..engine.asof import items_as_of
from ..engine.flags import pairs
from ..engine.status import StatusQuery, sql_date
from ..models import Campaign, FlagKind, Incident
from ..periods import short_date
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


def _stale(campaign: Campaign, today: date, units: QuerySet) -> list[QuerySet]:
    """Incidents open (as of `today`) for longer than the campaign's limit; the condition began
    the day after the limit ran out. An incident resolved after `today` was still open then."""
    limit = campaign.incident_age_limit_days
    stale = (
        items_as_of(Incident, today, units)
        .filter(campaign=campaign, opened_on__lt=today - timedelta(days=limit))
        .filter(Q(resolved_on__isnull=True) | Q(resolved_on__gt=today))
    )
    subject = Concat(Value("incident:"), Cast("id", CharField()), output_field=CharField())
    since = Cast(F("opened_on") + timedelta(days=limit + 1), DateField())
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
    stale_before = query.today - timedelta(days=campaign.incident_age_limit_days)
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
    limit = facts.campaign.incident_age_limit_days
    stale = [i for i in still_open if (facts.today - i.opened_on).days > limit]
    return ChecklistItem(
        "R5",
        _("Pressing local incidents"),
        "overdue" if stale else "done",
        ngettext("%(count)d incident open", "%(count)d incidents open", len(still_open))
        % {"count": len(still_open)},
        None,
    )


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
    checklist=_checklist,
    demo="campaigns.demo.reports.incidents",
)
