"""The answer key's side of grading: what each course notebook's check cells must be.

The reference is rebuilt from the instructor's notebooks at grading time, through the
same :func:`helpers.notebooks.student_version` that wrote the homework copies, so the
grader never trusts checksums that came back inside a submission.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from helpers.errors import InputError
from helpers.notebooks import (
    GRADING_KEY,
    SOLUTION_TAG,
    checksum,
    exercise_call,
    read_notebook,
    student_version,
)


@dataclass(frozen=True)
class Exercise:
    """One exercise: its number (1, 2, ...), its check cell's source and checksum, and
    what it is worth.

    ``key`` names the :class:`helpers.exercises.Exercise` when the check cell reads
    ``course.check_exercise("KEY", lambda: answer)``: the grader then judges it outside
    the kernel, and ``get_answer`` is that ``lambda`` as handed out. ``key`` is ``None``
    for an older ``course.check(...)`` cell, which is judged inside the kernel.
    ``points`` comes from the answer key's solution cell (``metadata["points"]``), else
    from the registered exercise, else 1.
    """

    number: int
    check_source: str
    checksum: str
    key: str | None = None
    get_answer: str = ""
    points: int = 1


@dataclass(frozen=True)
class Reference:
    """One course notebook as handed out.

    ``imports`` holds the notebook's own top-level import statements (outside the
    exercises), run again before every check so that a solution cell cannot swap the
    modules the check uses.
    """

    notebook: str
    exercises: tuple[Exercise, ...]
    imports: tuple[str, ...]


def load_references(source: Path) -> dict[str, Reference]:
    """References for every ``.ipynb`` in the folder ``source``, by notebook id (file stem)."""
    paths = sorted(Path(source).glob("*.ipynb")) if Path(source).is_dir() else []
    if not paths:
        raise InputError(f"--source {source}: expected a folder of course notebooks (.ipynb)")
    return {path.stem: reference(path) for path in paths}


def reference(path: Path) -> Reference:
    """The :class:`Reference` of the answer-key notebook at ``path``."""
    copy, _ = student_version(read_notebook(path), path.stem)
    exercises, imports, points = [], [], {}
    for cell in copy.cells:
        grading = cell.metadata.get(GRADING_KEY, {})
        if grading.get("role") == "solution" and "points" in grading:
            points[grading["exercise"]] = grading["points"]
        if grading.get("role") == "check":
            number, source = grading["exercise"], cell.source
            key, get_answer = exercise_call(source)
            if number not in points:
                points[number] = _registered(key).points if key is not None else 1
            exercises.append(
                Exercise(number, source, checksum(source), key, get_answer, points[number])
            )
        elif cell.cell_type == "code" and SOLUTION_TAG not in cell.metadata.get("tags", []):
            imports += _top_level_imports(cell.source)
    return Reference(path.stem, tuple(exercises), tuple(dict.fromkeys(imports)))


def _registered(key: str):
    from helpers import exercises  # the grader's own, trusted import

    return exercises.get(key)


def _top_level_imports(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: not plain Python, and never an import we need
        return []
    return [
        ast.get_source_segment(source, node)
        for node in tree.body
        if isinstance(node, ast.Import)
        or (isinstance(node, ast.ImportFrom) and node.module != "__future__")
    ]
