"""The submission's side of grading: which notebook it is, and are its check cells intact?

A check cell is intact when its source is byte for byte the reference's and it sits in
its place: after its own solution cell and before the next exercise's. Students may add
cells anywhere; they may not change, delete or move a check cell.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from helpers.errors import InputError
from helpers.grading.reference import Exercise, Reference
from helpers.notebooks import GRADING_KEY, checksum, read_notebook

INTACT, CHANGED, DELETED, MOVED = "intact", "changed", "deleted", "moved"

#: Run at the top of every check cell: a freshly imported ``helpers.course`` and the
#: notebook's own imports again, so that a solution cell that redefines ``course.check``
#: (or rebinds ``np``) does not decide its own grade.
_FRESH_CHECK = """\
# Added by the grader: the check below uses a fresh helpers.course and the notebook's imports.
import sys as _grader_sys

_grader_sys.modules.pop("helpers.course", None)
del _grader_sys
import helpers.course

{imports}
from helpers import course

"""

#: What replaces a ``course.check_exercise`` check cell: the kernel only runs the student's
#: answer on the grader's cases and writes the outcome; the grader judges it.
_COLLECT = """\
# Added by the grader: hands this exercise's outputs back; they are judged outside the kernel.
from helpers.grading.collect import collect_exercise

collect_exercise({key!r}, {module!r}, {folder!r}, {get_answer})
"""


@dataclass(frozen=True)
class CheckCell:
    """Where exercise ``number``'s check cell is in the submission (``None``: deleted)."""

    number: int
    state: str  # INTACT, CHANGED, DELETED or MOVED
    index: int | None


@dataclass
class Inspection:
    """What reading a submission found.

    ``problem`` is empty when the submission can run; otherwise it says why not (not a
    notebook, not a notebook of this course, no exercises left), ``detail`` may say more.
    ``solutions`` holds the text of each exercise's solution cell as handed in (by
    exercise number; the code cell above its check when the metadata is gone).
    :func:`prepare` makes the notebook to execute.
    """

    notebook: str = ""
    problem: str = ""
    detail: str = ""
    checks: list[CheckCell] = field(default_factory=list)
    submission: NotebookNode | None = None
    reference: Reference | None = None
    solutions: dict[int, str] = field(default_factory=dict)


def inspect(path: Path, references: dict[str, Reference]) -> Inspection:
    """Identify the submission at ``path`` among ``references`` and check its check cells."""
    try:
        submission = read_notebook(path)
    except InputError as error:
        return Inspection(problem="not a notebook", detail=str(error).replace(str(path), path.name))
    found = identify(submission, references)
    if found is None:
        return Inspection(problem="not a notebook of this course")
    checks = locate_checks(submission, found)
    if all(check.state == DELETED for check in checks):
        return Inspection(found.notebook, "no exercises", "", checks, reference=found)
    solution_cells, _ = _exercise_cells(submission, found.notebook)
    solutions = {n: _source(submission.cells[i]) for n, i in solution_cells.items()}
    for check in checks:  # an editor dropped the metadata: the code cell above the check
        above = [i for i in range(check.index or 0) if submission.cells[i].cell_type == "code"]
        if check.number not in solutions and above:
            solutions[check.number] = _source(submission.cells[above[-1]])
    return Inspection(found.notebook, "", "", checks, submission, found, solutions)


def prepare(
    inspection: Inspection, folder: str, modules: dict[str, str] | None = None
) -> NotebookNode:
    """The notebook to execute: the submission with outputs cleared and every check cell
    replaced by the reference's, behind :data:`_FRESH_CHECK`, or, for an exercise judged
    outside the kernel, by a :data:`_COLLECT` cell that writes into ``folder`` (the
    working folder as the kernel sees it). ``modules`` names the module that registers
    each such exercise (by key)."""
    prepared = nbformat.from_dict(inspection.submission)  # a deep copy
    for cell in prepared.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    fresh = _FRESH_CHECK.format(imports="\n".join(inspection.reference.imports))
    exercises = {exercise.number: exercise for exercise in inspection.reference.exercises}
    for check in inspection.checks:
        if check.index is not None:
            source = _check_cell(exercises[check.number], folder, modules or {}, fresh)
            prepared.cells[check.index].source = source
    return prepared


def _check_cell(exercise: Exercise, folder: str, modules: dict[str, str], fresh: str) -> str:
    if exercise.key is None:
        return fresh + exercise.check_source
    return _COLLECT.format(
        key=exercise.key,
        module=modules.get(exercise.key, "helpers.exercises"),
        folder=folder,
        get_answer=exercise.get_answer,
    )


def identify(submission: NotebookNode, references: dict[str, Reference]) -> Reference | None:
    """The course notebook ``submission`` is a copy of, or None.

    By the grading metadata of its cells and of the notebook first; when an editor has
    dropped the metadata, by the checksums of its cells.
    """
    labels = [_grading(c.metadata).get("notebook") for c in submission.cells]
    labels.append(_grading(submission.metadata).get("notebook"))
    known = (label for label in labels if isinstance(label, str) and label in references)
    for label, _ in Counter(known).most_common(1):
        return references[label]
    sums = {checksum(_source(cell)) for cell in submission.cells}
    matches = {name: sum(e.checksum in sums for e in r.exercises) for name, r in references.items()}
    best = max(matches, key=matches.get, default=None)
    return references[best] if best is not None and matches[best] > 0 else None


def locate_checks(submission: NotebookNode, reference: Reference) -> list[CheckCell]:
    """One :class:`CheckCell` per exercise of ``reference``, in order."""
    solutions, checks = _exercise_cells(submission, reference.notebook)
    located = []
    for exercise in reference.exercises:
        candidates = checks.get(exercise.number) or [
            i for i, c in enumerate(submission.cells) if checksum(_source(c)) == exercise.checksum
        ]
        if not candidates:
            located.append(CheckCell(exercise.number, DELETED, None))
            continue
        index = candidates[0]
        cell = submission.cells[index]
        if cell.cell_type != "code" or checksum(_source(cell)) != exercise.checksum:
            state = CHANGED  # a check turned into Markdown would never run
        elif not _in_place(index, exercise.number, solutions):
            state = MOVED
        else:
            state = INTACT
        located.append(CheckCell(exercise.number, state, index))
    return located


def _exercise_cells(
    submission: NotebookNode, notebook: str
) -> tuple[dict[int, int], dict[int, list[int]]]:
    """Cell indices by exercise number: the solution cell, and the check cells."""
    solutions: dict[int, int] = {}
    checks: dict[int, list[int]] = {}
    for index, cell in enumerate(submission.cells):
        grading = _grading(cell.metadata)
        number = grading.get("exercise")
        if grading.get("notebook") != notebook or not isinstance(number, int):
            continue
        if grading.get("role") == "solution":
            solutions.setdefault(number, index)
        elif grading.get("role") == "check":
            checks.setdefault(number, []).append(index)
    return solutions, checks


def _in_place(index: int, number: int, solutions: dict[int, int]) -> bool:
    # a deleted solution cell puts no bound: the answer may live in a cell of the student's own
    return solutions.get(number, -1) < index < solutions.get(number + 1, float("inf"))


def _grading(metadata: dict) -> dict:
    # metadata comes from the student's file: anything may sit under the key
    value = metadata.get(GRADING_KEY)
    return value if isinstance(value, dict) else {}


def _source(cell: NotebookNode) -> str:
    return cell.get("source", "")
