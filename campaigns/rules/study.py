"""R1: every party cell and committee holds study and dissemination sessions for all its members,
finished by the campaign's study deadline (31/03 in 2024). A unit is study-complete when its
accepted sessions reach the campaign's required share of its members."""

from datetime import date

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..engine.asof import end_of_day
from ..engine.flags import day_after, pairs
from ..engine.status import StatusQuery, sql_date
from ..engine.study import StudyState, units_reaching_share
from ..models import Campaign, FlagKind, ReviewStatus, StudySession
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
from ..reporting.forms import StudySessionForm

SESSIONS = ReportKind(
    "sessions",
    "R1",
    StudySession,
    StudySessionForm,
    gettext_lazy("Study session"),
    gettext_lazy("Record a study session"),
    order=10,
    file_field="minutes",
    file_name_field="minutes_name",
    section_template="campaigns/sections/sessions.html",
    section_wide=True,
)


def _overdue(campaign: Campaign, today: date, units: QuerySet) -> list[QuerySet]:
    """Once the study deadline has passed: the units whose accepted and waiting sessions do not
    reach the share (in progress or not started). A unit whose sessions wait for review has done
    its part: it is "awaiting the district", and the waiting items are the district's flag."""
    due = effective_deadline(campaign, campaign.study_deadline)
    if today <= due:
        return []
    sent = units_reaching_share(campaign, today, statuses=SENT, units=units)
    return [pairs(units.exclude(pk__in=sent), since=day_after(due))]


def _late(campaign: Campaign, today: date, units: QuerySet) -> list[QuerySet]:
    """History: the units that completed their study, but not on time."""
    due = effective_deadline(campaign, campaign.study_deadline)
    if today <= due:
        return []
    accepted = (ReviewStatus.ACCEPTED,)
    complete = units_reaching_share(campaign, today, statuses=accepted, units=units)
    on_time = units_reaching_share(campaign, today, statuses=accepted, units=units, on_time=True)
    late = units.filter(pk__in=complete).exclude(pk__in=on_time)
    return [pairs(late, since=day_after(due))]


def _describe_overdue(flag, item, campaign: Campaign) -> str:
    return _(
        "Study sessions covering %(share)s%% of the members were due by %(date)s; the unit has "
        "not sent enough."
    ) % {
        "share": campaign.required_study_share,
        "date": deadline(campaign, campaign.study_deadline),
    }


def _describe_late(flag, item, campaign: Campaign) -> str:
    return _("The study was completed after the deadline of %(date)s.") % {
        "date": deadline(campaign, campaign.study_deadline)
    }


SENT = (ReviewStatus.SUBMITTED, ReviewStatus.ACCEPTED)


def _status(query: StatusQuery) -> None:
    campaign = query.campaign
    accepted = ReviewStatus.ACCEPTED.value
    units_sql, units_params = query.units("unit_id")
    sessions, sessions_params = query.source(StudySession)
    # On time: held by the deadline and submitted by its end (see campaigns.engine.study).
    due = effective_deadline(campaign, campaign.study_deadline)
    query.cte(
        "s",
        "SELECT unit_id, "
        "SUM(CASE WHEN status = %s THEN attendees ELSE 0 END) AS total, "
        "SUM(CASE WHEN status = %s AND held_on <= %s AND submitted_at < %s "
        "THEN attendees ELSE 0 END) AS by_deadline, "
        "SUM(CASE WHEN status = %s THEN attendees ELSE 0 END) AS waiting "
        f"FROM {sessions} x WHERE campaign_id = %s AND status IN (%s, %s){units_sql} "
        "GROUP BY unit_id",
        accepted,
        accepted,
        sql_date(due),
        connection.ops.adapt_datetimefield_value(end_of_day(due)),
        ReviewStatus.SUBMITTED.value,
        *sessions_params,
        campaign.pk,
        accepted,
        ReviewStatus.SUBMITTED.value,
        *units_params,
    )
    # The day a unit became study-complete: the first accepted session at which the running
    # total of attendees reached the required share (same rule as the study state below).
    query.cte(
        "sc",
        "SELECT x.unit_id, MIN(x.held_on) AS completed_on FROM ("
        "SELECT unit_id, held_on, SUM(attendees) OVER (PARTITION BY unit_id "
        "ORDER BY held_on, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative "
        f"FROM {sessions} y WHERE campaign_id = %s AND status = %s{units_sql}"
        ") x JOIN u ON u.id = x.unit_id "
        "WHERE x.cumulative > 0 AND x.cumulative * 100 >= u.member_count * %s "
        "GROUP BY x.unit_id",
        *sessions_params,
        campaign.pk,
        accepted,
        *units_params,
        campaign.required_study_share,
    )
    share = campaign.required_study_share
    query.column("attended_total", "COALESCE(s.total, 0)")
    query.column("attended_by_deadline", "COALESCE(s.by_deadline, 0)")
    query.column(
        "study_state",
        "CASE WHEN NOT u.reporting THEN 'na' "
        "WHEN COALESCE(s.by_deadline, 0) > 0 AND s.by_deadline * 100 >= u.member_count * %s "
        "THEN 'on_time' "
        "WHEN COALESCE(s.total, 0) > 0 AND s.total * 100 >= u.member_count * %s THEN 'late' "
        "WHEN COALESCE(s.total + s.waiting, 0) > 0 "
        "AND (s.total + s.waiting) * 100 >= u.member_count * %s THEN 'awaiting' "
        "WHEN COALESCE(s.total + s.waiting, 0) > 0 THEN 'in_progress' "
        "ELSE 'not_started' END",
        share,
        share,
        share,
    )
    query.column("study_completed_on", "sc.completed_on")


def _checklist(facts: UnitFacts) -> ChecklistItem | None:
    if not facts.reporting:
        return None
    study = facts.study
    returned = any(s.status == ReviewStatus.RETURNED for s in facts.items.get("sessions", ()))
    due = deadline(facts.campaign, facts.campaign.study_deadline)
    return ChecklistItem(
        "R1",
        _("Study and dissemination sessions"),
        deadline_state(
            done=study["study_state"] in (StudyState.ON_TIME, StudyState.LATE),
            due=due.due_on,
            today=facts.today,
            returned=returned,
        ),
        _("%(attended)s attended in accepted sessions; %(required)s required")
        % {"attended": study["attended_total"], "required": study["required_attendance"]},
        due.due_on,
        due,
    )


def _day_changes(campaign: Campaign, since: date, today: date) -> str | None:
    """Both flags start the day after the study deadline, for every unit short of it; before
    and after, only sessions written change them."""
    due = effective_deadline(campaign, campaign.study_deadline)
    return EVERY_UNIT if deadline_passed(since, today, due) else None


RULE = Rule(
    "R1",
    kinds=(SESSIONS,),
    flags=(
        FlagRule(FlagKind.STUDY_OVERDUE, _overdue, reads=("sessions",), describe=_describe_overdue),
        FlagRule(
            FlagKind.STUDY_LATE,
            _late,
            history_only=True,
            reads=("sessions",),
            describe=_describe_late,
        ),
    ),
    status=StatusPart(_status),
    day_changes=_day_changes,
    checklist=_checklist,
    demo="campaigns.demo.reports.study_sessions",
)
