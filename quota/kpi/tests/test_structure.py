"""The KPI engine's modules import one another in one direction only, and through public names only."""

from __future__ import annotations

import ast
from functools import cache
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import grimp
import pytest

import quota

ROOT = Path(quota.__file__).parent


@cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("quota")


def is_kpi(module: str) -> bool:
    return (module == "quota.kpi" or module.startswith("quota.kpi.")) and ".tests" not in module


def test_no_import_cycle_among_the_kpi_modules():
    kpi = {module for module in graph().modules if is_kpi(module)}
    imports = {module: graph().find_modules_directly_imported_by(module) & kpi for module in kpi}
    try:
        TopologicalSorter(imports).prepare()
    except CycleError as error:
        pytest.fail(f"KPI modules import each other in a circle: {' -> '.join(reversed(error.args[1]))}")


def private_uses(path: Path) -> list[str]:
    """Names starting with "_" that a module takes from a KPI module: imported, or read off an imported module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    modules = {}  # local name -> the KPI module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and is_kpi(node.module):
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"from {node.module} import {alias.name}")
                elif f"{node.module}.{alias.name}" in graph().modules:
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            modules |= {alias.asname: alias.name for alias in node.names if alias.asname and is_kpi(alias.name)}
    reads = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)]
    found += [f"{modules[node.value.id]}.{node.attr}" for node in reads if node.value.id in modules and node.attr.startswith("_")]
    return found


def test_no_module_borrows_a_private_name_of_a_kpi_module():
    sources = [path for path in ROOT.rglob("*.py") if "tests" not in path.relative_to(ROOT).parts]
    borrowed = {str(path.relative_to(ROOT)): uses for path in sources if (uses := private_uses(path))}
    assert borrowed == {}


def test_the_check_sees_a_borrowed_private_name(tmp_path):
    module = tmp_path / "borrower.py"
    module.write_text("from quota.kpi import rollups\nfrom quota.kpi.table import _columns\n\nrollups._hidden()\n")
    assert private_uses(module) == ["from quota.kpi.table import _columns", "quota.kpi.rollups._hidden"]
