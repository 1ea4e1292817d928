"""The wheel a user gets from ``pip install .`` holds every module of :mod:`helpers`."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

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
