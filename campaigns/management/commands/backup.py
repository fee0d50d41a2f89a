"""`manage.py backup [--output PATH] [--keep N] [--allow-missing]`: one archive of the database
and the evidence files, with a manifest of checksums (dongda/backup.py says what is in it and
why it is consistent)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dongda.backup import BackupError, backup_create, backup_prune, default_output, size_text


class Command(BaseCommand):
    # The system checks import every URLconf and view; a backup reads none of them and must run
    # even when a page is broken (above all then).
    requires_system_checks = []
    help = (
        "Write one archive (.tar) of the database and the evidence files, with a manifest of "
        "their checksums; `restore` brings it back."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            help="the archive to write, .tar or .tar.gz (default: "
            "VAR_DIR/backups/dongda-YYYYmmdd-HHMMSS.tar); never overwritten",
        )
        parser.add_argument(
            "--keep",
            type=int,
            help="after a successful backup, delete all but the N newest dongda-*.tar archives "
            "in the archive's folder (other files are left alone)",
        )
        parser.add_argument(
            "--allow-missing",
            action="store_true",
            help="write the archive even if files the database refers to are gone from the "
            "disk (they are listed in the manifest); without it such a backup fails",
        )

    def handle(self, *args, output=None, keep=None, allow_missing=False, **options):
        if keep is not None and keep < 1:
            raise CommandError("--keep must be at least 1 (the archive just written).")
        path = Path(output) if output else default_output()
        try:
            result = backup_create(output=path, allow_missing=allow_missing)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        manifest = result.manifest
        files = manifest["files"]
        dump = files[manifest["database"]["dump"]]["size"]
        evidence = manifest["evidence"]
        rows = sum(manifest["tables"].values())
        retried = f", {result.attempts} snapshots" if result.attempts > 1 else ""
        self.stdout.write(
            f"{result.path}: {result.size:,} bytes ({size_text(result.size)}) in "
            f"{result.seconds:.1f} s{retried}"
        )
        self.stdout.write(
            f"  database  {manifest['database']['engine']}, {len(manifest['tables'])} tables, "
            f"{rows:,} rows, dump {size_text(dump)}"
        )
        self.stdout.write(
            f"  evidence  {evidence['files']:,} files, {size_text(evidence['bytes'])}"
        )
        for lost in result.missing:
            self.stderr.write(
                self.style.WARNING(
                    f"  missing   {lost['name']} ({', '.join(lost['rows'])}): not in the archive"
                )
            )
        if keep is not None:
            for deleted in backup_prune(folder=result.path.parent, keep=keep):
                self.stdout.write(f"  deleted   {deleted.name} (--keep {keep})")
