"""R5: units keep a log of pressing local incidents and resolve them promptly; an incident open
longer than the campaign's limit is flagged as stale."""

from datetime import date, timedelta

from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..engine.flags import pairs
from ..engine.status import StatusQuery, sql_date, table
from ..models import Campaign, FlagKind, Incident
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
    stale = Incident.objects.filter(
        campaign=campaign,
        resolved_on__isnull=True,
        opened_on__lt=today - timedelta(days=campaign.incident_age_limit_days),
        unit__in=units,
    )
    subject = Concat(Value("incident:"), Cast("pk", CharField()), output_field=CharField())
    return [pairs(stale, unit="unit_id", subject=subject)]


def _status(query: StatusQuery) -> None:
    campaign = query.campaign
    stale_before = query.today - timedelta(days=campaign.incident_age_limit_days)
    units_sql, units_params = query.units("unit_id")
    query.cte(
        "inc",
        "SELECT unit_id, "
        "SUM(CASE WHEN resolved_on IS NULL THEN 1 ELSE 0 END) AS open_n, "
        "SUM(CASE WHEN resolved_on IS NULL AND opened_on < %s THEN 1 ELSE 0 END) AS stale_n "
        f"FROM {table(Incident)} WHERE campaign_id = %s{units_sql} GROUP BY unit_id",
        sql_date(stale_before),
        campaign.pk,
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
    flags=(FlagRule(FlagKind.STALE_INCIDENT, _stale),),
    status=StatusPart(_status),
    checklist=_checklist,
    demo="campaigns.demo.reports.incidents",
)
