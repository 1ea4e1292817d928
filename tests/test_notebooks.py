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
        check = text(following)
        assert "course.check_exercise(" in check, "each solution is followed by its check cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_are_clean(path):
    outputs = [o for c in cells(path) if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert outputs, "committed with the outputs of a default-mode run"
    dump = json.dumps(outputs)
    assert not any(o["output_type"] == "error" for o in outputs) and "Traceback" not in dump
    assert not re.search(r"(/work/|/tmp/|/root/|/home/|/Users/)", dump), "no local paths"
    assert "QUICK mode" not in dump, "stored outputs come from a default-mode run"


def test_every_notebook_has_the_same_setup_cell():
    """So that the Colab behaviour tested below holds for all of them."""
    setups = {next(text(c) for c in cells(path) if c["cell_type"] == "code") for path in NOTEBOOKS}
    assert len(setups) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stores_no_widget_state(path):
    """Widgets render from the code in every front end (Colab's ipywidgets 7 included)."""
    from helpers.notebooks import WIDGET_VIEW

    notebook = json.loads(path.read_text())
    assert "widgets" not in notebook["metadata"]
    outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not any(WIDGET_VIEW in o.get("data", {}) for o in outputs)


def test_strip_widget_state_drops_state_and_views_only():
    from helpers.notebooks import WIDGET_VIEW, strip_widget_state

    view = {"output_type": "display_data", "data": {WIDGET_VIEW: {}, "text/plain": "HBox()"}}
    text = {"output_type": "stream", "name": "stdout", "text": "kept"}
    notebook = {
        "metadata": {"widgets": {"state": {}}, "kernelspec": {"name": "python3"}},
        "cells": [{"cell_type": "code", "source": "", "outputs": [view, text]}],
    }
    clean = strip_widget_state(notebook)
    assert clean["metadata"] == {"kernelspec": {"name": "python3"}}
    assert clean["cells"][0]["outputs"] == [text]
    assert "widgets" in notebook["metadata"], "the input is left as it was"


def test_setup_cell_asks_for_the_versions_requirements_txt_names():
    setup = next(text(c) for c in cells(NOTEBOOKS[0]) if c["cell_type"] == "code")
    requirements = (NOTEBOOKS[0].parents[1] / "requirements.txt").read_text()
    for package in ("tensorflow", "keras"):
        (bound,) = re.findall(rf"^{package}>=(\d+)\.(\d+)", requirements, re.M)
        assert f'"{package}": ({bound[0]}, {bound[1]})' in setup, package


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_checked_cells_store_no_figures(path):
    """nbval compares a checked cell's outputs, but under the tests' Agg backend a figure
    shows nothing: a checked cell must print text only, and leave its figure to another cell."""
    for cell in cells(path):
        if cell["cell_type"] == "code" and "# NBVAL_CHECK_OUTPUT" in text(cell):
            kinds = {o["output_type"] for o in cell.get("outputs", [])}
            assert kinds <= {"stream"}, text(cell)


def test_the_data_line_is_one_line_when_the_download_fails(monkeypatch, capsys):
    """What Keras prints while it tries the download stays out of a stored notebook."""
    import warnings

    import numpy as np

    def failing_download(source, return_source):
        print("Downloading data from https://storage.googleapis.com/.../mnist.npz")
        warnings.warn("Could not download MNIST (a long reason)", RuntimeWarning, stacklevel=2)
        digits = np.zeros((5, 28, 28), np.uint8), np.zeros(5, np.uint8)
        return (digits, digits), "sample"

    monkeypatch.setattr(course, "load_mnist", failing_download)
    course.load_course_data(train_size=3)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Data: the offline sample"), lines
    assert "could not be downloaded" in lines[0] and "3 training digits" in lines[0]
