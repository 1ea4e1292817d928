"""The course with nbgrader 0.9: ``student --format nbgrader``, then nbgrader's own loop.

nbgrader is installed from PyPI into a folder of its own once per session (skipped, with
the reason, where PyPI cannot be reached), and run on the course's kernel.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from gradingtools import SOLUTIONS, keyed_key, tiny_key
from nbformat.v4 import new_code_cell

from helpers.cli import main
from helpers.notebooks import nbgrader_version

ROOT = Path(__file__).resolve().parents[1]
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def keyed_for_nbgrader() -> nbformat.NotebookNode:
    """``keyed`` with a cell that imports the test's exercises (the kernel needs them)."""
    notebook = keyed_key()
    notebook.cells.insert(2, new_code_cell("import grading_exercises"))
    return notebook


def test_nbgrader_copy_marks_solutions_and_locks_the_rest():
    import grading_exercises  # noqa: F401  registers 99.answer and 99.double (their points)

    copy, count = nbgrader_version(keyed_key(), "keyed")
    assert count == 2 and copy.cells[0].metadata["nbgrader"]["locked"]
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in copy.cells if "nbgrader" in c.metadata}
    solution = by_id["keyed-solution-1"]
    assert solution.source == (
        "# Exercise 1: set `answer` to six times seven.\n"
        "### BEGIN SOLUTION\nanswer = 6 * 7\n### END SOLUTION\n"
    )
    check = by_id["keyed-check-2"].metadata["nbgrader"]
    assert check["grade"] and check["locked"] and check["points"] == 2  # its registration
    assert by_id["keyed-check-1"].metadata["nbgrader"]["points"] == 3
    assert by_id["keyed-check-1"].source.startswith("if not course.check_exercise(")
    assert by_id["keyed-text-0"].metadata["nbgrader"]["locked"]
    assert tiny_key().cells[3].source in nbgrader_version(tiny_key(), "tiny")[0].cells[4].source


@pytest.fixture(scope="session")
def nbgrader_site(tmp_path_factory) -> Path:
    """nbgrader 0.9 and what it needs, installed with pip into a folder of its own."""
    site = tmp_path_factory.mktemp("nbgrader") / "site"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(site)]
    try:
        done = subprocess.run(
            [*command, "nbgrader>=0.9,<0.10"], capture_output=True, text=True, timeout=900
        )
    except subprocess.TimeoutExpired:
        pytest.skip("installing nbgrader from PyPI took over 15 minutes")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"cannot install nbgrader from PyPI (unreachable?): {last}")
    return site


def _nbgrader(site: Path, course: Path, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(site), "LOCALIZER_QUICK": "1"}
    env["PATH"] = f"{site / 'bin'}{os.pathsep}{env['PATH']}"  # nbgrader runs alembic
    command = [sys.executable, "-m", "nbgrader", *args]
    done = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def test_nbgrader_releases_no_answer_and_autogrades_solved_and_empty(nbgrader_site, tmp_path):
    import grading_exercises  # noqa: F401  registers 99.answer and 99.double (their points)

    key, course = tmp_path / "key", tmp_path / "course"
    key.mkdir()
    nbformat.write(keyed_for_nbgrader(), key / "keyed.ipynb")
    nbformat.write(tiny_key(), key / "tiny.ipynb")
    source = course / "source" / "hw"
    assert main(["student", str(key), "--out", str(source), "--format", "nbgrader"]) == 0
    shutil.copytree(ROOT / "helpers", course / "helpers")  # found by the setup cell
    shutil.copy(Path(__file__).with_name("grading_exercises.py"), course)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.course_id = 'localization'\n"
    )
    _nbgrader(nbgrader_site, course, "generate_assignment", "hw", "--force")

    released = {path.name: path.read_text() for path in (course / "release" / "hw").glob("*.ipynb")}
    assert sorted(released) == ["keyed.ipynb", "tiny.ipynb"]
    for text in released.values():
        sources = "".join(cell.source for cell in nbformat.reads(text, as_version=4).cells)
        assert not any(answer in sources for answer in SOLUTIONS), "an answer was released"
        assert "BEGIN SOLUTION" not in sources
    for student, answers in (("solved", SOLUTIONS), ("empty", None)):
        folder = course / "submitted" / student / "hw"
        folder.mkdir(parents=True)
        for name, text in released.items():
            notebook = nbformat.reads(text, as_version=4)
            stubs = [c for c in notebook.cells if STUB in c.source]
            assert len(stubs) == 2
            for cell, answer in zip(stubs, answers or [None, None], strict=True):
                cell.source = cell.source.replace(STUB, answer) if answer else cell.source
            nbformat.write(notebook, folder / name)
    _nbgrader(nbgrader_site, course, "autograde", "hw", "--force")
    _nbgrader(nbgrader_site, course, "export", "--to", str(tmp_path / "grades.csv"))

    with (tmp_path / "grades.csv").open() as file:
        scores = {row["student_id"]: row for row in csv.DictReader(file)}
    assert float(scores["solved"]["max_score"]) == 3 + 2 + 1 + 1
    assert float(scores["solved"]["raw_score"]) == 7.0
    assert float(scores["empty"]["raw_score"]) == 0.0
