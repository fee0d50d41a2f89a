"""README's drawing of the repository is the repository: every path it names exists in
`git ls-files`, and every folder and module of the code is named in it."""

import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest
from django.conf import settings

from tests.conftest import require

ROOT = Path(settings.BASE_DIR)
CODE = ("dongda", "units", "campaigns", "breakthroughs", "bench")


def tracked_files() -> set[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        listed = ""
    require(bool(listed), "a git checkout (git ls-files)")
    return set(listed.splitlines())


PATH_LIKE = re.compile(r"^[\w.-]+(/[\w.-]+)*/?$")


def _paths(text: str) -> list[str]:
    """The folders (ending in /) and files (with a suffix) named in a piece of the drawing."""
    text = re.sub(r"\([^)]*\)", " ", text)  # what a parenthesis says is a description
    tokens = (token.strip(";:") for token in re.split(r"[,\s]+", text))
    return [
        t
        for t in tokens
        if PATH_LIKE.match(t) and (t.endswith("/") or re.search(r"\.[a-z]+$", t)) and t != "e.g."
    ]


def drawn_tree() -> list[tuple[str, list[str]]]:
    """(folder or file, [paths named on its line, relative to it]) for each line of README's
    drawing. An indented line is a folder inside the unindented one above; a line indented to
    the descriptions continues the line above."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("The repository (`git ls-files`", 1)[1].split("```", 2)[1]
    entries: list[tuple[str, list[str]]] = []
    parent = ""
    for line in block.splitlines():
        if not line.strip():
            continue
        if line.startswith(" " * 10) and entries:
            entries[-1][1].extend(_paths(line))
            continue
        head, _, rest = line.strip().partition("  ")
        if line.startswith("  "):
            head = parent + head
        elif head.endswith("/"):
            parent = head
        entries.append((head, _paths(rest)))
    return entries


@pytest.fixture(scope="module")
def tracked() -> set[str]:
    return tracked_files()


def _exists(path: str, tracked: set[str]) -> bool:
    path = path.rstrip("/")
    return path in tracked or any(f.startswith(path + "/") for f in tracked)


def test_every_path_the_readme_draws_is_in_the_repository(tracked):
    entries = drawn_tree()
    assert len(entries) > 15
    missing = []
    for head, names in entries:
        if not _exists(head, tracked):
            missing.append(head)
        folder = head if head.endswith("/") else ""  # a file's line names more top-level files
        missing += [folder + name for name in names if not _exists(folder + name, tracked)]
    assert missing == []


def test_every_folder_and_module_of_the_code_is_drawn(tracked):
    drawn_folders = {head.rstrip("/") for head, _ in drawn_tree() if head.endswith("/")}
    drawn_names = set()
    for head, names in drawn_tree():
        for name in names:  # "templatetags/ui.py" on the line of units/ is units/templatetags/ui.py
            full = PurePosixPath(head.rstrip("/")) / name.rstrip("/")
            drawn_names.add((str(full.parent), full.name))
            drawn_names.add((head.rstrip("/"), name.split("/")[0]))
    undrawn = []
    for path in sorted(tracked):
        pure = PurePosixPath(path)
        if pure.parts[0] not in CODE or pure.suffix != ".py" or pure.name == "__init__.py":
            continue
        folder = str(pure.parent)
        if "migrations" in pure.parts or "commands" in pure.parts or "formats" in pure.parts:
            continue  # drawn as their folder
        if (folder, pure.name) not in drawn_names and (folder, pure.stem) not in drawn_names:
            undrawn.append(path)
    # The packages inside an app: a line of their own (campaigns/engine/) or named on the app's.
    packages = {
        str(PurePosixPath(p).parent)
        for p in tracked
        if p.endswith("/__init__.py")
        and p.count("/") == 2
        and p.split("/")[0] in CODE
        and "management" not in p
    }
    for folder in sorted(packages - drawn_folders):
        parent, name = folder.rsplit("/", 1)
        if (parent, name) not in drawn_names:
            undrawn.append(f"{folder}/")
    assert undrawn == []
