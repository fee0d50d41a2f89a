from modeltranslation.translator import TranslationOptions, register

from .models import Campaign, ImplementationPlan, Incident, StudySession


@register(Campaign)
class CampaignTranslation(TranslationOptions):
    fields = ("title", "short_title", "linked_programme")
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
