"""R1: every party cell and committee holds study and dissemination sessions for all its members,
finished by the campaign's study deadline (31/03 in 2024). A unit is study-complete when its
accepted sessions reach the campaign's required share of its members."""

from collections.abc import Callable
from datetime import date

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..engine.flags import pairs
from ..engine.status import StatusQuery, sql_date, table
from ..engine.study import StudyState, study_state_q, units_with_study_progress
from ..models import Campaign, FlagKind, ReviewStatus, StudySession
from ..registry import (
    ChecklistItem,
    FlagRule,
    ReportKind,
    Rule,
    StatusPart,
    UnitFacts,
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


def _units_in(states: Q) -> Callable[[Campaign, date, QuerySet], list[QuerySet]]:
    """The reporting units whose study state is in `states`, once the study deadline has passed."""

    def wanted(campaign: Campaign, today: date, units: QuerySet) -> list[QuerySet]:
        if today <= campaign.study_deadline:
            return []
        return [pairs(units_with_study_progress(units, campaign).filter(states))]

    return wanted


_overdue = _units_in(study_state_q(StudyState.IN_PROGRESS) | study_state_q(StudyState.NOT_STARTED))
_late = _units_in(study_state_q(StudyState.LATE))


def _status(query: StatusQuery) -> None:
    campaign = query.campaign
    accepted = ReviewStatus.ACCEPTED.value
    units_sql, units_params = query.units("unit_id")
    query.cte(
        "s",
        "SELECT unit_id, SUM(attendees) AS total, "
        "SUM(CASE WHEN held_on <= %s THEN attendees ELSE 0 END) AS by_deadline "
        f"FROM {table(StudySession)} WHERE campaign_id = %s AND status = %s{units_sql} "
        "GROUP BY unit_id",
        sql_date(campaign.study_deadline),
        campaign.pk,
        accepted,
        *units_params,
    )
    # The day a unit became study-complete: the first accepted session at which the running
    # total of attendees reached the required share (same rule as the study state below).
    query.cte(
        "sc",
        "SELECT x.unit_id, MIN(x.held_on) AS completed_on FROM ("
        "SELECT unit_id, held_on, SUM(attendees) OVER (PARTITION BY unit_id "
        "ORDER BY held_on, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative "
        f"FROM {table(StudySession)} WHERE campaign_id = %s AND status = %s{units_sql}"
        ") x JOIN u ON u.id = x.unit_id "
        "WHERE x.cumulative > 0 AND x.cumulative * 100 >= u.member_count * %s "
        "GROUP BY x.unit_id",
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
        "WHEN COALESCE(s.total, 0) = 0 THEN 'not_started' "
        "WHEN COALESCE(s.by_deadline, 0) > 0 AND s.by_deadline * 100 >= u.member_count * %s "
        "THEN 'on_time' "
        "WHEN s.total * 100 >= u.member_count * %s THEN 'late' "
        "ELSE 'in_progress' END",
        share,
        share,
    )
    query.column("study_completed_on", "sc.completed_on")


def _checklist(facts: UnitFacts) -> ChecklistItem | None:
    if not facts.reporting:
        return None
    study = facts.study
    returned = any(s.status == ReviewStatus.RETURNED for s in facts.items.get("sessions", ()))
    return ChecklistItem(
        "R1",
        _("Study and dissemination sessions"),
        deadline_state(
            done=study["study_state"] in (StudyState.ON_TIME, StudyState.LATE),
            due=facts.campaign.study_deadline,
            today=facts.today,
            returned=returned,
        ),
        _("%(attended)s attended in accepted sessions; %(required)s required")
        % {"attended": study["attended_total"], "required": study["required_attendance"]},
        facts.campaign.study_deadline,
    )


RULE = Rule(
    "R1",
    kinds=(SESSIONS,),
    flags=(
        FlagRule(FlagKind.STUDY_OVERDUE, _overdue),
        FlagRule(FlagKind.STUDY_LATE, _late, history_only=True),
    ),
    status=StatusPart(_status),
    checklist=_checklist,
    demo="campaigns.demo.reports.study_sessions",
)
