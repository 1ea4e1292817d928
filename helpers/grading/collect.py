"""The kernel's side of a graded exercise: run the student's answer on the grader's cases.

``python -m helpers grade`` replaces every ``course.check_exercise(KEY, lambda: answer)``
check cell of a submission with a call to :func:`collect_exercise`. It reads the cases
the grader wrote into the work folder, runs :attr:`Exercise.collect
<helpers.exercises.Exercise.collect>` on the student's answer, and writes the plain
outcome next to them. It judges nothing: whatever this module (or anything else in the
kernel) is made to write, the grader judges the data itself, with its own copy of
:mod:`helpers` (see :mod:`helpers.grading.judging`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.grading import plain

#: The work folder's sub-folder for cases (written by the grader) and outcomes (by the kernel).
FOLDER = ".grading"


def cases_path(folder: Path, key: str) -> Path:
    """Where the grader writes exercise ``key``'s cases inside the work ``folder``."""
    return Path(folder) / FOLDER / f"{key}.cases.npz"


def outcome_path(folder: Path, key: str) -> Path:
    """Where the kernel writes exercise ``key``'s outcome inside the work ``folder``."""
    return Path(folder) / FOLDER / f"{key}.outcome.npz"


def collect_exercise(key: str, module: str, folder: str, get_answer: Callable[[], Any]) -> None:
    """Run the answer to exercise ``key`` on its cases and write the outcome.

    Args:
        key: the exercise, e.g. ``"01.paste_batch"``.
        module: the module that registers it (imported here, as the grader did).
        folder: the work folder (absolute), which holds :data:`FOLDER`.
        get_answer: ``lambda: answer``, taken from the check cell as handed out.

    The outcome is ``{"status": "ok" | "undefined" | "not callable" | "raised",
    "message": str, "data": plain data}``. Prints one line for the student's record.
    """
    from helpers import exercises
    from helpers.exercises import student_code

    importlib.import_module(module)
    exercise = exercises.get(key)
    cases = plain.load(cases_path(Path(folder), key))
    outcome: dict[str, Any] = {"status": "ok", "message": "", "data": None}
    try:
        answer = get_answer()
    except NameError as error:
        outcome.update(status="undefined", message=str(error))
    else:
        if exercise.kind == "function" and not callable(answer):
            outcome.update(status="not callable", message=type(answer).__name__)
        else:
            try:
                outcome["data"] = student_code.to_plain(exercise.collect(answer, cases))
            except Exception as error:  # any error in the student's code means "not yet"
                outcome.update(status="raised", message=f"{type(error).__name__}: {error}")
    plain.dump(outcome, outcome_path(Path(folder), key))
    print(f"Handed to the grader: {key}")
