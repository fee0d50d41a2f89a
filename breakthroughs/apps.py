from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BreakthroughsConfig(AppConfig):
    name = "breakthroughs"
    verbose_name = _("Breakthrough tasks and new models")
