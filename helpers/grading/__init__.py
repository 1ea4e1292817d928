"""Grading a folder of submitted notebooks: ``python -m helpers grade SUBMISSIONS --out DIR``.

Modules, one job each:

* :mod:`helpers.grading.reference` - what each course notebook's check cells must be
* :mod:`helpers.grading.integrity` - which notebook a submission is; are its checks intact?
* :mod:`helpers.grading.sandbox` - run a submission in its own process, folder and kernel
* :mod:`helpers.grading.runner` - the script that process runs (nbclient, no TensorFlow)
* :mod:`helpers.grading.batch` - find submissions, grade them in parallel, score exercises
* :mod:`helpers.grading.report` - ``grades.csv``, feedback files, summary and progress
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from helpers.grading.batch import Grade, find_submissions, grade_all
from helpers.grading.reference import load_references
from helpers.grading.report import progress_line, summary_table, write_csv, write_feedback
from helpers.grading.sandbox import Limits

__all__ = ["Grade", "Limits", "grade_folder", "summary_table"]


def grade_folder(
    submissions: Path,
    out: Path,
    source: Path,
    course_root: Path,
    limits: Limits | None = None,
    jobs: int = 1,
    echo: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> list[Grade]:
    """Grade every notebook under ``submissions`` against the answer key in ``source``.

    Writes ``out/grades.csv`` and ``out/feedback/<student>/<file>.md``, calls ``echo``
    with one progress line per finished submission, and returns the grades in file order.
    ``course_root`` is the folder that holds :mod:`helpers` (copied for every run).
    """
    found = find_submissions(submissions)
    references = load_references(source)
    out.mkdir(parents=True, exist_ok=True)

    def progress(grade: Grade, done: int) -> None:
        write_feedback(grade, out / "feedback")
        echo(progress_line(grade, done, len(found)))

    grades = grade_all(found, references, course_root, limits or Limits(), jobs, progress)
    write_csv(grades, out / "grades.csv")
    return grades
