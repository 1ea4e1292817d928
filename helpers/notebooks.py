"""Tools for instructors: student versions of notebooks, and re-pointing a fork.

``python -m helpers student notebooks/ --out student/``
    writes copies where every cell tagged ``solution`` becomes a ``# YOUR CODE HERE``
    stub (its leading comment lines kept as the task) and all outputs are cleared;
    the check cells stay, so students know when they are right. Like nbgrader, the
    copy carries grading metadata (see :func:`student_version`) that
    ``python -m helpers grade`` reads back.
``python -m helpers fork OWNER/NAME``
    rewrites the repository address in :mod:`helpers.course`, every notebook's
    "Open in Colab" badge and setup cell, and the README.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from helpers.errors import InputError

SOLUTION_TAG = "solution"
#: Tag of the check cell that follows each solution cell in a student copy.
CHECK_TAG = "check"
#: Key of the grading metadata, in the notebook's and in each exercise cell's metadata.
GRADING_KEY = "grading"
STUB = "# YOUR CODE HERE\n"
#: GitHub's rules: an owner of letters, digits and dashes; a name that is not "." or "..".
_REPO_PATTERN = re.compile(r"[A-Za-z0-9-]+/(?!\.\.?$)[A-Za-z0-9_.-]+")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def read_notebook(path: Path) -> NotebookNode:
    """The notebook at ``path`` (nbformat 4); else one :class:`InputError` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        reason = f"it is not UTF-8 text ({error.reason})"
        raise InputError(f"{path} is not a notebook: {reason}") from None
    try:
        raw = json.loads(text)  # read once as plain JSON only to say what is wrong with it
    except json.JSONDecodeError as error:
        raise InputError(f"{path} is not a valid notebook (JSON error: {error})") from None
    cells = raw.get("cells") if isinstance(raw, dict) else None
    if not isinstance(cells, list) or not all(
        isinstance(cell, dict) and "cell_type" in cell for cell in cells
    ):
        found = type(raw).__name__ if not isinstance(raw, dict) else "no valid cells"
        raise InputError(
            f"{path} is not a notebook: expected a JSON object with a list of cells, found {found}"
        )
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)  # reading only logs schema errors; code below needs them gone
    except (ValueError, KeyError, TypeError, AttributeError, nbformat.ValidationError) as error:
        message = " ".join(str(error).split())[:200]
        raise InputError(f"{path} is not a notebook: {message}") from None
    return notebook


def _notebook_paths(source: Path) -> list[Path]:
    if not source.exists():
        raise FileNotFoundError(f"no such notebook or folder: {source}")
    paths = sorted(source.glob("*.ipynb")) if source.is_dir() else [source]
    if not paths or any(p.suffix != ".ipynb" for p in paths):
        raise InputError(f"{source}: expected a .ipynb file or a folder that holds some")
    return paths


def checksum(source: str) -> str:
    """SHA-256 (hex) of a cell's source text: what the grader compares check cells by."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def student_version(notebook: NotebookNode, notebook_id: str) -> tuple[NotebookNode, int]:
    """A copy of ``notebook`` with solutions stubbed out; returns it and the stub count.

    Exercise ``n`` (1, 2, ...) is the ``n``-th cell tagged ``solution``; the code cell
    right after it is its check, tagged ``check``. Both cells get
    ``metadata["grading"] = {"notebook": notebook_id, "exercise": n, "role": ...}``, the
    check cell also the :func:`checksum` of its source, and the notebook
    ``metadata["grading"] = {"notebook": notebook_id, "exercises": count}``.
    """
    copy = nbformat.from_dict(notebook)  # a deep copy: the answer key stays untouched
    cells = copy.cells
    stubbed = 0
    for index, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        if SOLUTION_TAG not in cell.metadata.get("tags", []):
            continue
        stubbed += 1
        source = _text(cell.source).splitlines(keepends=True)
        cell.source = "".join(_leading_comments(source)) + STUB
        cell.metadata[GRADING_KEY] = _grading(notebook_id, stubbed, SOLUTION_TAG)
        check = cells[index + 1] if index + 1 < len(cells) else None
        if check is None or check.cell_type != "code":
            raise InputError(f"{notebook_id}: exercise {stubbed} has no check cell after it")
        check.source = _text(check.source)
        check.metadata["tags"] = list(dict.fromkeys([*check.metadata.get("tags", []), CHECK_TAG]))
        check.metadata[GRADING_KEY] = {
            **_grading(notebook_id, stubbed, CHECK_TAG),
            "checksum": checksum(check.source),
        }
    copy.metadata[GRADING_KEY] = {"notebook": notebook_id, "exercises": stubbed}
    return nbformat.from_dict(strip_widget_state(copy)), stubbed


def _grading(notebook_id: str, exercise: int, role: str) -> dict:
    return {"notebook": notebook_id, "exercise": exercise, "role": role}


def _text(source: str | list[str]) -> str:
    # notebooks read as plain JSON keep sources as lists of lines
    return source if isinstance(source, str) else "".join(source)


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
    """Write student copies of the notebooks in ``source`` to ``out``; stub counts by name.

    Every notebook is read and checked before ``out`` is created, so a bad source leaves
    nothing behind.
    """
    if out.resolve() == Path(source).resolve():
        raise InputError("--out must differ from the source folder: it would overwrite solutions")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: expected a folder, got the file {out}")
    # every notebook read and stubbed before ``out`` is made: a bad source leaves nothing
    copies = {
        path.name: student_version(read_notebook(path), path.stem)
        for path in _notebook_paths(Path(source))
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, (notebook, _) in copies.items():
        nbformat.write(notebook, out / name)
    return {name: stubbed for name, (_, stubbed) in copies.items()}


def fork(repository: str, root: Path) -> list[str]:
    """Point badges, setup cells, README, the site and :data:`course.REPOSITORY` at ``OWNER/NAME``.

    Every badge (Colab, Kaggle, Binder) names the repository, so all of them follow.
    """
    if not isinstance(repository, str) or not _REPO_PATTERN.fullmatch(repository):
        raise InputError(f"expected a GitHub repository as OWNER/NAME, got {repository!r}")
    from helpers import course  # here, not at the top: helpers.course imports Keras

    old = course.REPOSITORY
    targets = [root / "helpers" / "course.py", root / "README.md", root / "site" / "_config.yml"]
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
