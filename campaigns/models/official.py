"""Official reports: the "Báo cáo kết quả" a committee sends up, drafted, then issued and frozen."""

from django.conf import settings
from django.db import models
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from units.models import Unit

from .campaign import Campaign


class OfficialReport(models.Model):
    """A committee's report on the campaign as of a day.

    A draft holds only what people chose (the day, number, recipients, signer, the paragraphs
    they rewrote); its figures and default sentences are worked out afresh each time it is shown.
    Issuing freezes it: the whole document (figures, sentences, appendix) is kept as JSON in
    `snapshot` and drawn once into `docx` and `pdf`, so every later download is the same bytes
    whatever reports arrive afterwards. An issued report is never edited; a new one may replace
    it (`supersedes`), and the old one is then marked superseded."""

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("official report", "Draft")
        ISSUED = "issued", _("Issued")
        SUPERSEDED = "superseded", _("Superseded")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="official_reports"
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="official_reports",
        verbose_name=_("committee"),
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=[("vi", "Tiếng Việt"), ("en", "English")],
        default="vi",
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default="draft")
    as_of = models.DateField(_("figures as of"))
    dated = models.DateField(_("date of the report"))
    #: The number before the suffix ("15" of "Số 15-BC/QU"); blank leaves room to write it.
    number = models.CharField(_("number"), max_length=20, blank=True)
    superior_body = models.CharField(_("superior party organisation"), max_length=120)
    issuing_body = models.CharField(_("issuing body"), max_length=120)
    #: The number's suffix ("BC/QU" for the district committee, "BC/ĐU" for a ward's).
    number_suffix = models.CharField(_("number suffix"), max_length=20)
    place = models.CharField(_("place"), max_length=60)
    title = models.TextField(_("title"), max_length=400)
    recipients = models.TextField(_("recipients"), max_length=2000, blank=True)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signer"),
    )
    on_behalf = models.CharField(_("on behalf of"), max_length=80, blank=True)
    signer_title = models.CharField(_("signer's title"), max_length=80, blank=True)
    #: Paragraphs people rewrote, by paragraph key; the others follow the figures.
    edits = models.JSONField(default=dict, blank=True)
    supersedes = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replacements",
        verbose_name=_("replaces"),
    )
    snapshot = models.JSONField(null=True, blank=True, editable=False)
    docx = models.BinaryField(null=True, blank=True, editable=False)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    #: Raised by every save of a draft: a form posted with an older one is a conflict.
    version = models.PositiveIntegerField(default=1, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("official report")
        verbose_name_plural = _("official reports")
        ordering = ["-as_of", "-pk"]
        constraints = [
            # Two issued reports of one committee never share a number in a year (drafts may,
            # and a blank number is left to be written by hand).
            # Numbers restart each year, as a committee's register of documents does.
            models.UniqueConstraint(
                models.F("unit"),
                ExtractYear("dated"),
                models.F("number"),
                condition=~models.Q(state="draft") & ~models.Q(number=""),
                name="officialreport_number_once_a_year",
            ),
        ]
        indexes = [models.Index(fields=["unit", "state", "as_of"], name="officialreport_unit_idx")]

    def __str__(self) -> str:
        return f"{self.unit_id} · {self.as_of} · {self.state}"

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT

    @property
    def full_number(self) -> str:
        return f"{self.number}-{self.number_suffix}" if self.number else f"-{self.number_suffix}"
