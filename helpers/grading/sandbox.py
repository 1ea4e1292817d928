"""Run a prepared submission in a process of its own, in a fresh folder, with limits.

Each run gets a new temporary folder outside the course checkout, holding a copy of
:mod:`helpers` (the kernel imports that copy) and a working folder with the notebook and
the cases the grader drew. The kernel runs in quick mode on the offline sample.

With the sandbox (the default) the run happens inside bubblewrap (``bwrap``): no network,
the system read-only, only the working folder writable, a private ``/tmp``, and nothing
else of the machine in view: not the course checkout, the answer key, other submissions
or the instructor's home. Only the interpreter's prefix (the virtual environment, even
one inside the checkout, and its base Python) and the copy of :mod:`helpers` are bound,
read-only. Inside, the kernel runs as a user of its own:

* an instructor who is not root gets ``--unshare-user`` (their own user id, mapped);
* root (as in CI) would stay user 0 under ``--unshare-user``, and the kernel exempts user 0
  from the process limit, so bwrap runs without a user namespace and ``setpriv`` drops
  the run to a user id of its own (:func:`_sandbox_uid`) with no capabilities.

Limits (:class:`Limits`, set by :mod:`helpers.grading.runner` on itself and the kernel):
memory as ``RLIMIT_DATA`` (TensorFlow starts and trains under 1 GiB of it, where it needs
4 GiB of ``RLIMIT_AS``: ``python -m benchmarks.grading_memory``),
processes and threads (``RLIMIT_NPROC``), CPU seconds per process, and the size of any one
file written.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from helpers.errors import InputError
from helpers.grading import plain
from helpers.grading.collect import cases_path, outcome_path

RUNNER = Path(__file__).with_name("runner.py")
#: Seconds a run may take beyond its notebook limit (kernel start and shutdown) before
#: it is stopped from outside.
GRACE_SECONDS = 120
#: The program that builds the sandbox (a module constant so that tests can hide it).
BWRAP = "bwrap"
#: Where the working folder and the copy of helpers appear inside the sandbox.
SANDBOX_WORK, SANDBOX_LIB = "/submission", "/grade/lib"
_FIX = "or pass --no-sandbox to grade without one (not for code you do not trust)"


@dataclass(frozen=True)
class Limits:
    """Limits for one submission.

    Attributes:
        cell_seconds, notebook_seconds: wall-clock seconds per cell and per notebook.
        max_file_bytes: the largest file the run may write (bytes).
        memory_bytes: ``RLIMIT_DATA`` of every process (bytes): heap and private mappings.
        processes: processes and threads of the run together (sandbox only: outside it
            the count would be the instructor's own).
        cpu_seconds: CPU seconds per process.
    """

    cell_seconds: float = 300.0
    notebook_seconds: float = 1200.0
    max_file_bytes: int = 1 << 30
    memory_bytes: int = 6 << 30
    processes: int = 512
    cpu_seconds: int = 3600


@dataclass
class RunResult:
    """How a run ended (see :mod:`helpers.grading.runner`).

    ``outcome`` is "finished", "timeout", "kernel died" or "grader error: ..."; ``cells``
    maps a code cell's index to ``{"status": "ok" | "error" | "timeout", "error": str}``;
    ``outcomes`` maps an exercise key to the plain data its collector wrote (or to an
    :class:`InputError` when the file is missing or unreadable). ``pid`` is the process
    the grader started and ``uid`` the user id the sandbox ran as (None: the grader's).
    """

    outcome: str
    seconds: float = 0.0
    cells: dict[int, dict[str, str]] = field(default_factory=dict)
    outcomes: dict[str, Any] = field(default_factory=dict)
    sandboxed: bool = False
    pid: int | None = None
    uid: int | None = None


def sandbox_problem() -> str | None:
    """``None`` when bwrap can start a sandbox here, else one line: why not, how to fix it."""
    if shutil.which(BWRAP) is None:
        return (
            f"{BWRAP} (bubblewrap) is not installed: install it "
            f"(Debian/Ubuntu: apt-get install bubblewrap) {_FIX}"
        )
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return f"setpriv (util-linux) is missing: install util-linux {_FIX}"
    with tempfile.TemporaryDirectory(prefix="helpers-grade-") as tmp:
        job = Path(tmp)
        for name in ("lib", "work", "tmp"):
            (job / name).mkdir()
        uid = _prepare_owner(job)
        command = _bwrap_command(job, uid, [str(_prefix() / "bin" / "python"), "-I", "-c", ""])
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{BWRAP} cannot start a sandbox here ({error}): {_FIX}"
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return (
            f"{BWRAP} cannot start a sandbox here ({reason}): allow unprivileged user namespaces"
            f" (Ubuntu 24.04: sysctl kernel.apparmor_restrict_unprivileged_userns=0) {_FIX}"
        )
    return None


def run_isolated(
    notebook_for: Callable[[str], NotebookNode],
    course_root: Path,
    limits: Limits,
    cases: dict[str, Any] | None = None,
    modules: tuple[Path, ...] = (),
    sandbox: bool = True,
) -> RunResult:
    """Execute a notebook headless in a fresh kernel and a fresh folder; never raises for
    what the notebook does.

    Args:
        notebook_for: the notebook to run, given the working folder's path as the kernel
            sees it (collector cells name it).
        course_root: the folder that holds :mod:`helpers` (copied for the run).
        limits: see :class:`Limits`.
        cases: plain data by exercise key, written for the kernel's collectors.
        modules: more single-file modules to copy beside :mod:`helpers` (exercises
            registered outside the package, as tests do).
        sandbox: run inside bwrap (check :func:`sandbox_problem` first).
    """
    with tempfile.TemporaryDirectory(prefix="helpers-grade-", ignore_cleanup_errors=True) as tmp:
        job = Path(tmp)
        if job.resolve().is_relative_to(course_root.resolve()):
            raise InputError(f"the temporary folder {job} lies inside the course checkout")
        shutil.copytree(course_root / "helpers", job / "lib" / "helpers")
        for module in modules:
            shutil.copy(module, job / "lib" / module.name)
        work, scratch = job / "work", job / "tmp"
        work.mkdir()
        scratch.mkdir()
        (work / ".grading").mkdir()
        for key, data in (cases or {}).items():
            plain.dump(data, cases_path(work, key))
        seen_work = SANDBOX_WORK if sandbox else str(work)
        nbformat.write(notebook_for(seen_work), work / "submission.ipynb")
        uid = _prepare_owner(job) if sandbox else None
        result = _run_runner(job, limits, sandbox, uid)
        for key in cases or {}:
            try:
                result.outcomes[key] = plain.load(outcome_path(work, key))
            except InputError as error:
                result.outcomes[key] = error
        return result


_counter = itertools.count()
_counter_lock = threading.Lock()


def _sandbox_uid() -> int:
    """A user id no account uses, distinct for every run of this grader (runs at the same
    time count their processes apart)."""
    with _counter_lock:
        run = next(_counter)
    return 200_000 + (os.getpid() % 1000) * 1000 + run % 1000


def _prepare_owner(job: Path) -> int | None:
    """As root: give the working folder and /tmp to a fresh user id and return it."""
    if os.geteuid() != 0:
        return None
    uid = _sandbox_uid()
    for path in [job / "work", job / "tmp", *(job / "work").rglob("*")]:
        os.chown(path, uid, uid)
    return uid


def _prefix() -> Path:
    # the virtual environment's real folder: .ci/run's lives inside the checkout, whose
    # other files stay out of view
    return Path(sys.prefix).resolve()


def _bwrap_command(job: Path, uid: int | None, command: list[str]) -> list[str]:
    # found on the grader's PATH: the sandbox's own PATH is a short one
    args = [shutil.which(BWRAP) or BWRAP, "--die-with-parent", "--new-session"]
    args += ["--unshare-net", "--unshare-pid"]
    args += ["--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if uid is None:
        args += ["--unshare-user"]
    else:  # root: setpriv below needs these two, and drops every capability
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    args += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--proc", "/proc", "--dev", "/dev", "--bind", str(job / "tmp"), "/tmp"]
    for prefix in dict.fromkeys([_prefix(), Path(sys.base_prefix).resolve()]):
        if prefix.is_relative_to("/usr"):
            continue  # bound with the system already
        for parent in reversed(prefix.parents[:-1]):  # readable parents, not bwrap's 0700
            args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", str(prefix), str(prefix)]
    args += ["--perms", "0755", "--dir", "/grade", "--ro-bind", str(job / "lib"), SANDBOX_LIB]
    args += ["--bind", str(job / "work"), SANDBOX_WORK, "--chdir", SANDBOX_WORK]
    if uid is not None:
        args += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        args += ["--inh-caps=-all", "--bounding-set=-all"]
    return args + command


def _kernel_env(lib: str, work: str, tmp: str) -> dict[str, str]:
    """A short environment: nothing of the instructor's (tokens, paths) reaches the kernel."""
    return {
        "PATH": f"{_prefix() / 'bin'}:/usr/bin:/bin",
        "HOME": work,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "PYTHONPATH": lib,  # the copy of helpers, not the checkout
        "JUPYTER_RUNTIME_DIR": f"{tmp}/jupyter",  # the kernel's connection file, per run
        "MPLCONFIGDIR": f"{tmp}/matplotlib",
        "LOCALIZER_QUICK": "1",
        "LOCALIZER_DATA": "sample",  # offline: graders must not depend on the network
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def _run_runner(job: Path, limits: Limits, sandbox: bool, uid: int | None) -> RunResult:
    if sandbox:
        lib, work, tmp = SANDBOX_LIB, SANDBOX_WORK, "/tmp"
    else:
        lib, work, tmp = str(job / "lib"), str(job / "work"), str(job / "tmp")
    pid_file = f"{tmp}/kernel.pid"
    runner = [
        str(_prefix() / "bin" / "python"),
        "-I",
        f"{lib}/helpers/grading/runner.py",
        f"{work}/submission.ipynb",
        str(limits.cell_seconds),
        str(limits.notebook_seconds),
        str(limits.max_file_bytes),
        str(limits.memory_bytes),
        str(limits.processes if sandbox else 0),
        str(limits.cpu_seconds),
        pid_file,
    ]
    command = _bwrap_command(job, uid, runner) if sandbox else runner
    process = subprocess.Popen(
        command,
        cwd=job / "work",
        env=_kernel_env(lib, work, tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so that it can be stopped whole
    )
    base = RunResult("", sandboxed=sandbox, pid=process.pid, uid=uid)
    try:
        stdout, stderr = process.communicate(timeout=limits.notebook_seconds + GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _stop(process, job / "tmp" / "kernel.pid", sandbox)
        base.outcome, base.seconds = "timeout", limits.notebook_seconds
        return base
    lines = stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        base.outcome = f"grader error: {(stderr.strip().splitlines() or ['no output'])[-1]}"
        return base
    base.outcome, base.seconds = result["outcome"], result["seconds"]
    base.cells = {int(index): cell for index, cell in result["cells"].items()}
    return base


def _stop(process: subprocess.Popen, pid_file: Path, sandbox: bool) -> None:
    """SIGTERM first (the runner then shuts its kernel down), SIGKILL if that is not enough.

    In the sandbox, killing bwrap's process group ends its PID namespace and with it every
    process the submission started."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.communicate(timeout=30)
        return
    except subprocess.TimeoutExpired:
        pass
    groups = [process.pid]
    if not sandbox and pid_file.is_file():  # the kernel runs in a session of its own
        groups.append(int(pid_file.read_text()))
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.communicate()
