"""The wheel a user gets from ``pip install .`` holds every module of :mod:`helpers`."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_holds_every_helpers_module(tmp_path):
    source = tmp_path / "source"  # build from a copy: setuptools writes build/ beside the code
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "helpers", source / "helpers", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run(
        # No build isolation: the test must not download setuptools; TensorFlow depends on it.
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation"]
        + ["--quiet", "--wheel-dir", str(tmp_path / "dist")],
        check=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "helpers").rglob("*.py")}
    assert len(modules) > 20 and "helpers/detection/__init__.py" in modules
    assert sorted(modules - packed) == [], "modules missing from the wheel"


def test_every_library_helpers_imports_is_a_declared_dependency():
    """``pip install .`` installs only ``[project] dependencies``: an import of any other
    distribution works in the checkout's venv and fails for the user."""
    import ast
    import importlib.metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    # what each declared distribution brings with it counts too (IPython comes with ipykernel)
    for name in list(declared):
        for requirement in importlib.metadata.requires(name) or []:
            parsed = Requirement(requirement)
            if not parsed.marker or parsed.marker.evaluate({"extra": ""}):
                declared.add(canonicalize_name(parsed.name))
    providers = importlib.metadata.packages_distributions()
    imported = set()
    for path in (ROOT / "helpers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"helpers", "__future__"}
    undeclared = sorted(
        module
        for module in third_party
        if not {canonicalize_name(d) for d in providers.get(module, [])} & declared
    )
    assert undeclared == [], "add their distributions to [project] dependencies"
