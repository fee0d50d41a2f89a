from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BreakthroughsConfig(AppConfig):
    """R3 (key breakthrough tasks and their progress reports) and R4 (new models), built on the
    campaign app and plugged into its machinery through `campaigns.registry`."""

    name = "breakthroughs"
    verbose_name = _("Breakthrough tasks and new models")

    def ready(self) -> None:
        from . import rules

        rules.register()
