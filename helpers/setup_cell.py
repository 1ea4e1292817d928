"""The first cells of every notebook, generated here: the setup cell and the badges.

Every notebook opens with a markdown cell whose first badge line is :func:`badges` and
whose first code cell is :func:`source`, character for character.
``python -m helpers sync-notebooks`` rewrites them after a change here;
``python -m helpers sync-notebooks --check`` only says which notebooks differ (CI).

The setup cell, on any host:

* ``helpers`` importable (a checkout: the notebook beside ``helpers/`` or one folder
  below it; or the package installed): it goes straight on and prints the version line
  of :func:`helpers.course.setup`;
* else it installs the release the notebooks were written for (:data:`RELEASE`, never
  ``main``) from the repository's archive with ``pip install --no-deps``: no ``git``
  needed, and the host's TensorFlow, Keras and Jupyter are never reinstalled; then it
  checks the versions of TensorFlow and Keras, as the course always has;
* no internet: one sentence says what to do, and the cell stops.

Light on purpose: importing this module imports no TensorFlow.
"""

from __future__ import annotations

import re
from pathlib import Path

from helpers.errors import InputError

#: The tag these notebooks were written for; the setup cell installs this one, so that
#: last term's copies keep working when ``main`` moves on. Tag a release before changing it.
RELEASE = "v0.2.0"
#: The oldest TensorFlow and Keras the course runs on (requirements.txt's lower bounds).
MINIMUM_VERSIONS = {"tensorflow": (2, 16), "keras": (3, 8)}
#: pip gives up quickly offline instead of retrying for minutes.
PIP_TIMEOUT_S = 15

_SOURCE = """\
# Setup: run this cell first. It uses the course helpers beside this notebook, or installs them.
import importlib.util
import os
import subprocess
import sys

REPOSITORY = "<REPOSITORY>"  # rewritten by fork
RELEASE = "<RELEASE>"  # the course release these notebooks were written for
for folder in ("..", "."):  # a copy of the course: notebooks/ beside helpers/
    if os.path.isdir(os.path.join(folder, "helpers")):
        sys.path.insert(0, os.path.abspath(folder))
        break
if importlib.util.find_spec("helpers") is None:  # Colab, Kaggle, Binder, a lone notebook
    from importlib.metadata import version

    class SetupError(Exception):
        def _render_traceback_(self):  # Jupyter shows this one line instead of a traceback
            return [f"SetupError: {self}"]

    archive = f"https://github.com/{REPOSITORY}/archive/refs/tags/{RELEASE}.zip"
    # --no-deps: the host's TensorFlow, Keras and Jupyter stay exactly as they are.
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--retries", "1"]
    if subprocess.run([*pip, "--timeout", "<TIMEOUT>", archive], capture_output=True).returncode:
        raise SetupError(
            f"could not download the course helpers from {archive} (no internet?): download "
            "that file where there is internet, then run pip install --no-deps FILE here."
        )
    importlib.invalidate_caches()
    for package, needed in <VERSIONS>.items():
        found = version(package)
        if tuple(int(part) for part in found.split(".")[:2]) < needed:
            need = ".".join(map(str, needed))
            raise SetupError(f"this course needs {package} >= {need}; this runtime has {found}.")

import helpers
from helpers import course

course.setup()
"""


def source(repository: str, release: str = RELEASE) -> str:
    """The setup cell's code for the course on GitHub at ``repository`` (``OWNER/NAME``)."""
    versions = ", ".join(
        f'"{name}": ({major}, {minor})' for name, (major, minor) in MINIMUM_VERSIONS.items()
    )
    filled = {
        "<REPOSITORY>": repository,
        "<RELEASE>": release,
        "<TIMEOUT>": str(PIP_TIMEOUT_S),
        "<VERSIONS>": "{" + versions + "}",
    }
    text = _SOURCE
    for placeholder, value in filled.items():
        text = text.replace(placeholder, value)
    return text


#: Where each badge opens a notebook: ``{repository}`` and ``{path}`` (notebooks/NAME.ipynb).
BADGES = (
    (
        "Open In Colab",
        "https://colab.research.google.com/assets/colab-badge.svg",
        "https://colab.research.google.com/github/{repository}/blob/main/{path}",
    ),
    (
        "Open In Kaggle",
        "https://kaggle.com/static/images/open-in-kaggle.svg",
        "https://kaggle.com/kernels/welcome?src=https://github.com/{repository}/blob/main/{path}",
    ),
    (
        "Launch Binder",
        "https://mybinder.org/badge_logo.svg",
        "https://mybinder.org/v2/gh/{repository}/main?labpath={path}",
    ),
)
#: A line of badges, as :func:`badges` writes it (the first one is always Colab's).
BADGE_LINE = re.compile(r"^\[!\[Open In Colab\]\(.*$", re.MULTILINE)


def badges(repository: str, path: str) -> str:
    """One markdown line: the Colab, Kaggle and Binder badges for ``path`` in ``repository``."""
    return " ".join(
        f"[![{alt}]({image})]({link.format(repository=repository, path=path)})"
        for alt, image, link in BADGES
    )


def _first(cells: list, cell_type: str):
    return next((cell for cell in cells if cell.cell_type == cell_type), None)


def sync_first_cells(root: Path, write: bool = True) -> list[str]:
    """Make every notebook's badge line and first code cell what this module generates.

    In each ``root/notebooks/*.ipynb`` the first markdown cell's badge line (the line
    that starts with the Colab badge, :data:`BADGE_LINE`) becomes :func:`badges`, and
    the first code cell's source becomes :func:`source`; nothing else changes (outputs
    stay). Returns the notebooks that differed, as paths relative to ``root``; they
    are rewritten only when ``write``.

    Raises:
        InputError: a notebook without a markdown cell holding a badge line, or without
            a code cell.
    """
    import nbformat

    from helpers.course import REPOSITORY

    changed = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        relative = path.relative_to(root).as_posix()
        title, setup = _first(notebook.cells, "markdown"), _first(notebook.cells, "code")
        if title is None or setup is None or not BADGE_LINE.search(title.source):
            raise InputError(
                f"{relative}: expected a first markdown cell with a Colab badge line and a "
                "code cell after it"
            )
        line = badges(REPOSITORY, relative)
        new_title = BADGE_LINE.sub(lambda _, line=line: line, title.source, count=1)
        new_setup = source(REPOSITORY).rstrip("\n")
        if (new_title, new_setup) == (title.source, setup.source):
            continue
        changed.append(relative)
        if write:
            title.source, setup.source = new_title, new_setup
            nbformat.write(notebook, path)
    return changed
