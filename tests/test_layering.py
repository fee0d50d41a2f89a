"""The floors of the code (README, "Architecture"): a module may import from its own floor and the
floors below it, never from one above. Every import counts, at the top of a module or inside a
function, absolute or relative.

Floors, from the bottom:

    dongda                 settings, environment, Celery app, text and upload helpers, error pages
    units                  the unit tree, people, roles, scope, sign-in
    campaigns (core)       models, the rule registry, periods, the campaign-wide selectors
    campaigns.engine       flags, status rows, the R1 study rule, the engine run, /healthz
    campaigns.mail         outbox, digests, reminders, e-mail texts, the digest preview
    campaigns.reporting    report kinds' forms, evidence, the report pages and review
    campaigns.dashboard    overview, unit table, exports, review queue page, unit page, home
    campaigns.official     the committees' official reports: figures, text, Word and PDF, pages
    campaigns.rules        the campaign's own rules (R1, R2, R5), declared to the registry
    campaigns.demo         the demo district
    campaigns (top)        apps, tasks, urls, signals, management commands
    breakthroughs          R3 and R4, built on the campaign app and plugged into its registry
    dongda.urls            the roof: the root URLconf names every app

`bench/` and `tests/` stand outside the building and may import anything.
"""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGES = ("dongda", "units", "campaigns", "breakthroughs")
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("dongda", ("dongda",)),
    ("units", ("units",)),
    (
        "campaigns (core)",
        (
            "campaigns",  # the package itself
            "campaigns.models",
            "campaigns.migrations",
            "campaigns.registry",
            "campaigns.periods",
            "campaigns.selectors",
            "campaigns.admin",
            "campaigns.translation",
        ),
    ),
    ("campaigns.engine", ("campaigns.engine",)),
    ("campaigns.mail", ("campaigns.mail",)),
    ("campaigns.reporting", ("campaigns.reporting",)),
    ("campaigns.dashboard", ("campaigns.dashboard",)),
    ("campaigns.official", ("campaigns.official",)),
    ("campaigns.rules", ("campaigns.rules",)),
    ("campaigns.demo", ("campaigns.demo",)),
    (
        "campaigns (top)",
        (
            "campaigns.apps",
            "campaigns.tasks",
            "campaigns.urls",
            "campaigns.signals",
            "campaigns.management",
        ),
    ),
    ("breakthroughs", ("breakthroughs",)),
    ("the roof", ("dongda.urls",)),
]


def floor_of(module: str) -> int | None:
    """The floor of a module of ours: the one whose prefix matches it most closely."""
    best, best_length = None, -1
    for index, (_name, prefixes) in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    return best


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(module: str, source: str, *, is_package: bool) -> list[tuple[int, str]]:
    """(line, imported module) for every import in `source`, relative ones made absolute."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from campaigns import rules` imports the module campaigns.rules.
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
            found.append((node.lineno, target))
    return found


def sources(root: Path = ROOT) -> dict[str, tuple[Path, str]]:
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = (path, path.read_text(encoding="utf-8"))
    return found


def _ours(name: str, known: set[str]) -> str | None:
    """The module of ours that an imported name refers to (`campaigns.rules.register` is in
    campaigns.rules), or None for a third-party one."""
    if name.split(".")[0] not in PACKAGES:
        return None
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def violations(modules: dict[str, tuple[Path, str]]) -> list[str]:
    problems = []
    known = set(modules)
    for module, (path, source) in sorted(modules.items()):
        here = floor_of(module)
        if here is None:
            problems.append(f"{module}: on no floor; add it to FLOORS in tests/test_layering.py")
            continue
        targets: dict[int, set[str]] = {}
        for line, imported in imports_of(module, source, is_package=path.name == "__init__.py"):
            target = _ours(imported, known)
            if target is not None:
                targets.setdefault(line, set()).add(target)
        for line, found in sorted(targets.items()):
            # `from ..dashboard import selectors` names campaigns.dashboard.selectors; the package
            # it goes through is not a second import.
            deepest = {t for t in found if not any(o.startswith(t + ".") for o in found)}
            for target in sorted(deepest):
                there = floor_of(target)
                if there is not None and there > here:
                    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                    problems.append(
                        f"{shown}:{line}: {module} ({FLOORS[here][0]}) imports {target} "
                        f"({FLOORS[there][0]}), a floor above it"
                    )
    return sorted(set(problems))


def test_every_import_points_down():
    modules = sources()
    assert len(modules) > 50
    assert violations(modules) == []


def test_an_upward_import_is_caught():
    """The check itself: an import added upward, in any of the ways Python allows, fails it."""
    modules = sources()
    path, source = modules["units.views"]
    cases = {
        "top level": "from campaigns.engine.status import refresh_unit_status\n",
        "inside a function": "def f():\n    from breakthroughs.models import Initiative\n",
        "plain import": "import campaigns.dashboard.views\n",
    }
    for how, line in cases.items():
        changed = dict(modules)
        changed["units.views"] = (path, source + "\n" + line)
        found = violations(changed)
        assert len(found) == 1 and "units.views (units) imports" in found[0], how

    # A relative import from a lower package of the campaign app to a higher one.
    path, source = modules["campaigns.engine.status"]
    changed = dict(modules)
    changed["campaigns.engine.status"] = (path, source + "\nfrom ..dashboard import selectors\n")
    found = violations(changed)
    assert len(found) == 1 and "imports campaigns.dashboard.selectors" in found[0]

    # `from campaigns import rules` names the module campaigns.rules, a floor above the engine.
    changed["campaigns.engine.status"] = (path, source + "\nfrom campaigns import rules\n")
    assert len(violations(changed)) == 1


def test_the_same_floor_and_the_ones_below_are_allowed():
    modules = sources()
    path, source = modules["breakthroughs.rules"]
    changed = dict(modules)
    changed["breakthroughs.rules"] = (
        path,
        source + "\nfrom units.selectors import visible_units\n",
    )
    assert violations(changed) == []


def test_the_campaign_apps_templates_name_no_report_kind():
    """The campaign's pages list report kinds from the registry; a template that names one
    (kind='tasks') would tie the campaign app to the app that declares it."""
    named = []
    for template in sorted((ROOT / "campaigns" / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for quote in ("'", '"'):
            if f"kind={quote}" in text:
                named.append(str(template.relative_to(ROOT)))
    assert named == []
