"""Signed tokens that identify a person without a sign-in: the one-click unsubscribe link at the
foot of every digest (RFC 8058). The token names the person only; it grants nothing but
stopping their own digests."""

from django.core import signing

UNSUBSCRIBE_SALT = "dongda.digest-unsubscribe"


def unsubscribe_token(user_id: int) -> str:
    return signing.dumps(user_id, salt=UNSUBSCRIBE_SALT)


def user_for_unsubscribe_token(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=UNSUBSCRIBE_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None
