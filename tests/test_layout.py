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


INIT = "#init"  # a package as its import runs it: only its __init__'s module-level imports


def _imports(package: Path) -> dict[str, set[str]]:
    """module -> what importing or running it depends on, read with ast: every module it imports (relative imports
    resolved; imports inside functions too, the layering counts them), and for each, the ``<package>#init`` of the
    packages above it that Python initialises on the way, whose own edges are their __init__'s module-level imports
    only (a name a package imports lazily, inside ``__getattr__``, is not run by importing a submodule)."""
    modules = {".".join(f.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__"): f
               for f in package.rglob("*.py")}
    edges = {name: set() for m in modules for name in (m, m + INIT)}
    for module, f in modules.items():
        base = module.split(".") if f.name == "__init__.py" else module.split(".")[:-1]
        tree = ast.parse(f.read_text())
        for node in _run_nodes(tree):  # every import, anywhere in the module, that can run
            for target in _targets(node, base, modules):
                if target != module:  # a name from a package above (``from .. import x``) depends on its __init__
                    edges[module].add(target)
                edges[module] |= set(_parents(target, module, modules))
        if f.name == "__init__.py":  # what running the package's __init__ imports
            for node in tree.body:
                for target in _targets(node, base, modules):
                    edges[module + INIT] |= {target, *_parents(target, module, modules)}
    return edges


def _run_nodes(tree: ast.AST):
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:`` (imports for annotations never run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def _targets(node, base: list[str], modules: dict) -> list[str]:
    """The package modules an import statement names: a submodule where ``from . import x`` names one, else the
    module (or package) the names come from."""
    if isinstance(node, ast.ImportFrom):
        stem = ".".join(base[: len(base) - node.level + 1]) if node.level else ""
        target = ".".join(p for p in (stem, node.module or "") if p)
        submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules]
        names = submodules + ([target] if len(submodules) < len(node.names) else [])
    elif isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        return []
    found = []
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name:
            found.append(name)
    return found


def _parents(name: str, module: str, modules: dict) -> list[str]:
    """The ``#init`` of each package above ``name`` that importing it runs (the top package and the importer's own
    packages excepted: they are running already)."""
    parts = name.split(".")
    packages = [".".join(parts[:i]) for i in range(2, len(parts)) if ".".join(parts[:i]) in modules]
    return [p + INIT for p in packages if not module.startswith(p + ".") and p != module]


def test_imports_point_one_way():
    """No cycle among the package's modules: CLI -> facade -> jobs -> pipeline -> basics."""
    edges = _imports(PACKAGE)

    def reaches(start, goal, seen=()):
        return any(n == goal or (n not in seen and reaches(n, goal, (*seen, n))) for n in edges[start])

    cycles = sorted(m for m in edges if reaches(m, m))
    assert not cycles, f"modules on import cycles: {cycles}"


# The layers, top to bottom (docs/architecture.md): a module imports only its own layer or those below. A task's
# folder (``tasks/<name>/``) builds on the pipeline (its Result part draws with ``results.annotate``, its decode
# uses ``runtime.processing``) and is reached from below only through the registry, which lists its entries.
LAYERS = {"cli": 6, "yolo": 5, "predict": 4, "track": 4, "export": 4, "evaluation": 4, "bench": 4, "scale": 4,
          "optimize": 4, "mot_metrics": 4, "task folders": 3, "runtime": 2, "results": 2, "tasks": 1, "model": 1,
          "options": 1, "utils": 1, "errors": 0, "callbacks": 0, "version": 0}


def _layer(module: str) -> str:
    parts = module.removesuffix(INIT).split(".")
    if len(parts) == 1:
        return "yolo"  # the package's own __init__ re-exports the facade
    if parts[1] == "tasks" and len(parts) > 2 and (PACKAGE / "tasks" / parts[2]).is_dir():
        return "task folders"
    return parts[1]


def test_layers_import_only_downward():
    """CLI -> facade -> jobs -> task folders -> pipeline -> basics: no module imports a layer above its own (the
    registry's list of its entries excepted), so a call reads top-down."""
    edges, up = _imports(PACKAGE), []
    assert set(map(_layer, edges)) <= set(LAYERS), set(map(_layer, edges)) - set(LAYERS)
    for module, targets in edges.items():
        for target in targets:
            registry_entry = module.removesuffix(INIT) == "yolo_openvino.tasks"
            if LAYERS[_layer(target)] > LAYERS[_layer(module)] and not registry_entry:
                up.append(f"{module} ({_layer(module)}) -> {target} ({_layer(target)})")
    assert not up, up


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
    "yolo_openvino": ["YOLO", "Client", "Result", "Results", "Detections", "__version__"],
    "yolo_openvino.cli": ["main"],
    "yolo_openvino.errors": ["UsageError"],
    "yolo_openvino.results": ["Result", "Results", "Detections"],
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


def test_every_module_imports_first_in_a_fresh_process():
    """Whatever a user imports first works: a module that pulls in, say, a task's part before Result can meet a half
    initialised module at run time (the static cycle test models this; this runs it)."""
    from concurrent.futures import ThreadPoolExecutor

    modules = sorted(".".join(f.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                     for f in PACKAGE.rglob("*.py") if f.name != "__main__.py")

    def fails(module: str) -> str | None:
        run = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
        return f"{module}: {run.stderr.strip().splitlines()[-1]}" if run.returncode else None

    with ThreadPoolExecutor(2) as pool:
        failures = [f for f in pool.map(fails, modules) if f]
    assert not failures, failures
