"""Writes with rules on units and accounts."""

from django.db import transaction

from dongda.text import nfc

from .models import User


@transaction.atomic
def user_update_profile(
    *,
    user: User,
    first_name: str,
    last_name: str,
    email: str,
    language: str,
    receives_digests: bool,
    digest_when_all_clear: bool,
) -> User:
    user.first_name = nfc(first_name)
    user.last_name = nfc(last_name)
    user.email = email
    user.language = language
    user.receives_digests = receives_digests
    user.digest_when_all_clear = digest_when_all_clear
    user.full_clean()
    user.save(
        update_fields=[
            "first_name",
            "last_name",
            "email",
            "language",
            "receives_digests",
            "digest_when_all_clear",
        ]
    )
    return user


@transaction.atomic
def user_stop_digests(*, user: User) -> None:
    User.objects.filter(pk=user.pk).update(receives_digests=False)
    user.receives_digests = False
