"""Homework copies hold no answer, and run top to bottom with every stub left empty.

Each student copy is executed once, in quick mode, *without* allowing errors (as "Run All"
in JupyterLab, Colab or VS Code runs it: the first error would stop it). After each check
cell the test inserts a probe that runs the original solution and its check in a *copy*
of the kernel's namespace (so later cells still see an unsolved notebook), and reports
whether the solution passes and what values it assigns. The test then asks:

* with the stubs empty, does every cell run, and does every check print "Not yet"?
* does the solution pass its check in the student copy?
* does an answer's value, or a distinctive line of a solution, show anywhere else: in
  another cell's code or text, or in any output of the run?
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

from helpers import exercises
from helpers.notebooks import CHECK_TAG, SOLUTION_TAG, student_version

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
PROBE_MARK = "PROBE-RESULT "
CHECK_CALL = re.compile(r'^course\.check_exercise\("(?P<key>[^"]+)", lambda: (?P<answer>\w+)\)$')

# Runs in the kernel after a check cell; {solution} and {check} are the cells' sources.
PROBE = '''
import contextlib as _contextlib, io as _io, json as _json
import numpy as _np
_namespace = dict(globals())
_out = _io.StringIO()
with _contextlib.redirect_stdout(_out):
    exec(compile({solution!r}, "<solution>", "exec"), _namespace)
    exec(compile({check!r}, "<check>", "exec"), _namespace)


def _numbers(value):
    """The numbers an answer is judged by: scalars, short arrays, dicts of them."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if callable(value) or hasattr(value, "count_params"):
        return []
    try:
        array = _np.asarray(value, dtype=_np.float64)
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
    """Names a cell reads without binding them itself. Names read inside a ``lambda`` do
    not count: ``course.check_exercise`` and ``course.use_answer_or_library`` take the
    answer as ``lambda: answer`` precisely so that a missing one is reported, not raised."""
    tree = ast.parse(source)
    lambdas = [node for node in ast.walk(tree) if isinstance(node, ast.Lambda)]
    deferred = {id(node) for lam in lambdas for node in ast.walk(lam)}
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in deferred]
    bound = {node.id for node in names if isinstance(node.ctx, ast.Store)}
    return {node.id for node in names if isinstance(node.ctx, ast.Load)} - bound


def distinctive_lines(source: str) -> set[str]:
    """A solution's code lines of 20+ characters that are not comments or imports."""
    lines = set()
    for line in source.splitlines():
        line = line.split("  # ")[0].strip()
        if len(line) >= 20 and not line.startswith(("#", "import ", "from ")):
            lines.add(line)
    return lines


def code_numbers(source: str) -> list[float]:
    """Every number literal in Python code."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [float(t.string.replace("_", "")) for t in tokens if t.type == tokenize.NUMBER]


def text_numbers(text: str) -> list[float]:
    """Every number written in prose, comments or outputs (1,234 and 1_234 included)."""
    found = re.findall(r"\d[\d_,]*(?:\.\d+)?", text)
    return [float(n.replace(",", "").replace("_", "")) for n in found if n.strip(",")]


def revealing(answer: float) -> bool:
    """Whole numbers below 100 (a class, a row, a pixel) also appear in any task's wording
    and in the counts that outputs print (boxes kept, digits missed), whatever the task."""
    return not (float(answer).is_integer() and abs(answer) < 100)


def leaks(answers: list[float], written: list[float]) -> list[float]:
    return [
        a
        for a in answers
        if revealing(a) and any(np.isclose(a, w, rtol=2e-3, atol=1e-4) for w in written)
    ]


def output_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(str(output.data.get("text/plain", "")))
            parts.append(str(output.data.get("text/markdown", "")))
    return "".join(parts)


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
def test_every_check_names_a_registered_exercise_of_its_notebook(path):
    notebook = nbformat.read(path, as_version=4)
    registered = exercises.all_exercises()
    cells = notebook.cells
    for index, cell in enumerate(cells[:-1]):
        if SOLUTION_TAG not in cell.metadata.get("tags", []):
            continue
        match = CHECK_CALL.match(cells[index + 1].source.strip())
        assert match, f"the cell after a solution is one check_exercise call:\n{cells[index + 1]}"
        exercise = registered[match["key"]]
        assert exercise.notebook == path.stem and exercise.answer == match["answer"]
        assert exercise.answer in defined_names(cell.source), "the solution defines the answer"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_line_shows_outside_its_cell(path):
    original = nbformat.read(path, as_version=4)
    student, _ = student_version(original, path.stem)
    student = nbformat.reads(json.dumps(student), as_version=4)  # joins list sources into text
    for cell in original.cells:
        if SOLUTION_TAG not in cell.metadata.get("tags", []):
            continue
        for line in distinctive_lines(cell.source):
            for other in student.cells:
                assert line not in other.source, f"a solution line shows elsewhere: {line}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_copy_runs_to_the_end_with_every_check_saying_not_yet(path, monkeypatch):
    monkeypatch.setenv("LOCALIZER_DATA", "sample")  # the kernel inherits it: no download
    original = nbformat.read(path, as_version=4)
    student, stubbed = student_version(original, path.stem)
    student = nbformat.reads(json.dumps(student), as_version=4)  # joins list sources into text
    assert stubbed >= 2

    cells, probes = [], []
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
            probes.append((len(cells) - 1, solution))
    student.cells = cells
    NotebookClient(  # without allow_errors: any error stops the run and fails the test
        student,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()

    probe_cells = {index for index, _ in probes}
    for cell in student.cells:
        printed = output_text(cell)
        if CHECK_TAG in cell.metadata.get("tags", []) or "course.check_prediction(" in cell.source:
            assert "Not yet: " in printed and "Correct!" not in printed, cell.source
    answers, solutions = [], []
    for index, solution in probes:
        text = output_text(student.cells[index])
        result = json.loads(text.split(PROBE_MARK, 1)[1])
        assert result["passes"], f"the solution fails its own check:\n{solution}"
        answers += [n for numbers in result["numbers"].values() for n in numbers]
        solutions.append(solution)
    for index, cell in enumerate(student.cells):
        if index in probe_cells:
            continue
        written = code_numbers(cell.source) if cell.cell_type == "code" else []
        written += text_numbers(cell.source if cell.cell_type == "markdown" else "")
        written += text_numbers(output_text(cell))
        assert not leaks(answers, written), f"an answer's value shows in:\n{cell.source}"
        for line in set().union(*map(distinctive_lines, solutions)):
            assert line not in output_text(cell), f"a solution line shows in an output: {line}"


def test_the_leak_finders_see_answers_in_code_prose_and_outputs():
    assert leaks([0.55], code_numbers("course.check(np.isclose(my_ap, 0.55), 'hint')")) == [0.55]
    assert leaks([164622.0], code_numbers("deeper.count_params() == 164_622")) == [164622.0]
    assert leaks([0.55], text_numbers("# interpolated: 1, 1, 0.55 and 0.75")) == [0.55]
    assert leaks([38448.0], text_numbers("{'wide_conv': 38448}\n")) == [38448.0]
    assert leaks([164622.0], text_numbers("# it has 164,622 weights")) == [164622.0]
    assert not leaks([2.0, 0.875], text_numbers("# the box (61, 12, 76, 34), 8-pixel cells"))
    solution = "def f(x):\n    import numpy as np\n    # a comment that is long enough\n"
    solution += "    return np.clip(x, 0.0, 1.0)  # why\n    y = 1\n"
    assert distinctive_lines(solution) == {"return np.clip(x, 0.0, 1.0)"}
    assert used_names("check(lambda: answer)\nprint(x)") == {"check", "print", "x"}
