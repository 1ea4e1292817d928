"""Run a prepared submission in a process of its own, in a fresh folder, with limits.

Each run gets a new temporary folder outside the course checkout, holding a copy of
:mod:`helpers` (the kernel imports that copy, so a submission cannot rewrite the
instructor's) and an empty working folder with the notebook in it. The kernel runs in
quick mode on the offline sample, with a cap on the size of any file it writes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from helpers.errors import InputError

RUNNER = Path(__file__).with_name("runner.py")
#: Seconds a run may take beyond its notebook limit (kernel start and shutdown) before
#: it is stopped from outside.
GRACE_SECONDS = 120


@dataclass(frozen=True)
class Limits:
    """Time and disk limits for one submission: seconds per cell, per notebook, and the
    largest file (bytes) it may write."""

    cell_seconds: float = 300.0
    notebook_seconds: float = 1200.0
    max_file_bytes: int = 1 << 30


@dataclass
class RunResult:
    """How a run ended (see :mod:`helpers.grading.runner`): ``outcome`` is "finished",
    "timeout", "kernel died" or "grader error: ..."; ``cells`` maps a code cell's index to
    ``{"status": "ok" | "error" | "timeout", "error": str}``."""

    outcome: str
    seconds: float = 0.0
    cells: dict[int, dict[str, str]] = field(default_factory=dict)


def run_isolated(notebook: NotebookNode, course_root: Path, limits: Limits) -> RunResult:
    """Execute ``notebook`` headless in a fresh kernel and a fresh folder; never raises
    for what the notebook does."""
    with tempfile.TemporaryDirectory(prefix="helpers-grade-", ignore_cleanup_errors=True) as tmp:
        job = Path(tmp)
        if job.resolve().is_relative_to(course_root.resolve()):
            raise InputError(f"the temporary folder {job} lies inside the course checkout")
        shutil.copytree(course_root / "helpers", job / "lib" / "helpers")
        work = job / "work"
        work.mkdir()
        nbformat.write(notebook, work / "submission.ipynb")
        return _run_runner(job, work / "submission.ipynb", limits)


def _kernel_env(job: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOCALIZER_")}
    env.update(
        PYTHONPATH=str(job / "lib"),  # the copy of helpers, not the checkout
        JUPYTER_RUNTIME_DIR=str(job / "runtime"),  # the kernel's connection file, per run
        LOCALIZER_QUICK="1",
        LOCALIZER_DATA="sample",  # offline: graders must not depend on the network
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    return env


def _run_runner(job: Path, notebook: Path, limits: Limits) -> RunResult:
    pid_file = job / "kernel.pid"
    command = [
        sys.executable,
        "-I",
        str(RUNNER),
        str(notebook),
        str(limits.cell_seconds),
        str(limits.notebook_seconds),
        str(limits.max_file_bytes),
        str(pid_file),
    ]
    process = subprocess.Popen(
        command,
        cwd=notebook.parent,
        env=_kernel_env(job),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so that it can be stopped whole
    )
    try:
        stdout, stderr = process.communicate(timeout=limits.notebook_seconds + GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _stop(process, pid_file)
        return RunResult("timeout", limits.notebook_seconds)
    lines = stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        return RunResult(f"grader error: {last}")
    cells = {int(index): cell for index, cell in result["cells"].items()}
    return RunResult(result["outcome"], result["seconds"], cells)


def _stop(process: subprocess.Popen, pid_file: Path) -> None:
    """SIGTERM first (the runner then shuts its kernel down), SIGKILL if that is not enough."""
    process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=30)
        return
    except subprocess.TimeoutExpired:
        pass
    groups = [process.pid]
    if pid_file.is_file():  # the kernel runs in a session of its own
        groups.append(int(pid_file.read_text()))
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.communicate()
