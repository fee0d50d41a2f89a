"""The district office's import page: download the template, upload the sheet, read the preview,
confirm.

The uploaded bytes are kept (under VAR_DIR/imports, named by a random token held in the
person's session) between the preview and the confirmation, and the confirmation plans the same
bytes again inside the writing transaction: if the units changed in between (someone else
imported or edited one), the plan differs from the one the person read (its fingerprint), and
they get the new preview instead of a write.
"""

import secrets
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from .importing import import_units
from .selectors import user_scope
from .spreadsheet import SheetError, read_sheet, template_bytes

SESSION_KEY = "unit_import"
KEEP_UPLOADS_SECONDS = 24 * 3600
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (.xlsx or .csv)"),
        help_text=gettext_lazy("One row per unit, with the template's headers."),
    )
    deactivate_missing = forms.BooleanField(
        label=gettext_lazy("Deactivate the units that are not in the file"),
        required=False,
        help_text=gettext_lazy(
            "They are kept with their reports and history, and can be listed again later."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.EVIDENCE_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(max)s MB.")
                % {"max": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)}
            )
        return upload


def _staff_only(request) -> None:
    if not user_scope(request.user).is_staff_reviewer:
        raise PermissionDenied


def _uploads_dir() -> Path:
    folder = Path(settings.VAR_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget_old_uploads(folder: Path) -> None:
    cutoff = time.time() - KEEP_UPLOADS_SECONDS
    for path in folder.glob("*.upload"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


@require_safe
@login_required
def import_page(request):
    _staff_only(request)
    return render(request, "units/import_units.html", {"form": ImportForm()})


@require_safe
@login_required
def import_template(request):
    _staff_only(request)
    response = HttpResponse(template_bytes(), content_type=XLSX)
    name = _("unit-import-template") + ".xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def import_preview(request):
    """Reads the uploaded sheet and shows what it would change, writing nothing. A GET (the
    language switcher sends the person to the same address) goes back to the upload form."""
    _staff_only(request)
    if request.method in ("GET", "HEAD"):
        return redirect("unit_import:page")
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "units/import_units.html", {"form": form}, status=400)
    upload = form.cleaned_data["file"]
    data = upload.read()
    deactivate = form.cleaned_data["deactivate_missing"]
    try:
        sheet = read_sheet(data, upload.name)
    except SheetError as exc:
        form.add_error("file", str(exc))
        return render(request, "units/import_units.html", {"form": form}, status=400)
    plan = import_units(sheet, deactivate_missing=deactivate, dry_run=True).plan
    context = {"form": ImportForm(), "plan": plan, "file_name": upload.name}
    if plan.ok and plan.changes:
        folder = _uploads_dir()
        _forget_old_uploads(folder)
        token = secrets.token_urlsafe(16)
        (folder / f"{token}.upload").write_bytes(data)
        request.session[SESSION_KEY] = {
            "token": token,
            "deactivate": deactivate,
            "name": upload.name[:200],
            "fingerprint": plan.fingerprint,
        }
        context["token"] = token
    return render(request, "units/import_units.html", context, status=200 if plan.ok else 400)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def import_confirm(request):
    """Writes what the preview showed, if the same file still plans the same changes (a GET
    goes back to the upload form)."""
    _staff_only(request)
    if request.method in ("GET", "HEAD"):
        return redirect("unit_import:page")
    pending = request.session.get(SESSION_KEY) or {}
    token = request.POST.get("token", "")
    path = _uploads_dir() / f"{pending.get('token', '')}.upload"
    if not token or token != pending.get("token") or not path.is_file():
        messages.error(request, _("That preview is no longer available. Upload the file again."))
        return redirect("unit_import:page")
    sheet = read_sheet(path.read_bytes(), pending["name"])
    result = import_units(
        sheet, deactivate_missing=pending["deactivate"], by=request.user,
        expect=pending["fingerprint"],
    )  # fmt: skip
    if result.stale:
        # Someone changed the units since the preview: show what the file would do now.
        request.session[SESSION_KEY] = {**pending, "fingerprint": result.plan.fingerprint}
        messages.warning(
            request,
            _("The units changed since your preview. Here is what the file would change now."),
        )
        context = {"form": ImportForm(), "plan": result.plan, "file_name": pending["name"]}
        if result.plan.ok and result.plan.changes:
            context["token"] = token
        return render(request, "units/import_units.html", context, status=409)
    path.unlink(missing_ok=True)
    request.session.pop(SESSION_KEY, None)
    plan = result.plan
    if not result.written:
        messages.info(request, _("Nothing to change: the app already matches the file."))
    else:
        messages.success(
            request,
            _(
                "Import done: %(created)s units created, %(changed)s changed, %(accounts)s "
                "accounts created (their invitations are being sent)."
            )
            % {
                "created": len(plan.created),
                "changed": plan.units_changed,
                "accounts": len(plan.accounts_created),
            },
        )
    return redirect("unit_import:page")
