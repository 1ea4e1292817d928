"""Grade a folder of submissions: find them, grade each in isolation, report progress."""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.errors import InputError
from helpers.grading.integrity import DELETED, INTACT, CheckCell, inspect, prepare
from helpers.grading.judging import draw_cases, judge, registering_module
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
    """Exercise ``number``: passed or not, what to tell the student, what it is worth.

    ``column`` names it in ``grades.csv``: the exercise's key (``01.paste_batch``), or
    ``<notebook>:<number>`` for an exercise still checked with ``course.check`` (and judged
    inside the kernel)."""

    number: int
    passed: bool
    message: str
    points: int = 1
    column: str = ""

    @property
    def earned(self) -> int:
        return self.points if self.passed else 0


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
    sandboxed: bool = True

    @property
    def score(self) -> int:
        """Points earned."""
        return sum(exercise.earned for exercise in self.exercises)

    @property
    def out_of(self) -> int:
        return sum(exercise.points for exercise in self.exercises)


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
    submission: Submission,
    references: dict[str, Reference],
    course_root: Path,
    limits: Limits,
    sandbox: bool = True,
    seed: int = 0,
) -> Grade:
    """Inspect, run and score one submission.

    Exercises with a key are judged here, outside the kernel, on cases drawn from
    ``seed`` (kept from the students) and the submission's file name."""
    start = time.monotonic()
    inspection = inspect(submission.path, references)
    reference = inspection.reference
    if inspection.problem:
        problem, detail = inspection.problem, inspection.detail
        results = tuple(_result(reference, c.number, False, problem) for c in inspection.checks)
        return Grade(submission, inspection.notebook, results, problem, 0.0, detail, sandbox)
    keyed = [exercise for exercise in reference.exercises if exercise.key is not None]
    file_id = zlib.crc32(str(submission.path).encode())
    cases = {
        e.key: draw_cases(e.key, np.random.default_rng([seed, file_id, e.number])) for e in keyed
    }
    modules, files = {}, set()
    for exercise in keyed:
        modules[exercise.key], file = registering_module(exercise.key)
        files.update([file] if file else [])
    run = run_isolated(
        lambda folder: prepare(inspection, folder, modules),
        course_root,
        limits,
        cases,
        tuple(sorted(files)),
        sandbox,
    )
    by_number = {exercise.number: exercise for exercise in reference.exercises}
    results = []
    for check in inspection.checks:
        scored = _score(check, by_number[check.number], run, cases, inspection.solutions)
        results.append(_result(reference, check.number, *scored))
    problems = []
    if any(check.state != INTACT for check in inspection.checks):
        problems.append("tampered")
    if run.outcome != "finished":
        problems.append(run.outcome)
    elif any(cell["status"] == "timeout" for cell in run.cells.values()):
        problems.append("timeout")
    status = "; ".join(problems) or "ok"
    seconds = time.monotonic() - start
    return Grade(submission, reference.notebook, tuple(results), status, seconds, "", sandbox)


def _result(reference: Reference, number: int, passed: bool, message: str) -> ExerciseResult:
    exercise = next(e for e in reference.exercises if e.number == number)
    column = exercise.key or f"{reference.notebook}:{number}"
    return ExerciseResult(number, passed, message, exercise.points, column)


def _score(
    check: CheckCell, exercise, run: RunResult, cases: dict, solutions: dict[int, str]
) -> tuple[bool, str]:
    if check.state == DELETED:
        return False, "the check cell was deleted: scored 0"
    if check.state != INTACT:
        return False, f"the check cell was {check.state}: scored 0"
    cell = run.cells.get(check.index)
    if cell is None:
        return False, f"the check did not run ({run.outcome})"
    if cell["status"] == "timeout":
        return False, "the check ran past its time limit"
    if exercise.key is not None:
        outcome = run.outcomes.get(exercise.key)
        source = solutions.get(check.number)
        hint = judge(exercise.key, outcome, cases[exercise.key], source)
        return (True, "Correct!") if hint is None else (False, hint)
    if cell["status"] == "ok":
        return True, "Correct!"
    # "AssertionError: Not yet: <hint>" from course.check; any other error as it came
    return False, _NOT_YET.sub("", cell["error"])


def grade_all(
    submissions: list[Submission],
    references: dict[str, Reference],
    course_root: Path,
    limits: Limits,
    jobs: int = 1,
    progress: Callable[[Grade, int], None] | None = None,
    sandbox: bool = True,
    seed: int = 0,
) -> list[Grade]:
    """Grade ``submissions``, ``jobs`` at a time (each in its own process, kernel and
    folder); ``progress(grade, done)`` is called as each one finishes. Returns the grades
    in the order of ``submissions``."""
    grades: dict[int, Grade] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # threads only wait on processes
        futures = {
            pool.submit(
                grade_one, submission, references, course_root, limits, sandbox, seed
            ): position
            for position, submission in enumerate(submissions)
        }
        for future in as_completed(futures):
            grade = future.result()
            grades[futures[future]] = grade
            if progress is not None:
                progress(grade, len(grades))
    return [grades[position] for position in range(len(submissions))]
