"""Seconds per graded notebook, with ``--jobs 1`` and ``--jobs 2``, sandbox on and off.

Usage::

    python -m benchmarks.grading_speed [--copies 2]

Makes ``2 * copies`` submissions of notebook 01 from its student copy (half with the
solutions put back, half left empty), grades them with ``python -m helpers grade``
(quick mode, offline sample) once per job count, without the sandbox (``--no-sandbox``,
the baseline) and with it, in one run, and writes the wall time of each whole command,
per notebook, with the sandbox's ratio to the baseline of the same job count, to
``results/grading_speed.json``. The load average is recorded beside it: on a shared
machine other work slows every figure down.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from helpers.notebooks import GRADING_KEY, SOLUTION_TAG, student_version

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
NOTEBOOK = "01_dataset_synthesis"


def make_submissions(folder: Path, copies: int) -> None:
    """``copies`` solved and ``copies`` empty student copies of :data:`NOTEBOOK`."""
    key = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", as_version=4)
    copy, _ = student_version(key, NOTEBOOK)
    answers = [c.source for c in key.cells if SOLUTION_TAG in c.metadata.get("tags", [])]
    solved = nbformat.from_dict(copy)
    stubs = [c for c in solved.cells if c.metadata.get(GRADING_KEY, {}).get("role") == "solution"]
    for cell, answer in zip(stubs, answers, strict=True):
        cell.source = answer
    for n in range(copies):
        nbformat.write(solved, folder / f"solved_{n}.ipynb")
        nbformat.write(copy, folder / f"empty_{n}.ipynb")


def time_grading(folder: Path, out: Path, jobs: int, sandbox: bool) -> float:
    """Wall seconds of one ``python -m helpers grade`` command."""
    command = [sys.executable, "-m", "helpers", "grade", str(folder), "--out", str(out)]
    command += ["--jobs", str(jobs)] + ([] if sandbox else ["--no-sandbox"])
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def memory_gib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 2**20)
    return 0


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2, help="solved and empty copies each")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        make_submissions(folder, args.copies)
        count = 2 * args.copies
        baseline = {}
        for sandbox in (False, True):
            for jobs in (1, 2):
                load_before = os.getloadavg()[0]
                out = Path(tmp) / f"grades_{jobs}_{sandbox}"
                seconds = time_grading(folder, out, jobs, sandbox)
                row = {
                    "sandbox": sandbox,
                    "jobs": jobs,
                    "notebooks": count,
                    "wall_seconds": round(seconds, 1),
                    "seconds_per_notebook": round(seconds / count, 1),
                    "load_average_before": round(load_before, 1),
                    "load_average_after": round(os.getloadavg()[0], 1),
                }
                if sandbox:
                    row["ratio_to_no_sandbox"] = round(seconds / baseline[jobs], 2)
                else:
                    baseline[jobs] = seconds
                rows.append(row)
                print(json.dumps(row), flush=True)
    machine = f"{cpu_model()}, {os.cpu_count()} cores, {memory_gib()} GiB, no GPU"
    result = {"machine": machine, "notebook": NOTEBOOK}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "grading_speed.json"
    path.write_text(json.dumps({**result, "runs": rows}, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
