"""Run one notebook in a fresh kernel and report how each code cell ended.

:mod:`helpers.grading.sandbox` runs this file as a script, in a process of its own, from
the submission's working folder::

    python -I runner.py NOTEBOOK CELL_SECONDS NOTEBOOK_SECONDS MAX_FILE_BYTES \
        MEMORY_BYTES PROCESSES CPU_SECONDS PID_FILE

(``PROCESSES`` 0: no limit on processes.) Inside the sandbox it runs as the sandbox's user,
so the limits it sets on itself hold for the kernel too, and the kernel cannot raise them.

It imports nothing from :mod:`helpers` (``-I`` keeps even the package root out of
``sys.path``), so grading never imports TensorFlow outside the kernels. It prints one
JSON line on stdout::

    {"outcome": "finished" | "timeout" | "kernel died", "seconds": float,
     "cells": {"<cell index>": {"status": "ok" | "error" | "timeout", "error": str}}}

A code cell missing from ``cells`` did not run.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

#: ``ename`` of the error nbclient reports for a cell that ran past its time limit.
TIMEOUT_ERROR = "CellTimeout"


def run_notebook(path: Path, cell_seconds: float, notebook_seconds: float, pid_file: Path) -> dict:
    """Execute every cell of the notebook at ``path``, going on after errors and timeouts.

    The kernel starts in ``path``'s folder. A cell may run ``cell_seconds`` at most and
    all cells together ``notebook_seconds``; cells left when that runs out are not run.
    The kernel's process id goes to ``pid_file`` so that a stuck run can be cleaned up.
    """
    notebook = nbformat.read(path, as_version=4)
    cells: dict[str, dict[str, str]] = {}

    def record(cell, cell_index: int, execute_reply: dict) -> None:
        content = execute_reply["content"]
        if content["status"] == "ok":  # the reply's status, not the cell's printed output
            cells[str(cell_index)] = {"status": "ok", "error": ""}
            return
        name = content.get("ename", "Error")
        status = "timeout" if name == TIMEOUT_ERROR else "error"
        cells[str(cell_index)] = {"status": status, "error": f"{name}: {content.get('evalue', '')}"}

    client = NotebookClient(
        notebook,
        kernel_name="python3",
        allow_errors=True,
        # each cell gets its own limit, cut short by what is left of the notebook's
        timeout_func=lambda cell: max(1.0, min(cell_seconds, deadline - time.monotonic())),
        interrupt_on_timeout=True,
        error_on_timeout={"ename": TIMEOUT_ERROR, "evalue": "the cell ran past its time limit"},
        startup_timeout=180,  # a loaded machine grading several notebooks at once is slow
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_executed=record,
    )
    outcome = "finished"
    # the kernel's own stdout/stderr (TensorFlow's C++ logs, os.write(1, ...)) stay out
    # of the JSON line this process prints
    with client.setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        pid_file.write_text(str(client.km.provisioner.pid))
        start = time.monotonic()  # the limit is on running cells, not on starting a kernel
        deadline = start + notebook_seconds
        try:
            for index, cell in enumerate(notebook.cells):
                if time.monotonic() >= deadline:
                    outcome = "timeout"
                    break
                client.execute_cell(cell, index)
        except DeadKernelError:  # os._exit(), exit(), a crash in native code
            outcome = "kernel died"
    return {"outcome": outcome, "seconds": round(time.monotonic() - start, 1), "cells": cells}


def _limit_resources(max_file: int, memory: int, processes: int, cpu_seconds: int) -> None:
    # inherited by the kernel; soft and hard limits alike, so it cannot raise them again.
    # Python ignores SIGXFSZ, so an oversized write fails with OSError inside the cell.
    limits = [
        (resource.RLIMIT_FSIZE, max_file),
        (resource.RLIMIT_CORE, 0),
        # RLIMIT_DATA, not RLIMIT_AS: TensorFlow reserves far more address space than it uses
        (resource.RLIMIT_DATA, memory),
        (resource.RLIMIT_CPU, cpu_seconds),
    ]
    if processes:  # counts threads too
        limits.append((resource.RLIMIT_NPROC, processes))
    for kind, value in limits:
        resource.setrlimit(kind, (value, value))


def _stop_on_sigterm(signum: int, frame) -> None:
    # SystemExit unwinds through setup_kernel(), which shuts the kernel down
    raise SystemExit(f"stopped by signal {signum}")


if __name__ == "__main__":
    notebook_path, cell_limit, notebook_limit, *caps, pid_path = sys.argv[1:]
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    _limit_resources(*(int(cap) for cap in caps))
    limits = float(cell_limit), float(notebook_limit)
    print(json.dumps(run_notebook(Path(notebook_path), *limits, Path(pid_path))))
