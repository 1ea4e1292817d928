"""The course website: Jupyter Book 1 from the stored notebooks, with the demo, no broken link."""

import json
import re

import pytest
from clitools import ROOT, cli_in_process

from helpers import site
from helpers.errors import InputError


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """The site built once by the command, with a small demo folder standing in for the demo
    (tests/test_demo.py checks the real one)."""
    try:
        site.jupyter_book_command()
    except InputError as missing:
        pytest.skip(str(missing))
    folder = tmp_path_factory.mktemp("site")
    demo = folder / "demo-src"
    demo.mkdir()
    (demo / "manifest.json").write_text(json.dumps({"models": {}}))
    (demo / "index.html").write_text(
        '<!doctype html><title>demo</title><a href="manifest.json">m</a>'
    )
    result = cli_in_process("site", "--out", str(folder / "out"), "--demo", str(demo))
    assert result.returncode == 0, result.stderr
    return folder / "out", json.loads(result.stdout)


def test_every_notebook_has_a_page_with_its_figures_and_launch_buttons(built_site):
    out, summary = built_site
    assert summary["notebooks"] == 5
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        page = (out / "notebooks" / f"{notebook.stem}.html").read_text()
        assert len(re.findall(r"<img [^>]*src=\"[^\"]*_images/", page)) >= 2, notebook.name
        for launcher in ("colab.research.google.com/github/", "mybinder.org/v2/gh/"):
            assert f"{launcher}" in page and f"notebooks/{notebook.name}" in page, launcher


def test_front_page_instructors_page_and_demo(built_site):
    out, _ = built_site
    front = (out / "intro.html").read_text()
    readme = (ROOT / "README.md").read_text()
    for picture in re.findall(
        r"\(files/([^)]+\.png)\)", site.readme_section(readme, "The course in pictures")
    ):
        assert picture in front, picture
    instructors = (out / "instructors.html").read_text()
    assert "For instructors" in instructors and "grade" in instructors
    assert 'href="demo/index.html"' in (out / "demo.html").read_text()
    assert (out / "demo" / "index.html").is_file()
    assert site.broken_links(out) == []


def test_broken_links_and_unexpected_warnings_are_found(tmp_path):
    (tmp_path / "a.html").write_text(
        '<a href="b.html#x">b</a><img src="missing.png"><a href="https://example.org/x">x</a>'
        '<a href="#top">top</a>'
    )
    (tmp_path / "b.html").write_text("<p>b</p>")
    assert site.broken_links(tmp_path) == ["a.html -> missing.png"]
    log = "reading sources...\n/x/intro.md:3: WARNING: 'myst' cross-reference target not found\n"
    assert site.unexpected_warnings(log) == [
        "/x/intro.md:3: WARNING: 'myst' cross-reference target not found"
    ]
    assert site.unexpected_warnings("build succeeded.\n") == []


def test_links_to_repository_files_point_to_github():
    text = "[a](benchmarks/x.json), [b](notebooks/01.ipynb), [c](https://x.org), [d](#top)"
    assert site.link_outside_pages(text, "https://github.com/o/n") == (
        "[a](https://github.com/o/n/blob/main/benchmarks/x.json), [b](notebooks/01.ipynb), "
        "[c](https://x.org), [d](#top)"
    )


def test_a_folder_that_is_not_a_demo_is_refused_in_one_line(tmp_path):
    result = cli_in_process("site", "--out", str(tmp_path / "out"), "--demo", str(tmp_path))
    assert result.returncode == 2 and "not a demo folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_ci_installs_the_site_extra():
    """.ci/run installs pyproject.toml's ``site`` extra, so that CI builds the site."""
    import tomllib

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    line = next(li for li in lines if "jupyter-book" in li and "pip install" in li)
    assert all(f'"{requirement}"' in line for requirement in extra["site"]), line
