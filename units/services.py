"""Writes with rules on units and accounts."""

from collections.abc import Iterable
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

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


def user_sessions_end(*, user_ids: Iterable[int]) -> int:
    """Signs these people out of every browser: deletes their sessions. Returns how many.

    A session row names its person only inside its signed data, so every live session is
    read; this runs when an account is deactivated or reactivated, which is rare. Sessions are
    in the database (Django's default SESSION_ENGINE, also under cached_db, whose store's
    delete() clears the cache too)."""
    wanted = {str(pk) for pk in user_ids}
    store = import_module(settings.SESSION_ENGINE).SessionStore
    live = Session.objects.filter(expire_date__gt=timezone.now())
    ended = [
        key
        for key, data in live.values_list("session_key", "session_data").iterator(chunk_size=2000)
        if store().decode(data).get(SESSION_KEY) in wanted
    ]
    for key in ended:
        store(session_key=key).delete()
    return len(ended)
