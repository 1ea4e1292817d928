"""Run the command line as a user would (``python -m helpers`` in a subprocess), or in process."""

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    env.pop("LOCALIZER_DATA", None)  # each test names its data source
    return subprocess.run(
        [sys.executable, "-m", "helpers", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=600,
    )


def cli_in_process(*args: str) -> subprocess.CompletedProcess:
    """``helpers.cli.main`` in this process, for tests of argument errors (no TensorFlow start-up).

    Returns what :func:`cli` returns: exit code, stdout and stderr as text.
    """
    from helpers.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())
