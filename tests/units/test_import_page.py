"""The district office's import page: template, preview, confirm, a preview gone stale, who may use
it; and the invitation a new secretary gets, delivered over SMTP, followed to a password and a
sign-in."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from campaigns.mail.outbox import outgoing_mail_send
from campaigns.models import OutgoingMail
from tests.factories import UserFactory
from tests.smtp import mail_via_smtp_fixture, smtp_server_fixture  # noqa: F401
from units.models import Assignment, Unit

from .import_helpers import unit_row, world_state, xlsx

pytestmark = pytest.mark.django_db

SECRETARY = ("Trần Văn Nam", "nam.tran@example.vn", "0912 345 678", "Bí thư")


def upload(data: bytes, name: str = "don-vi.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def preview(client, data: bytes, lang: str = "vi", **extra):
    url = reverse("unit_import:preview").replace("/vi/", f"/{lang}/", 1)
    return client.post(url, {"file": upload(data), **extra})


def token_of(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def test_staff_download_the_template_in_the_pages_language(client, staff, staff_en):
    client.force_login(staff)
    response = client.get(reverse("unit_import:template"))
    assert response.status_code == 200
    assert 'filename="mau-nhap-don-vi.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "Mã đơn vị"
    client.force_login(staff_en)
    response = client.get(reverse("unit_import:template").replace("/vi/", "/en/"))
    assert load_workbook(io.BytesIO(response.content)).active["A1"].value == "Unit code"


def test_preview_then_confirm_writes_what_the_preview_showed(client, staff, campaign, district):
    client.force_login(staff)
    before = world_state()
    data = xlsx([unit_row("p-kim-lien-cb02", "Chi bộ Tổ dân phố số 2", person=SECRETARY),
                 unit_row("p-kim-lien-cb01", "Chi bộ Tổ dân phố số 1", members=44)])  # fmt: skip
    response = preview(client, data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Xem trước “don-vi.xlsx”" in body and "Chưa có gì được ghi" in body
    assert 'data-count="created">\n              <div class="fs-4 fw-semibold">1<' in body
    assert "Chi bộ Tổ dân phố số 2" in body and "40 → 44" in body
    assert world_state() == before  # a preview writes nothing

    token = token_of(response)
    response = client.post(reverse("unit_import:confirm"), {"token": token})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Đã nhập xong: tạo mới 1 đơn vị, cập nhật 1 đơn vị, tạo 1 tài khoản" in page
    assert Unit.objects.get(code="p-kim-lien-cb01").member_count == 44
    assert Assignment.objects.filter(user__email="nam.tran@example.vn").count() == 1
    # The stored upload is gone, so the same confirmation cannot be replayed.
    again = client.post(reverse("unit_import:confirm"), {"token": token}, follow=True)
    assert "Bản xem trước này không còn nữa" in again.content.decode()
    assert Unit.objects.filter(code="p-kim-lien-cb02").count() == 1


def test_a_preview_gone_stale_is_shown_again_and_writes_nothing(client, staff, district):
    client.force_login(staff)
    response = preview(client, xlsx([unit_row("p-kim-lien-cb01", "Chi bộ số 1", members=44)]))
    # Someone corrects the count in the admin before the confirmation.
    Unit.objects.filter(code="p-kim-lien-cb01").update(member_count=50)
    before = world_state()
    stale = client.post(reverse("unit_import:confirm"), {"token": token_of(response)})
    assert stale.status_code == 409
    assert "50 → 44" in stale.content.decode()
    assert world_state() == before
    done = client.post(reverse("unit_import:confirm"), {"token": token_of(stale)})
    assert done.status_code == 302 and Unit.objects.get(code="p-kim-lien-cb01").member_count == 44


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_file_with_errors_lists_them_in_the_pages_language_and_offers_no_confirm(
    client, staff, district, lang
):
    client.force_login(staff)
    before = world_state()
    data = xlsx([unit_row("p-kim-lien-cb02", "Chi bộ 2"), unit_row("p-x", "X", parent="khong")])
    response = preview(client, data, lang)
    body = response.content.decode()
    assert response.status_code == 400 and 'name="token"' not in body
    expected = {
        "vi": "Dòng 3, cột “Mã đơn vị cấp trên”: không có đơn vị nào mang mã “khong”",
        "en": "Row 3, column “Parent unit code”: no unit has the code “khong”",
    }[lang]
    assert expected in body.replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert world_state() == before


def test_a_file_that_is_not_a_spreadsheet_is_a_form_error(client, staff, district):
    client.force_login(staff)
    response = preview(client, b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert response.status_code == 400
    assert "Tệp không phải là tệp Excel, cũng không phải là tệp CSV." in response.content.decode()


@pytest.mark.parametrize("who", ["standing", "ward_secretary", "cell_secretary"])
def test_only_the_district_office_may_import(client, request, district, who):
    person = request.getfixturevalue(who)
    client.force_login(person)
    before = world_state()
    assert client.get(reverse("unit_import:page")).status_code == 403
    assert client.get(reverse("unit_import:template")).status_code == 403
    data = xlsx([unit_row("p-kim-lien-cb02", "Chi bộ 2")])
    assert preview(client, data).status_code == 403
    assert client.post(reverse("unit_import:confirm"), {"token": "x"}).status_code == 403
    assert world_state() == before


def test_anothers_preview_token_is_not_yours(client, staff, staff_en, district):
    client.force_login(staff)
    token = token_of(preview(client, xlsx([unit_row("p-kim-lien-cb02", "Chi bộ 2")])))
    client.force_login(staff_en)
    response = client.post(reverse("unit_import:confirm"), {"token": token})
    assert response.status_code == 302
    assert not Unit.objects.filter(code="p-kim-lien-cb02").exists()


def test_the_invitation_reaches_the_new_secretary_who_sets_a_password_and_signs_in(
    client, staff, district, mail_via_smtp
):
    client.force_login(staff)
    response = preview(client, xlsx([unit_row("p-kim-lien-cb02", "Chi bộ Tổ dân phố số 2",
                                              person=SECRETARY)]))  # fmt: skip
    client.post(reverse("unit_import:confirm"), {"token": token_of(response)})
    client.logout()
    invitation = OutgoingMail.objects.get(kind=OutgoingMail.Kind.INVITATION)
    assert invitation.campaign is None
    assert outgoing_mail_send(mail_id=invitation.pk) == OutgoingMail.State.SENT
    (message,) = mail_via_smtp.messages_to("nam.tran@example.vn")
    assert message["Subject"] == "Tài khoản theo dõi việc thực hiện chuyên đề của đồng chí"
    text = message.get_body(("plain",)).get_content()
    assert "Kính gửi đồng chí Trần Văn Nam," in text
    assert "Bí thư, Chi bộ Tổ dân phố số 2" in text
    assert "Tên đăng nhập của đồng chí: nam.tran@example.vn" in text
    link = re.search(r"http://127\.0\.0\.1:8000(/vi/accounts/password/\S+/)", text).group(1)

    form = client.get(link, follow=True)
    assert form.status_code == 200 and "Đặt mật khẩu" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"new_password1": "Chuyen-de-2024!", "new_password2": "Chuyen-de-2024!"},
    )
    assert done.status_code == 302
    signed_in = client.post(
        reverse("login"), {"username": "nam.tran@example.vn", "password": "Chuyen-de-2024!"}
    )
    assert signed_in.status_code == 302
    assert client.get(signed_in["Location"], follow=True).context["user"].email == (
        "nam.tran@example.vn"
    )
    client.logout()
    # The link works once.
    used = client.get(link, follow=True)
    assert "đã được dùng hoặc đã hết hạn" in used.content.decode()
    # A second import of the same file sends nothing more.
    assert OutgoingMail.objects.filter(kind=OutgoingMail.Kind.INVITATION).count() == 1


def test_a_staff_member_can_send_a_fresh_invitation_from_the_admin(client, district):
    admin = UserFactory(is_staff=True, is_superuser=True)
    person = UserFactory(email="hoa@example.vn")
    person.set_unusable_password()
    person.save()
    client.force_login(admin)
    response = client.post(
        "/admin/units/user/",
        {"action": "send_invitation", "_selected_action": [person.pk, admin.pk]},
    )
    assert response.status_code == 302
    assert list(OutgoingMail.objects.values_list("recipient_id", flat=True)) == [person.pk]


def test_the_preview_and_confirm_addresses_opened_by_get_go_back_to_the_upload_form(
    client, staff, district
):
    """The language switcher sends the person to the address they are on; after a preview that
    is the POST-only preview address."""
    client.force_login(staff)
    for name in ("unit_import:preview", "unit_import:confirm"):
        response = client.get(reverse(name).replace("/vi/", "/en/"))
        assert response.status_code == 302
        assert response["Location"] == "/en/import/units/"
