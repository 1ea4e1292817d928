"""Two exercises registered for the grading tests only (keys ``99.*``), so that those tests
do not depend on the course's own exercises. The grader copies this file beside the
kernel's ``helpers``, as it does for any exercise module outside the package."""

from __future__ import annotations

import numpy as np

from helpers.exercises import Exercise, register


def _double_cases(rng: np.random.Generator) -> list[dict]:
    return [{"x": int(x)} for x in rng.integers(-1000, 1000, size=5)]


def _double_collect(answer, cases: list[dict]) -> list:
    return [answer(**case) for case in cases]


def _double_judge(data, cases: list[dict], source: str | None) -> str | None:
    got = np.asarray(data, dtype=np.float64)
    if got.shape != (len(cases),):
        return f"return one number per call, got outputs of shape {got.shape}"
    if not np.allclose(got, [2 * case["x"] for case in cases]):
        return "return 2 * x"
    return None


def _answer_judge(data, cases: list[dict], source: str | None) -> str | None:
    return None if isinstance(data, (int, float)) and data == 42 else "multiply 6 by 7"


ANSWER = register(
    Exercise("99.answer", "keyed", "answer", "value", lambda rng: [], lambda a, c: a, _answer_judge)
)
DOUBLE = register(
    Exercise(
        "99.double",
        "keyed",
        "double",
        "function",
        _double_cases,
        _double_collect,
        _double_judge,
        points=2,
    )
)
