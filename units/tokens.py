"""Signed tokens that identify a person without a sign-in: the one-click unsubscribe link at the
foot of every digest (RFC 8058). The token names the person only; it grants nothing but
stopping their own digests, and only for UNSUBSCRIBE_MAX_AGE after the digest was written, so a
link found in an old mailbox or a forwarded message stops working."""

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing

UNSUBSCRIBE_SALT = "dongda.digest-unsubscribe"
# Every weekly digest carries a fresh link, so a person who wants to stop them has one a week
# old at most; two months covers a long leave without keeping links alive for years.
UNSUBSCRIBE_MAX_AGE = timedelta(days=60)


@dataclass(frozen=True)
class UnsubscribeToken:
    """Whose link it is, and whether it is too old to act on. An expired link still names its
    person (its signature is good), so the page can answer in their language."""

    user_id: int
    expired: bool


def unsubscribe_token(user_id: int) -> str:
    # signing.dumps stamps the time it signs, which loads(max_age=…) checks.
    return signing.dumps(user_id, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> UnsubscribeToken | None:
    """None for a link this site did not sign (or signed for something else)."""
    try:
        return UnsubscribeToken(
            int(signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)), False
        )
    except signing.SignatureExpired:
        pass
    except (signing.BadSignature, TypeError, ValueError):
        return None
    try:
        return UnsubscribeToken(int(signing.loads(token, salt=UNSUBSCRIBE_SALT)), True)
    except (signing.BadSignature, TypeError, ValueError):
        return None
