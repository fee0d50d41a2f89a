import unicodedata


def nfc(value: str | None) -> str | None:
    """Vietnamese keyboards send either composed or decomposed diacritics; store one form."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", value)


def fold(value: str) -> str:
    """Lower-case, strip diacritics and map đ to d, for search that ignores accents."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
