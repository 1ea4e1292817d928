"""The README cannot drift from the code: every command it shows parses, every picture exists."""

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from helpers import course
from helpers.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_ASSIGNMENT = re.compile(r"^[A-Z_]+=\S*$")


def shell_commands(markdown: str) -> list[str]:
    """Commands in ```bash blocks, and inline `code` that starts like a command."""
    commands = []
    for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", markdown, re.S):
        for line in block.splitlines():
            line = line.split(" #")[0].strip()  # a trailing comment explains, it does not run
            if line:
                commands.append(line)
    for span in re.findall(r"`([^`\n]+)`", markdown):
        words = span.split()
        if words[0] in ("python", "pip", "jupyter") or ENV_ASSIGNMENT.match(words[0]):
            commands.append(span)
    return commands


def steps(command: str) -> list[list[str]]:
    """``a && b`` as ``[[a...], [b...]]``, without leading ``VAR=value`` and with
    optional ``[--flag value]`` parts spelt out, so that they are checked too."""
    result = []
    for part in command.split("&&"):
        words = shlex.split(part.replace("[", " ").replace("]", " "))
        while words and ENV_ASSIGNMENT.match(words[0]):
            words.pop(0)
        if words and words[0].startswith("!"):  # a shell command inside a notebook (Colab)
            words[0] = words[0][1:]
        if words:  # `LOCALIZER_DATA=sample` alone names a setting, it runs nothing
            result.append(words)
    return result


COMMANDS = shell_commands(README)
STEPS = sorted({tuple(step) for command in COMMANDS for step in steps(command)})


def test_the_readme_shows_the_commands_a_user_needs():
    shown = {" ".join(step[:3]) for step in STEPS}
    for expected in ("pip install -r", "python -m pytest", "python -m helpers"):
        assert any(s.startswith(expected) for s in shown), expected
    assert any("benchmarks" in " ".join(step) for step in STEPS)


# The ``python -m module`` commands whose ``--help`` must work (the test checks ``-m helpers``
# and ``-m pytest`` in its own process). They all run in one fresh interpreter: one
# interpreter per command imported TensorFlow again, about 7 s apiece.
MODULE_STEPS = [
    step for step in STEPS if step[:2] == ("python", "-m") and step[2] not in ("helpers", "pytest")
]

# Runs each command's module as ``python -m`` would (``sys.argv``, ``__main__``) and writes its
# exit status and output as one JSON line as soon as it ends, so that a command that hangs or
# kills the interpreter still leaves the results of the commands before it.
HELP_RUNNER = """
import contextlib, io, json, runpy, sys, traceback

with open(sys.argv[1], "w", encoding="utf-8") as results:
    for words in json.load(sys.stdin):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            sys.argv = [words[2], *words[3:], "--help"]
            try:
                runpy.run_module(words[2], run_name="__main__", alter_sys=True)
                rc = 0
            except SystemExit as stop:
                if stop.code is None or isinstance(stop.code, int):
                    rc = stop.code or 0
                else:  # sys.exit("message") prints the message and exits with 1
                    print(stop.code, file=sys.stderr)
                    rc = 1
            except Exception:
                traceback.print_exc()
                rc = 1
        line = {"words": words, "rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}
        results.write(json.dumps(line) + "\\n")
        results.flush()
"""


@pytest.fixture(scope="module")
def module_help(tmp_path_factory) -> dict:
    """``words --help`` for every command of MODULE_STEPS, from the checkout's root as a fresh
    clone has it (no PYTHONPATH): the command's words -> its rc, stdout and stderr. A command
    that left no result has rc None and, as stderr, how the interpreter ended."""
    results = tmp_path_factory.mktemp("readme_help") / "results.jsonl"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    try:
        runner = subprocess.run(
            [sys.executable, "-c", HELP_RUNNER, str(results)],
            input=json.dumps(MODULE_STEPS),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=600,
        )
        ending = f"the interpreter exited with {runner.returncode}: {runner.stderr[-2000:]}"
    except subprocess.TimeoutExpired:
        ending = "the interpreter ran out of time at this command or before it"
    lines = results.read_text(encoding="utf-8").splitlines() if results.exists() else []
    done = {tuple(result["words"]): result for result in map(json.loads, lines)}
    missing = {"rc": None, "stdout": "", "stderr": ending}
    return {step: done.get(step, missing) for step in MODULE_STEPS}


@pytest.mark.parametrize("words", STEPS, ids=" ".join)
def test_readme_command_parses(words, request):
    program, args = words[0], list(words[1:])
    if program == "pip":
        assert args[0] == "install"
        if args[1] == "-r":
            lines = (ROOT / args[2]).read_text().splitlines()
            requirements = [line for line in lines if line.strip() and not line.startswith("#")]
        else:
            requirements = args[1:]
        for requirement in requirements:
            Requirement(requirement)  # raises on a malformed requirement
    elif program == "jupyter":
        assert importlib.util.find_spec("jupyterlab"), "requirements.txt installs JupyterLab"
        assert args[0] == "lab" and all((ROOT / path).exists() for path in args[1:])
    elif args[:2] == ["-m", "helpers"]:
        build_parser().parse_args(args[2:])  # raises UsageError on an unknown option
    elif args[:2] == ["-m", "pytest"]:
        paths = [arg for arg in args[2:] if not arg.startswith("-")]
        assert all((ROOT / path).exists() for path in paths), paths
    elif program == "git":
        assert args[0] == "clone" and f"https://github.com/{course.REPOSITORY}" in args
    elif program == "unzip":  # a system tool: only the form of the call is ours
        assert args[0].endswith(".zip") and "-d" in args
    elif program in ("%cd", "cd"):
        assert args == ["course"], "into the clone, or the nbgrader course folder, made just before"
    elif program == "cp":  # nbgrader's course folder gets the helpers beside its notebooks
        assert args[:2] == ["-r", "helpers"] and (ROOT / "helpers").is_dir()
    elif program == "sudo":  # a system package: only the form of the call is ours
        assert args[:2] == ["apt-get", "install"] and args[2:] == ["bubblewrap"]
    elif program == "nbgrader":  # nbgrader's own instructor loop (tests/test_nbgrader.py runs it)
        assert args[0] in ("generate_assignment", "autograde", "export"), args
    elif words in MODULE_STEPS:
        # Only a command that runs a module starts the interpreter that runs them all.
        result = request.getfixturevalue("module_help")[words]
        assert result["rc"] == 0, result["stderr"][-2000:]
        assert "usage:" in result["stdout"]
    else:
        pytest.fail(f"no check for {program!r}: teach this test how to check it")


def test_every_picture_the_readme_shows_exists():
    pictures = re.findall(r"!\[[^\]]*\]\(([^)\s]+)", README)
    pictures += re.findall(r"<img [^>]*src=\"([^\"]+)\"", README)
    local = [p for p in pictures if not p.startswith("http")]
    assert len(local) >= 5, "the README shows the course's pictures from files/"
    missing = [p for p in local if not (ROOT / p).is_file()]
    assert missing == []


def test_figures_command_renders_every_picture(tmp_path):
    from helpers.figures import render_all

    written = render_all(tmp_path, quick=True)
    names = sorted(path.name for path in written)
    assert names == sorted(path.name for path in (ROOT / "files").glob("*.png"))
    for path in written:
        assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 5000
