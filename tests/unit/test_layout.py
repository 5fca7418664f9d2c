"""The house rules of the package's layout (README, Layout), checked on the
source so that a change that breaks one fails here, not in a review."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "operator" / "kubedora"
# Imported from the package, never from their modules.
SURFACED = ("models", "matching", "metrics")
# Imported by module: their __init__ is a docstring and nothing else.
BY_MODULE = ("catalog", "ingest", "k8s", "handlers", "receiver", "web")
RESOURCE_TABLE = PACKAGE / "models" / "resources.py"
OUR_NAMES = frozenset({"kubedora.io", "v1alpha1", "failures", "deployments", "dorasources"})


def modules() -> Iterator[Path]:
    yield from sorted(PACKAGE.rglob("*.py"))


def name(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


def test_no_module_is_a_stub() -> None:
    small = [
        f"{name(path)}: {lines} lines"
        for path in modules()
        if path.name != "__init__.py" and (lines := len(path.read_text().splitlines())) < 40
    ]
    assert small == [], "merge these into the module whose job they share"


def test_the_receiver_has_at_most_ten_modules() -> None:
    assert len(list((PACKAGE / "receiver").glob("*.py"))) <= 10


@pytest.mark.parametrize("package", BY_MODULE)
def test_packages_imported_by_module_re_export_nothing(package: str) -> None:
    tree = ast.parse((PACKAGE / package / "__init__.py").read_text())
    (only,) = tree.body
    assert isinstance(only, ast.Expr), "a docstring only"


def test_surfaced_packages_are_imported_from_the_package_alone() -> None:
    deep = []
    for path in modules():
        home = path.relative_to(PACKAGE).parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or node.module is None:
                continue
            parts = node.module.split(".")
            surfaced = parts[0] == "kubedora" and len(parts) > 2 and parts[1] in SURFACED
            if surfaced and parts[1] != home:
                deep.append(f"{name(path)}:{node.lineno} from {node.module}")
    assert deep == []


def test_our_group_version_and_plurals_are_spelled_in_the_resource_table_alone() -> None:
    spelled = [
        f"{name(path)}:{node.lineno} {node.value!r}"
        for path in modules()
        if path != RESOURCE_TABLE
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value in OUR_NAMES
    ]
    assert spelled == []
