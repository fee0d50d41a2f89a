"""Writes of official reports: start a draft, save it, issue it (freezing it), replace it.

Nothing is overwritten silently: a draft's save moves its `version` on only if it is still the
version the person's page showed, so two people editing one draft get a conflict, not a lost
edit. Issuing locks the draft's row, so two clicks on "Issue" (or two people) make one report.
"""

from dataclasses import asdict, dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from units.models import Unit, User

from ..models import Campaign, OfficialReport
from ..periods import short_date
from .build import Built, build_document, draft_defaults
from .docx import render_docx
from .pdf import render_pdf
from .selectors import signers_for


class OfficialReportError(Exception):
    """A step the report's state or its data does not allow; the message is for the person."""


@dataclass
class DraftConflict(Exception):
    """Someone saved the draft since the person opened it."""

    current: OfficialReport


def check_as_of(campaign: Campaign, day) -> None:
    """A report speaks of a day of the campaign that has ended: not before the campaign began,
    not in the future."""
    if day < campaign.starts_on:
        raise OfficialReportError(
            _("The campaign began on %(day)s: a report cannot be as of an earlier day.")
            % {"day": short_date(campaign.starts_on)}
        )
    if day > timezone.localdate():
        raise OfficialReportError(_("A report cannot be as of a day in the future."))


def new_draft(
    *, user: User | None, campaign: Campaign, committee: Unit, as_of, language: str
) -> OfficialReport:
    """An unsaved draft with the committee's defaults (what `build_report` draws, and what
    `start_draft` keeps)."""
    check_as_of(campaign, as_of)
    defaults = draft_defaults(campaign=campaign, committee=committee, language=language)
    return OfficialReport(
        campaign=campaign,
        unit=committee,
        language=language,
        as_of=as_of,
        dated=as_of,
        created_by=user,
        **asdict(defaults),
    )


def start_draft(
    *,
    user: User,
    campaign: Campaign,
    committee: Unit,
    as_of,
    language: str,
    supersedes: OfficialReport | None = None,
) -> OfficialReport:
    """A new draft with the committee's defaults. Replacing an issued report starts from its
    choices (number excepted: a new report has a new number)."""
    report = new_draft(
        user=user, campaign=campaign, committee=committee, as_of=as_of, language=language
    )
    if supersedes is not None:
        if supersedes.state != OfficialReport.State.ISSUED:
            raise OfficialReportError(_("Only an issued report can be replaced."))
        for name in (
            "superior_body",
            "issuing_body",
            "number_suffix",
            "place",
            "title",
            "recipients",
            "signer",
            "on_behalf",
            "signer_title",
        ):
            setattr(report, name, getattr(supersedes, name))
        report.language = supersedes.language
        report.supersedes = supersedes
    report.save()
    return report


DRAFT_FIELDS = (
    "as_of",
    "dated",
    "number",
    "superior_body",
    "issuing_body",
    "number_suffix",
    "place",
    "title",
    "recipients",
    "signer",
    "on_behalf",
    "signer_title",
    "edits",
)


@transaction.atomic
def save_draft(*, report: OfficialReport, changes: dict, expected_version: int) -> OfficialReport:
    """Saves the draft's fields from `changes` (already validated by the form) if nobody saved
    it since `expected_version`."""
    won = OfficialReport.objects.filter(
        pk=report.pk, version=expected_version, state=OfficialReport.State.DRAFT
    ).update(version=F("version") + 1)
    current = OfficialReport.objects.get(pk=report.pk)
    if not won:
        if current.state != OfficialReport.State.DRAFT:
            raise OfficialReportError(_("This report has been issued and can no longer change."))
        raise DraftConflict(current)
    for name in DRAFT_FIELDS:
        if name in changes:
            setattr(current, name, changes[name])
    current.save()
    return current


def signs_for(user_id: int, committee: Unit) -> bool:
    """Whether the person may sign the committee's report: they hold a role on it."""
    return signers_for(committee).filter(pk=user_id).exists()


def number_taken(report: OfficialReport) -> bool:
    if not report.number:
        return False
    return (
        OfficialReport.objects.filter(
            unit_id=report.unit_id, number=report.number, dated__year=report.dated.year
        )
        .exclude(state=OfficialReport.State.DRAFT)
        .exclude(pk=report.pk)
        .exists()
    )


def issue(*, report_id: int, user: User, expected_version: int) -> OfficialReport:
    """Freezes the draft: works out its document once more, keeps it (figures and text) in
    `snapshot`, draws the Word file and the PDF once, and marks the report it replaces as
    superseded. Refused (nothing changed) when someone saved or issued it meanwhile, or when
    its number is another issued report's."""
    with transaction.atomic():
        report = (
            OfficialReport.objects.select_for_update(of=("self",))
            .select_related("unit", "campaign", "signer")
            .get(pk=report_id)
        )
        if report.state != OfficialReport.State.DRAFT:
            raise OfficialReportError(_("This report has already been issued."))
        if report.version != expected_version:
            raise DraftConflict(report)
        if number_taken(report):
            raise OfficialReportError(
                _("Another issued report of this committee already has the number %(number)s.")
                % {"number": report.full_number}
            )
        if report.signer_id and not signs_for(report.signer_id, report.unit):
            raise OfficialReportError(
                _("%(person)s no longer holds a role on this committee and cannot sign for it.")
                % {"person": report.signer.get_full_name() or report.signer.username}
            )
        built: Built = build_document(report)
        report.snapshot = {"document": built.document.to_data(), "figures": built.figures}
        report.docx = render_docx(built.document)
        report.pdf = render_pdf(built.document)
        report.state = OfficialReport.State.ISSUED
        report.issued_by = user
        report.issued_at = timezone.now()
        report.version += 1
        if report.supersedes_id:
            replaced = OfficialReport.objects.select_for_update().get(pk=report.supersedes_id)
            if replaced.state != OfficialReport.State.ISSUED:
                raise OfficialReportError(_("The report this one replaces was already replaced."))
            replaced.state = OfficialReport.State.SUPERSEDED
            replaced.save(update_fields=["state", "updated_at"])
        try:
            with transaction.atomic():
                report.save()
        except IntegrityError:
            # Two reports issued at once with one number: the database's constraint decides.
            raise OfficialReportError(
                _("Another issued report of this committee already has the number %(number)s.")
                % {"number": report.full_number}
            ) from None
        return report


@transaction.atomic
def discard_draft(*, report: OfficialReport, expected_version: int) -> None:
    """Deletes a draft nobody saved since the person looked at it; issued reports stay."""
    deleted, _count = OfficialReport.objects.filter(
        pk=report.pk, version=expected_version, state=OfficialReport.State.DRAFT
    ).delete()
    if not deleted:
        current = OfficialReport.objects.filter(pk=report.pk).first()
        if current is None:
            return
        if current.state != OfficialReport.State.DRAFT:
            raise OfficialReportError(_("This report has been issued and can no longer change."))
        raise DraftConflict(current)
