"""R6: units keep up propaganda on the whole-term study, recording each activity (date, channel,
people reached, evidence). The campaign says how many activities a quarter it expects of each
unit (0: optional); a quarter that ends with fewer, submitted or accepted, is flagged from the
day after it ends (after the next working day when it ends on a day off and the campaign moves
its deadlines), until the unit records the missing ones."""

from datetime import date

from django.db.models import CharField, Count, QuerySet, Value
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..engine.asof import items_as_of
from ..engine.flags import day_after, pairs
from ..engine.status import StatusQuery
from ..models import Campaign, FlagKind, PropagandaActivity, ReviewStatus
from ..periods import Period, effective_deadline, period_label, reporting_periods
from ..registry import (
    EVERY_UNIT,
    ChecklistItem,
    FlagRule,
    ReportKind,
    Rule,
    StatusPart,
    UnitFacts,
    deadline_passed,
)
from ..reporting.forms import PropagandaActivityForm

#: An activity counts once the unit has sent it: waiting for review or accepted.
SENT = (ReviewStatus.SUBMITTED, ReviewStatus.ACCEPTED)

PROPAGANDA = ReportKind(
    "propaganda",
    "R6",
    PropagandaActivity,
    PropagandaActivityForm,
    gettext_lazy("Propaganda activity"),
    gettext_lazy("Record a propaganda activity"),
    order=70,
    file_field="evidence",
    file_name_field="evidence_name",
    section_template="campaigns/sections/propaganda.html",
)


def quarters(campaign: Campaign) -> list[Period]:
    return reporting_periods(
        starts_on=campaign.starts_on, ends_on=campaign.ends_on, frequency="quarterly"
    )


def quarter_subject(period: Period) -> str:
    return f"quarter:{period.start.isoformat()}"


def _short(campaign: Campaign, today: date, units: QuerySet) -> list[QuerySet]:
    """One statement per ended quarter (four a year, never one per unit)."""
    expected = campaign.propaganda_per_quarter
    if not expected:
        return []
    wanted = []
    for quarter in quarters(campaign):
        # Activities count by the day they were held, within the quarter; only the day the
        # quarter is judged moves off a day off (31/03/2024, a Sunday: judged after 01/04).
        judged_after = effective_deadline(campaign, quarter.end)
        if today <= judged_after:
            break
        # The units that did their part, as one grouped set (not a subquery per unit).
        enough = (
            items_as_of(PropagandaActivity, today, units)
            .filter(
                campaign=campaign,
                status__in=SENT,
                held_on__gte=quarter.start,
                held_on__lte=quarter.end,
            )
            .order_by()
            .values("unit_id")
            .annotate(n=Count("id"))
            .filter(n__gte=expected)
            .values("unit_id")
        )
        short = units.exclude(pk__in=enough)
        subject = Value(quarter_subject(quarter), output_field=CharField())
        wanted.append(pairs(short, subject=subject, since=day_after(judged_after)))
    return wanted


def _describe(flag, item, campaign: Campaign) -> str:
    start = date.fromisoformat(flag.subject.partition(":")[2])
    return ngettext(
        "%(quarter)s ended with fewer propaganda activities than the %(count)s expected.",
        "%(quarter)s ended with fewer propaganda activities than the %(count)s expected.",
        campaign.propaganda_per_quarter,
    ) % {"quarter": period_label(start, "quarterly"), "count": campaign.propaganda_per_quarter}


def _status(query: StatusQuery) -> None:
    activities = query.only_refreshed(
        query.items(PropagandaActivity).filter(campaign=query.campaign, status__in=SENT)
    )
    query.cte("pr", activities.order_by().values("unit_id").annotate(n=Count("id")))
    query.column("propaganda", "COALESCE(pr.n, 0)")


def _checklist(facts: UnitFacts) -> ChecklistItem | None:
    if not facts.reporting:
        return None
    campaign = facts.campaign
    activities = facts.items.get("propaganda", [])
    sent = [a for a in activities if a.status in SENT]
    expected = campaign.propaganda_per_quarter
    short = []
    for quarter in quarters(campaign):
        if facts.today <= effective_deadline(campaign, quarter.end) or not expected:
            continue
        held = sum(1 for a in sent if quarter.start <= a.held_on <= quarter.end)
        if held < expected:
            short.append(period_label(quarter.start, "quarterly"))
    detail = ngettext("%(count)d activity recorded", "%(count)d activities recorded", len(sent)) % {
        "count": len(sent)
    }
    if short:
        detail += " · " + _("short in %(quarters)s") % {"quarters": ", ".join(short)}
    elif expected:
        detail += " · " + ngettext(
            "%(count)d expected per quarter", "%(count)d expected per quarter", expected
        ) % {"count": expected}
    return ChecklistItem(
        "R6",
        _("Propaganda on the whole-term study"),
        "overdue" if short else ("done" if sent or not expected else "pending"),
        detail,
        None,
    )


def _day_changes(campaign: Campaign, since: date, today: date) -> str | None:
    """A quarter is judged once its (effective) end has passed, for every unit at once."""
    ends = [effective_deadline(campaign, quarter.end) for quarter in quarters(campaign)]
    return EVERY_UNIT if deadline_passed(since, today, *ends) else None


RULE = Rule(
    "R6",
    kinds=(PROPAGANDA,),
    flags=(FlagRule(FlagKind.PROPAGANDA_SHORT, _short, reads=("propaganda",), describe=_describe),),
    status=StatusPart(_status),
    day_changes=_day_changes,
    checklist=_checklist,
    demo="campaigns.demo.reports.propaganda",
)
