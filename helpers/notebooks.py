"""Tools for instructors: student versions of notebooks, and re-pointing a fork.

``python -m helpers student notebooks/ --out student/``
    writes copies where every cell tagged ``solution`` becomes a ``# YOUR CODE HERE``
    stub (its leading comment lines kept as the task) and all outputs are cleared;
    the check cells stay, so students know when they are right.
``python -m helpers fork OWNER/NAME``
    rewrites the repository address in :mod:`helpers.course`, every notebook's
    "Open in Colab" badge and setup cell, and the README.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import course
from helpers.errors import InputError

SOLUTION_TAG = "solution"
STUB = "# YOUR CODE HERE\n"
#: GitHub's rules: an owner of letters, digits and dashes; a name that is not "." or "..".
_REPO_PATTERN = re.compile(r"[A-Za-z0-9-]+/(?!\.\.?$)[A-Za-z0-9_.-]+")


def _read_notebook(path: Path) -> dict:
    """The notebook at ``path`` as a dict, or one :class:`InputError` sentence naming the file."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path} is not a notebook: it is not UTF-8 text ({error.reason})"
        ) from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path} is not a valid notebook (JSON error: {error})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list) or not all(
        isinstance(cell, dict) and "cell_type" in cell for cell in cells
    ):
        found = type(notebook).__name__ if not isinstance(notebook, dict) else "no valid cells"
        raise InputError(
            f"{path} is not a notebook: expected a JSON object with a list of cells, found {found}"
        )
    return notebook


def _write_notebook(notebook: dict, path: Path) -> None:
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _notebook_paths(source: Path) -> list[Path]:
    if not source.exists():
        raise FileNotFoundError(f"no such notebook or folder: {source}")
    paths = sorted(source.glob("*.ipynb")) if source.is_dir() else [source]
    if not paths or any(p.suffix != ".ipynb" for p in paths):
        raise InputError(f"{source}: expected a .ipynb file or a folder that holds some")
    return paths


def student_version(notebook: dict) -> tuple[dict, int]:
    """A copy of ``notebook`` with solutions stubbed out; returns it and the stub count."""
    stubbed = 0
    cells = []
    for cell in notebook["cells"]:
        cell = dict(cell)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
            if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
                source = "".join(cell["source"]).splitlines(keepends=True)
                cell["source"] = _leading_comments(source) + [STUB]
                stubbed += 1
        cells.append(cell)
    return {**notebook, "cells": cells}, stubbed


def _leading_comments(lines: list[str]) -> list[str]:
    kept = []
    for line in lines:
        if not line.lstrip().startswith("#"):
            break
        kept.append(line if line.endswith("\n") else line + "\n")
    return kept


def write_student_versions(source: Path, out: Path) -> dict[str, int]:
    """Write student copies of the notebooks in ``source`` to ``out``; stub counts by name.

    Every notebook is read and checked before ``out`` is created, so a bad source leaves
    nothing behind.
    """
    if out.resolve() == Path(source).resolve():
        raise InputError("--out must differ from the source folder: it would overwrite solutions")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: expected a folder, got the file {out}")
    notebooks = {path.name: _read_notebook(path) for path in _notebook_paths(Path(source))}
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, original in notebooks.items():
        notebook, counts[name] = student_version(original)
        _write_notebook(notebook, out / name)
    return counts


def fork(repository: str, root: Path) -> list[str]:
    """Point badges, setup cells, README and :data:`course.REPOSITORY` at ``OWNER/NAME``."""
    if not isinstance(repository, str) or not _REPO_PATTERN.fullmatch(repository):
        raise InputError(f"expected a GitHub repository as OWNER/NAME, got {repository!r}")
    old = course.REPOSITORY
    targets = [root / "helpers" / "course.py", root / "README.md"]
    targets += sorted((root / "notebooks").glob("*.ipynb"))
    changed = []
    for path in targets:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if old in text:
            path.write_text(text.replace(old, repository), encoding="utf-8")
            changed.append(str(path.relative_to(root)))
    return changed
