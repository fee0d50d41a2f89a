"""Writes with rules on units and accounts."""

from django.db import transaction

from .models import User


@transaction.atomic
def user_set_language(*, user: User, language: str) -> None:
    if language not in ("vi", "en"):
        raise ValueError(f"unsupported language {language!r}")
    if user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
