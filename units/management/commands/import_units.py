"""`manage.py import_units FILE [--dry-run] [--deactivate-missing] [--language vi|en]` and
`manage.py import_units --template FILE.xlsx`: the spreadsheet import of the staff page, for
scripts and for the first load of a district."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from units.importing import import_units
from units.spreadsheet import SheetError, read_sheet, template_bytes


class Command(BaseCommand):
    help = "Create or update units and their people from a spreadsheet (.xlsx or .csv)."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the .xlsx or .csv to import")
        parser.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
        parser.add_argument(
            "--deactivate-missing",
            action="store_true",
            help="deactivate the units that are not in the file (never deletes)",
        )
        parser.add_argument("--template", metavar="FILE.xlsx", help="write the blank template")
        parser.add_argument("--language", choices=["vi", "en"], default="vi")

    def handle(self, *args, file=None, template=None, language="vi", **options):
        with translation.override(language):
            if template:
                Path(template).write_bytes(template_bytes())
                self.stdout.write(template)
                return
            if not file:
                raise CommandError("give a FILE to import, or --template FILE.xlsx")
            try:
                sheet = read_sheet(Path(file).read_bytes(), file)
            except OSError as exc:
                raise CommandError(str(exc)) from exc
            except SheetError as exc:
                raise CommandError(str(exc)) from exc
            result = import_units(
                sheet,
                deactivate_missing=options["deactivate_missing"],
                dry_run=options["dry_run"],
            )
            plan = result.plan
            if not plan.ok:
                for problem in plan.problems:
                    self.stderr.write(str(problem))
                raise CommandError(f"{len(plan.problems)} problem(s); nothing was written")
            for _key, title, changes in plan.sections:
                self.stdout.write(f"{title}: {len(changes)}")
                for change in changes:
                    arrow = f"{change.before} → " if change.before else ""
                    detail = f"  {arrow}{change.after}" if (arrow or change.after) else ""
                    self.stdout.write(f"  {change.code}  {change.name}{detail}")
            if result.written:
                self.stdout.write(self.style.SUCCESS("written"))
            elif plan.changes == 0:
                self.stdout.write("nothing to change")
            else:
                self.stdout.write("dry run: nothing written")
