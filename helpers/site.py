"""The course website: Jupyter Book 1 pages from the stored notebooks, plus the live demo.

``python -m helpers site --out _build/site`` (from a checkout of the course):

1. stages a book in a temporary folder, laid out like the repository so that launch
   buttons find each notebook: ``notebooks/*.ipynb`` and ``files/`` as they are,
   ``site/`` (settings, table of contents, the demo page), and two pages written from
   README.md: the front page (the opening paragraphs and "The course in pictures") and
   the instructors' page (the README's "For instructors" sections);
2. builds it with ``jupyter-book build`` (Jupyter Book 1: nothing is executed, the pages
   show the stored outputs and figures) and fails on any Sphinx warning that is not in
   :data:`EXPECTED_WARNINGS`;
3. adds the browser demo under ``demo/`` (:func:`helpers.demo.build.build_demo`, or a
   copy of an already built demo folder) and fails on any link or image of the site
   that points to a file the site does not have (:func:`broken_links`).
"""

from __future__ import annotations

import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from helpers.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
#: Sphinx warnings the build may print, each with the reason it is harmless. Any other
#: warning fails the build.
EXPECTED_WARNINGS: dict[str, str] = {}
_WARNING = re.compile(r"(WARNING|ERROR|CRITICAL):")


def readme_section(readme: str, heading: str, level: int = 2) -> str:
    """The README's section whose heading starts with ``heading``, heading line included.

    It ends at the next heading of the same or a higher level; several sections that
    start with ``heading`` are joined, in order.
    """
    parts, keep = [], False
    for line in readme.splitlines():
        match = re.match(r"(#+) ", line)
        if match and len(match.group(1)) <= level:
            keep = line.startswith("#" * level + " " + heading)
        if keep:
            parts.append(line)
    if not parts:
        raise InputError(f"README.md has no section starting with {heading!r}")
    return "\n".join(parts) + "\n"


def front_page(readme: str) -> str:
    """The site's front page: the README's title, opening paragraphs and pictures."""
    opening = readme.split("\n## ", 1)[0]
    return (
        f"{opening.rstrip()}\n\n{readme_section(readme, 'The course in pictures')}\n"
        "Read the notebooks in the menu, launch any of them on Colab or Binder with the rocket "
        "button at the top of its page, or try the networks in the [live demo](demo.md).\n"
    )


def instructors_page(readme: str) -> str:
    """The instructors' page: the README's "For instructors" sections."""
    body = readme_section(readme, "For instructors", level=3).replace("\n### ", "\n## ")
    return f"# For instructors\n\n{body.removeprefix('### ')}"


def repository_url(config: str) -> str:
    """The repository's address from the book's ``_config.yml`` text (``repository: url:``)."""
    match = re.search(r"^repository:\n(?:  .*\n)*?  url: (\S+)", config, re.MULTILINE)
    if match is None:
        raise InputError("site/_config.yml: expected a repository: url: entry")
    return match.group(1)


def link_outside_pages(markdown: str, repository: str) -> str:
    """Relative links to files of the repository that are not pages of the site (a
    benchmark result, a module) point to the file on GitHub instead."""

    def absolute(match: re.Match) -> str:
        target, rest = match.groups()
        if re.match(r"([a-z]+:|notebooks/|files/)", target):
            return match.group(0)
        return f"]({repository}/blob/main/{target}{rest}"

    return re.sub(r"\]\(([^)\s#]+)((?:#[^)]*)?\))", absolute, markdown)


def stage(root: Path, folder: Path) -> None:
    """Lay out the book's sources in ``folder`` (see the module docstring)."""
    shutil.copytree(root / "site", folder, dirs_exist_ok=True)
    shutil.copytree(root / "files", folder / "files")
    (folder / "notebooks").mkdir()
    for notebook in sorted((root / "notebooks").glob("*.ipynb")):
        shutil.copyfile(notebook, folder / "notebooks" / notebook.name)
    repository = repository_url((root / "site" / "_config.yml").read_text(encoding="utf-8"))
    readme = link_outside_pages((root / "README.md").read_text(encoding="utf-8"), repository)
    (folder / "intro.md").write_text(front_page(readme), encoding="utf-8")
    (folder / "instructors.md").write_text(instructors_page(readme), encoding="utf-8")


def unexpected_warnings(log: str) -> list[str]:
    """Lines of a build log that report a warning or error not in :data:`EXPECTED_WARNINGS`."""
    return [
        line.strip()
        for line in log.splitlines()
        if _WARNING.search(line) and not any(re.search(p, line) for p in EXPECTED_WARNINGS)
    ]


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        for name, value in attrs:
            if value and (tag, name) in {
                ("a", "href"),
                ("img", "src"),
                ("script", "src"),
                ("link", "href"),
            }:
                self.targets.append(value)


def broken_links(site: Path) -> list[str]:
    """``"page -> target"`` for every relative link, image or script of an HTML page of
    ``site`` whose file is missing. Links to other sites and to anchors are not checked."""
    broken = []
    for page in sorted(site.rglob("*.html")):
        if "_static" in page.relative_to(site).parts:  # the theme's templates, not pages
            continue
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        for target in parser.targets:
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            path = (page.parent / unquote(parts.path)).resolve()
            if path.is_dir():
                path = path / "index.html"
            if not path.exists():
                broken.append(f"{page.relative_to(site)} -> {target}")
    return broken


def jupyter_book_command() -> list[str]:
    """The command that runs Jupyter Book 1 in this environment, else :class:`InputError`."""
    executable = Path(sys.executable).parent / "jupyter-book"
    found = str(executable) if executable.is_file() else shutil.which("jupyter-book")
    if found is None:
        raise InputError('building the site needs Jupyter Book 1: pip install "jupyter-book<2"')
    return [found]


def build_site(out: str | Path, demo: str | Path | None = None, root: Path = ROOT) -> dict:
    """Build the website into ``out`` (replaced) and return a summary.

    Args:
        out: the folder to write; any earlier build there is removed first.
        demo: an already built demo folder to include; ``None`` builds one
            (:func:`helpers.demo.build.build_demo`, which trains models it lacks).
        root: the course checkout to build from.

    Raises:
        InputError: Jupyter Book missing, the checkout incomplete, a warning not in
            :data:`EXPECTED_WARNINGS`, or a broken link.
    """
    out = Path(out).absolute()
    for needed in ("site", "notebooks", "files", "README.md"):
        if not (root / needed).exists():
            raise InputError(f"{root} is not a checkout of the course: {needed} is missing")
    if demo is not None and not (Path(demo) / "manifest.json").is_file():
        raise InputError(
            f"--demo {demo}: not a demo folder (no manifest.json); build one "
            "with python -m helpers export-demo --out FOLDER"
        )
    command = jupyter_book_command()
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "book"
        stage(root, source)
        env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        result = subprocess.run(
            [*command, "build", str(source), "--builder", "html", "--keep-going", "--all"],
            capture_output=True,
            text=True,
            env=env,
        )
        log = result.stdout + result.stderr
        warnings = unexpected_warnings(log)
        html = source / "_build" / "html"
        if result.returncode or warnings or not (html / "index.html").is_file():
            for line in warnings or log.splitlines()[-20:]:
                print(line, file=sys.stderr)
            raise InputError(
                f"the site build failed: {len(warnings)} unexpected warning(s), "
                f"jupyter-book exit code {result.returncode} (details above)"
            )
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(html, out)
    if demo is None:
        from helpers.demo.build import build_demo

        build_demo(out / "demo", npm_cache=root / "build" / "npm")
    else:
        shutil.copytree(demo, out / "demo")
    broken = broken_links(out)
    if broken:
        raise InputError(f"the site has {len(broken)} broken link(s): {'; '.join(broken[:5])}")
    return {
        "out": str(out),
        "pages": len(list(out.rglob("*.html"))),
        "notebooks": len(list((out / "notebooks").glob("*.html"))),
    }
