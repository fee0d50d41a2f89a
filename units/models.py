from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node

from dongda.text import fold, nfc


class UnitKind(models.TextChoices):
    DISTRICT = "district", _("District Party Committee")
    WARD_COMMITTEE = "ward_committee", _("Ward party committee")
    GRASSROOTS_COMMITTEE = "grassroots_committee", _("Grassroots party committee")
    PARTY_CELL = "party_cell", _("Party cell")
    FATHERLAND_FRONT = "fatherland_front", _("Fatherland Front committee")
    SOCIO_POLITICAL = "socio_political", _("Socio-political organisation")


class UnitSector(models.TextChoices):
    """Where a grassroots committee or cell sits; the dashboard breaks figures down by it."""

    RESIDENTIAL = "residential", _("Residential area")
    AGENCY = "agency", _("District agency")
    SCHOOL = "school", _("School")
    ENTERPRISE = "enterprise", _("Enterprise")
    POLICE = "police", _("Police")
    MILITARY = "military", _("Military")
    MASS = "mass", _("Front and mass organisations")


code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]*$", _("Use lower-case letters, digits and hyphens only.")
)


class Unit(MP_Node):
    """A node of the district organisation: Quận ủy at the root, committees and cells below.

    Materialized paths let a subtree be read with one `path LIKE 'prefix%'` query, so scope checks
    and roll-ups stay a single statement however deep the tree is.
    """

    code = models.SlugField(_("code"), max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=255)
    # Accent-free, lower-case copy of the Vietnamese name: "dong da" finds "Đống Đa".
    search_name = models.CharField(max_length=255, editable=False, db_index=True)
    kind = models.CharField(_("kind"), max_length=32, choices=UnitKind.choices)
    sector = models.CharField(
        _("sector"), max_length=32, choices=UnitSector.choices, default=UnitSector.RESIDENTIAL
    )
    member_count = models.PositiveIntegerField(_("party members"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    node_order_by = None

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(member_count__gte=0), name="unit_members_not_negative"
            ),
        ]
        indexes = [
            # Subtree reads are `path LIKE 'prefix%'`; on PostgreSQL only a pattern-ops index
            # serves a prefix LIKE (the unique index on path follows the database's collation).
            # Other databases ignore the opclass.
            models.Index(
                fields=["path"], name="unit_path_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # Normalisation only (no rule): every path that writes a name gets NFC and the folded copy.
        self.name_vi = nfc(self.name_vi)
        self.name_en = nfc(self.name_en)
        self.search_name = fold(self.name_vi or self.name or "")
        super().save(*args, **kwargs)


class User(AbstractUser):
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=[("vi", "Tiếng Việt"), ("en", "English")],
        default="vi",
        help_text=_("Pages open in this language and e-mails are written in it."),
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    receives_digests = models.BooleanField(
        _("weekly digest"),
        default=True,
        help_text=_("Receive the weekly digest of open flags and coming deadlines."),
    )
    digest_when_all_clear = models.BooleanField(
        _("digest when nothing is open"),
        default=True,
        help_text=_(
            "Send a short all-clear when nothing is open; otherwise send nothing that week."
        ),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def get_full_name(self) -> str:
        # Vietnamese order, family name first: "Nguyễn Thị Thu" + "Hà".
        return f"{self.last_name} {self.first_name}".strip()

    def save(self, **kwargs):
        # A deactivated person's sessions must end, or they would work again the day the
        # account is reactivated (Django only refuses them while it is inactive). Here rather
        # than in a service because the administration's change form, where the office
        # deactivates people, saves the model itself. Reactivating ends them too: none can be
        # legitimate (an inactive person cannot sign in), and it catches a deactivation made by
        # a bulk update, which no save() sees.
        update_fields = kwargs.get("update_fields")
        was_active = None
        if not self._state.adding and (update_fields is None or "is_active" in update_fields):
            was_active = User.objects.filter(pk=self.pk).values_list("is_active", flat=True).first()
        super().save(**kwargs)
        if was_active is not None and was_active != self.is_active:
            from .services import user_sessions_end  # services imports this module

            user_sessions_end(user_ids=[self.pk])


class Role(models.TextChoices):
    DISTRICT_STAFF = "district_staff", _("District office staff")
    STANDING_COMMITTEE = "standing_committee", _("Standing Committee member")
    SECRETARY = "secretary", _("Secretary")
    CLERK = "clerk", _("Clerk")


DISTRICT_ROLES = (Role.DISTRICT_STAFF, Role.STANDING_COMMITTEE)
UNIT_ROLES = (Role.SECRETARY, Role.CLERK)


class Assignment(models.Model):
    """Gives a user a role on a unit; the role reaches that unit's whole subtree."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("user")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("unit")
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit"], name="assignment_one_role_per_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit}"

    def clean(self) -> None:
        # The district roles see and act for the whole district, so they sit on its root. The
        # database holds the same rule with triggers (migration 0004), which also refuse moving
        # such a unit off the root.
        super().clean()
        if self.role in DISTRICT_ROLES and self.unit_id is not None and self.unit.depth != 1:
            raise ValidationError(
                {
                    "unit": _(
                        "A district office or Standing Committee role can only be held on the "
                        "district itself (the root unit)."
                    )
                }
            )


# Party units report on R1-R3 and R5; the Front and the mass organisations report new models (R4).
REPORTING_KINDS = (UnitKind.WARD_COMMITTEE, UnitKind.GRASSROOTS_COMMITTEE, UnitKind.PARTY_CELL)
