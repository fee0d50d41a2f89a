from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from campaigns.mail.digests import IsoWeek, digests_queue_week
from campaigns.mail.messages import build_message
from campaigns.mail.outbox import TemporaryMailError, outgoing_mail_send
from campaigns.models import OutgoingMail


class Command(BaseCommand):
    help = (
        "Send (or with --dry-run, print) the digests for a week once, synchronously: the state at "
        "the end of that week and what changed during it. A digest already sent for that week "
        "and recipient is never sent again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--week",
            help="ISO week like 2024-W15 (default: the week that ended last Sunday, in Hanoi)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print every digest; write and send nothing"
        )

    def handle(self, *args, week=None, dry_run=False, **options):
        try:
            iso_week = IsoWeek.parse(week) if week else IsoWeek.last_complete()
        except ValueError as exc:
            raise CommandError(f"--week: {exc}") from None
        if dry_run:
            self._print(iso_week)
            return
        with transaction.atomic():
            pending = digests_queue_week(week=iso_week)
        outcome: dict[str, int] = {}
        for pk in pending:
            try:
                state = outgoing_mail_send(mail_id=pk) or "taken by another sender"
            except TemporaryMailError:
                state = "queued for a retry"
            outcome[state] = outcome.get(state, 0) + 1
        summary = (
            ", ".join(f"{n} {state}" for state, n in sorted(outcome.items())) or "nothing to send"
        )
        self.stdout.write(f"digests for {iso_week}: {summary}")

    def _print(self, iso_week: IsoWeek) -> None:
        # Build the rows the week would have inside a transaction that is rolled back, so the dry
        # run shows exactly what would go out and leaves no trace.
        with transaction.atomic():
            pending = digests_queue_week(week=iso_week)
            mails = OutgoingMail.objects.filter(pk__in=pending).select_related(
                "recipient", "campaign", "unit"
            )
            for mail in mails.order_by("kind", "recipient__username"):
                message = build_message(mail)
                who = mail.recipient
                self.stdout.write(f"--- {who.username} <{who.email}> [{who.language}]")
                if message is None:
                    self.stdout.write("(all clear, and the recipient chose not to receive that)\n")
                    continue
                self.stdout.write(f"Subject: {message.subject}\n\n{message.body}")
            transaction.set_rollback(True)
        self.stdout.write(f"{len(pending)} digests for {iso_week} (dry run: nothing sent)")
