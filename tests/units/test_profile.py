"""A person's own settings page: name, e-mail, language and what the weekly digest sends them."""

import unicodedata

import pytest

from units.models import User

PROFILE = "/{lang}/accounts/profile/"


def form_data(**changes) -> dict:
    """What the browser posts; an unticked checkbox is simply absent."""
    data = {
        "first_name": "An",
        "last_name": "Nguyễn Văn",
        "email": "an.nguyen@dongda.test",
        "language": "vi",
        "receives_digests": "on",
        "digest_when_all_clear": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def saved(user: User) -> tuple:
    user.refresh_from_db()
    return (
        user.first_name,
        user.last_name,
        user.email,
        user.language,
        user.receives_digests,
        user.digest_when_all_clear,
    )


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_anonymous_visitor_is_sent_to_login(client, db, lang):
    response = client.get(PROFILE.format(lang=lang))
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/accounts/login/?next=/{lang}/accounts/profile/"


def test_profile_page_shows_the_persons_settings_in_vietnamese(client, ward_secretary):
    ward_secretary.email = "bt.kimlien@dongda.test"
    ward_secretary.digest_when_all_clear = False
    ward_secretary.save()
    client.force_login(ward_secretary)
    response = client.get(PROFILE.format(lang="vi"))
    assert response.status_code == 200
    assert "Thiết lập của tôi" in response.text
    assert 'value="bt.kimlien@dongda.test"' in response.text
    assert '<option value="vi" selected lang="vi">Tiếng Việt</option>' in response.text
    assert 'name="receives_digests" id="id_receives_digests" checked' in response.text
    assert 'name="digest_when_all_clear" id="id_digest_when_all_clear">' in response.text


def test_saving_stores_language_and_digest_choices_and_opens_in_the_new_language(
    client, ward_secretary
):
    client.force_login(ward_secretary)
    response = client.post(
        PROFILE.format(lang="vi"),
        form_data(language="en", receives_digests=None, digest_when_all_clear="on"),
    )
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/profile/"
    assert saved(ward_secretary) == (
        "An",
        "Nguyễn Văn",
        "an.nguyen@dongda.test",
        "en",
        False,
        True,
    )
    # The confirmation speaks the language just chosen, like the page it is shown on.
    page = client.get(response["Location"]).text
    assert '<html lang="en">' in page
    assert "Your settings were saved." in page


def test_turning_off_the_all_clear_digest_is_saved(client, ward_secretary):
    client.force_login(ward_secretary)
    response = client.post(PROFILE.format(lang="vi"), form_data(digest_when_all_clear=None))
    assert response["Location"] == "/vi/accounts/profile/"
    assert saved(ward_secretary)[3:] == ("vi", True, False)
    assert "Đã lưu thiết lập." in client.get(response["Location"]).text


def test_names_typed_with_decomposed_diacritics_are_stored_composed(client, ward_secretary):
    client.force_login(ward_secretary)
    first, last = "Thị Hồng", "Lê Đặng"
    decomposed = {
        "first_name": unicodedata.normalize("NFD", first),
        "last_name": unicodedata.normalize("NFD", last),
    }
    assert decomposed["first_name"] != first
    client.post(PROFILE.format(lang="vi"), form_data(**decomposed))
    ward_secretary.refresh_from_db()
    assert (ward_secretary.first_name, ward_secretary.last_name) == (first, last)
    assert unicodedata.is_normalized("NFC", ward_secretary.first_name + ward_secretary.last_name)


@pytest.mark.parametrize(
    ("lang", "error"), [("vi", "Nhập địa chỉ email."), ("en", "Enter a valid email address.")]
)
def test_invalid_email_shows_an_error_in_the_page_language_and_saves_nothing(
    client, ward_secretary, lang, error
):
    before = saved(ward_secretary)
    client.force_login(ward_secretary)
    response = client.post(
        PROFILE.format(lang=lang), form_data(email="khong-phai-email", language="en")
    )
    assert response.status_code == 200
    assert f'<div class="invalid-feedback">{error}</div>' in response.text
    assert 'class="form-control is-invalid" name="email"' in response.text
    assert saved(ward_secretary) == before


def test_unknown_language_is_refused_and_nothing_is_saved(client, ward_secretary):
    before = saved(ward_secretary)
    client.force_login(ward_secretary)
    response = client.post(PROFILE.format(lang="vi"), form_data(language="fr", first_name="Bình"))
    assert response.status_code == 200
    assert "is-invalid" in response.text
    assert saved(ward_secretary) == before


def test_profile_changes_only_the_signed_in_person(client, ward_secretary, sibling_secretary):
    before = saved(sibling_secretary)
    client.force_login(ward_secretary)
    client.post(PROFILE.format(lang="vi"), form_data(language="en"))
    assert saved(sibling_secretary) == before
    assert saved(ward_secretary)[3] == "en"


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_profile_refuses_other_methods(client, ward_secretary, method):
    client.force_login(ward_secretary)
    assert getattr(client, method)(PROFILE.format(lang="vi")).status_code == 405
