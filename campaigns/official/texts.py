"""The report's sentences, written from its figures the way an office writes them, in the active
language. Every function returns plain text for one paragraph (the `key` people's edits are
stored under); a paragraph that compares with the previous issued report says "up from … to …"
itself, so nobody works out the difference by hand.
"""

from datetime import date

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..engine.status import FLAG_COLUMNS
from ..models import Campaign, FlagKind
from ..periods import effective_deadline, short_date
from .figures import FIELDS


def number(value: int) -> str:
    """Grouped as the language writes it: 1.250 in Vietnamese, 1,250 in English."""
    return formats.number_format(value, force_grouping=True)


def percent(part: int, whole: int) -> str:
    return _("%(value)s%%") % {"value": round(100 * part / whole) if whole else 0}


def share(part: int, whole: int) -> float:
    return round(100 * part / whole) if whole else 0


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
    return _(
        "Carrying out %(campaign)s, %(committee)s directed its %(units)s party organisations "
        "to hold study sessions on the campaign by %(study_deadline)s, with at least "
        "%(share)s%% of their members taking part; to issue an implementation plan by "
        "%(plan_deadline)s; to choose at least one breakthrough task in economy, culture or "
        "society by %(task_deadline)s and report on its progress %(frequency)s; to build new "
        "models; and to resolve the incidents arising in their area."
    ) % {
        "campaign": campaign.short_title,
        "committee": committee_name,
        "units": number(figures["units"]),
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
            "Study: by the deadline (%(deadline)s), %(on_time)s of %(units)s units "
            "(%(on_time_pct)s) had held their study sessions, with %(by_deadline)s of "
            "%(members)s party members (%(by_deadline_pct)s) taking part. By %(as_of)s, "
            "%(done)s units (%(done_pct)s) have completed the study, %(late)s of them in "
            "make-up sessions after the deadline, and %(covered)s party members "
            "(%(covered_pct)s) have studied."
        )
    else:
        text = _(
            "Study: the deadline is %(deadline)s. By %(as_of)s, %(done)s of %(units)s units "
            "(%(done_pct)s) have completed the study, and %(covered)s of %(members)s party "
            "members (%(covered_pct)s) have studied."
        )
    text = text % values
    if previous:
        text += compare(
            _("the share of units that completed the study"),
            share(previous["done"], previous["units"]),
            share(figures["done"], figures["units"]),
        )
    return text


def plans(figures: dict, previous: dict | None) -> str:
    text = _(
        "Implementation plans: %(accepted)s of %(units)s units (%(pct)s) have an implementation "
        "plan accepted by the committee; %(waiting)s plans are awaiting review."
    ) % {
        "accepted": number(figures["plans_accepted"]),
        "units": number(figures["units"]),
        "pct": percent(figures["plans_accepted"], figures["units"]),
        "waiting": number(figures["plans_waiting"]),
    }
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
    text = _(
        "Breakthrough tasks: %(with_task)s of %(units)s units (%(pct)s) have chosen "
        "%(tasks)s breakthrough tasks: %(economy)s in economy, %(culture)s in culture and "
        "%(society)s in society."
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
        text += " " + _(
            "Units have sent %(reports)s progress reports, %(on_time)s of them on time."
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
    return _(
        "Propaganda: units have held %(activities)s propaganda activities, reaching "
        "%(people)s people."
    ) % {
        "activities": number(figures["propaganda"]),
        "people": number(figures["people_reached"]),
    }


def _behind_phrases() -> dict[str, str]:
    return {
        FLAG_COLUMNS[FlagKind.STUDY_OVERDUE]: _("%(count)s have not completed the study"),
        FLAG_COLUMNS[FlagKind.PLAN_MISSING]: _("%(count)s have no accepted implementation plan"),
        FLAG_COLUMNS[FlagKind.NO_BREAKTHROUGH]: _("%(count)s have not chosen a breakthrough task"),
        FLAG_COLUMNS[FlagKind.REPORT_OVERDUE]: _("%(count)s are late with a progress report"),
        FLAG_COLUMNS[FlagKind.STALE_INCIDENT]: _(
            "%(count)s have incidents unresolved past the time limit"
        ),
        FLAG_COLUMNS[FlagKind.PROPAGANDA_SHORT]: _("%(count)s have too few propaganda activities"),
    }


def behind(figures: dict) -> str:
    if not figures["units_flagged"]:
        return _("All units are on schedule: none carries an open flag.")
    parts = []
    for column, phrase in _behind_phrases().items():
        entry = figures["behind"].get(column)
        if not entry:
            continue
        names = ", ".join(entry["names"])
        more = entry["count"] - len(entry["names"])
        if more > 0:
            names += ngettext(" and %(n)s other unit", " and %(n)s other units", more) % {
                "n": number(more)
            }
        parts.append(phrase % {"count": number(entry["count"])} + f" ({names})")
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
    return _(
        "Units receive a reminder before each deadline and a weekly digest of what they still "
        "owe; %(committee)s flags have been raised to the committee above the unit and "
        "%(standing)s to the Standing Committee for direction; %(awaiting)s reports are awaiting "
        "review."
    ) % {
        "committee": number(figures["escalated_to_committee"]),
        "standing": number(figures["escalated_to_standing"]),
        "awaiting": number(figures["awaiting_review"]),
    }


def next_steps(committee_name: str, figures: dict) -> str:
    return _(
        "In the coming period, %(committee)s will urge the %(behind)s units still behind to "
        "complete what they owe, review the reports awaiting review without delay, follow the "
        "breakthrough tasks' progress reports each period, and spread the new models that "
        "work well."
    ) % {"committee": committee_name, "behind": number(figures["units_flagged"])}
