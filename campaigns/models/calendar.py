"""Days off the district office adds to the public-holiday calendar (substitute days off)."""

from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _


class DayOff(models.Model):
    """A day no one works that the `holidays` calendar does not know, e.g. a substitute day off
    decided late in the year. Global, not per campaign: a day off applies to every office.
    `campaigns.periods` reads these (cached) to move deadlines and count working days."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("day off")
        verbose_name_plural = _("days off")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.name}"


@receiver(post_save, sender=DayOff, dispatch_uid="campaigns.day_off_saved")
@receiver(post_delete, sender=DayOff, dispatch_uid="campaigns.day_off_deleted")
def forget_cached_days_off(sender, **kwargs) -> None:
    # At once for this transaction's own reads, and again after commit so that no read made in
    # between keeps the old set; other processes see the change when their cache entry expires.
    from ..periods import forget_days_off

    forget_days_off()
    transaction.on_commit(forget_days_off)
