"""Command line: ``python -m helpers train|evaluate|detect-train|student|grade|figures|fork``.

Every command ends by printing one JSON line on stdout (test metrics for the training
and evaluation commands). Bad input (a missing or malformed file, an unknown option,
``--epochs 0``, an ``--out`` that cannot be written) ends with exit code 2 and one line
on stderr, and is found before any training or evaluation starts. Only the library's
:class:`~helpers.errors.InputError`, ``FileNotFoundError`` and argparse's usage errors
are reported that way: anything else is a bug, and shows its traceback.

Not taught: the command line (README, "The command line").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from helpers.constants import DETECTOR_BATCH_SIZE, DETECTOR_EPOCHS, DETECTOR_IMAGES_PER_EPOCH
from helpers.errors import InputError
from helpers.recipes import RECIPES
from helpers.tf_startup import start_tensorflow

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the user: reported in one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage dump) and exit with code 2."""

    def error(self, message: str):
        raise UsageError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _data_args(parser: argparse.ArgumentParser, box: bool = True) -> None:
    parser.add_argument(
        "--data",
        default="auto",
        help="auto (download, else offline sample), keras, sample, or a path to mnist.npz",
    )
    if box:
        parser.add_argument("--box", choices=("frame", "tight"), default="frame", help="box kind")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m helpers", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train a recipe and report test metrics")
    _data_args(train)
    train.add_argument("--recipe", choices=tuple(RECIPES), default=next(iter(RECIPES)))
    train.add_argument("--epochs", type=_positive_int, default=10)
    train.add_argument(
        "--batch-size",
        type=_positive_int,
        default=None,
        help="per-replica batch size (default: the recipe's)",
    )
    train.add_argument("--out", default="model.keras", help="where to save the model (.keras)")
    train.set_defaults(run=run_train)

    evaluate = commands.add_parser("evaluate", help="report test metrics of a saved model")
    _data_args(evaluate)
    evaluate.add_argument("--model", required=True, help="a model saved with model.save (.keras)")
    evaluate.set_defaults(run=run_evaluate)

    student = commands.add_parser("student", help="write student copies (solutions stubbed)")
    student.add_argument("source", help="a notebook or a folder of notebooks")
    student.add_argument("--out", required=True, help="folder for the student copies")
    student.add_argument(
        "--format",
        choices=("plain", "nbgrader"),
        default="plain",
        help="plain: stubs for `grade`; nbgrader: marked solutions for nbgrader",
    )
    student.set_defaults(run=run_student)

    detect = commands.add_parser(
        "detect-train", help="train the multi-digit detector and report its mAP@0.5"
    )
    _data_args(detect, box=False)  # the detector always uses tight boxes
    detect.add_argument(
        "--epochs", type=_positive_int, default=None, help=f"default: {DETECTOR_EPOCHS}"
    )
    detect.add_argument(
        "--batch-size", type=_positive_int, default=None, help=f"default: {DETECTOR_BATCH_SIZE}"
    )
    detect.add_argument(
        "--images-per-epoch",
        type=_positive_int,
        default=None,
        help=f"canvases per epoch (default: {DETECTOR_IMAGES_PER_EPOCH})",
    )
    detect.add_argument(
        "--test-images", type=_positive_int, default=500, help="canvases built from test digits"
    )
    detect.add_argument("--out", default="detector.keras", help="where to save the model")
    detect.set_defaults(run=run_detect_train)

    grade = commands.add_parser("grade", help="grade a folder of submitted notebooks")
    grade.add_argument("submissions", help="a folder of .ipynb files, or of one folder per student")
    grade.add_argument("--out", required=True, help="folder for grades.csv and feedback/")
    grade.add_argument(
        "--source",
        default=None,
        help="the answer-key notebooks (default: notebooks/ of the current checkout)",
    )
    grade.add_argument("--jobs", type=_positive_int, default=1, help="submissions at a time")
    grade.add_argument(
        "--cell-timeout", type=_positive_int, default=300, help="seconds per cell (300)"
    )
    grade.add_argument(
        "--timeout", type=_positive_int, default=1200, help="seconds per notebook (1200)"
    )
    grade.add_argument(
        "--max-file-mb", type=_positive_int, default=1024, help="largest file a run may write"
    )
    grade.add_argument(
        "--max-memory-mb", type=_positive_int, default=6144, help="memory per process (6144)"
    )
    grade.add_argument("--only", metavar="STUDENT", help="regrade one student, update their row")
    grade.add_argument(
        "--no-sandbox", action="store_true", help="run without bubblewrap (trusted code only)"
    )
    grade.set_defaults(run=run_grade)

    figures = commands.add_parser(
        "figures", help="render the course's pictures (PNG) from the library, offline"
    )
    figures.add_argument("out", help="folder for the PNGs, for example files/")
    figures.add_argument(
        "--quick",
        action="store_true",
        help="train one short epoch only (checks the rendering); also with LOCALIZER_QUICK=1",
    )
    figures.set_defaults(run=run_figures)

    fork = commands.add_parser("fork", help="point badges and setup cells at your fork")
    fork.add_argument("repository", help="your fork on GitHub, as OWNER/NAME")
    fork.add_argument(
        "--source", default=None, help="the course checkout to edit (default: the current folder)"
    )
    fork.set_defaults(run=run_fork)

    from helpers.publishing import register  # export-demo, site, sync-notebooks

    register(commands)
    return parser


def _load_data(args) -> tuple:
    from helpers.data import load_mnist

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (train, test), used = load_mnist(args.data, return_source=True)
    for warning in caught:  # the download fallback: keep it to one readable line
        print(f"warning: {warning.message}", file=sys.stderr)
    return train, test, used


def _test_metrics(model, test, box_kind: str) -> dict:
    from helpers.evaluation import evaluate
    from helpers.pipeline import make_test_set

    images, labels, boxes = make_test_set(*test, box_kind=box_kind)
    return evaluate(model, images, labels, boxes).summary()


def _check_out(out: str) -> None:
    """Refuse an ``--out`` that could not be saved to, before any training is spent on it.

    The file must end in ``.keras`` and not be a folder; its nearest existing parent must
    be a writable folder (the missing ones are created when the model is saved).
    """
    if not out.endswith(".keras"):
        raise UsageError(f"--out must end in .keras, got {out!r}")
    path = Path(out)
    if path.is_dir():
        raise UsageError(f"--out {out!r} is a folder: expected a file name ending in .keras")
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"--out {out!r} cannot be written: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"--out {out!r} cannot be written: no permission to write in {parent}")


def run_train(args) -> dict:
    start_tensorflow()
    _check_out(args.out)
    from helpers.training import train

    (x_train, y_train), test, used = _load_data(args)
    start = time.perf_counter()
    run = train(
        args.recipe,
        x_train,
        y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        box_kind=args.box,
    )
    wall = time.perf_counter() - start
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    run.model.save(args.out)
    return {
        "command": "train",
        "recipe": args.recipe,
        "data": used,
        "box": args.box,
        "epochs": args.epochs,
        "train_images": len(x_train),
        **_test_metrics(run.model, test, args.box),
        "train_seconds": round(wall, 2),
        "fit_seconds": round(run.seconds, 2),
        "images_per_second": round(run.images_per_second, 1),
        "model": args.out,
    }


def run_evaluate(args) -> dict:
    start_tensorflow()
    from helpers.evaluation import check_localizer
    from helpers.saving import load_model

    path = Path(args.model)
    model = load_model(path)
    check_localizer(model, f"--model {path}")
    _, test, used = _load_data(args)
    return {
        "command": "evaluate",
        "model": str(path),
        "data": used,
        "box": args.box,
        **_test_metrics(model, test, args.box),
    }


def run_detect_train(args) -> dict:
    """Train :mod:`helpers.detection`'s grid detector; score it on canvases of test digits."""
    start_tensorflow()
    _check_out(args.out)
    from helpers import detection

    (x_train, y_train), (x_test, y_test), used = _load_data(args)
    options = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "images_per_epoch": args.images_per_epoch,
    }
    start = time.perf_counter()
    run = detection.train_detector(
        x_train,
        y_train,
        seed=args.seed,
        **{key: value for key, value in options.items() if value is not None},
    )
    wall = time.perf_counter() - start
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    run.model.save(args.out)
    images, boxes, classes = detection.make_test_scenes(x_test, y_test, args.test_images)
    result = detection.evaluate_detector(run.model, images, boxes, classes)
    return {
        "command": "detect-train",
        "data": used,
        "epochs": len(run.history.epoch),
        "train_digits": len(x_train),
        "train_images_seen": run.images_seen,
        "test_images": len(images),
        "test_digits": int((classes >= 0).sum()),
        "map_50": round(result.map, 4),
        "ap_50_per_class": [round(float(ap), 4) for ap in result.per_class],
        "train_seconds": round(wall, 2),
        "fit_seconds": round(run.seconds, 2),
        "images_per_second": round(run.images_per_second, 1),
        "model": args.out,
    }


def run_student(args) -> dict:
    from helpers.notebooks import write_student_versions

    counts = write_student_versions(Path(args.source), Path(args.out), args.format)
    return {"command": "student", "out": args.out, "solutions_stubbed": counts}


def course_checkout(source: str | None, command: str) -> Path:
    """The course checkout a command works on: ``source``, else the current directory.

    A checkout is a folder with ``notebooks/`` in it. From a wheel, the installed
    ``helpers`` has no notebooks beside it, so the commands that need them (``fork``,
    ``grade``) look in the folder they are run from, or where ``--source`` says.

    Raises:
        InputError: in one line, when that folder holds no ``notebooks/``.
    """
    folder = Path(source) if source else Path.cwd()
    if not (folder / "notebooks").is_dir():
        where = f"--source {folder}" if source else f"the current folder {folder}"
        raise InputError(
            f"{command} needs a course checkout (a folder with notebooks/), and {where} "
            "has none: run it inside a clone of the course or pass --source PATH"
        )
    return folder


def run_grade(args) -> dict:
    """Grade submissions; the summary table goes to stdout, progress lines to stderr."""
    from helpers.grading import Limits, grade_folder, summary_table

    limits = Limits(
        args.cell_timeout, args.timeout, args.max_file_mb << 20, args.max_memory_mb << 20
    )
    out = Path(args.out)
    if args.source:
        source = Path(args.source)  # the answer-key notebooks themselves
    else:
        source = course_checkout(None, "grade") / "notebooks"
    package_root = Path(__file__).resolve().parents[1]  # the folder holding helpers/
    grades = grade_folder(
        Path(args.submissions),
        out,
        source,
        package_root,
        limits,
        args.jobs,
        sandbox=not args.no_sandbox,
        only=args.only,
    )
    print(summary_table(grades))
    return {
        "command": "grade",
        "sandboxed": not args.no_sandbox,
        "submissions": len(grades),
        "ok": sum(grade.status == "ok" for grade in grades),
        "grades": str(out / "grades.csv"),
        "feedback": str(out / "feedback"),
    }


def run_figures(args) -> dict:
    start_tensorflow()
    from helpers.figures import render_all

    written = render_all(args.out, quick=args.quick or None)  # None: LOCALIZER_QUICK decides
    return {"command": "figures", "out": args.out, "files": [path.name for path in written]}


def run_fork(args) -> dict:
    from helpers.notebooks import fork

    root = course_checkout(args.source, "fork")
    return {
        "command": "fork",
        "repository": args.repository,
        "changed": fork(args.repository, root),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        run: Callable = args.run
        result = run(args)
    # Only bad input is reported in one line; any other exception is a bug in the library
    # and keeps its traceback.
    except (UsageError, InputError, FileNotFoundError) as error:
        message = " ".join(str(error).split())  # one line, whatever the library wrote
        print(f"error: {message}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(result, default=_json_default))
    return 0


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
