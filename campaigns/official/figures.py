"""What a committee's report says, in numbers, as of a day.

Read inside `engine.run.figures_as_of(campaign, day)`, so the status rows and flags are those
of the end of that day, exactly as the dashboard shows them; the few things the status rows do
not carry (incidents resolved, people reached, tasks' progress, escalations) are read from the
reports and flags as of the same day. A fixed number of statements whatever the size of the
committee: each read is one aggregate, or one pass over the subtree's rows.
"""

from collections import defaultdict
from datetime import date

from django.db.models import Count, IntegerField, Q, Sum
from django.db.models.functions import Coalesce, Least, Length

from units.models import Unit

from ..engine.asof import kind_items_as_of
from ..engine.status import FLAG_COLUMNS
from ..models import Campaign, Flag, ReviewStatus, UnitStatus
from ..registry import report_kinds

STUDY = UnitStatus.StudyState
REPORTING = Q(reporting=True)
#: Items that count once sent: submitted or accepted (a draft or a returned item does not).
SENT = (ReviewStatus.SUBMITTED, ReviewStatus.ACCEPTED)
FIELDS = ("economy", "culture", "society")
#: How many units a sentence names before saying "and N others".
NAMED_UNITS = 12


def _count(condition: Q) -> Count:
    return Count("pk", filter=condition)


def _covered(column: str) -> Sum:
    """Members who studied, a unit that studied twice counting its members once."""
    return Coalesce(Sum(Least(column, "members", output_field=IntegerField()), filter=REPORTING), 0)


def subtree_statuses(campaign: Campaign, committee: Unit):
    return UnitStatus.objects.filter(campaign=campaign, path__startswith=committee.path)


def status_figures(campaign: Campaign, committee: Unit) -> dict:
    """The status rows of the committee's subtree summed: one statement."""
    flag_counts = {
        column: _count(REPORTING & Q(**{column: True})) for column in FLAG_COLUMNS.values()
    }
    # Aliases carry a prefix: an aggregate may not be named like a column it sums.
    totals = subtree_statuses(campaign, committee).aggregate(
        n_units=_count(REPORTING),
        n_on_time=_count(Q(study_state=STUDY.ON_TIME)),
        n_late=_count(Q(study_state=STUDY.LATE)),
        n_awaiting=_count(Q(study_state=STUDY.AWAITING)),
        n_in_progress=_count(Q(study_state=STUDY.IN_PROGRESS)),
        n_not_started=_count(Q(study_state=STUDY.NOT_STARTED)),
        n_members=Coalesce(Sum("members", filter=REPORTING), 0),
        n_members_by_deadline=_covered("attended_by_deadline"),
        n_members_covered=_covered("attended_total"),
        n_plans_accepted=_count(REPORTING & Q(plan_status=ReviewStatus.ACCEPTED)),
        n_plans_waiting=_count(REPORTING & Q(plan_status=ReviewStatus.SUBMITTED)),
        n_units_with_task=_count(
            REPORTING & (Q(tasks_economy__gt=0) | Q(tasks_culture__gt=0) | Q(tasks_society__gt=0))
        ),
        n_tasks_economy=Coalesce(Sum("tasks_economy"), 0),
        n_tasks_culture=Coalesce(Sum("tasks_culture"), 0),
        n_tasks_society=Coalesce(Sum("tasks_society"), 0),
        n_reports_total=Coalesce(Sum("reports_total"), 0),
        n_reports_on_time=Coalesce(Sum("reports_on_time"), 0),
        n_initiatives=Coalesce(Sum("initiatives"), 0),
        n_units_with_initiative=_count(Q(initiatives__gt=0)),
        n_incidents_open=Coalesce(Sum("incidents_open"), 0),
        n_incidents_stale=Coalesce(Sum("incidents_stale"), 0),
        n_propaganda=Coalesce(Sum("propaganda"), 0),
        n_units_flagged=_count(REPORTING & Q(flags_open__gt=0)),
        n_awaiting_review=Coalesce(Sum("awaiting_review"), 0),
        **{f"n_{name}": value for name, value in flag_counts.items()},
    )
    return {name.removeprefix("n_"): value for name, value in totals.items()}


def _subtree_units(committee: Unit):
    return Unit.objects.filter(path__startswith=committee.path)


def item_figures(campaign: Campaign, committee: Unit, day: date) -> dict:
    """What only the reports say: incidents resolved by the day, people reached by propaganda,
    and each field's breakthrough tasks with their latest progress. The report kinds come from
    the registry (the tasks belong to the `breakthroughs` app, which this floor cannot import);
    a kind not registered simply leaves its figures at zero."""
    kinds = report_kinds()
    units = _subtree_units(committee)
    figures = {"incidents_resolved": 0, "people_reached": 0}
    if "incidents" in kinds:
        figures["incidents_resolved"] = (
            kind_items_as_of(kinds["incidents"], campaign, day, units)
            .filter(opened_on__lte=day, resolved_on__lte=day)
            .count()
        )
    if "propaganda" in kinds:
        figures["people_reached"] = (
            # The activities the status rows count (R6: submitted or accepted), and their people.
            kind_items_as_of(kinds["propaganda"], campaign, day, units)
            .filter(status__in=SENT)
            .aggregate(n=Coalesce(Sum("audience"), 0))["n"]
        )
    progress = {field: {"tasks": 0, "reported": 0, "percent_sum": 0} for field in FIELDS}
    if "tasks" in kinds and "reports" in kinds:
        tasks = dict(
            kind_items_as_of(kinds["tasks"], campaign, day, units)
            .filter(status__in=SENT)
            .values_list("id", "field")
        )
        # Each task's latest progress: ordered by task and period, the dict keeps each task's
        # report of its latest period (a task reports once a period).
        reports = (
            kind_items_as_of(kinds["reports"], campaign, day, units)
            .filter(status__in=SENT, task_id__in=list(tasks))
            .order_by("task_id", "period_start")
            .values_list("task_id", "percent")
        )
        latest = dict(reports).items()
        for field in tasks.values():
            if field in progress:
                progress[field]["tasks"] += 1
        for task_id, percent in latest:
            field = tasks.get(task_id)
            if field in progress:
                progress[field]["reported"] += 1
                progress[field]["percent_sum"] += percent
    for field, numbers in progress.items():
        figures[f"progress_{field}"] = (
            round(numbers["percent_sum"] / numbers["reported"]) if numbers["reported"] else None
        )
        figures[f"progress_{field}_reported"] = numbers["reported"]
    return figures


def flag_figures(campaign: Campaign, committee: Unit, day: date) -> dict:
    """How many of the subtree's flags open on the day went up to the committee above the unit
    or to the Standing Committee."""
    return Flag.objects.filter(
        Q(closed_on__isnull=True) | Q(closed_on__gt=day),
        campaign=campaign,
        unit__path__startswith=committee.path,
        opened_on__lte=day,
    ).aggregate(
        escalated_to_committee=_count(Q(escalated_to_committee_on__lte=day)),
        escalated_to_standing=_count(Q(escalated_to_standing_on__lte=day)),
    )


def units_behind(campaign: Campaign, committee: Unit, language: str) -> dict[str, dict]:
    """For each kind of flag, the first units that carry it (by place in the tree) and how
    many do: one statement for all kinds."""
    name = "unit__name_en" if language == "en" else "unit__name_vi"
    rows = (
        subtree_statuses(campaign, committee)
        .filter(REPORTING, flags_open__gt=0)
        .order_by("path")
        .values_list(name, "unit__name", *FLAG_COLUMNS.values())
    )
    behind: dict[str, dict] = defaultdict(lambda: {"count": 0, "names": []})
    columns = list(FLAG_COLUMNS.values())
    for row in rows.iterator(chunk_size=2000):
        label = row[0] or row[1]
        for column, on in zip(columns, row[2:], strict=True):
            if on:
                entry = behind[column]
                entry["count"] += 1
                if len(entry["names"]) < NAMED_UNITS:
                    entry["names"].append(label)
    return dict(behind)


def committee_figures(campaign: Campaign, committee: Unit, day: date, language: str) -> dict:
    """Every figure of the report (plain numbers, JSON-ready). Call inside
    `figures_as_of(campaign, day)`."""
    figures = status_figures(campaign, committee)
    figures["done"] = figures["on_time"] + figures["late"]
    figures["tasks"] = sum(figures[f"tasks_{field}"] for field in FIELDS)
    figures.update(item_figures(campaign, committee, day))
    figures.update(flag_figures(campaign, committee, day))
    # The party organisations directly under the committee ("trực thuộc"), whom it directs.
    figures["direct_units"] = (
        subtree_statuses(campaign, committee)
        .filter(REPORTING)
        .annotate(path_length=Length("path"))
        .filter(path_length=len(committee.path) + Unit.steplen)
        .count()
    )
    figures["behind"] = units_behind(campaign, committee, language)
    return figures
