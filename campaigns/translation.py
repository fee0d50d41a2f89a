import simple_history
from modeltranslation.translator import TranslationOptions, register

from .models import Campaign, DayOff, ImplementationPlan, Incident, PropagandaActivity, StudySession


@register(Campaign)
class CampaignTranslation(TranslationOptions):
    fields = ("title", "short_title", "linked_programme")
    required_languages = ("vi",)


@register(DayOff)
class DayOffTranslation(TranslationOptions):
    fields = ("name",)
    required_languages = ("vi",)


@register(Incident)
class IncidentTranslation(TranslationOptions):
    fields = ("title", "description", "resolution")
    required_languages = {"vi": ("title",)}


@register(StudySession)
class StudySessionTranslation(TranslationOptions):
    fields = ("notes",)


@register(ImplementationPlan)
class ImplementationPlanTranslation(TranslationOptions):
    fields = ("summary",)


@register(PropagandaActivity)
class PropagandaActivityTranslation(TranslationOptions):
    fields = ("note",)


# History is registered here, after the translation fields exist, so that the historical tables
# keep the _vi and _en columns too (a HistoricalRecords attribute on the model would be built
# before modeltranslation adds them).
for _model in (StudySession, ImplementationPlan, Incident, PropagandaActivity):
    simple_history.register(_model, excluded_fields=["updated_at"])
