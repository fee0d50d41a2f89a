"""District staff export the unit table above EXPORT_BACKGROUND_ROWS in a real browser: the export
button opens the job's page, which waits; once the task has written the file (run here by the
test, as the worker would run it: the browser tests have no Celery worker), the page's script sees
it through the progress JSON and shows the download link; the file downloads under the direct
export's name and opens in openpyxl with the table's rows."""

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from campaigns.dashboard import background_exports
from campaigns.engine.status import refresh_unit_status
from campaigns.models import ExportJob, UnitStatus

from .test_sign_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_large_export_is_written_in_the_background_and_downloaded(
    lang, live_server, page_factory, district, campaign, request, settings, monkeypatch
):
    settings.EXPORT_BACKGROUND_ROWS = 2
    queued: list[int] = []
    # The job is queued for the test to run, not published to a broker no worker reads.
    monkeypatch.setattr(background_exports, "_enqueue", queued.extend)
    refresh_unit_status(campaign)
    staff = request.getfixturevalue("staff" if lang == "vi" else "staff_en")

    page = page_factory()
    sign_in(page, live_server.url, lang, staff.username)
    page.goto(f"{live_server.url}/{lang}/dashboard/units/")
    page.get_by_test_id("export-xlsx").click()
    page.wait_for_url(f"{live_server.url}/{lang}/dashboard/exports/*/")
    page.console_errors.clear()  # from here on, the job's page and its script only
    job = ExportJob.objects.get()
    assert queued == [job.pk]
    box = page.get_by_test_id("export-job")
    expect(box).to_have_attribute("data-state", "queued")

    assert background_exports.export_job_run(job_id=job.pk) == ExportJob.State.DONE
    # The page's script polls the job and reloads it once the file is ready.
    expect(page.get_by_test_id("export-job")).to_have_attribute(
        "data-state", "done", timeout=15_000
    )
    with page.expect_download() as download_info:
        page.get_by_test_id("export-download").click()
    download = download_info.value
    job.refresh_from_db()
    assert download.suggested_filename == job.filename
    assert job.filename.startswith("don-vi-" if lang == "vi" else "units-")
    sheet = load_workbook(io.BytesIO(open(download.path(), "rb").read())).active  # noqa: SIM115
    codes = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert codes == set(UnitStatus.objects.values_list("unit__code", flat=True))
    assert sheet.freeze_panes == "A2"
    assert not page.console_errors
