"""The pages of a background export (campaigns.dashboard.background_exports): the job's page with
its progress bar, the JSON it polls, and the download. Each is for the job's owner only (404 for
anyone else); after a day the page and the download say the file has expired."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_safe

from .background_exports import (
    ExportRequest,
    export_job_of,
    export_job_start,
    is_expired,
    progress,
)
from .exports import XLSX_TYPE

CONTENT_TYPES = {"xlsx": XLSX_TYPE, "csv": "text/csv; charset=utf-8"}


def export_in_background(
    request, *, kind: str, extension: str, campaign, root, as_of, filename: str
) -> HttpResponse:
    """Starts (or finds) the job for this export and sends the person to its page. A HEAD asks
    for headers only and starts nothing."""
    if request.method == "HEAD":
        return HttpResponse(content_type=CONTENT_TYPES[extension])
    query = request.GET.copy()
    query.pop("page", None)
    job = export_job_start(
        owner=request.user,
        asked=ExportRequest(
            kind=kind,
            extension=extension,
            campaign_id=campaign.pk,
            query=query.urlencode(),
            root_id=root.pk if root is not None else None,
            as_of=as_of,
            language=translation.get_language(),
            filename=filename,
        ),
    )
    return redirect("campaigns:export_job", pk=job.pk)


def _expired(request, job) -> HttpResponse:
    return render(request, "campaigns/export_job_expired.html", {"job": job}, status=410)


@require_safe
@login_required
def export_job(request, pk: int):
    """The job's progress, then its download link; refreshed by static/js/export-progress.js,
    or by the page itself every few seconds without JavaScript."""
    job = export_job_of(user=request.user, pk=pk)
    if is_expired(job):
        return _expired(request, job)
    back = reverse(
        "campaigns:units_table" if job.kind == job.Kind.UNITS else "campaigns:review_queue"
    )
    back = f"{back}?{job.query}" if job.query else back
    return render(
        request, "campaigns/export_job.html", {"job": job, "progress": progress(job), "back": back}
    )


@require_safe
@login_required
def export_job_progress(request, pk: int):
    job = export_job_of(user=request.user, pk=pk)
    data = progress(job)
    if data["state"] == job.State.DONE and not data["expired"]:
        data["download_url"] = reverse("campaigns:export_job_download", args=[job.pk])
    return JsonResponse(data)


@require_safe
@login_required
def export_job_download(request, pk: int):
    job = export_job_of(user=request.user, pk=pk)
    if is_expired(job) or (job.state == job.State.DONE and not job.file):
        return _expired(request, job)
    if job.state != job.State.DONE:
        return redirect("campaigns:export_job", pk=job.pk)
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.filename,
        content_type=CONTENT_TYPES[job.format],
    )
