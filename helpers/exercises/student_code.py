"""Running and reading a student's answer, for the exercise modules of notebooks 04 and 05.

``collect_calls`` and ``collect_value`` are ``collect`` steps (they run in the kernel and
return plain data only); ``called_names`` and ``as_array`` help a ``judge``.
"""

from __future__ import annotations

import ast
import textwrap
from typing import Any

import numpy as np

from helpers.exercises import Plain, to_plain


def collect_calls(answer: Any, cases: list[dict[str, Plain]]) -> list[Plain]:
    """``answer(**case)`` for every case, as plain data.

    A case whose call raises gives ``{"error": "<type>: <message>"}`` instead, so that a
    judge can say on which inputs the function crashed. Nothing is computed here beyond the
    student's own calls.
    """
    results = []
    for case in cases:
        try:
            results.append(to_plain(answer(**case)))
        except Exception as error:  # the student's code: any error is reported, per case
            results.append({"error": f"{type(error).__name__}: {error}"})
    return results


def collect_value(answer: Any, cases: list[dict[str, Plain]]) -> Plain:
    """A value exercise: the student's value as plain data (there are no cases to run)."""
    return to_plain(answer)


def called_names(source: str | None) -> set[str]:
    """Names of the functions called in ``source``: ``f(...)`` and ``a.b.f(...)`` give ``f``.

    Empty when ``source`` is ``None`` or does not parse (the judge then cannot tell).
    """
    if not source:
        return set()
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
            elif isinstance(node.func, ast.Name):
                names.add(node.func.id)
    return names


def as_array(value: Plain) -> np.ndarray | None:
    """``value`` as a float64 array; ``None`` for an error record or anything not numbers."""
    if isinstance(value, dict):
        return None
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
