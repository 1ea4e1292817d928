"""Homework copies hold no answer, and run top to bottom with every stub left empty.

Each student copy is executed once, in quick mode, with errors allowed, up to its last
check cell. After each check cell the test inserts a probe that runs the original
solution and its check in a *copy* of the kernel's namespace (so later cells still see
an unsolved notebook), and reports the solution's values. The test then asks:

* with the stubs empty, does every check cell fail with its hint, and nothing else fail?
* does the solution still pass its check in the student copy?
* do the check cells and the task comments stay free of the answer's numbers?

The cells after the last exercise are the answer key's own (nbval runs them); that no
cell uses a name only a solution defines is checked on the source, which is cheaper.
"""

import ast
import io
import json
import re
import tokenize
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from helpers.notebooks import SOLUTION_TAG, STUB, student_version

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
PROBE_MARK = "PROBE-RESULT "

# Runs in the kernel after a check cell; {solution} and {check} are the cells' sources.
PROBE = '''
import contextlib as _contextlib, io as _io, json as _json
_namespace = dict(globals())
_out = _io.StringIO()
with _contextlib.redirect_stdout(_out):
    exec(compile({solution!r}, "<solution>", "exec"), _namespace)
    exec(compile({check!r}, "<check>", "exec"), _namespace)


def _numbers(value):
    """The numbers an answer is judged by: scalars, short arrays, a model's size."""
    if hasattr(value, "count_params"):
        return [float(value.count_params())]
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return []
    return array.ravel().tolist() if 0 < array.size <= 16 else []


print({mark!r} + _json.dumps(
    {{
        "passes": "Correct!" in _out.getvalue(),
        "numbers": {{name: _numbers(_namespace.get(name)) for name in {names!r}}},
    }}
))
'''


def assigned_names(source: str) -> list[str]:
    """Names a solution assigns at top level (its answers and their intermediate values)."""
    names = []
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name):
                    names.append(leaf.id)
    return names


def defined_names(source: str) -> set[str]:
    """Names a cell binds at top level: assignments, functions, classes, imports."""
    names = set(assigned_names(source))
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def used_names(source: str) -> set[str]:
    """Names a cell reads without binding them itself (loop variables are its own)."""
    names = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)]
    bound = {node.id for node in names if isinstance(node.ctx, ast.Store)}
    return {node.id for node in names if isinstance(node.ctx, ast.Load)} - bound


def code_numbers(source: str) -> list[float]:
    """Every number literal in Python code."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [float(t.string.replace("_", "")) for t in tokens if t.type == tokenize.NUMBER]


def text_numbers(text: str) -> list[float]:
    """Every number written in prose or comments (1,234 and 1_234 included)."""
    found = re.findall(r"\d[\d_,]*(?:\.\d+)?", text)
    return [float(n.replace(",", "").replace("_", "")) for n in found if n.strip(",")]


def revealing(answer: float) -> bool:
    """Small whole numbers (a class, a row, a flag) also appear in any task's wording."""
    return not (float(answer).is_integer() and abs(answer) <= 12)


def leaks(answers: list[float], written: list[float]) -> list[float]:
    return [
        a
        for a in answers
        if revealing(a) and any(np.isclose(a, w, rtol=2e-3, atol=1e-4) for w in written)
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_cell_needs_a_name_that_only_a_solution_defines(path):
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    solutions = [c for c in code if SOLUTION_TAG in c.metadata.get("tags", [])]
    elsewhere = set().union(*(defined_names(c.source) for c in code if c not in solutions))
    only_solutions = set().union(*(defined_names(c.source) for c in solutions)) - elsewhere
    for index, cell in enumerate(code):
        if cell in solutions or index and code[index - 1] in solutions:  # a check may use them
            continue
        assert not used_names(cell.source) & only_solutions, cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_copy_hides_answers_and_fails_every_check_with_its_hint(path):
    original = nbformat.read(path, as_version=4)
    student, stubbed = student_version(original, path.stem)
    student = nbformat.reads(json.dumps(student), as_version=4)  # joins list sources into text
    assert stubbed >= 2

    cells, exercises = [], []
    for index, (cell, answer) in enumerate(zip(student.cells, original.cells, strict=True)):
        cells.append(cell)
        if index and SOLUTION_TAG in student.cells[index - 1].metadata.get("tags", []):
            solution = original.cells[index - 1].source
            probe = PROBE.format(
                solution=solution,
                check=answer.source,
                names=assigned_names(solution),
                mark=PROBE_MARK,
            )
            cells.append(nbformat.v4.new_code_cell(probe))
            exercises.append((len(cells) - 3, len(cells) - 2, len(cells) - 1))
    student.cells = cells[: exercises[-1][-1] + 1]  # up to the last probe
    NotebookClient(
        student,
        timeout=900,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()

    checks = [check for _, check, _ in exercises]
    for index, cell in enumerate(student.cells):
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if index not in checks:
            assert not errors, f"only check cells may fail, not:\n{cell.source}\n{errors}"
            continue
        assert len(errors) == 1, f"an empty stub must fail its check:\n{cell.source}"
        error = errors[0]
        assert error.ename == "AssertionError" and error.evalue.startswith("Not yet: "), error
        assert len(error.evalue) > len("Not yet: ") + 10, "the failure gives a hint"

    for stub, check, probe in (map(student.cells.__getitem__, ex) for ex in exercises):
        text = "".join(o.get("text", "") for o in probe.outputs if o.output_type == "stream")
        assert "Correct!" not in "".join(
            o.get("text", "") for o in check.outputs if o.output_type == "stream"
        )
        result = json.loads(text.split(PROBE_MARK, 1)[1])
        assert result["passes"], f"the solution fails its own check:\n{check.source}"
        answers = [n for numbers in result["numbers"].values() for n in numbers]
        task = stub.source.replace(STUB, "")
        assert not leaks(answers, code_numbers(check.source)), f"answer in:\n{check.source}"
        assert not leaks(answers, text_numbers(task)), f"answer in the task:\n{task}"


def test_the_leak_finder_sees_answers_in_code_and_in_prose():
    assert leaks([0.55], code_numbers("course.check(np.isclose(my_ap, 0.55), 'hint')")) == [0.55]
    assert leaks([164622.0], code_numbers("deeper.count_params() == 164_622")) == [164622.0]
    assert leaks([0.55], text_numbers("# interpolated: 1, 1, 0.55 and 0.75")) == [0.55]
    assert leaks([164622.0], text_numbers("# it has 164,622 weights")) == [164622.0]
    assert not leaks([2.0, 0.875], text_numbers("# the box (61, 12, 75, 34), 8-pixel cells"))
    assert not leaks([0.55], code_numbers('course.check(lambda: course.matches(my_ap, "8c"), "")'))
