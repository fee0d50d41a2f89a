from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        # signals: connects its receivers. tasks: registers the Celery tasks in every process
        # (the web server too), so the outbox can name its send task instead of importing it.
        from . import rules, signals, tasks  # noqa: F401

        # R1, R2 and R5; other apps register theirs in their own ready().
        rules.register()
