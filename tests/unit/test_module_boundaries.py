"""The ECE side and the Elasticsearch side meet only in the link; settings parsing and the HTTP layer depend on no
provider and know no Pulumi. Checked on the import statements of each module, so a shortcut shows here first."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "components"


def imported_modules(path: Path) -> set[str]:
    """Absolute names of what `path` imports (relative imports resolved against its package)."""
    return imports_in(path.read_text(), path.relative_to(ROOT.parent).with_suffix("").parts[:-1])


def imports_in(source: str, package: tuple[str, ...]) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).glob("*.py")) if folder else sorted(ROOT.glob("*.py"))


RULES = [
    ("elasticsearch", ("components.ece", "components.eck", "components.link", "components.settings")),
    ("ece", ("components.elasticsearch", "components.eck", "components.link", "components.settings")),
    ("settings", ("components.ece", "components.elasticsearch", "components.eck", "components.link", "pulumi")),
]


@pytest.mark.parametrize(("folder", "forbidden"), RULES, ids=[rule[0] for rule in RULES])
def test_a_side_imports_nothing_of_the_other(folder: str, forbidden: tuple[str, ...]) -> None:
    offending = {
        f"{path.name}: {name}"
        for path in modules(folder)
        for name in imported_modules(path)
        if any(name == prefix or name.startswith(prefix + ".") or name.startswith(prefix + "_") for prefix in forbidden)
    }
    assert not offending, sorted(offending)


def test_the_http_layer_knows_no_pulumi_and_no_provider() -> None:
    names = imported_modules(ROOT / "http.py")
    assert not {name for name in names if name.split(".")[0] == "pulumi"}
    assert not {name for name in names if name.startswith(("components.ece", "components.elasticsearch"))}


def test_the_boundary_check_sees_a_relative_import_across_sides() -> None:
    """The checker itself: `from ..ece.trust import x` inside components/elasticsearch resolves to components.ece,
    which the rule refuses; `from .remote_settings import x` stays on its side."""
    package = ("components", "elasticsearch")
    assert "components.ece.trust" in imports_in("from ..ece.trust import normalise\n", package)
    assert imports_in("from .remote_settings import live_settings\n", package) >= {
        "components.elasticsearch.remote_settings"
    }
    assert "components.elasticsearch.remote_settings" in imported_modules(
        ROOT / "elasticsearch" / "connection_check.py"
    )
