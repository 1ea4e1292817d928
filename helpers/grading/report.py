"""What grading writes: ``grades.csv``, one Markdown feedback file per submission, and the
summary table and progress lines printed while it runs."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import asdict
from pathlib import Path

from helpers.errors import InputError
from helpers.grading.batch import ExerciseResult, Grade, Submission

BAR_WIDTH = 20
_LAST = ["status", "sandboxed"]


def progress_line(grade: Grade, done: int, total: int) -> str:
    """``[#####-----]  3/10  alice  01_dataset_synthesis  2/3  41 s  ok``."""
    filled = round(BAR_WIDTH * done / total)
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    return (
        f"[{bar}] {done:>{len(str(total))}}/{total}  {grade.submission.student}  "
        f"{grade.notebook or grade.submission.path.name}  {_score(grade)}  "
        f"{grade.seconds:.0f} s  {grade.status}"
    )


def write_csv(grades: list[Grade], path: Path) -> None:
    """A gradebook: one row per student, one column per exercise (the points earned; blank
    when the student handed in no copy of its notebook), then ``total``, ``out_of`` (the
    points of every column), ``percentage``, ``status`` and ``sandboxed`` (yes/no)."""
    columns: dict[str, int] = {}
    for grade in grades:
        for exercise in grade.exercises:
            if exercise.column:  # a file that is no notebook of the course has none
                columns.setdefault(exercise.column, exercise.points)
    out_of = sum(columns.values())
    students: dict[str, list[Grade]] = {}
    for grade in grades:
        students.setdefault(grade.submission.student, []).append(grade)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["student", *columns, "total", "out_of", "percentage"] + _LAST)
        for student, own in students.items():
            earned = {e.column: e.earned for grade in own for e in grade.exercises}
            total = sum(earned.values())
            percentage = round(100 * total / out_of, 1) if out_of else 0.0
            status = (
                own[0].status
                if len(own) == 1
                else "; ".join(
                    f"{grade.notebook or grade.submission.path.name}: {grade.status}"
                    for grade in own
                )
            )
            sandboxed = "yes" if all(grade.sandboxed for grade in own) else "no"
            marks = [earned.get(column, "") for column in columns]
            writer.writerow([student, *marks, total, out_of, percentage, status, sandboxed])


def write_json(grades: list[Grade], path: Path) -> None:
    """Every submission's grade in full (``grades.json``): what ``--only`` reads back."""
    path.write_text(json.dumps([to_record(grade) for grade in grades], indent=1) + "\n")


def read_json(path: Path) -> list[Grade]:
    """The grades :func:`write_json` wrote.

    Raises:
        InputError: no such file, or not one of ours.
    """
    try:
        return [from_record(record) for record in json.loads(path.read_text(encoding="utf-8"))]
    except FileNotFoundError:
        message = f"--only: no earlier grades in {path}; grade the whole folder first"
        raise InputError(message) from None
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"--only: {path} is not a grades file ({error})") from None


def to_record(grade: Grade) -> dict:
    record = asdict(grade)
    record["submission"] = {"student": grade.submission.student, "path": str(grade.submission.path)}
    return record


def from_record(record: dict) -> Grade:
    submission = Submission(record["submission"]["student"], Path(record["submission"]["path"]))
    exercises = tuple(ExerciseResult(**exercise) for exercise in record["exercises"])
    fields = {key: record[key] for key in ("notebook", "status", "seconds", "detail", "sandboxed")}
    return Grade(submission, exercises=exercises, **fields)


def summary_table(grades: list[Grade]) -> str:
    """A plain-text table: student, notebook, one mark per exercise, score, status."""
    rows = [("student", "notebook", "exercises", "score", "status")]
    for grade in grades:
        marks = " ".join("✓" if exercise.passed else "✗" for exercise in grade.exercises) or "-"
        notebook = grade.notebook or grade.submission.path.name
        rows.append((grade.submission.student, notebook, marks, _score(grade), grade.status))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if not all(grade.sandboxed for grade in grades):
        lines.append("UNSANDBOXED: --no-sandbox ran the students' code with your permissions.")
    return "\n".join(lines)


def feedback(grade: Grade) -> str:
    """The Markdown feedback for one submission: score, status, and per exercise pass or
    fail with the check's hint."""
    lines = [
        f"# Feedback: {grade.notebook or grade.submission.path.name}",
        "",
        f"Student: {grade.submission.student} · file: `{grade.submission.path.name}`",
        "",
        f"**Score: {_score(grade)} points** · status: {grade.status}",
        "",
    ]
    if not grade.exercises:
        lines.append(f"Not graded: {grade.status}.")
    if grade.detail:
        lines += ["", grade.detail]
    else:
        lines += ["| exercise | result | points | what the check said |"]
        lines += ["| --- | --- | --- | --- |"]
        for exercise in grade.exercises:
            result = "pass" if exercise.passed else "fail"
            message = " ".join(exercise.message.split()).replace("|", "\\|")
            points = f"{exercise.earned}/{exercise.points}"
            lines.append(f"| {exercise.number} | {result} | {points} | {message} |")
    return "\n".join(lines) + "\n"


def write_feedback(grade: Grade, folder: Path) -> Path:
    """Write :func:`feedback` to ``folder/<student>/<file name>.md``; returns that path."""
    path = folder / _safe(grade.submission.student) / f"{_safe(grade.submission.path.stem)}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(feedback(grade), encoding="utf-8")
    return path


def _score(grade: Grade) -> str:
    return f"{grade.score}/{grade.out_of}"


def _safe(name: str) -> str:
    # names come from students' files: keep them to one harmless path component
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".") or "_"
