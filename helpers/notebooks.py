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

import ast
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
    check cell also the :func:`checksum` of its source, the solution cell also the
    ``points`` its answer-key cell carries in ``metadata["points"]`` (if any), and the notebook
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
        if "points" in cell.metadata:
            cell.metadata[GRADING_KEY]["points"] = _points(cell.metadata["points"], notebook_id)
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


def _points(value, notebook_id: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{notebook_id}: a solution cell's points must be a whole number >= 0")
    return value


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


#: The first cell of a notebook for nbgrader: nbgrader runs a notebook in its own folder
#: (``source/``, ``release/``, ``submitted/``, ``autograded/`` under the course folder), so
#: the cell puts the nearest folder above it that holds ``helpers/`` on ``sys.path``.
NBGRADER_SETUP = """\
# For nbgrader: use the course's helpers from this folder or the nearest one above it.
import sys
from pathlib import Path

for _folder in [Path.cwd(), *Path.cwd().parents]:
    if (_folder / "helpers" / "__init__.py").is_file():
        sys.path.insert(0, str(_folder))
        break
"""
_BEGIN, _END = "### BEGIN SOLUTION\n", "### END SOLUTION\n"


def nbgrader_version(notebook: NotebookNode, notebook_id: str) -> tuple[NotebookNode, int]:
    """A copy of ``notebook`` that nbgrader 0.9 turns into an assignment; returns it and
    the number of exercises.

    Exercise ``n``'s solution cell keeps its leading comment lines (the task) and puts
    the rest between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, which
    ``nbgrader generate_assignment`` replaces by a stub. Its check cell becomes a locked,
    autograded test cell (``grade_id`` ``<notebook>-check-<n>``, worth the solution cell's
    ``metadata["points"]``, else the registered exercise's, else 1) that raises when the
    answer is wrong: nbgrader scores a test cell by whether it raises, and
    ``course.check_exercise`` only prints.
    Markdown cells are read-only. A first, locked cell (:data:`NBGRADER_SETUP`) finds
    ``helpers``. nbgrader runs all of this inside the student's kernel, unsandboxed.
    """
    copy = nbformat.from_dict(notebook)
    cells = copy.cells
    number = 0
    for index, cell in enumerate(cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if cell.cell_type == "markdown":
            cell.metadata["nbgrader"] = _nbgrader(f"{notebook_id}-text-{index}", locked=True)
        if cell.cell_type != "code" or SOLUTION_TAG not in cell.metadata.get("tags", []):
            continue
        number += 1
        lines = _text(cell.source).splitlines(keepends=True)
        task = _leading_comments(lines)
        answer = "".join(lines[len(task) :])
        answer += "" if answer.endswith("\n") or not answer else "\n"
        cell.source = "".join(task) + _BEGIN + answer + _END
        cell.metadata["nbgrader"] = _nbgrader(f"{notebook_id}-solution-{number}", solution=True)
        check = cells[index + 1] if index + 1 < len(cells) else None
        if check is None or check.cell_type != "code":
            raise InputError(f"{notebook_id}: exercise {number} has no check cell after it")
        key, _ = exercise_call(_text(check.source))
        points = _points(cell.metadata.get("points", _registered_points(key)), notebook_id)
        check.source = _raising_check(_text(check.source))
        check.metadata["nbgrader"] = _nbgrader(
            f"{notebook_id}-check-{number}", grade=True, locked=True, points=points
        )
    setup = nbformat.v4.new_code_cell(NBGRADER_SETUP)
    setup.metadata["nbgrader"] = _nbgrader(f"{notebook_id}-setup", locked=True)
    cells.insert(0, setup)
    copy.metadata.setdefault(
        "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}
    )
    return nbformat.from_dict(strip_widget_state(copy)), number


def _registered_points(key: str | None) -> int:
    if key is None:
        return 1
    from helpers import exercises  # here: only nbgrader copies of keyed checks need it

    return exercises.get(key).points


def _nbgrader(grade_id: str, **flags) -> dict:
    cell = {"grade": False, "solution": False, "locked": False, "task": False}
    return {**cell, **flags, "grade_id": grade_id, "schema_version": 3}


def exercise_call(source: str) -> tuple[str | None, str]:
    """``("KEY", "lambda: answer")`` from a check cell that calls
    ``course.check_exercise("KEY", lambda: answer)``; ``(None, "")`` for any other cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None, ""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "check_exercise"
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            return node.args[0].value, ast.get_source_segment(source, node.args[1])
    return None, ""


def _raising_check(source: str) -> str:
    """``course.check_exercise(...)`` as a statement that raises when it returns False;
    any other check (``course.check`` raises already) as it is."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return source
    call = body[0].value if len(body) == 1 and isinstance(body[0], ast.Expr) else None
    name = getattr(getattr(call, "func", None), "attr", None)
    if not isinstance(call, ast.Call) or name != "check_exercise":
        return source
    condition = ast.get_source_segment(source, call)  # its parentheses carry any line breaks
    return f'if not {condition}:\n    raise AssertionError("Not yet: see the message above")\n'


def write_student_versions(source: Path, out: Path, format: str = "plain") -> dict[str, int]:
    """Write student copies of the notebooks in ``source`` to ``out``; exercise counts by
    name. ``format`` is ``"plain"`` (:func:`student_version`: stubs and checks, for
    ``python -m helpers grade``) or ``"nbgrader"`` (:func:`nbgrader_version`: the
    solutions marked, for ``nbgrader generate_assignment``).

    Every notebook is read and checked before ``out`` is created, so a bad source leaves
    nothing behind.
    """
    versions = {"plain": student_version, "nbgrader": nbgrader_version}
    if format not in versions:
        raise InputError(f"--format: expected plain or nbgrader, got {format!r}")
    if out.resolve() == Path(source).resolve():
        raise InputError("--out must differ from the source folder: it would overwrite solutions")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: expected a folder, got the file {out}")
    # every notebook read and stubbed before ``out`` is made: a bad source leaves nothing
    copies = {
        path.name: versions[format](read_notebook(path), path.stem)
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
