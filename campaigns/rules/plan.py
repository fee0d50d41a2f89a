"""R2: each unit adopts an implementation plan tied to the district's Programme No. 01, by the
campaign's plan deadline; one plan per unit and campaign."""

from datetime import date

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..engine.asof import items_as_of
from ..engine.flags import day_after, pairs
from ..engine.status import StatusQuery
from ..models import Campaign, FlagKind, ImplementationPlan, ReviewStatus
from ..periods import deadline, effective_deadline
from ..registry import (
    EVERY_UNIT,
    ChecklistItem,
    FlagRule,
    ReportKind,
    Rule,
    StatusPart,
    UnitFacts,
    deadline_passed,
    deadline_state,
)
from ..reporting.forms import ImplementationPlanForm

PLANS = ReportKind(
    "plans",
    "R2",
    ImplementationPlan,
    ImplementationPlanForm,
    gettext_lazy("Implementation plan"),
    gettext_lazy("Record the implementation plan"),
    order=20,
    file_field="document",
    file_name_field="document_name",
    one_per_unit=True,
    section_template="campaigns/sections/plans.html",
)


def _missing(campaign: Campaign, today: date, units: QuerySet) -> list[QuerySet]:
    """Units without a plan sent for review once the deadline has passed. A plan waiting for
    review is the district's to act on (its own flag), not the unit's delay."""
    due = effective_deadline(campaign, campaign.plan_deadline)
    if today <= due:
        return []
    sent = items_as_of(ImplementationPlan, today, units).filter(
        campaign=campaign,
        unit=OuterRef("pk"),
        status__in=(ReviewStatus.SUBMITTED, ReviewStatus.ACCEPTED),
    )
    return [pairs(units.filter(~Exists(sent)), since=day_after(due))]


def _describe(flag, item, campaign: Campaign) -> str:
    return _("The implementation plan was due by %(date)s and has not been sent.") % {
        "date": deadline(campaign, campaign.plan_deadline)
    }


def _status(query: StatusQuery) -> None:
    units_sql, units_params = query.units("unit_id")
    plans, plans_params = query.source(ImplementationPlan)
    query.cte(
        "p",
        f"SELECT unit_id, MAX(status) AS status FROM {plans} x "
        f"WHERE campaign_id = %s{units_sql} GROUP BY unit_id",
        *plans_params,
        query.campaign.pk,
        *units_params,
    )
    query.column("plan_status", "COALESCE(p.status, '')")


def _checklist(facts: UnitFacts) -> ChecklistItem | None:
    if not facts.reporting:
        return None
    plans = facts.items.get("plans", [])
    plan = plans[0] if plans else None
    due = deadline(facts.campaign, facts.campaign.plan_deadline)
    if plan is None:
        detail = _("No plan recorded yet")
    else:
        detail = _("Plan %(number)s: %(status)s") % {
            "number": plan.number,
            "status": plan.get_status_display(),
        }
    return ChecklistItem(
        "R2",
        _("Implementation plan"),
        deadline_state(
            done=plan is not None and plan.status == ReviewStatus.ACCEPTED,
            due=due.due_on,
            today=facts.today,
            returned=plan is not None and plan.status == ReviewStatus.RETURNED,
        ),
        detail,
        due.due_on,
        due,
    )


def _day_changes(campaign: Campaign, since: date, today: date) -> str | None:
    due = effective_deadline(campaign, campaign.plan_deadline)
    return EVERY_UNIT if deadline_passed(since, today, due) else None


RULE = Rule(
    "R2",
    kinds=(PLANS,),
    flags=(FlagRule(FlagKind.PLAN_MISSING, _missing, reads=("plans",), describe=_describe),),
    status=StatusPart(_status),
    day_changes=_day_changes,
    checklist=_checklist,
    demo="campaigns.demo.reports.implementation_plans",
)
