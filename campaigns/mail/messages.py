"""Renders an outbox row into an e-mail in the recipient's language (a task has no request and
no active language, so everything happens inside translation.override)."""

import email.policy
from datetime import date

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from units.models import Assignment
from units.tokens import unsubscribe_token

from ..models import OutgoingMail
from ..periods import Deadline
from ..registry import kind_for_model
from .digests import DigestContent, IsoWeek, digest_content

MESSAGE_ID_DOMAIN = "chuyende.dongda"


class TrackerEmail(EmailMultiAlternatives):
    """Headers are written unfolded up to RFC 5322's hard limit of 998 characters.

    Folding at 78 (email.policy.SMTP's default) goes wrong twice for us: Python drops the space
    between two encoded words when it splits a long Vietnamese subject ("W28, 3" arrives as
    "W28,3"), and it RFC 2047-encodes a long List-Unsubscribe URL, which mail clients then cannot
    follow. One long encoded word decodes everywhere; both headers stay intact."""

    def message(self, *, policy=email.policy.default):
        # The parts are encoded under the usual policy (so bodies stay 7-bit quoted-printable);
        # only serialising the headers uses the longer line.
        msg = super().message(policy=policy)
        msg.policy = policy.clone(max_line_length=998)
        return msg


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

        def page_of(unit) -> str:
            return absolute(reverse("units:detail", args=[unit.code]))

        for group in content.groups:
            for flag in group.flags:
                flag.url = page_of(flag.unit)
        for flag in content.escalated.flags if content.escalated else ():
            flag.url = page_of(flag.unit)
        for entry in content.units_to_call:
            entry.url = page_of(entry.unit)
        return {
            "content": content,
            "dashboard_url": absolute(reverse("campaigns:dashboard")),
            "review_url": absolute(reverse("campaigns:review_queue")),
            "unit_url": page_of(content.unit) if content.unit else None,
        }


def render_digest(
    *, campaign, week: IsoWeek, unit, language: str
) -> tuple[DigestContent, str, str, str]:
    """The digest as subject, text and HTML in `language`; also used by the staff preview."""
    with translation.override(language):
        content = digest_content(campaign=campaign, week=week, unit=unit)
        context = digest_context(content, language=language) | {"LANGUAGE_CODE": language}
        subject, text, html = _render("campaigns/email/digest", context)
    return content, subject, text, html


DISTRICT_DIGEST_CACHE_SECONDS = 600


def render_district_digest_cached(
    *, campaign, week: IsoWeek, language: str
) -> tuple[bool, str, str, str]:
    """The district digest is the same for every district recipient of a language: render it
    once per batch (the cache is Redis in production, so all workers share it). Returns
    (all_clear, subject, text, html)."""
    key = f"digest:district:{campaign.pk}:{week}:{language}"
    cached = cache.get(key)
    if cached is None:
        content, subject, text, html = render_digest(
            campaign=campaign, week=week, unit=None, language=language
        )
        cached = (content.all_clear, subject, text, html)
        cache.set(key, cached, DISTRICT_DIGEST_CACHE_SECONDS)
    return tuple(cached)


DIGEST_KINDS = (OutgoingMail.Kind.DISTRICT_DIGEST, OutgoingMail.Kind.UNIT_DIGEST)


def _render_returned(mail: OutgoingMail, language: str) -> tuple[str, str, str] | None:
    """The notice that the district returned a report: what, the reviewer's comment, a link.
    None when the report is gone or has moved on (resubmitted, accepted) since it was queued."""
    kind = kind_for_model(mail.params.get("model", ""))
    if kind is None:
        return None
    item = kind.model.objects.filter(pk=mail.params.get("pk")).select_related("unit").first()
    if item is None or item.version != mail.params.get("version"):
        return None
    # Under two-level review the unit's committee may be the one that returned it: the newest
    # history row's reason says which level decided.
    newest_first = item.history.order_by("-history_id")
    reason = newest_first.values_list("history_change_reason", flat=True).first()
    with translation.override(language):
        context = {
            "by_committee": reason == "committee_returned",
            "item": item,
            "kind_label": str(kind.label),
            "unit": item.unit,
            "campaign": mail.campaign,
            "comment": item.review_comment,
            "item_url": absolute(
                reverse(
                    "reports:detail",
                    kwargs={"code": item.unit.code, "kind": kind.slug, "pk": item.pk},
                )
            ),
            "LANGUAGE_CODE": language,
        }
        return _render("campaigns/email/returned", context)


def _render_invitation(mail: OutgoingMail, language: str) -> tuple[str, str, str] | None:
    """A new account's e-mail: who added them, for which unit and role, their sign-in name and
    a one-time link to choose a password. None once they have a password (the link would not
    work: the token is bound to the password, which is also what makes it single-use)."""
    user = mail.recipient
    if user.has_usable_password():
        return None
    assignments = list(
        Assignment.objects.filter(user=user).select_related("unit").order_by("unit__path")
    )
    with translation.override(language):
        link = reverse(
            "password_set",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        context = {
            "person": user,
            "roles": [(a.get_role_display(), a.unit.name) for a in assignments],
            "username": user.get_username(),
            "set_url": absolute(link),
            "login_url": absolute(reverse("login")),
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
            "LANGUAGE_CODE": language,
        }
        return _render("campaigns/email/invitation", context)


def build_message(mail: OutgoingMail) -> EmailMultiAlternatives | None:
    """None when there is nothing to send (an all-clear the recipient chose not to receive)."""
    user = mail.recipient
    # The person may have left, lost their address or unsubscribed since the row was queued.
    if not user.is_active or not user.email:
        return None
    if mail.kind in DIGEST_KINDS and not user.receives_digests:
        return None
    language = user.language if user.language in ("vi", "en") else settings.LANGUAGE_CODE
    headers = {
        # Stable per row: a copy sent after a crash carries the same Message-ID.
        "Message-ID": f"<{mail.dedupe_key.replace(':', '.')}@{MESSAGE_ID_DOMAIN}>",
        "Auto-Submitted": "auto-generated",
    }
    if mail.kind == OutgoingMail.Kind.RETURNED:
        rendered = _render_returned(mail, language)
        if rendered is None:
            return None
        subject, text, html = rendered
    elif mail.kind == OutgoingMail.Kind.INVITATION:
        rendered = _render_invitation(mail, language)
        if rendered is None:
            return None
        subject, text, html = rendered
    elif mail.kind == OutgoingMail.Kind.EXPORT_READY:
        # Imported here: export_ready queues through the outbox, which imports this module.
        from .export_ready import export_ready_render

        rendered = export_ready_render(mail, language)
        if rendered is None:
            return None
        subject, text, html = rendered
    elif mail.kind == OutgoingMail.Kind.REMINDER:
        with translation.override(language):
            context = {
                "mail": mail,
                "unit": mail.unit,
                "campaign": mail.campaign,
                "deadline_label": deadline_label(mail.params["deadline"]),
                "due_on": date.fromisoformat(mail.params["due_on"]),
                # Rows queued before deadlines moved off days off have no "set_on".
                "deadline": Deadline(
                    due_on=date.fromisoformat(mail.params["due_on"]),
                    set_on=date.fromisoformat(mail.params.get("set_on", mail.params["due_on"])),
                ),
                "unit_url": absolute(reverse("units:detail", args=[mail.unit.code])),
                "LANGUAGE_CODE": language,
            }
            subject, text, html = _render("campaigns/email/reminder", context)
    else:
        week = IsoWeek.parse(mail.params["week"])
        if mail.unit is None:
            all_clear, subject, text, html = render_district_digest_cached(
                campaign=mail.campaign, week=week, language=language
            )
        else:
            content, subject, text, html = render_digest(
                campaign=mail.campaign, week=week, unit=mail.unit, language=language
            )
            all_clear = content.all_clear
        if all_clear and not user.digest_when_all_clear:
            return None
        with translation.override(language):
            url = absolute(reverse("unsubscribe", args=[unsubscribe_token(user.pk)]))
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = TrackerEmail(subject=subject, body=text, to=[user.email], headers=headers)
    message.attach_alternative(html, "text/html")
    return message
