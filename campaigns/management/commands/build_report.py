from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from campaigns.models import Campaign
from campaigns.official.build import COMMITTEE_KINDS, build_document
from campaigns.official.docx import render_docx
from campaigns.official.pdf import render_pdf
from campaigns.official.services import OfficialReportError, new_draft
from campaigns.selectors import current_campaign
from units.models import Unit

RENDERERS = {".docx": render_docx, ".pdf": render_pdf}


class Command(BaseCommand):
    help = (
        "Write a committee's official report as of a day, a draft with the default texts, to a "
        ".docx or .pdf file. Issues nothing and changes nothing in the database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--unit", required=True, help="the committee's unit code")
        parser.add_argument("--as-of", required=True, help="the day of the figures, YYYY-MM-DD")
        parser.add_argument("--output", required=True, help="FILE.docx or FILE.pdf")
        parser.add_argument("--language", choices=["vi", "en"], default="vi")
        parser.add_argument(
            "--campaign", help="the campaign's code (default: the campaign of that day)"
        )

    def handle(self, *args, unit, as_of, output, language, campaign=None, **options):
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise CommandError(f"--as-of must be YYYY-MM-DD, got {as_of!r}") from None
        path = Path(output)
        render = RENDERERS.get(path.suffix.lower())
        if render is None:
            raise CommandError(f"--output must end in .docx or .pdf, got {output!r}")
        committee = Unit.objects.filter(code=unit).first()
        if committee is None:
            raise CommandError(f"no unit has the code {unit!r}")
        if committee.kind not in COMMITTEE_KINDS:
            raise CommandError(f"{unit!r} is not a committee: only committees send a report")
        chosen = (
            Campaign.objects.filter(code=campaign).first() if campaign else current_campaign(day)
        )
        if chosen is None:
            raise CommandError("no such campaign" if campaign else "there is no campaign")
        with translation.override(language):
            try:
                draft = new_draft(
                    user=None, campaign=chosen, committee=committee, as_of=day, language=language
                )
            except OfficialReportError as error:
                raise CommandError(str(error)) from None
            document = build_document(draft).document
        data = render(document)
        path.write_bytes(data)
        self.stdout.write(
            f"{path}: {len(data):,} bytes, {committee.code} as of {day.isoformat()} "
            f"({len(document.appendix.rows)} units in the appendix)"
        )
