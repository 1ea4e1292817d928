"""Grading submitted notebooks: synthetic submissions made here from a student copy.

The slow cases run one kernel each, on a tiny course notebook made for the purpose (a
setup cell, two exercises with solution-tagged cells, check cells calling
helpers.course), graded in one batch with two jobs.
"""

import csv
import json
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.cli import main
from helpers.errors import InputError
from helpers.grading import Limits, grade_folder
from helpers.grading.batch import find_submissions
from helpers.grading.integrity import CHANGED, DELETED, INTACT, MOVED, inspect
from helpers.grading.reference import load_references
from helpers.grading.sandbox import run_isolated
from helpers.notebooks import CHECK_TAG, GRADING_KEY, checksum, student_version

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ("answer = 6 * 7\n", "def double(x):\n    return 2 * x\n")
WRONG = ("answer = 41\n", "def double(x):\n    return x\n")


def tiny_key() -> nbformat.NotebookNode:
    """The answer key of a two-exercise notebook with the course notebooks' structure."""
    return new_notebook(
        cells=[
            new_markdown_cell("# Tiny notebook"),
            new_code_cell("from helpers import course\n\ncourse.setup()"),
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


@pytest.fixture
def course(tmp_path):
    """An answer-key folder holding ``tiny.ipynb``, and the student copy made from it."""
    key = tmp_path / "key"
    key.mkdir()
    nbformat.write(tiny_key(), key / "tiny.ipynb")
    copy, _ = student_version(tiny_key(), "tiny")
    return key, copy


def test_student_copy_carries_ids_and_checksums():
    copy, stubbed = student_version(tiny_key(), "tiny")
    assert stubbed == 2 and copy.metadata[GRADING_KEY] == {"notebook": "tiny", "exercises": 2}
    for number in (1, 2):
        check = check_cell(copy, number)
        assert CHECK_TAG in check.metadata["tags"]
        assert check.metadata[GRADING_KEY]["checksum"] == checksum(check.source)
        assert "course.check(" in check.source
    solutions = [c for c in copy.cells if "solution" in c.metadata.get("tags", [])]
    assert [c.metadata[GRADING_KEY]["exercise"] for c in solutions] == [1, 2]
    assert all(c.source.endswith("# YOUR CODE HERE\n") for c in solutions)
    assert "6 * 7" in tiny_key().cells[2].source, "the answer key is left untouched"


def test_integrity_finds_changed_moved_and_deleted_checks(course, tmp_path):
    key, copy = course
    references = load_references(key)
    path = tmp_path / "sub.ipynb"

    def states(notebook):
        nbformat.write(notebook, path)
        found = inspect(path, references)
        return found.notebook, [check.state for check in found.checks]

    assert states(copy) == ("tiny", [INTACT, INTACT])
    changed = nbformat.from_dict(copy)
    check_cell(changed, 1).source = 'course.check(True, "multiply 6 by 7")'
    assert states(changed)[1] == [CHANGED, INTACT]
    silenced = nbformat.from_dict(copy)
    check_cell(silenced, 2).cell_type = "raw"
    del check_cell(silenced, 2)["outputs"], check_cell(silenced, 2)["execution_count"]
    assert states(silenced)[1] == [INTACT, CHANGED]
    moved = nbformat.from_dict(copy)
    cell = check_cell(moved, 2)
    moved.cells.remove(cell)
    moved.cells.insert(1, cell)  # before its own solution cell
    assert states(moved)[1] == [INTACT, MOVED]
    deleted = nbformat.from_dict(copy)
    deleted.cells.remove(check_cell(deleted, 1))
    assert states(deleted)[1] == [DELETED, INTACT]
    extra = nbformat.from_dict(copy)
    extra.cells.insert(3, new_code_cell("print('my own cell')"))  # between solution and check
    assert states(extra)[1] == [INTACT, INTACT]
    stripped = nbformat.from_dict(copy)  # an editor that drops cell metadata
    stripped.metadata, stripped.cells = {}, [new_code_cell(c.source) for c in copy.cells]
    assert states(stripped) == ("tiny", [INTACT, INTACT])


def test_finds_flat_and_per_student_submissions(tmp_path):
    (tmp_path / "alice.ipynb").write_text("{}")
    (tmp_path / "bob" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "bob" / "hw.ipynb").write_text("{}")
    (tmp_path / "bob" / ".ipynb_checkpoints" / "hw-checkpoint.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("not a submission")
    found = [(s.student, s.path.name) for s in find_submissions(tmp_path)]
    assert found == [("alice", "alice.ipynb"), ("bob", "hw.ipynb")]
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no .ipynb"):
        find_submissions(tmp_path / "empty")


@pytest.mark.parametrize("folder", ["empty", "missing"])
def test_empty_or_missing_folder_exits_2_with_one_line(tmp_path, capsys, folder):
    (tmp_path / "empty").mkdir()
    assert main(["grade", str(tmp_path / folder), "--out", str(tmp_path / "grades")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1
    assert not (tmp_path / "grades").exists()


def test_grades_a_batch_of_synthetic_submissions(course, tmp_path, monkeypatch):
    key, copy = course
    folder = tmp_path / "submissions"
    folder.mkdir()
    tampered = solved(copy, WRONG[0], SOLUTIONS[1])
    check_cell(tampered, 1).source = 'course.check(True, "multiply 6 by 7")'
    chaos = solved(
        copy,
        # empties its working folder, then writes a file over the size limit
        "import os\nfor name in os.listdir('.'):\n    os.remove(name)\n"
        "open('big.bin', 'wb').write(bytes(2 << 20))\nanswer = 42\n",
        SOLUTIONS[1] + "import sys\n\nsys.exit()\n",
    )
    chaos.cells.insert(2, new_code_cell("import no_such_module_anywhere"))
    chaos.cells.append(new_code_cell("import os\n\nos._exit(1)"))  # ends its own kernel
    submissions = {
        "all_correct": solved(copy, *SOLUTIONS),
        "all_empty": copy,
        "half_right": solved(copy, SOLUTIONS[0], WRONG[1]),
        "tampered": tampered,
        "endless": solved(copy, "while True:\n    pass\n", SOLUTIONS[1]),
        "prints_correct": solved(copy, 'print("Correct!")\n', 'print("Correct!")\n'),
        "redefines_check": solved(
            copy, "course.check = lambda condition, hint: print('Correct!')\n", None
        ),
        "chaos": chaos,
        "other_course": new_notebook(cells=[new_code_cell("print('hello')")]),
        "no_exercises": nbformat.from_dict({**copy, "cells": copy.cells[:2]}),
    }
    for name, notebook in submissions.items():
        nbformat.write(notebook, folder / f"{name}.ipynb")
    (folder / "broken_json.ipynb").write_text('{"cells": [')
    (folder / "json_not_notebook.ipynb").write_text('{"cells": 3}')
    lines = []
    limits = Limits(cell_seconds=45, notebook_seconds=300, max_file_bytes=1 << 20)
    # Every run's temporary folder inside this test's own, so that the processes of this
    # run (their command lines name it) can be told from other grading runs on the machine.
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(runs))
    grade_folder(folder, tmp_path / "grades", key, ROOT, limits, jobs=2, echo=lines.append)

    with (tmp_path / "grades" / "grades.csv").open() as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    table = {name: (row["ex1"], row["ex2"], row["status"]) for name, row in rows.items()}
    assert table == {
        "all_correct": ("1", "1", "ok"),
        "all_empty": ("0", "0", "ok"),
        "broken_json": ("", "", "not a notebook"),
        "chaos": ("0", "1", "kernel died"),
        "endless": ("0", "1", "timeout"),
        "half_right": ("1", "0", "ok"),
        "json_not_notebook": ("", "", "not a notebook"),
        "no_exercises": ("0", "0", "no exercises"),
        "other_course": ("", "", "not a notebook of this course"),
        "prints_correct": ("0", "0", "ok"),
        "redefines_check": ("0", "0", "ok"),
        "tampered": ("0", "1", "tampered"),
    }
    assert rows["all_correct"]["total"] == "2" and rows["all_correct"]["out_of"] == "2"
    assert len(lines) == 12 and all(line.startswith("[") for line in lines)
    assert lines[-1].startswith("[" + "#" * 20 + "] 12/12")
    half = (tmp_path / "grades" / "feedback" / "half_right" / "half_right.md").read_text()
    assert "| 1 | pass | Correct! |" in half and "| 2 | fail | Not yet: return 2 * x |" in half
    tampered_feedback = (tmp_path / "grades" / "feedback" / "tampered" / "tampered.md").read_text()
    assert "the check cell was changed" in tampered_feedback
    assert not list(ROOT.glob("big.bin")), "nothing ran in the checkout"
    # runners and kernels carry their temporary folder's name on their command lines
    assert _command_lines_naming(runs) == [], "no runner or kernel outlives its run"


def _command_lines_naming(folder: Path) -> list[str]:
    """Command lines of the machine's processes that name ``folder`` (read from /proc)."""
    found = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = path.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended while we looked
            continue
        if str(folder) in command:
            found.append(command)
    return found


def test_cli_prints_a_summary_table_and_a_json_line(course, tmp_path, capsys):
    key, _ = course
    folder = tmp_path / "submissions" / "zoe"  # one sub-folder per student
    folder.mkdir(parents=True)
    (folder / "homework.ipynb").write_text("not JSON at all")
    out = tmp_path / "grades"
    assert main(["grade", str(folder.parent), "--out", str(out), "--source", str(key)]) == 0
    printed = capsys.readouterr()
    table, summary = printed.out.strip().rsplit("\n", 1)
    assert table.splitlines()[0].split() == ["student", "notebook", "exercises", "score", "status"]
    row = ["zoe", "homework.ipynb", "-", "0/0", "not", "a", "notebook"]
    assert table.splitlines()[2].split() == row
    assert json.loads(summary)["submissions"] == 1
    assert "1/1  zoe  homework.ipynb  0/0" in printed.err
    feedback = (out / "feedback" / "zoe" / "homework.md").read_text()
    assert "Not graded: not a notebook." in feedback and "homework.ipynb is not a valid" in feedback
    assert str(tmp_path) not in feedback, "no instructor's paths in a student's feedback"


def test_a_notebook_out_of_time_stops_and_leaves_later_cells_unrun():
    notebook = new_notebook(
        cells=[new_code_cell("x = 1"), new_code_cell("while True:\n    pass"), new_code_cell("y")]
    )
    limits = Limits(cell_seconds=120, notebook_seconds=8)
    run = run_isolated(notebook, ROOT, limits)
    assert run.outcome == "timeout" and 8 <= run.seconds < 60
    assert run.cells == {
        0: {"status": "ok", "error": ""},
        1: {"status": "timeout", "error": "CellTimeout: the cell ran past its time limit"},
    }
