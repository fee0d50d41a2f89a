"""Assembling a report: a draft's choices and the figures as of its day, into one
`ReportDocument` both renderers draw."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from units.models import Unit, UnitKind
from units.selectors import unit_ancestors

from ..dashboard.selectors import percent
from ..engine.run import figures_as_of
from ..models import Campaign, OfficialReport, ReviewStatus, UnitStatus
from ..periods import short_date
from . import texts
from .content import Appendix, Figure, Header, Paragraph, ReportDocument, Section, Signature
from .figures import committee_figures, subtree_statuses

#: The units that send an official report: the district and the committees under it.
COMMITTEE_KINDS = (UnitKind.DISTRICT, UnitKind.WARD_COMMITTEE, UnitKind.GRASSROOTS_COMMITTEE)


def unit_name(unit: Unit, language: str) -> str:
    return (getattr(unit, f"name_{language}", "") or unit.name or "").strip()


def _organisation_of(name: str, language: str) -> str:
    """The party organisation a committee leads, as the upper line of a header names it:
    "Quận ủy Đống Đa" leads "Đảng bộ quận Đống Đa", "Đảng ủy phường Cát Linh" leads "Đảng bộ
    phường Cát Linh"."""
    if language == "vi":
        name = re.sub(r"^Quận ủy\b", "Đảng bộ quận", name, flags=re.IGNORECASE)
        name = re.sub(r"^(Đảng ủy|Ban Thường vụ)\b", "Đảng bộ", name, flags=re.IGNORECASE)
        return name
    return re.sub(r"\bCommittee\b", "Organisation", name)


def _committee_of(name: str, language: str) -> str:
    """The body that issues for an organisation: "Đảng bộ phường Cát Linh" is led by "Đảng ủy
    phường Cát Linh" (a unit named after its committee keeps its name)."""
    if language == "vi":
        return re.sub(r"^Đảng bộ\b", "Đảng ủy", name, flags=re.IGNORECASE)
    return re.sub(r"\bOrganisation\b", "Committee", name)


def upper(text: str) -> str:
    return unicodedata.normalize("NFC", text.upper())


@dataclass
class DraftDefaults:
    superior_body: str
    issuing_body: str
    number_suffix: str
    place: str
    title: str
    recipients: str
    on_behalf: str
    signer_title: str


def draft_defaults(*, campaign: Campaign, committee: Unit, language: str) -> DraftDefaults:
    """What a new draft starts with: the header and the closing block as the committee's office
    would write them; every one of them may be changed on the draft."""
    with translation.override(language):
        ancestors = unit_ancestors(committee)
        parent = ancestors[-1] if ancestors else None
        if parent is None:
            superior = _("Hanoi City Party Organisation")
            recipients = [
                _("- Hanoi Party Committee (for the record),"),
                _("- The City Party Committee's Propaganda and Education Commission,"),
                _("- Members of the District Party Committee,"),
                _("- Grassroots party organisations,"),
                _("- Filed at the District Party Committee Office."),
            ]
            on_behalf = _("ON BEHALF OF THE STANDING COMMITTEE")
            suffix = "BC/QU"
        else:
            superior = _organisation_of(unit_name(parent, language), language)
            recipients = [
                _("- %(committee)s (for the record),") % {"committee": unit_name(parent, language)},
                _("- Party cells under the committee,"),
                _("- Filed at the office."),
            ]
            on_behalf = _("ON BEHALF OF THE PARTY COMMITTEE")
            suffix = "BC/ĐU"
        return DraftDefaults(
            superior_body=upper(superior),
            issuing_body=upper(_committee_of(unit_name(committee, language), language)),
            number_suffix=suffix,
            place=_("Hanoi"),
            title=_("Results of studying and carrying out %(campaign)s")
            % {"campaign": campaign.short_title},
            recipients="\n".join(recipients),
            on_behalf=on_behalf,
            signer_title=_("SECRETARY"),
        )


def place_and_date(place: str, day: date, language: str) -> str:
    """ "Hà Nội, ngày 05 tháng 4 năm 2024": the guidance writes a day below 10 and the months
    January and February with a leading zero. English readers get "Hanoi, 5 April 2024"."""
    if language != "vi":
        return f"{place}, {formats.date_format(day, 'j F Y')}"
    return _("%(place)s, day %(day)s month %(month)s year %(year)s") % {
        "place": place,
        "day": f"{day.day:02d}",
        "month": f"{day.month:02d}" if day.month < 3 else str(day.month),
        "year": day.year,
    }


def header_number(report: OfficialReport) -> str:
    # Room to write the number by hand when it is not known yet, as offices leave it.
    number = report.number or "\u00a0" * 6
    return _("No. %(number)s-%(suffix)s") % {"number": number, "suffix": report.number_suffix}


APPENDIX_WIDTHS = [6, 30, 22, 8, 13, 10, 10, 8, 10, 7]


def appendix(report: OfficialReport, committee: Unit) -> Appendix:
    """One row per reporting unit of the committee's subtree, in the order of the tree, with the
    committee it belongs to (the unit directly under the report's committee): one statement for
    the rows, one for the committees' names."""
    language = report.language
    name_field = f"unit__name_{language}"
    rows = (
        subtree_statuses(report.campaign, committee)
        .filter(reporting=True)
        .order_by("path")
        .values_list(
            "path",
            name_field,
            "unit__name",
            "members",
            "study_state",
            "study_completed_on",
            "plan_status",
            "tasks_economy",
            "tasks_culture",
            "tasks_society",
            "reports_on_time",
            "reports_total",
            "flags_open",
        )
    )
    step = Unit.steplen
    prefix = (committee.depth + 1) * step
    committees = {
        path: name_vi_en or name
        for path, name_vi_en, name in Unit.objects.filter(
            path__startswith=committee.path, depth=committee.depth + 1
        ).values_list("path", f"name_{language}", "name")
    }
    states = dict(UnitStatus.StudyState.choices)
    plan_states = dict(ReviewStatus.choices)
    cells = []
    for index, row in enumerate(rows.iterator(chunk_size=2000), start=1):
        path, name, fallback, members, state, completed, plan = row[:7]
        economy, culture, society, on_time, total, flags = row[7:]
        cells.append(
            [
                texts.number(index),
                name or fallback,
                committees.get(path[:prefix], "") if len(path) > prefix else "",
                texts.number(members),
                str(states.get(state, state)),
                short_date(completed) if completed else "",
                str(plan_states[plan]) if plan else _("none"),
                texts.number(economy + culture + society),
                f"{on_time}/{total}",
                texts.number(flags) if flags else "",
            ]
        )
    return Appendix(
        title=_("APPENDIX"),
        subtitle=_("Where each unit stands, as of %(day)s") % {"day": short_date(report.as_of)},
        columns=[
            _("No."),
            _("Unit"),
            _("Committee"),
            _("Members"),
            _("Study"),
            _("Completed on"),
            _("Implementation plan"),
            _("Breakthrough tasks"),
            _("Progress reports (on time/total)"),
            _("Open flags"),
        ],
        widths=APPENDIX_WIDTHS,
        rows=cells,
        numeric=[0, 3, 7, 9],
    )


#: The figures the draft page shows beside those of the previous issued report: each worked
#: out by one function from a report's figures, today's and the previous report's alike.
HEADLINE = [
    (
        "study_done",
        gettext_lazy("Units that completed the study"),
        lambda f: percent(f["done"], f["units"]),
        True,
    ),
    (
        "members_covered",
        gettext_lazy("Party members who studied"),
        lambda f: percent(f["members_covered"], f["members"]),
        True,
    ),
    (
        "plans",
        gettext_lazy("Units with an accepted plan"),
        lambda f: percent(f["plans_accepted"], f["units"]),
        True,
    ),
    ("tasks", gettext_lazy("Breakthrough tasks"), lambda f: f["tasks"], False),
    ("initiatives", gettext_lazy("New models"), lambda f: f["initiatives"], False),
    (
        "incidents_resolved",
        gettext_lazy("Incidents resolved"),
        lambda f: f["incidents_resolved"],
        False,
    ),
    ("units_flagged", gettext_lazy("Units behind"), lambda f: f["units_flagged"], False),
]


def headline(figures: dict, previous: dict | None) -> list[Figure]:
    result = []
    for key, label, measure, is_share in HEADLINE:

        def shown(value, is_share=is_share):
            return f"{texts.number(value)}%" if is_share else texts.number(value)

        value = measure(figures)
        result.append(
            Figure(
                key=key,
                label=str(label),
                display=shown(value),
                value=value,
                previous_display=shown(measure(previous)) if previous else "",
            )
        )
    return result


def default_sections(
    report: OfficialReport, committee_name: str, figures: dict, previous: dict | None
) -> list[Section]:
    campaign = report.campaign

    def paragraphs(**texts_by_key):
        return [Paragraph(key=key, text=text) for key, text in texts_by_key.items()]

    return [
        Section(
            _("I. HOW THE CAMPAIGN WAS SET IN MOTION"),
            paragraphs(requirements=texts.requirements(campaign, committee_name, figures)),
        ),
        Section(
            _("II. RESULTS"),
            paragraphs(
                study=texts.study(campaign, report.as_of, figures, previous),
                plans=texts.plans(figures, previous),
                tasks=texts.tasks(figures, previous),
                models=texts.models(figures, previous),
                incidents=texts.incidents(campaign, figures),
                propaganda=texts.propaganda(figures),
            ),
        ),
        Section(
            _("III. SHORTCOMINGS AND UNITS BEHIND"),
            paragraphs(behind=texts.behind(figures), actions=texts.actions(figures)),
        ),
        Section(
            _("IV. TASKS FOR THE COMING PERIOD"),
            paragraphs(next=texts.next_steps(committee_name, figures)),
        ),
    ]


def previous_issued(report: OfficialReport) -> OfficialReport | None:
    """The committee's report in force as of the latest day before this one's (a superseded
    report is left out: its replacement is what was sent up), whose figures this one is
    compared with."""
    earlier = OfficialReport.objects.filter(
        unit_id=report.unit_id,
        campaign_id=report.campaign_id,
        # A superseded report was withdrawn: its replacement is what was sent up.
        state=OfficialReport.State.ISSUED,
        as_of__lt=report.as_of,
    )
    if report.pk:
        earlier = earlier.exclude(pk=report.pk)
    return earlier.defer("docx", "pdf").order_by("-as_of", "-issued_at", "-pk").first()


@dataclass
class Built:
    document: ReportDocument
    figures: dict
    previous: OfficialReport | None


def build_document(report: OfficialReport) -> Built:
    """The draft (or a report about to be issued) as a document: the figures as of its day,
    the default sentences written from them, the paragraphs people rewrote in their place."""
    committee = report.unit
    campaign = report.campaign
    language = report.language
    previous = previous_issued(report)
    previous_figures = (previous.snapshot or {}).get("figures") if previous else None
    with translation.override(language):
        with figures_as_of(campaign, report.as_of):
            figures = committee_figures(campaign, committee, report.as_of, language)
            table = appendix(report, committee)
        committee_name = unit_name(committee, language)
        sections = default_sections(report, committee_name, figures, previous_figures)
        for section in sections:
            for paragraph in section.paragraphs:
                edited = (report.edits or {}).get(paragraph.key)
                if edited is not None:
                    paragraph.text = edited
                    paragraph.edited = True
        signer_name = report.signer.get_full_name() if report.signer_id else ""
        title_lines = [report.title.strip()]
        title_lines.append(_("(as of %(day)s)") % {"day": short_date(report.as_of)})
        document = ReportDocument(
            language=language,
            as_of=report.as_of,
            header=Header(
                superior_body=report.superior_body,
                issuing_body=report.issuing_body,
                number=header_number(report),
                place_and_date=place_and_date(report.place, report.dated, language),
                kind=_("REPORT"),
                title="\n".join(title_lines),
                party_name=_("COMMUNIST PARTY OF VIETNAM"),
            ),
            sections=sections,
            recipients_label=_("Recipients:"),
            recipients=[line for line in report.recipients.splitlines() if line.strip()],
            signature=Signature(
                on_behalf=report.on_behalf, title=report.signer_title, name=signer_name
            ),
            appendix=table,
            figures=headline(figures, previous_figures),
            document_title=f"{_('REPORT')} {report.title.strip()} ({short_date(report.as_of)})",
        )
    return Built(document=document, figures=figures, previous=previous)
