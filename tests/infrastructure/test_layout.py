"""The shared package's layout holds: folders mirror the architecture, and a path alone says what a
module may import (only data access and adapters speak boto3; the domain depends on nothing above it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "common" / "helpdesk"
MODULES = sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)

# what each sub-package may import of the package (besides itself and the cross-cutting modules)
CROSS_CUTTING = {"helpdesk.settings", "helpdesk.observability"}
MAY_IMPORT = {
    "domain": set(),
    "store": {"domain"},
    "adapters": {"domain"},
    "api": {"domain", "store"},  # store: the idempotency records share the table's client
    "review": {"domain", "store", "adapters", "api"},  # api: the request schemas it takes
    "tickets": {"domain", "store", "adapters", "api", "review"},
    "notify": {"domain", "store", "adapters"},
}
SPEAKS_AWS = {"store", "adapters"}


def name_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in the file, wherever it stands (lazy imports too)."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def test_every_module_is_in_a_folder_of_the_architecture() -> None:
    loose = {name_of(p) for p in MODULES if p.parent == PACKAGE} - CROSS_CUTTING - {"helpdesk"}
    assert not loose, f"modules outside the architecture's folders: {loose}"
    folders = {p.relative_to(PACKAGE).parts[0] for p in MODULES if p.parent != PACKAGE}
    assert folders == set(MAY_IMPORT)


def test_init_files_are_empty_so_importing_a_package_costs_nothing() -> None:
    assert [str(p) for p in MODULES if p.name == "__init__.py" and p.read_text().strip()] == []


@pytest.mark.parametrize("path", MODULES, ids=name_of)
def test_only_data_access_and_adapters_speak_boto3(path: Path) -> None:
    folder = path.relative_to(PACKAGE).parts[0]
    uses_boto3 = any(module == "boto3" or module.startswith("boto3.") for module, _ in imports(path))
    assert not uses_boto3 or folder in SPEAKS_AWS, f"{name_of(path)} imports boto3"


@pytest.mark.parametrize("path", [p for p in MODULES if p.parent != PACKAGE], ids=name_of)
def test_a_module_imports_only_what_its_layer_may(path: Path) -> None:
    folder = path.relative_to(PACKAGE).parts[0]
    allowed = {folder} | MAY_IMPORT[folder]
    for module, _ in imports(path):
        if module.startswith("helpdesk.") and module not in CROSS_CUTTING:
            assert module.split(".")[1] in allowed, f"{name_of(path)} imports {module}"


@pytest.mark.parametrize("path", MODULES, ids=name_of)
def test_no_module_imports_another_ones_private_names(path: Path) -> None:
    for module, names in imports(path):
        if module.startswith("helpdesk"):
            private = [n for n in names if n.startswith("_")]
            assert not private, f"{name_of(path)} imports {private} from {module}"
