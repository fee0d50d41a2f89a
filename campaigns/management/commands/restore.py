"""`manage.py restore ARCHIVE`: an archive written by `backup` back into an empty database and
an empty evidence folder, each checked before anything is written and read back after."""

from django.core.management.base import BaseCommand, CommandError

from campaigns.periods import forget_days_off
from dongda.backup import BackupError, backup_restore, size_text


class Command(BaseCommand):
    # The system checks import every URLconf and view; a restore reads none of them and must run
    # even when a page is broken (above all then).
    requires_system_checks = []
    help = (
        "Restore an archive written by `backup` into the configured database, which must be "
        "empty (no tables), and the evidence folder, which must be empty or missing. Every "
        "checksum is verified before anything is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the .tar (or .tar.gz) written by `backup`")

    def handle(self, *args, archive, **options):
        try:
            result = backup_restore(archive=archive)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        # The days off stay cached until one changes (campaigns.periods); in Redis they outlive
        # a restore, and deadlines would follow the old database's days off, not the restored.
        forget_days_off()
        manifest = result.manifest
        made = manifest["app"]
        evidence = manifest["evidence"]
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"{archive}: made {manifest['created_at']} (version {made['version']}, git "
            f"{(made['git_commit'] or 'unknown')[:12]}), restored in {result.seconds:.1f} s"
        )
        self.stdout.write(
            f"  database  {result.database}: {len(manifest['tables'])} tables, {rows:,} rows"
        )
        self.stdout.write(
            f"  evidence  {result.evidence_root}: {evidence['files']:,} files, "
            f"{size_text(evidence['bytes'])}"
        )
        self.stdout.write("  checked   every table's row count and every file's sha256")
        for lost in evidence["missing"]:
            self.stderr.write(
                self.style.WARNING(
                    f"  missing   {lost['name']} ({', '.join(lost['rows'])}): the backup was "
                    "taken without it"
                )
            )
        if result.pending_migrations:
            self.stdout.write(
                self.style.WARNING(
                    f"  this code has {len(result.pending_migrations)} migration(s) the backup "
                    "had not applied: run `manage.py migrate`"
                )
            )
