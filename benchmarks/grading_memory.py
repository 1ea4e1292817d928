"""Which memory limit TensorFlow runs under: ``RLIMIT_DATA`` against ``RLIMIT_AS``.

Usage::

    python -m benchmarks.grading_memory

The grading sandbox caps every process's memory with ``RLIMIT_DATA`` (see
:mod:`helpers.grading.sandbox`). For each limit, a fresh Python process under it imports
TensorFlow and fits a small convolutional network for one step, as a course notebook's
kernel does; the same is tried under ``RLIMIT_AS`` (the address space, which TensorFlow
reserves far beyond what it uses). Writes whether each run succeeded, its peak resident
memory and seconds to ``results/grading_memory.json``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

from benchmarks.grading_speed import RESULTS, cpu_model, memory_gib

#: A notebook kernel's heaviest start: TensorFlow, Keras and one training step.
PROGRAM = """\
import resource
import numpy as np
import keras
model = keras.Sequential([keras.Input((75, 75, 1)), keras.layers.Conv2D(16, 3),
                          keras.layers.Flatten(), keras.layers.Dense(10)])
model.compile("adam", "mse")
model.fit(np.zeros((64, 75, 75, 1), "float32"), np.zeros((64, 10), "float32"), verbose=0)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
LIMITS_GIB = (1, 2, 4, 6)


def run_under(kind: int, limit: int) -> dict:
    """Run :data:`PROGRAM` with the resource ``kind`` capped at ``limit`` bytes."""

    def cap() -> None:
        resource.setrlimit(kind, (limit, limit))

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], preexec_fn=cap, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    last = (done.stdout.strip().splitlines() or [""])[-1]
    ok = done.returncode == 0 and last.isdigit()
    error = "" if ok else (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
    peak = round(int(last) / 2**20, 2) if ok else None  # ru_maxrss is in KiB
    return {"ok": ok, "peak_rss_gib": peak, "seconds": round(seconds, 1), "error": error}


def main() -> None:
    rows = []
    for name, kind in (("RLIMIT_DATA", resource.RLIMIT_DATA), ("RLIMIT_AS", resource.RLIMIT_AS)):
        for gib in LIMITS_GIB:
            row = {"limit": name, "gib": gib, **run_under(kind, gib << 30)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    machine = f"{cpu_model()}, {os.cpu_count()} cores, {memory_gib()} GiB, no GPU"
    path = RESULTS / "grading_memory.json"
    path.write_text(json.dumps({"machine": machine, "runs": rows}, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
