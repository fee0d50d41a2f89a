"""The report's sentences, written from its figures the way an office writes them, in the active
language. Every function returns plain text for one paragraph (the `key` people's edits are
stored under); a paragraph that compares with the previous issued report says "up from … to …"
itself, so nobody works out the difference by hand.
"""

from datetime import date

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..dashboard.selectors import percent as share
from ..engine.status import FLAG_COLUMNS
from ..models import Campaign, FlagKind
from ..periods import effective_deadline, short_date
from .figures import FIELDS


def number(value: int) -> str:
    """Grouped as the language writes it: 1.250 in Vietnamese, 1,250 in English."""
    return formats.number_format(value, force_grouping=True)


def percent(part: int, whole: int) -> str:
    """ "86%", the dashboard's rounding."""
    return _("%(value)s%%") % {"value": share(part, whole)}


def compare(label: str, old: float | None, new: float, *, unit: str = "%") -> str:
    """ " Compared with the previous report, … went up from 61% to 86%." or "" with no previous
    figure."""
    if old is None:
        return ""
    values = {"label": label, "old": f"{number(old)}{unit}", "new": f"{number(new)}{unit}"}
    if new > old:
        sentence = _("%(label)s went up from %(old)s to %(new)s.")
    elif new < old:
        sentence = _("%(label)s went down from %(old)s to %(new)s.")
    else:
        sentence = _("%(label)s stayed at %(new)s.")
    return " " + _("Compared with the previous report,") + " " + sentence % values


def requirements(campaign: Campaign, committee_name: str, figures: dict) -> str:
    frequency = _("every month") if campaign.report_frequency == "monthly" else _("every quarter")
    organisations = ngettext(
        "the %(units)s party organisation under it",
        "the %(units)s party organisations under it",
        figures["direct_units"],
    ) % {"units": number(figures["direct_units"])}
    return _(
        "Carrying out %(campaign)s, %(committee)s directed %(organisations)s to hold study "
        "sessions on the campaign by %(study_deadline)s, with at least "
        "%(share)s%% of their members taking part; to issue an implementation plan by "
        "%(plan_deadline)s; to choose at least one breakthrough task in economy, culture or "
        "society by %(task_deadline)s and report on its progress %(frequency)s; to build new "
        "models; and to resolve the incidents arising in their area."
    ) % {
        "campaign": campaign.short_title,
        "committee": committee_name,
        "organisations": organisations,
        "study_deadline": short_date(effective_deadline(campaign, campaign.study_deadline)),
        "share": campaign.required_study_share,
        "plan_deadline": short_date(effective_deadline(campaign, campaign.plan_deadline)),
        "task_deadline": short_date(effective_deadline(campaign, campaign.breakthrough_deadline)),
        "frequency": frequency,
    }


def study(campaign: Campaign, as_of: date, figures: dict, previous: dict | None) -> str:
    deadline = effective_deadline(campaign, campaign.study_deadline)
    values = {
        "deadline": short_date(deadline),
        "as_of": short_date(as_of),
        "units": number(figures["units"]),
        "members": number(figures["members"]),
        "on_time": number(figures["on_time"]),
        "on_time_pct": percent(figures["on_time"], figures["units"]),
        "by_deadline": number(figures["members_by_deadline"]),
        "by_deadline_pct": percent(figures["members_by_deadline"], figures["members"]),
        "done": number(figures["done"]),
        "done_pct": percent(figures["done"], figures["units"]),
        "late": number(figures["late"]),
        "covered": number(figures["members_covered"]),
        "covered_pct": percent(figures["members_covered"], figures["members"]),
    }
    if as_of > deadline:
        text = _(
            "Study: by the deadline (%(deadline)s), study sessions had been held in "
            "%(on_time)s of %(units)s units (%(on_time_pct)s), with %(by_deadline)s of "
            "%(members)s party members (%(by_deadline_pct)s) taking part. By %(as_of)s, the "
            "study has been completed in %(done)s of %(units)s units (%(done_pct)s), and "
            "%(covered)s party members (%(covered_pct)s) have studied."
        )
    else:
        text = _(
            "Study: the deadline is %(deadline)s. By %(as_of)s, %(done)s of %(units)s units "
            "(%(done_pct)s) have completed the study, and %(covered)s of %(members)s party "
            "members (%(covered_pct)s) have studied."
        )
    text = text % values
    if as_of > deadline and figures["late"]:
        text += " " + ngettext(
            "%(late)s unit completed it in a make-up session after the deadline.",
            "%(late)s units completed it in make-up sessions after the deadline.",
            figures["late"],
        ) % {"late": number(figures["late"])}
    if previous:
        text += compare(
            _("the share of units that completed the study"),
            share(previous["done"], previous["units"]),
            share(figures["done"], figures["units"]),
        )
    return text


def plans(figures: dict, previous: dict | None) -> str:
    text = _(
        "Implementation plans: an implementation plan has been accepted for %(accepted)s of "
        "%(units)s units (%(pct)s)."
    ) % {
        "accepted": number(figures["plans_accepted"]),
        "units": number(figures["units"]),
        "pct": percent(figures["plans_accepted"], figures["units"]),
    }
    if figures["plans_waiting"]:
        text += " " + ngettext(
            "%(waiting)s plan is awaiting review.",
            "%(waiting)s plans are awaiting review.",
            figures["plans_waiting"],
        ) % {"waiting": number(figures["plans_waiting"])}
    if previous:
        text += compare(
            _("the share of units with an accepted plan"),
            share(previous["plans_accepted"], previous["units"]),
            share(figures["plans_accepted"], figures["units"]),
        )
    return text


def field_label(field: str) -> str:
    return {"economy": _("economy"), "culture": _("culture"), "society": _("society")}[field]


def tasks(figures: dict, previous: dict | None) -> str:
    if not figures["tasks"]:
        return _("Breakthrough tasks: no unit has chosen a breakthrough task yet.")
    text = _(
        "Breakthrough tasks: %(with_task)s of %(units)s units (%(pct)s) have chosen "
        "breakthrough tasks, %(tasks)s in all: %(economy)s in economy, %(culture)s in culture "
        "and %(society)s in society."
    ) % {
        "with_task": number(figures["units_with_task"]),
        "units": number(figures["units"]),
        "pct": percent(figures["units_with_task"], figures["units"]),
        "tasks": number(figures["tasks"]),
        "economy": number(figures["tasks_economy"]),
        "culture": number(figures["tasks_culture"]),
        "society": number(figures["tasks_society"]),
    }
    if not figures["reports_total"]:
        text += " " + _("No progress report has been sent yet.")
    else:
        text += " " + ngettext(
            "Units have sent %(reports)s progress report, %(on_time)s of them on time.",
            "Units have sent %(reports)s progress reports, %(on_time)s of them on time.",
            figures["reports_total"],
        ) % {
            "reports": number(figures["reports_total"]),
            "on_time": number(figures["reports_on_time"]),
        }
    progress = []
    for field in FIELDS:
        value = figures.get(f"progress_{field}")
        if value is None:
            progress.append(_("%(field)s: no progress report yet") % {"field": field_label(field)})
        else:
            progress.append(
                _("%(field)s %(value)s%%") % {"field": field_label(field), "value": value}
            )
    if figures["reports_total"]:
        text += " " + _("Average progress reported: %(list)s.") % {"list": "; ".join(progress)}
    if previous:
        text += compare(
            _("the number of units with a breakthrough task"),
            previous["units_with_task"],
            figures["units_with_task"],
            unit="",
        )
    return text


def models(figures: dict, previous: dict | None) -> str:
    if not figures["initiatives"]:
        return _("New models: no new model has been reported yet.")
    text = ngettext(
        "New models: %(count)s new model has been built, in %(units)s units.",
        "New models: %(count)s new models have been built, in %(units)s units.",
        figures["initiatives"],
    ) % {"count": number(figures["initiatives"]), "units": number(figures["units_with_initiative"])}
    if previous:
        text += compare(
            _("the number of new models"), previous["initiatives"], figures["initiatives"], unit=""
        )
    return text


def incidents(campaign: Campaign, figures: dict) -> str:
    if not figures["incidents_resolved"]:
        resolved = _("Local incidents: none has been resolved yet")
    else:
        resolved = ngettext(
            "Local incidents: %(count)s incident has been resolved",
            "Local incidents: %(count)s incidents have been resolved",
            figures["incidents_resolved"],
        ) % {"count": number(figures["incidents_resolved"])}
    if not figures["incidents_open"]:
        return resolved + _("; none is still open.")
    still_open = ngettext(
        "%(count)s is still being handled, %(stale)s of them for longer than %(limit)s days",
        "%(count)s are still being handled, %(stale)s of them for longer than %(limit)s days",
        figures["incidents_open"],
    ) % {
        "count": number(figures["incidents_open"]),
        "stale": number(figures["incidents_stale"]),
        "limit": campaign.incident_age_limit_days,
    }
    return f"{resolved}; {still_open}."


def propaganda(figures: dict) -> str:
    if not figures["propaganda"]:
        return _("Propaganda: no propaganda activity has been recorded yet.")
    return ngettext(
        "Propaganda: units have held %(activities)s propaganda activity, reaching %(people)s "
        "people.",
        "Propaganda: units have held %(activities)s propaganda activities, reaching "
        "%(people)s people.",
        figures["propaganda"],
    ) % {
        "activities": number(figures["propaganda"]),
        "people": number(figures["people_reached"]),
    }


def _behind_phrase(column: str, count: int) -> str:
    phrases = {
        FLAG_COLUMNS[FlagKind.STUDY_OVERDUE]: ngettext(
            "%(count)s has not completed the study",
            "%(count)s have not completed the study",
            count,
        ),
        FLAG_COLUMNS[FlagKind.PLAN_MISSING]: ngettext(
            "%(count)s has no accepted implementation plan",
            "%(count)s have no accepted implementation plan",
            count,
        ),
        FLAG_COLUMNS[FlagKind.NO_BREAKTHROUGH]: ngettext(
            "%(count)s has not chosen a breakthrough task",
            "%(count)s have not chosen a breakthrough task",
            count,
        ),
        FLAG_COLUMNS[FlagKind.REPORT_OVERDUE]: ngettext(
            "%(count)s is late with a progress report",
            "%(count)s are late with a progress report",
            count,
        ),
        FLAG_COLUMNS[FlagKind.STALE_INCIDENT]: ngettext(
            "%(count)s has incidents unresolved past the time limit",
            "%(count)s have incidents unresolved past the time limit",
            count,
        ),
        FLAG_COLUMNS[FlagKind.PROPAGANDA_SHORT]: ngettext(
            "%(count)s has too few propaganda activities",
            "%(count)s have too few propaganda activities",
            count,
        ),
    }
    return phrases[column] % {"count": number(count)}


def behind(figures: dict) -> str:
    if not figures["units_flagged"]:
        return _("All units are on schedule: none carries an open flag.")
    parts = []
    for column in FLAG_COLUMNS.values():
        entry = figures["behind"].get(column)
        if not entry:
            continue
        names = ", ".join(entry["names"])
        more = entry["count"] - len(entry["names"])
        if more > 0:
            names += ngettext(" and %(n)s other unit", " and %(n)s other units", more) % {
                "n": number(more)
            }
        parts.append(_behind_phrase(column, entry["count"]) + f" ({names})")
    return (
        ngettext(
            "%(count)s unit is still behind: ",
            "%(count)s units are still behind: ",
            figures["units_flagged"],
        )
        % {"count": number(figures["units_flagged"])}
        + "; ".join(parts)
        + "."
    )


def actions(figures: dict) -> str:
    text = _(
        "Units receive a reminder before each deadline and a weekly digest of what they still owe."
    )
    if figures["escalated_to_committee"] or figures["escalated_to_standing"]:
        text += " " + _(
            "Flags raised to the committee above the unit: %(committee)s; to the Standing "
            "Committee, for direction: %(standing)s."
        ) % {
            "committee": number(figures["escalated_to_committee"]),
            "standing": number(figures["escalated_to_standing"]),
        }
    if figures["awaiting_review"]:
        text += " " + ngettext(
            "%(awaiting)s report is awaiting review.",
            "%(awaiting)s reports are awaiting review.",
            figures["awaiting_review"],
        ) % {"awaiting": number(figures["awaiting_review"])}
    return text


def next_steps(committee_name: str, figures: dict) -> str:
    if not figures["units_flagged"]:
        return _(
            "In the coming period, %(committee)s will keep every unit on schedule, review the "
            "reports awaiting review without delay, follow the breakthrough tasks' progress "
            "reports each period, and spread the new models that work well."
        ) % {"committee": committee_name}
    return ngettext(
        "In the coming period, %(committee)s will urge the %(behind)s unit still behind to "
        "complete what it owes, review the reports awaiting review without delay, follow the "
        "breakthrough tasks' progress reports each period, and spread the new models that "
        "work well.",
        "In the coming period, %(committee)s will urge the %(behind)s units still behind to "
        "complete what they owe, review the reports awaiting review without delay, follow the "
        "breakthrough tasks' progress reports each period, and spread the new models that "
        "work well.",
        figures["units_flagged"],
    ) % {"committee": committee_name, "behind": number(figures["units_flagged"])}
