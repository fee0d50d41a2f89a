"""Builds the .mo catalogues from the committed .po files.

Django's compilemessages needs GNU gettext's msgfmt; a newcomer's machine may not have it, so the
same result is produced with polib when msgfmt is missing."""

import shutil
from pathlib import Path

import polib
from django.conf import settings
from django.core.management import call_command


def compile_catalogues(*, verbosity: int = 0) -> list[Path]:
    """Builds the .mo of every .po that is newer than it (or has none); returns the .po paths."""
    paths: list[Path] = []
    for root in settings.LOCALE_PATHS:
        paths.extend(sorted(Path(root).glob("*/LC_MESSAGES/*.po")))
    # None when another process (a parallel test worker) has just built them.
    stale = [p for p in paths if _is_stale(p)]
    if stale and shutil.which("msgfmt"):
        call_command("compilemessages", verbosity=verbosity, locale=[p.parts[-3] for p in stale])
    else:
        for po_path in stale:
            polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))
    # A process that translated something before the .mo files existed has cached "no catalogue",
    # whoever built them since; Django's own reloader clears that cache when a .mo file changes,
    # so do the same.
    from django.utils.translation.reloader import translation_file_changed

    if paths:
        translation_file_changed(sender=None, file_path=paths[0].with_suffix(".mo"))
    return paths


def _is_stale(po_path: Path) -> bool:
    mo_path = po_path.with_suffix(".mo")
    return not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime


def fill_english_catalogue() -> int:
    """English is the source language: its catalogue repeats each msgid, so that the test for
    untranslated entries also holds for English. Returns how many entries it filled."""
    filled = 0
    for root in settings.LOCALE_PATHS:
        po_path = Path(root) / "en" / "LC_MESSAGES" / "django.po"
        if not po_path.exists():
            continue
        catalogue = polib.pofile(str(po_path), wrapwidth=100)
        for entry in catalogue:
            if entry.obsolete:
                continue
            # Always the msgid itself: a "fuzzy" guess by msgmerge may carry another entry's
            # placeholders (msgfmt then refuses the whole catalogue).
            if entry.msgid_plural:
                wanted = {0: entry.msgid, 1: entry.msgid_plural}
                if entry.msgstr_plural != wanted:
                    entry.msgstr_plural = wanted
                    filled += 1
            elif entry.msgstr != entry.msgid:
                entry.msgstr = entry.msgid
                filled += 1
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            entry.previous_msgid = entry.previous_msgid_plural = None
        catalogue.metadata_is_fuzzy = False
        catalogue.save()
    return filled


if __name__ == "__main__":
    import django

    django.setup()
    print(f"English catalogue: {fill_english_catalogue()} entries filled")
