"""Grading a folder of submitted notebooks: ``python -m helpers grade SUBMISSIONS --out DIR``.

Modules, one job each:

* :mod:`helpers.grading.reference` - what each course notebook's check cells must be
* :mod:`helpers.grading.integrity` - which notebook a submission is; are its checks intact?
  and the notebook to run, its check cells replaced
* :mod:`helpers.grading.sandbox` - run a submission in bubblewrap, its own folder and kernel
* :mod:`helpers.grading.runner` - the script that process runs (nbclient, no TensorFlow)
* :mod:`helpers.grading.collect` - the kernel's side of an exercise: outputs, no judgement
* :mod:`helpers.grading.plain` - plain data in and out of the kernel (``.npz``, no pickle)
* :mod:`helpers.grading.judging` - the grader's side: secret cases, judged with its helpers
* :mod:`helpers.grading.batch` - find submissions, grade them in parallel, score exercises
* :mod:`helpers.grading.report` - ``grades.csv``, ``grades.json``, feedback, summary, progress
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from helpers.errors import InputError
from helpers.grading.batch import Grade, find_submissions, grade_all
from helpers.grading.reference import load_references
from helpers.grading.report import (
    progress_line,
    read_json,
    summary_table,
    write_csv,
    write_feedback,
    write_json,
)
from helpers.grading.sandbox import Limits, sandbox_problem

__all__ = ["Grade", "Limits", "grade_folder", "summary_table"]


def grade_folder(
    submissions: Path,
    out: Path,
    source: Path,
    course_root: Path,
    limits: Limits | None = None,
    jobs: int = 1,
    echo: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    sandbox: bool = True,
    only: str | None = None,
    seed: int | None = None,
) -> list[Grade]:
    """Grade every notebook under ``submissions`` against the answer key in ``source``.

    Writes ``out/grades.csv`` (the gradebook), ``out/grades.json`` (every submission in
    full) and ``out/feedback/<student>/<file>.md``, calls ``echo`` with one progress line
    per finished submission, and returns the grades in file order.

    Args:
        course_root: the folder that holds :mod:`helpers` (copied for every run).
        sandbox: run each submission inside bubblewrap (:mod:`helpers.grading.sandbox`).
        only: regrade this student's submissions alone and update their row in the
            earlier grades in ``out``.
        seed: the seed the exercises' cases are drawn from; None draws a secret one.

    Raises:
        InputError: the sandbox cannot start here (the message says why and how to fix
            it); no submissions; ``only`` names no student of the folder.
    """
    if sandbox and (problem := sandbox_problem()) is not None:
        raise InputError(problem)
    found = find_submissions(submissions)
    earlier: list[Grade] = []
    if only is not None:
        earlier = read_json(out / "grades.json")
        found = [submission for submission in found if submission.student == only]
        if not found:
            raise InputError(f"--only: no submission of {only!r} in {submissions}")
    references = load_references(source)
    out.mkdir(parents=True, exist_ok=True)

    def progress(grade: Grade, done: int) -> None:
        write_feedback(grade, out / "feedback")
        echo(progress_line(grade, done, len(found)))

    seed = secrets.randbits(63) if seed is None else seed
    limits = limits or Limits()
    grades = grade_all(found, references, course_root, limits, jobs, progress, sandbox, seed)
    if only is not None:
        grades = _replace_student(earlier, grades, only)
    write_csv(grades, out / "grades.csv")
    write_json(grades, out / "grades.json")
    return grades


def _replace_student(earlier: list[Grade], new: list[Grade], student: str) -> list[Grade]:
    """``earlier`` with ``student``'s grades replaced by ``new``, where the old ones stood."""
    kept = [grade for grade in earlier if grade.submission.student != student]
    positions = [i for i, grade in enumerate(earlier) if grade.submission.student == student]
    at = positions[0] if positions else len(kept)
    return kept[:at] + new + kept[at:]
