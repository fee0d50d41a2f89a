"""R3 and R4, declared to the campaign's machinery (`campaigns.registry`):

- R3: each unit chooses at least one key breakthrough task in economy, culture or society by the
  campaign's selection deadline, and reports its progress every period (a month or a quarter,
  by the campaign) until the task is due;
- R4: grassroots organisations, the Front and the mass organisations build new models.

Registered by `BreakthroughsConfig.ready()`; nothing in `campaigns` imports this app.
"""

from datetime import date, timedelta

from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from campaigns.engine.asof import end_of_day, items_as_of
from campaigns.engine.flags import day_after, pairs
from campaigns.engine.status import StatusQuery
from campaigns.models import Campaign, FlagKind, ReviewStatus
from campaigns.periods import (
    deadline,
    effective_deadline,
    period_label,
    report_deadline,
    reporting_periods,
    short_date,
)
from campaigns.registry import (
    EVERY_UNIT,
    ChecklistItem,
    FlagRule,
    ReportKind,
    Rule,
    StatusPart,
    UnitFacts,
    deadline_passed,
    deadline_state,
    no_day_changes,
    register_rule,
)

from .forms import BreakthroughTaskForm, InitiativeForm, ProgressReportForm
from .models import BreakthroughTask, Field, Initiative, ProgressReport

# A task counts as chosen once the unit has sent it: waiting for review or accepted.
CHOSEN = (ReviewStatus.SUBMITTED, ReviewStatus.ACCEPTED)

TASKS = ReportKind(
    "tasks",
    "R3",
    BreakthroughTask,
    BreakthroughTaskForm,
    gettext_lazy("Key breakthrough task"),
    gettext_lazy("Choose a breakthrough task"),
    order=30,
    section_template="breakthroughs/sections/tasks.html",
    detail_template="breakthroughs/task_reports.html",
    section_items=lambda items: items.annotate(report_count=Count("reports")).order_by(
        "due_on", "pk"
    ),
)
PROGRESS_REPORTS = ReportKind(
    "reports",
    "R3",
    ProgressReport,
    ProgressReportForm,
    gettext_lazy("Progress report"),
    gettext_lazy("Report progress"),
    order=40,
    file_field="evidence",
    file_name_field="evidence_name",
    parent="tasks",
    parent_field="task",
)
INITIATIVES = ReportKind(
    "initiatives",
    "R4",
    Initiative,
    InitiativeForm,
    gettext_lazy("New model"),
    gettext_lazy("Record a new model"),
    order=50,
    reporting_units_only=False,
    section_template="breakthroughs/sections/initiatives.html",
)


def _no_task(campaign: Campaign, today: date, units: QuerySet) -> list[QuerySet]:
    due = effective_deadline(campaign, campaign.breakthrough_deadline)
    if today <= due:
        return []
    chosen = items_as_of(BreakthroughTask, today, units).filter(
        campaign=campaign, unit=OuterRef("pk"), status__in=CHOSEN
    )
    return [pairs(units.filter(~Exists(chosen)), since=day_after(due))]


def _tasks_day_changes(campaign: Campaign, since: date, today: date) -> str | None:
    """The choice's deadline and each period's due day are the whole campaign's."""
    periods = reporting_periods(
        starts_on=campaign.starts_on, ends_on=campaign.ends_on, frequency=campaign.report_frequency
    )
    dues = [report_deadline(campaign, period).due_on for period in periods]
    due = effective_deadline(campaign, campaign.breakthrough_deadline)
    return EVERY_UNIT if deadline_passed(since, today, due, *dues) else None


def _report_overdue(campaign: Campaign, today: date, units: QuerySet) -> list[QuerySet]:
    """One statement per past reporting period (a handful per campaign, never per unit); the
    flag names the task and the period ("task:12/2024-04-01"), and began the day after the
    period's due day (its end plus the campaign's grace days, moved off a day off)."""
    wanted = []
    for period in reporting_periods(
        starts_on=campaign.starts_on, ends_on=campaign.ends_on, frequency=campaign.report_frequency
    ):
        due = report_deadline(campaign, period).due_on
        if today <= due:
            break
        reported = items_as_of(ProgressReport, today, units).filter(
            task=OuterRef("id"), period_start=period.start, status__in=CHOSEN
        )
        owing = (
            items_as_of(BreakthroughTask, today, units)
            .filter(
                campaign=campaign,
                status__in=CHOSEN,
                # A task owes the periods from the one it was chosen in up to the one it is due in.
                created_at__date__lte=period.end,
                due_on__gte=period.start,
            )
            .filter(~Exists(reported))
        )
        subject = Concat(
            Value("task:"),
            Cast("id", CharField()),
            Value(f"/{period.start.isoformat()}"),
            output_field=CharField(),
        )
        wanted.append(pairs(owing, unit="unit_id", subject=subject, since=day_after(due)))
    return wanted


def _describe_no_task(flag, item, campaign: Campaign) -> str:
    return _("No breakthrough task was chosen by %(date)s.") % {
        "date": deadline(campaign, campaign.breakthrough_deadline)
    }


def _describe_report(flag, item, campaign: Campaign) -> str:
    """Names the task and the period as people say it: "Quý II/2024", "Q2 2024"; the subject
    (task:<id>/<period start>) holds the period, so the sentence stands even if the campaign's
    frequency changed since the flag opened."""
    if item is None:
        return str(flag.get_kind_display())
    start = date.fromisoformat(flag.subject.rpartition("/")[2])
    # The flag began the day after the period's (effective) due day; the day it was set on is
    # told too when the campaign's periods still lead there.
    due_on = flag.opened_on - timedelta(days=1)
    due = next(
        (
            due
            for period in reporting_periods(
                starts_on=start, ends_on=start, frequency=campaign.report_frequency
            )
            if (due := report_deadline(campaign, period)).due_on == due_on
        ),
        None,
    )
    # "due …" outside parentheses: a moved due day brings its own ("… (06/04/2024 is a Saturday)").
    return _("No progress report on “%(task)s” for %(period)s, due %(date)s.") % {
        "task": item.title,
        "period": period_label(start, campaign.report_frequency),
        "date": due if due is not None else short_date(due_on),
    }


def _tasks_status(query: StatusQuery) -> None:
    campaign = query.campaign
    chosen = query.items(BreakthroughTask).filter(campaign=campaign, status__in=CHOSEN)
    query.cte(
        "t",
        query.only_refreshed(chosen)
        .order_by()
        .values("unit_id")
        .annotate(
            economy=Count("id", filter=Q(field=Field.ECONOMY)),
            culture=Count("id", filter=Q(field=Field.CULTURE)),
            society=Count("id", filter=Q(field=Field.SOCIETY)),
        ),
    )
    query.column("tasks_economy", "COALESCE(t.economy, 0)")
    query.column("tasks_culture", "COALESCE(t.culture, 0)")
    query.column("tasks_society", "COALESCE(t.society, 0)")

    # A progress report is on time when it was submitted by the end of its period's due day.
    on_time = Q()
    for period in reporting_periods(
        starts_on=campaign.starts_on, ends_on=campaign.ends_on, frequency=campaign.report_frequency
    ):
        due = report_deadline(campaign, period).due_on
        on_time |= Q(period_start=period.start, submitted_at__lt=end_of_day(due))
    reports = query.items(ProgressReport).filter(task__campaign=campaign, status__in=CHOSEN)
    query.cte(
        "r",
        query.only_refreshed(reports)
        .order_by()
        .values("unit_id")
        .annotate(total=Count("id"), on_time=Count("id", filter=on_time)),
    )
    query.column("reports_total", "COALESCE(r.total, 0)")
    query.column("reports_on_time", "COALESCE(r.on_time, 0)")


def _initiatives_status(query: StatusQuery) -> None:
    initiatives = query.items(Initiative).filter(campaign=query.campaign)
    query.cte(
        "i",
        query.only_refreshed(initiatives).order_by().values("unit_id").annotate(n=Count("id")),
    )
    query.column("initiatives", "COALESCE(i.n, 0)")


def _tasks_checklist(facts: UnitFacts) -> ChecklistItem | None:
    if not facts.reporting:
        return None
    tasks = facts.items.get("tasks", [])
    chosen = [t for t in tasks if t.status in CHOSEN]
    due = deadline(facts.campaign, facts.campaign.breakthrough_deadline)
    return ChecklistItem(
        "R3",
        _("Key breakthrough task"),
        deadline_state(
            done=bool(chosen),
            due=due.due_on,
            today=facts.today,
            returned=any(t.status == ReviewStatus.RETURNED for t in tasks),
        ),
        ngettext("%(count)d task chosen", "%(count)d tasks chosen", len(chosen))
        % {"count": len(chosen)},
        due.due_on,
        due,
    )


def _initiatives_checklist(facts: UnitFacts) -> ChecklistItem:
    initiatives = facts.items.get("initiatives", [])
    return ChecklistItem(
        "R4",
        _("New models"),
        "done" if initiatives else "pending",
        ngettext("%(count)d new model", "%(count)d new models", len(initiatives))
        % {"count": len(initiatives)},
        None,
    )


def register() -> None:
    register_rule(
        Rule(
            "R3",
            kinds=(TASKS, PROGRESS_REPORTS),
            flags=(
                FlagRule(
                    FlagKind.NO_BREAKTHROUGH,
                    _no_task,
                    reads=("tasks",),
                    describe=_describe_no_task,
                ),
                FlagRule(
                    FlagKind.REPORT_OVERDUE,
                    _report_overdue,
                    reads=("tasks", "reports"),
                    describe=_describe_report,
                    subject_kind="tasks",
                ),
            ),
            status=StatusPart(_tasks_status),
            checklist=_tasks_checklist,
            day_changes=_tasks_day_changes,
            demo="breakthroughs.demo.tasks_and_reports",
        )
    )
    register_rule(
        Rule(
            "R4",
            kinds=(INITIATIVES,),
            status=StatusPart(_initiatives_status),
            checklist=_initiatives_checklist,
            day_changes=no_day_changes,
            demo="breakthroughs.demo.initiatives",
        )
    )
