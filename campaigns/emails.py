"""Renders an outbox row into an e-mail in the recipient's language (a task has no request and
no active language, so everything happens inside translation.override)."""

from datetime import date

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .digests import DigestContent, IsoWeek, digest_content
from .models import OutgoingMail

UNSUBSCRIBE_SALT = "dongda.digest-unsubscribe"
MESSAGE_ID_DOMAIN = "chuyende.dongda"


def unsubscribe_token(user_id: int) -> str:
    return signing.dumps(user_id, salt=UNSUBSCRIBE_SALT)


def user_for_unsubscribe_token(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=UNSUBSCRIBE_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def deadline_label(attribute: str) -> str:
    """The name of a campaign deadline in the active language."""
    return {
        "study_deadline": _("Study and dissemination sessions"),
        "plan_deadline": _("Implementation plan"),
        "breakthrough_deadline": _("Key breakthrough task"),
    }[attribute]


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _render(template_base: str, context: dict) -> tuple[str, str, str]:
    subject = render_to_string(f"{template_base}_subject.txt", context)
    # A header must be one line, whatever a translation or a unit name holds.
    subject = " ".join(subject.split())
    text = render_to_string(f"{template_base}.txt", context)
    html = render_to_string(f"{template_base}.html", context)
    return subject, text, html


def digest_context(content: DigestContent, *, language: str) -> dict:
    with translation.override(language):
        dashboard = absolute(reverse("campaigns:dashboard"))
        for group in content.groups:
            for flag in group.flags:
                flag.url = absolute(reverse("units:detail", args=[flag.unit.code]))
        own = absolute(reverse("units:detail", args=[content.unit.code])) if content.unit else None
    return {"content": content, "dashboard_url": dashboard, "unit_url": own}


def render_digest(
    *, campaign, week: IsoWeek, unit, language: str
) -> tuple[DigestContent, str, str, str]:
    """The digest as subject, text and HTML in `language`; also used by the staff preview."""
    with translation.override(language):
        content = digest_content(campaign=campaign, week=week, unit=unit)
        context = digest_context(content, language=language) | {"LANGUAGE_CODE": language}
        subject, text, html = _render("campaigns/email/digest", context)
    return content, subject, text, html


def build_message(mail: OutgoingMail) -> EmailMultiAlternatives | None:
    """None when there is nothing to send (an all-clear the recipient chose not to receive)."""
    user = mail.recipient
    language = user.language if user.language in ("vi", "en") else settings.LANGUAGE_CODE
    headers = {
        # Stable per row: a copy sent after a crash carries the same Message-ID.
        "Message-ID": f"<{mail.dedupe_key.replace(':', '.')}@{MESSAGE_ID_DOMAIN}>",
        "Auto-Submitted": "auto-generated",
    }
    if mail.kind == OutgoingMail.Kind.REMINDER:
        with translation.override(language):
            context = {
                "mail": mail,
                "unit": mail.unit,
                "campaign": mail.campaign,
                "deadline_label": deadline_label(mail.params["deadline"]),
                "due_on": date.fromisoformat(mail.params["due_on"]),
                "unit_url": absolute(reverse("units:detail", args=[mail.unit.code])),
                "LANGUAGE_CODE": language,
            }
            subject, text, html = _render("campaigns/email/reminder", context)
    else:
        content, subject, text, html = render_digest(
            campaign=mail.campaign,
            week=IsoWeek.parse(mail.params["week"]),
            unit=mail.unit,
            language=language,
        )
        if content.all_clear and not user.digest_when_all_clear:
            return None
        with translation.override(language):
            url = absolute(reverse("unsubscribe", args=[unsubscribe_token(user.pk)]))
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email], headers=headers)
    message.attach_alternative(html, "text/html")
    return message
