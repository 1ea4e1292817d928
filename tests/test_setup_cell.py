"""The generated first cells of every notebook: badges and the setup cell, on any host."""

import json
import shutil

import nbformat
import pytest
from clitools import ROOT, cli_in_process
from nbclient import NotebookClient

from helpers import course, setup_cell

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
VERSION_LINE = r"^helpers \S+ \| Keras \S+ \| [^|]+ \| seed \d+\n$"


def _run_setup(cwd, env_overrides, monkeypatch) -> list[dict]:
    """Run the generated setup cell alone in a fresh kernel in ``cwd``; its outputs."""
    for name, value in env_overrides.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(setup_cell.source(course.REPOSITORY))]
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return notebook.cells[0].outputs


def test_every_notebook_opens_with_the_generated_cells():
    assert setup_cell.sync_first_cells(ROOT, write=False) == [], (
        "run python -m helpers sync-notebooks"
    )
    for path in NOTEBOOKS:
        title = next(c for c in nbformat.read(path, 4).cells if c.cell_type == "markdown")
        relative = f"notebooks/{path.name}"
        for link in ("colab.research.google.com/github", "kaggle.com/kernels", "mybinder.org/v2"):
            assert f"{link}" in title.source and relative in title.source, (path.name, link)


def test_sync_rewrites_only_the_first_cells_and_check_says_which(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    path = tmp_path / "notebooks" / NOTEBOOKS[0].name
    notebook = nbformat.read(path, 4)
    setup = next(c for c in notebook.cells if c.cell_type == "code")
    setup.source = "import helpers  # an old setup cell"
    nbformat.write(notebook, path)
    before = [c.source for c in notebook.cells]
    assert setup_cell.sync_first_cells(tmp_path, write=False) == [f"notebooks/{path.name}"]
    assert setup_cell.sync_first_cells(tmp_path) == [f"notebooks/{path.name}"]
    after = [c.source for c in nbformat.read(path, 4).cells]
    changed = [i for i, (old, new) in enumerate(zip(before, after, strict=True)) if old != new]
    assert changed == [notebook.cells.index(setup)]
    assert setup_cell.sync_first_cells(tmp_path) == []


def test_sync_check_exits_2_when_a_notebook_differs(monkeypatch, tmp_path):
    import helpers.publishing

    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    path = tmp_path / "notebooks" / NOTEBOOKS[-1].name
    notebook = nbformat.read(path, 4)
    next(c for c in notebook.cells if c.cell_type == "code").source = "pass"
    nbformat.write(notebook, path)
    monkeypatch.setattr(helpers.publishing, "ROOT", tmp_path)
    result = cli_in_process("sync-notebooks", "--check")
    assert result.returncode == 2 and path.name in result.stderr
    assert "python -m helpers sync-notebooks" in result.stderr
    assert cli_in_process("sync-notebooks").returncode == 0
    assert json.loads(cli_in_process("sync-notebooks", "--check").stdout)["changed"] == []


def test_offline_outside_a_checkout_the_setup_cell_says_one_sentence_and_stops(
    tmp_path, monkeypatch
):
    offline = {
        "PYTHONPATH": None,  # helpers neither beside the notebook nor installed
        "HTTPS_PROXY": "http://127.0.0.1:9",  # nothing listens there: pip fails at once
        "https_proxy": "http://127.0.0.1:9",
        "PIP_NO_INDEX": None,
    }
    outputs = _run_setup(tmp_path, offline, monkeypatch)
    assert [o["output_type"] for o in outputs] == ["error"]
    archive = f"https://github.com/{course.REPOSITORY}/archive/refs/tags/{setup_cell.RELEASE}.zip"
    assert outputs[0]["traceback"] == [
        f"SetupError: could not download the course helpers from {archive} (no internet?): "
        "download that file where there is internet, then run pip install --no-deps FILE here."
    ]


@pytest.mark.parametrize("where", ["notebooks folder of a checkout", "helpers installed"])
def test_with_helpers_at_hand_the_setup_cell_prints_only_the_version_line(
    where, tmp_path, monkeypatch
):
    if where == "helpers installed":  # on the path, as pip would put it; not beside the notebook
        cwd, env = tmp_path, {"PYTHONPATH": str(ROOT)}
    else:
        cwd, env = ROOT / "notebooks", {"PYTHONPATH": None}
    outputs = _run_setup(cwd, env, monkeypatch)
    assert [(o["output_type"], o.get("name")) for o in outputs] == [("stream", "stdout")]
    assert __import__("re").match(VERSION_LINE, outputs[0]["text"]), outputs[0]["text"]


def test_fork_rewrites_every_badge_the_setup_cells_and_the_site(tmp_path):
    from helpers.notebooks import fork

    for folder in ("notebooks", "site"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "helpers").mkdir()
    shutil.copyfile(ROOT / "helpers" / "course.py", tmp_path / "helpers" / "course.py")
    shutil.copyfile(ROOT / "README.md", tmp_path / "README.md")
    changed = fork("teacher/my-course", tmp_path)
    assert "site/_config.yml" in changed and "README.md" in changed
    for path in [*NOTEBOOKS, ROOT / "README.md", ROOT / "site" / "_config.yml"]:
        copy = tmp_path / path.relative_to(ROOT)
        text = copy.read_text()
        assert course.REPOSITORY not in text, copy
    for path in (tmp_path / "notebooks").glob("*.ipynb"):
        cells = nbformat.read(path, 4).cells
        title = next(c for c in cells if c.cell_type == "markdown").source
        assert title.count("teacher/my-course") == 3, path.name  # Colab, Kaggle, Binder
        setup = next(c for c in cells if c.cell_type == "code").source
        assert setup == setup_cell.source("teacher/my-course").rstrip("\n")


def test_the_data_notebook_03_reads_ships_inside_the_package():
    """Notebook 03's ablation table comes from helpers/results/, where the benchmark writes it."""
    import tomllib

    from benchmarks import compare_recipes

    assert compare_recipes.SHIPPED_RESULTS == ROOT / "helpers" / "results"
    assert (compare_recipes.SHIPPED_RESULTS / "ablation.json").is_file()
    assert not (ROOT / "benchmarks" / "results" / "ablation.json").exists(), "one copy only"
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "results/*.json" in package_data["package-data"]["helpers"]
    training = nbformat.read(ROOT / "notebooks" / "03_training.ipynb", 4)
    loads = [c.source for c in training.cells if "ablation.json" in c.source and "=" in c.source]
    assert any(
        'ABLATION_FILE = Path(helpers.__file__).resolve().parent / "results" / "ablation.json"'
        in source
        for source in loads
    )
