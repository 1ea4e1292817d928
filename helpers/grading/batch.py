"""Grade a folder of submissions: find them, grade each in isolation, report progress."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from helpers.errors import InputError
from helpers.grading.integrity import DELETED, INTACT, inspect
from helpers.grading.reference import Reference
from helpers.grading.sandbox import Limits, RunResult, run_isolated

_NOT_YET = re.compile(r"^AssertionError: ")


@dataclass(frozen=True)
class Submission:
    """One notebook handed in: who handed it in, and where it is."""

    student: str
    path: Path


@dataclass(frozen=True)
class ExerciseResult:
    """Exercise ``number``: passed or not, and what to tell the student."""

    number: int
    passed: bool
    message: str


@dataclass(frozen=True)
class Grade:
    """A graded submission. ``status`` is "ok" or what went wrong ("tampered",
    "timeout", "not a notebook", ...), joined by "; "."""

    submission: Submission
    notebook: str
    exercises: tuple[ExerciseResult, ...]
    status: str
    seconds: float
    detail: str = ""  # why a file could not be graded, for the feedback

    @property
    def score(self) -> int:
        return sum(exercise.passed for exercise in self.exercises)


def find_submissions(folder: Path) -> list[Submission]:
    """The ``.ipynb`` files in ``folder``: each file right in it is one student's (named by
    the file), each sub-folder holds one student's files (named by the folder)."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(f"no such folder of submissions: {folder}")
    if folder.is_file():
        return [Submission(folder.stem, folder)]
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.is_file() and entry.suffix == ".ipynb":
            found.append(Submission(entry.stem, entry))
        elif entry.is_dir() and not entry.name.startswith("."):
            paths = sorted(p for p in entry.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            found += [Submission(entry.name, path) for path in paths]
    if not found:
        raise InputError(f"{folder}: no .ipynb files in it or in its sub-folders")
    return found


def grade_one(
    submission: Submission, references: dict[str, Reference], course_root: Path, limits: Limits
) -> Grade:
    """Inspect, run and score one submission."""
    start = time.monotonic()
    inspection = inspect(submission.path, references)
    if inspection.prepared is None:
        checks = inspection.checks
        results = tuple(ExerciseResult(c.number, False, inspection.problem) for c in checks)
        problem, detail = inspection.problem, inspection.detail
        return Grade(submission, inspection.notebook, results, problem, 0.0, detail)
    run = run_isolated(inspection.prepared, course_root, limits)
    results = tuple(_score(c.number, c.state, c.index, run) for c in inspection.checks)
    problems = []
    if any(check.state != INTACT for check in inspection.checks):
        problems.append("tampered")
    if run.outcome != "finished":
        problems.append(run.outcome)
    elif any(cell["status"] == "timeout" for cell in run.cells.values()):
        problems.append("timeout")
    status = "; ".join(problems) or "ok"
    return Grade(submission, inspection.notebook, results, status, time.monotonic() - start)


def _score(number: int, state: str, index: int | None, run: RunResult) -> ExerciseResult:
    if state == DELETED:
        return ExerciseResult(number, False, "the check cell was deleted: scored 0")
    if state != INTACT:
        return ExerciseResult(number, False, f"the check cell was {state}: scored 0")
    cell = run.cells.get(index)
    if cell is None:
        return ExerciseResult(number, False, f"the check did not run ({run.outcome})")
    if cell["status"] == "ok":
        return ExerciseResult(number, True, "Correct!")
    if cell["status"] == "timeout":
        return ExerciseResult(number, False, "the check ran past its time limit")
    # "AssertionError: Not yet: <hint>" from course.check; any other error as it came
    return ExerciseResult(number, False, _NOT_YET.sub("", cell["error"]))


def grade_all(
    submissions: list[Submission],
    references: dict[str, Reference],
    course_root: Path,
    limits: Limits,
    jobs: int = 1,
    progress: Callable[[Grade, int], None] | None = None,
) -> list[Grade]:
    """Grade ``submissions``, ``jobs`` at a time (each in its own process, kernel and
    folder); ``progress(grade, done)`` is called as each one finishes. Returns the grades
    in the order of ``submissions``."""
    grades: dict[int, Grade] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # threads only wait on processes
        futures = {
            pool.submit(grade_one, submission, references, course_root, limits): position
            for position, submission in enumerate(submissions)
        }
        for future in as_completed(futures):
            grade = future.result()
            grades[futures[future]] = grade
            if progress is not None:
                progress(grade, len(grades))
    return [grades[position] for position in range(len(submissions))]
