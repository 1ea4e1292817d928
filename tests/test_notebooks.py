"""The form every notebook must keep (nbval runs them; this checks how they are built)."""

import json
import re
from pathlib import Path

import pytest

from helpers import course

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def cells(path):
    return json.loads(path.read_text())["cells"]


def text(cell):
    return "".join(cell["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_opens_with_title_goals_runtime_and_a_badge_to_itself(path):
    first = text(cells(path)[0])
    assert first.startswith("# "), "the first cell is the title"
    assert BADGE in first
    assert f"github/{course.REPOSITORY}/blob/main/notebooks/{path.name}" in first
    assert re.search(r"learn", first, re.I) and re.search(r"minutes?", first, re.I)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_has_one_guarded_setup_cell(path):
    code = [text(c) for c in cells(path) if c["cell_type"] == "code"]
    setup = [c for c in code if "REPOSITORY =" in c]
    assert len(setup) == 1 and setup[0] is code[0], "the first code cell is the setup cell"
    assert f'REPOSITORY = "{course.REPOSITORY}"' in setup[0]
    assert '"google.colab" in sys.modules' in setup[0], "network access only in Colab"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_has_checked_outputs_and_exercises_with_solutions(path):
    all_cells = cells(path)
    checked = [
        c for c in all_cells if c["cell_type"] == "code" and "# NBVAL_CHECK_OUTPUT" in text(c)
    ]
    assert len(checked) >= 2
    solutions = [c for c in all_cells if "solution" in c.get("metadata", {}).get("tags", [])]
    assert solutions, "at least one exercise with a solution cell tagged 'solution'"
    for cell in solutions:
        following = all_cells[all_cells.index(cell) + 1]
        assert "course.check(" in text(following), "each solution is followed by its check cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_are_clean(path):
    outputs = [o for c in cells(path) if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert outputs, "committed with the outputs of a default-mode run"
    dump = json.dumps(outputs)
    assert not any(o["output_type"] == "error" for o in outputs) and "Traceback" not in dump
    assert not re.search(r"(/work/|/tmp/|/root/|/home/|/Users/)", dump), "no local paths"
    assert "QUICK mode" not in dump, "stored outputs come from a default-mode run"
