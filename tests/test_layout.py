"""The house's rules, read from the code: imports point one way (no cycle, not even through a package's
``__init__``), ``import yolo_openvino`` stays light, no module outside ``tasks/`` tests a task's name, and the
public names stay where users import them from."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from yolo_openvino.tasks import tasks

PACKAGE = ROOT / "yolo_openvino"


def _imports(package: Path) -> dict[str, set[str]]:
    """module -> package modules it imports (relative imports resolved), read with ast."""
    modules = {".".join(f.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__"): f
               for f in package.rglob("*.py")}
    edges = {m: set() for m in modules}
    for module, f in modules.items():
        base = module.split(".") if f.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                stem = ".".join(base[: len(base) - node.level + 1]) if node.level else ""
                target = ".".join(p for p in (stem, node.module or "") if p)
                submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules]
                # ``from . import x`` of a submodule depends on x; a name defined in a package's __init__ on the
                # package itself, a parent package included (its __init__ runs: a cycle through it is a cycle)
                names = submodules + ([target] if len(submodules) < len(node.names) else [])
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    edges[module].add(name)
    return edges


def test_imports_point_one_way():
    """No cycle among the package's modules: CLI -> facade -> jobs -> pipeline -> basics."""
    edges = _imports(PACKAGE)

    def reaches(start, goal, seen=()):
        return any(n == goal or (n not in seen and reaches(n, goal, (*seen, n))) for n in edges[start])

    cycles = sorted(m for m in edges if reaches(m, m))
    assert not cycles, f"modules on import cycles: {cycles}"
    assert "yolo_openvino.yolo" not in {m for e in ("bench.formats", "bench.report", "evaluation.validation", "export",
                                                    "scale.batch", "scale.service", "track.job", "predict.job")
                                        for m in edges[f"yolo_openvino.{e}"]}, "a job imports the facade"


def test_import_is_light():
    code = "import sys, yolo_openvino; assert 'torch' not in sys.modules and 'openvino' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_module_outside_tasks_names_a_task():
    """Shared machinery asks the registry (tasks/): a task's name written elsewhere is a decision made twice."""
    names = set(tasks())
    found = []
    for f in sorted(PACKAGE.rglob("*.py")):
        if (PACKAGE / "tasks") in f.parents:
            continue
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Constant) and node.value in names:
                found.append(f"{f.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not found, f"task names outside tasks/: {found}"


# Where users import from (the docs and the README name these); each must keep working.
PUBLIC = {
    "yolo_openvino": ["YOLO", "Result", "Detections", "__version__"],
    "yolo_openvino.cli": ["main"],
    "yolo_openvino.errors": ["UsageError"],
    "yolo_openvino.results": ["Result", "Detections"],
    "yolo_openvino.scale": ["predict_dataset", "serve"],
    "yolo_openvino.mot_metrics": ["METRICS", "mot_metrics", "mot_rows", "read_mot"],
    "yolo_openvino.tasks": ["tasks", "task_named", "Task"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_the_public_names_stay_where_users_import_them(module):
    imported = importlib.import_module(module)
    assert all(hasattr(imported, name) for name in PUBLIC[module]), [n for n in PUBLIC[module] if not hasattr(imported, n)]


def test_at_most_eight_modules_lie_flat_in_the_package():
    flat = sorted(f.name for f in PACKAGE.glob("*.py"))
    assert len(flat) <= 8, flat
