"""The district office loads thirty cells and their secretaries from the template in Vietnamese,
with a real browser; one of the new secretaries follows the invitation, chooses a password and
signs in to their unit."""

import re

import pytest
from openpyxl import load_workbook

from campaigns.mail.outbox import outgoing_mail_send
from campaigns.models import OutgoingMail
from tests.smtp import mail_via_smtp_fixture, smtp_server_fixture  # noqa: F401
from units.models import Assignment, Unit

from .test_sign_in import PHONE, sign_in


def parent(unit: Unit) -> Unit:
    return Unit.objects.get_parent(unit)


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Chuyen-de-2024!"


def fill_template(path, count: int) -> None:
    """What an office clerk does in Excel: the example row replaced by `count` real ones."""
    workbook = load_workbook(path)
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    column = {name: header.index(name) + 1 for name in header}
    sheet.delete_rows(2)
    for number in range(1, count + 1):
        values = {
            "Mã đơn vị": f"p-kim-lien-cb{number + 10:02d}",
            "Tên đơn vị (tiếng Việt)": f"Chi bộ Tổ dân phố số {number + 10}",
            "Loại": "Chi bộ",
            "Mã đơn vị cấp trên": "p-kim-lien",
            "Số đảng viên": 20 + number,
            "Người 1: họ và tên": f"Nguyễn Thị Số {number}",
            "Người 1: thư điện tử": f"bithu{number:02d}@example.vn",
            "Người 1: điện thoại": f"0912 000 {number:03d}",
            "Người 1: vai trò": "Bí thư",
        }
        for name, value in values.items():
            sheet.cell(row=number + 1, column=column[name], value=value)
    workbook.save(path)


def test_staff_import_thirty_cells_and_a_new_secretary_signs_in(
    live_server, page_factory, district, campaign, staff, artifacts_dir, tmp_path,
    mail_via_smtp, settings,
):  # fmt: skip
    settings.SITE_URL = live_server.url
    page = page_factory()
    sign_in(page, live_server.url, "vi", staff.username)
    page.get_by_role("button", name="Văn phòng").click()  # the district office's menu
    page.get_by_role("link", name="Nhập đơn vị").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Nhập đơn vị từ tệp bảng tính").is_visible()

    with page.expect_download() as download:
        page.get_by_test_id("import-template").click()
    template = tmp_path / download.value.suggested_filename
    download.value.save_as(template)
    assert template.name == "mau-nhap-don-vi.xlsx"
    fill_template(template, 30)

    page.get_by_label("Tệp bảng tính (.xlsx hoặc .csv)").set_input_files(str(template))
    page.get_by_test_id("import-preview-button").click()
    page.wait_for_load_state("networkidle")
    preview = page.get_by_test_id("import-preview")
    assert preview.is_visible()
    assert page.locator('[data-count="created"] .fs-4').inner_text() == "30"
    assert page.locator('[data-count="accounts_created"] .fs-4').inner_text() == "30"
    assert "Chi bộ Tổ dân phố số 40" in preview.inner_text()
    page.screenshot(path=artifacts_dir / "import-preview-vi.png", full_page=True)
    assert not Unit.objects.filter(code="p-kim-lien-cb11").exists()  # the preview wrote nothing

    page.get_by_test_id("import-confirm").click()
    page.wait_for_load_state("networkidle")
    assert "Đã nhập xong: tạo mới 30 đơn vị" in page.locator("body").inner_text()
    page.screenshot(path=artifacts_dir / "import-done-vi.png", full_page=True)
    assert parent(Unit.objects.get(code="p-kim-lien-cb40")) == district.ward
    assert page.console_errors == []

    # The outbox sends the invitations (a worker would; here the test does, over SMTP).
    for mail in OutgoingMail.objects.filter(kind=OutgoingMail.Kind.INVITATION):
        outgoing_mail_send(mail_id=mail.pk)
    (message,) = mail_via_smtp.messages_to("bithu07@example.vn")
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"(http://\S+/vi/accounts/password/\S+/)", text).group(1)

    phone = page_factory(**PHONE)
    phone.goto(link)
    phone.wait_for_load_state("networkidle")
    assert phone.get_by_role("heading", name="Đặt mật khẩu").is_visible()
    phone.get_by_role("textbox", name="Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
    phone.get_by_label("Xác nhận mật khẩu mới").fill(NEW_PASSWORD)
    phone.screenshot(path=artifacts_dir / "import-password-vi-phone.png", full_page=True)
    phone.get_by_role("button", name="Lưu mật khẩu").click()
    phone.wait_for_load_state("networkidle")
    assert "Đã đặt mật khẩu" in phone.locator("body").inner_text()
    phone.get_by_label("Tên đăng nhập").fill("bithu07@example.vn")
    phone.get_by_label("Mật khẩu", exact=True).fill(NEW_PASSWORD)
    phone.get_by_role("button", name="Đăng nhập").click()
    phone.wait_for_load_state("networkidle")
    unit = Assignment.objects.get(user__email="bithu07@example.vn").unit
    assert phone.url == f"{live_server.url}/vi/units/{unit.code}/"
    assert phone.get_by_test_id("unit-name").inner_text() == "Chi bộ Tổ dân phố số 17"
    phone.screenshot(path=artifacts_dir / "import-secretary-unit-vi-phone.png", full_page=True)
    assert phone.console_errors == []
