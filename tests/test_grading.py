"""Grading submitted notebooks: student copies, integrity, plain data, the command line.

The attacks on a grade, in the sandbox, are in ``test_grading_sandbox.py``.
"""

import csv
import json
from pathlib import Path

import nbformat
import numpy as np
import pytest
from gradingtools import SOLUTIONS, WRONG, check_cell, keyed_key, solved, tiny_key
from nbformat.v4 import new_code_cell, new_notebook

from helpers.cli import main
from helpers.errors import InputError
from helpers.grading import Limits, plain, sandbox
from helpers.grading.batch import find_submissions
from helpers.grading.integrity import CHANGED, DELETED, INTACT, MOVED, inspect
from helpers.grading.judging import defines
from helpers.grading.reference import load_references
from helpers.grading.sandbox import run_isolated
from helpers.notebooks import CHECK_TAG, GRADING_KEY, checksum, student_version

ROOT = Path(__file__).resolve().parents[1]


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


def test_references_name_exercises_judged_outside_and_their_points(tmp_path):
    import grading_exercises  # noqa: F401  registers 99.answer and 99.double

    nbformat.write(keyed_key(), tmp_path / "keyed.ipynb")
    nbformat.write(tiny_key(), tmp_path / "tiny.ipynb")
    references = load_references(tmp_path)
    keyed = [(e.key, e.get_answer, e.points) for e in references["keyed"].exercises]
    # exercise 1's points come from its solution cell, exercise 2's from its registration
    assert keyed == [("99.answer", "lambda: answer", 3), ("99.double", "lambda: double", 2)]
    assert [(e.key, e.points) for e in references["tiny"].exercises] == [(None, 1), (None, 1)]
    bad = keyed_key()
    bad.cells[2].metadata["points"] = -1
    with pytest.raises(InputError, match="points must be a whole number"):
        student_version(bad, "keyed")


def test_plain_data_round_trips_without_pickle(tmp_path):
    value = {"boxes": np.arange(8.0).reshape(2, 4), "names": ["a", None], "n": np.int64(3)}
    plain.dump(value, tmp_path / "x.npz")
    back = plain.load(tmp_path / "x.npz")
    assert back["names"] == ["a", None] and back["n"] == 3
    np.testing.assert_array_equal(back["boxes"], value["boxes"])
    with pytest.raises(InputError, match="array of Python objects"):
        plain.dump(np.array([object()]), tmp_path / "y.npz")
    with pytest.raises(InputError, match="plain data"):
        plain.dump({"f": len}, tmp_path / "y.npz")
    np.save(tmp_path / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="not a plain-data file"):
        plain.load(tmp_path / "pickled.npy")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def double(x):\n    return 2 * x\n", True),
        ("double = lambda x: 2 * x\n", True),
        ("from operator import mul as double\n", True),
        ("# YOUR CODE HERE\n", False),
        ("print(double)\n", False),
        ("%time\ndouble = 1\n", True),  # IPython magic: read as text
    ],
)
def test_an_answer_must_be_defined_in_its_own_cell(source, expected):
    assert defines(source, "double") is expected


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
    # without metadata, an exercise's solution is the code cell above its check
    solutions = inspect(path, references).solutions
    assert solutions == {n: c.source for n, c in ((1, copy.cells[2]), (2, copy.cells[5]))}


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


def test_cli_prints_a_summary_table_and_a_json_line(course, tmp_path, capsys):
    key, _ = course
    folder = tmp_path / "submissions" / "zoe"  # one sub-folder per student
    folder.mkdir(parents=True)
    (folder / "homework.ipynb").write_text("not JSON at all")
    out = tmp_path / "grades"
    command = ["grade", str(folder.parent), "--out", str(out), "--source", str(key)]
    assert main([*command, "--no-sandbox"]) == 0  # no kernel starts: nothing to sandbox
    printed = capsys.readouterr()
    table, summary = printed.out.strip().rsplit("\n", 1)
    table, warning = table.rsplit("\n", 1)
    assert warning.startswith("UNSANDBOXED")
    assert table.splitlines()[0].split() == ["student", "notebook", "exercises", "score", "status"]
    row = ["zoe", "homework.ipynb", "-", "0/0", "not", "a", "notebook"]
    assert table.splitlines()[2].split() == row
    assert json.loads(summary)["submissions"] == 1 and json.loads(summary)["sandboxed"] is False
    assert "1/1  zoe  homework.ipynb  0/0" in printed.err
    feedback = (out / "feedback" / "zoe" / "homework.md").read_text()
    assert "Not graded: not a notebook." in feedback and "homework.ipynb is not a valid" in feedback
    assert str(tmp_path) not in feedback, "no instructor's paths in a student's feedback"


def test_a_notebook_out_of_time_stops_and_leaves_later_cells_unrun():
    notebook = new_notebook(
        cells=[new_code_cell("x = 1"), new_code_cell("while True:\n    pass"), new_code_cell("y")]
    )
    limits = Limits(cell_seconds=120, notebook_seconds=8)
    run = run_isolated(lambda folder: notebook, ROOT, limits, sandbox=False)
    assert run.outcome == "timeout" and 8 <= run.seconds < 60
    assert run.cells == {
        0: {"status": "ok", "error": ""},
        1: {"status": "timeout", "error": "CellTimeout: the cell ran past its time limit"},
    }


@pytest.mark.parametrize("bwrap", ["no-such-bwrap", "false"])
def test_grade_refuses_without_a_working_sandbox(course, tmp_path, capsys, monkeypatch, bwrap):
    key, copy = course
    nbformat.write(copy, tmp_path / "alice.ipynb")
    monkeypatch.setattr(sandbox, "BWRAP", bwrap)  # missing, or one that cannot start
    out = tmp_path / "grades"
    assert main(["grade", str(tmp_path / "alice.ipynb"), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1
    assert "--no-sandbox" in error and not out.exists()
    assert ("not installed" if bwrap == "no-such-bwrap" else "cannot start") in error


def test_no_sandbox_grades_and_only_regrades_one_student(tmp_path, capsys, monkeypatch):
    import grading_exercises  # noqa: F401  registers 99.answer and 99.double

    monkeypatch.setattr(sandbox, "BWRAP", "no-such-bwrap")  # --no-sandbox never looks
    key = tmp_path / "key"
    key.mkdir()
    nbformat.write(keyed_key(), key / "keyed.ipynb")
    copy, _ = student_version(keyed_key(), "keyed")
    folder = tmp_path / "submissions"
    folder.mkdir()
    nbformat.write(solved(copy, SOLUTIONS[0], WRONG[1]), folder / "alice.ipynb")
    nbformat.write(copy, folder / "bob.ipynb")
    out = tmp_path / "grades"
    command = ["grade", str(folder), "--out", str(out), "--source", str(key), "--no-sandbox"]

    def rows():
        with (out / "grades.csv").open() as file:
            return {row["student"]: row for row in csv.DictReader(file)}

    assert main(command) == 0
    first = rows()
    assert list(first["alice"]) == [
        "student", "99.answer", "99.double", "total", "out_of", "percentage", "status", "sandboxed"
    ]  # fmt: skip
    assert [first["alice"][k] for k in ("99.answer", "99.double", "total", "percentage")] == [
        "3", "0", "3", "60.0"
    ]  # fmt: skip
    assert first["bob"]["total"] == "0" and first["bob"]["sandboxed"] == "no"
    assert "UNSANDBOXED" in capsys.readouterr().out
    nbformat.write(solved(copy, *SOLUTIONS), folder / "bob.ipynb")  # bob hands in again
    (folder / "alice.ipynb").write_text("alice's file is not read again")
    assert main([*command, "--only", "bob"]) == 0
    second = rows()
    assert second["alice"] == first["alice"]
    assert [second["bob"][k] for k in ("99.answer", "99.double", "total", "out_of")] == [
        "3", "2", "5", "5"
    ]  # fmt: skip
    assert main([*command, "--only", "carol"]) == 2
    assert "no submission of 'carol'" in capsys.readouterr().err
