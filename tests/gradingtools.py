"""Course notebooks and submissions made up for the grading tests.

``tiny`` checks its two exercises the older way (``course.check`` inside the kernel);
``keyed`` calls ``course.check_exercise`` with the exercises of ``grading_exercises``, so
the grader judges it outside the kernel. Neither imports TensorFlow.
"""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.notebooks import GRADING_KEY

SOLUTIONS = ("answer = 6 * 7\n", "def double(x):\n    return 2 * x\n")
WRONG = ("answer = 41\n", "def double(x):\n    return x\n")


def tiny_key() -> nbformat.NotebookNode:
    """The answer key of a two-exercise notebook with the course notebooks' structure."""
    return new_notebook(
        cells=[
            new_markdown_cell("# Tiny notebook"),
            new_code_cell("from helpers import course"),  # no course.setup(): no TensorFlow
            new_code_cell(
                "# Exercise 1: set `answer` to six times seven.\n" + SOLUTIONS[0],
                metadata={"tags": ["solution"]},
            ),
            new_code_cell('course.check(answer == 42, "multiply 6 by 7")'),
            new_markdown_cell("Now a function."),
            new_code_cell(
                "# Exercise 2: write `double(x)`, twice x.\n" + SOLUTIONS[1],
                metadata={"tags": ["solution"]},
            ),
            new_code_cell('course.check(double(21) == 42 and double(0) == 0, "return 2 * x")'),
        ]
    )


def keyed_key() -> nbformat.NotebookNode:
    """The same two exercises checked with ``course.check_exercise``: exercise 1 is worth
    3 points (the solution cell's metadata), exercise 2 is worth 2 (its registration)."""
    return new_notebook(
        cells=[
            new_markdown_cell("# Keyed notebook"),
            new_code_cell("from helpers import course"),
            new_code_cell(
                "# Exercise 1: set `answer` to six times seven.\n" + SOLUTIONS[0],
                metadata={"tags": ["solution"], "points": 3},
            ),
            new_code_cell('course.check_exercise("99.answer", lambda: answer)'),
            new_code_cell(
                "# Exercise 2: write `double(x)`, twice x.\n" + SOLUTIONS[1],
                metadata={"tags": ["solution"]},
            ),
            new_code_cell('course.check_exercise("99.double", lambda: double)'),
        ]
    )


def solved(copy, *answers: str | None):
    """``copy`` with exercise n's solution cell set to ``answers[n]`` (None: left as is)."""
    notebook = nbformat.from_dict(copy)
    cells = [c for c in notebook.cells if c.metadata.get(GRADING_KEY, {}).get("role") == "solution"]
    for cell, answer in zip(cells, answers, strict=True):
        if answer is not None:
            cell.source = answer
    return notebook


def check_cell(notebook, number: int):
    return next(
        c
        for c in notebook.cells
        if c.metadata.get(GRADING_KEY, {}).get("role") == "check"
        and c.metadata[GRADING_KEY]["exercise"] == number
    )
