import simple_history
from modeltranslation.translator import TranslationOptions, register

from .models import Unit


@register(Unit)
class UnitTranslation(TranslationOptions):
    fields = ("name",)
    required_languages = ("vi",)


# The unit's history (who corrected its member count, renamed or closed it, and when): registered
# here, after the translation fields exist, so that the history keeps the _vi and _en names too.
simple_history.register(Unit, excluded_fields=["search_name", "numchild"])
