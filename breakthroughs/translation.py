import simple_history
from modeltranslation.translator import TranslationOptions, register

from .models import BreakthroughTask, Initiative, ProgressReport


@register(BreakthroughTask)
class BreakthroughTaskTranslation(TranslationOptions):
    fields = ("title", "description", "goal", "indicator")
    required_languages = {"vi": ("title",)}


@register(ProgressReport)
class ProgressReportTranslation(TranslationOptions):
    fields = ("narrative",)
    required_languages = {"vi": ("narrative",)}


@register(Initiative)
class InitiativeTranslation(TranslationOptions):
    fields = ("name", "description", "results")
    required_languages = {"vi": ("name",)}


# See campaigns/translation.py: history after translation, so the _vi/_en columns are kept.
for _model in (BreakthroughTask, ProgressReport, Initiative):
    simple_history.register(_model, excluded_fields=["updated_at"])
