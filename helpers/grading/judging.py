"""The grader's side of an exercise judged outside the kernel: draw its cases, judge what
came back.

Everything here runs in the grading process, with its own import of :mod:`helpers`: the
kernel's copy, whatever the submission did to it, only ever produced plain data.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from helpers import exercises
from helpers.errors import InputError
from helpers.exercises import Exercise

#: How much of a message from the kernel (the student's own exception) goes into feedback.
_MESSAGE_CHARS = 300


def draw_cases(key: str, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Exercise ``key``'s cases, drawn from the grader's ``rng`` (a seed the kernel never sees)."""
    return exercises.get(key).make_cases(rng)


def registering_module(key: str) -> tuple[str, Path | None]:
    """The module that registers exercise ``key`` and, when it lies outside :mod:`helpers`,
    its file (copied beside the kernel's :mod:`helpers`, so that the kernel can import it).

    Raises:
        InputError: the module is a package's submodule outside :mod:`helpers`.
    """
    name = exercises.get(key).collect.__module__
    if name == "helpers" or name.startswith("helpers."):
        return name, None
    if "." in name:
        raise InputError(f"exercise {key!r}: its module {name} must be top-level or in helpers")
    return name, Path(sys.modules[name].__file__)


def judge(key: str, outcome: Any, cases: list[dict[str, Any]], source: str | None) -> str | None:
    """``None`` when the outcome the kernel wrote for exercise ``key`` is right, else what
    to tell the student (starting "Not yet:" when the answer was judged).

    Args:
        key: the exercise.
        outcome: what :func:`helpers.grading.collect.collect_exercise` wrote (plain data,
            untrusted), or the :class:`InputError` met reading it.
        cases: the cases the grader drew.
        source: the student's solution cell as handed in (None: deleted).
    """
    exercise = exercises.get(key)
    if isinstance(outcome, InputError):
        return "the check did not hand back an answer (its cell did not run to the end)"
    if not isinstance(outcome, dict) or not isinstance(outcome.get("status"), str):
        return "the check handed back something that is not an outcome: scored 0"
    status, message = outcome["status"], _short(outcome.get("message"))
    if status == "undefined":
        return f"Not yet: define `{exercise.answer}` in the cell above and run it"
    if status == "not callable":
        return f"Not yet: `{exercise.answer}` should be a function, got {message}"
    if status == "raised":
        return f"Not yet: calling `{exercise.answer}` raised {message}"
    if status != "ok":
        return "the check handed back something that is not an outcome: scored 0"
    if source is None or not defines(source, exercise.answer):
        return f"Not yet: define `{exercise.answer}` in the exercise's own solution cell"
    return _judged(exercise, outcome.get("data"), cases, source)


def _judged(exercise: Exercise, data: Any, cases: list, source: str) -> str | None:
    try:
        hint = exercise.judge(data, cases, source)
    except Exception as error:  # data from the kernel: any form at all, judged wrong
        return f"Not yet: `{exercise.answer}` returned outputs of the wrong form ({error})"
    return None if hint is None else f"Not yet: {hint}"


def defines(source: str, name: str) -> bool:
    """True when the code ``source`` binds ``name``: assigns it, defines it, imports it."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: fall back to the text
        return re.search(rf"^\s*(def\s+{name}\b|{name}\s*=)", source, re.MULTILINE) is not None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == name:
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == name:
                return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((alias.asname or alias.name) == name for alias in node.names):
                return True
    return False


def _short(message: Any) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= _MESSAGE_CHARS else text[:_MESSAGE_CHARS] + "..."
