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

SOLUTION_TAG = "solution"
STUB = "# YOUR CODE HERE\n"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_REPO_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def _read_notebook(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not a valid notebook (JSON error: {error})") from error


def _write_notebook(notebook: dict, path: Path) -> None:
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _notebook_paths(source: Path) -> list[Path]:
    if not source.exists():
        raise FileNotFoundError(f"no such notebook or folder: {source}")
    paths = sorted(source.glob("*.ipynb")) if source.is_dir() else [source]
    if not paths or any(p.suffix != ".ipynb" for p in paths):
        raise ValueError(f"{source}: expected a .ipynb file or a folder that holds some")
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
    return strip_widget_state({**notebook, "cells": cells}), stubbed


def strip_widget_state(notebook: dict) -> dict:
    """A copy of ``notebook`` without stored widget state or widget views.

    Front ends render widgets from the code when the cell runs; stored state is written
    by one ipywidgets version (8 here) and shows "Error displaying widget" in another
    (Colab has 7), so the notebook keeps none. A cell whose only output was a widget
    shows nothing until it runs.
    """
    metadata = dict(notebook.get("metadata", {}))
    metadata.pop("widgets", None)
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            outputs = [o for o in cell.get("outputs", []) if WIDGET_VIEW not in o.get("data", {})]
            cell = {**cell, "outputs": outputs}
        cells.append(cell)
    return {**notebook, "metadata": metadata, "cells": cells}


def _leading_comments(lines: list[str]) -> list[str]:
    kept = []
    for line in lines:
        if not line.lstrip().startswith("#"):
            break
        kept.append(line if line.endswith("\n") else line + "\n")
    return kept


def write_student_versions(source: Path, out: Path) -> dict[str, int]:
    """Write student copies of the notebooks in ``source`` to ``out``; stub counts by name."""
    if out.resolve() == Path(source).resolve():
        raise ValueError("--out must differ from the source folder: it would overwrite solutions")
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for path in _notebook_paths(Path(source)):
        notebook, counts[path.name] = student_version(_read_notebook(path))
        _write_notebook(notebook, out / path.name)
    return counts


def fork(repository: str, root: Path) -> list[str]:
    """Point badges, setup cells, README and :data:`course.REPOSITORY` at ``OWNER/NAME``."""
    if not _REPO_PATTERN.match(repository):
        raise ValueError(f"expected a GitHub repository as OWNER/NAME, got {repository!r}")
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
