"""What grading writes: ``grades.csv``, one Markdown feedback file per submission, and the
summary table and progress lines printed while it runs."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from helpers.grading.batch import Grade

BAR_WIDTH = 20


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
    """One row per submission: student, notebook, file, ex1..exN (1 passed, 0 not, blank
    when the notebook has fewer exercises), total, out_of, status, seconds."""
    width = max((len(grade.exercises) for grade in grades), default=0)
    header = ["student", "notebook", "file", *[f"ex{n}" for n in range(1, width + 1)]]
    header += ["total", "out_of", "status", "seconds"]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for grade in grades:
            marks = [int(exercise.passed) for exercise in grade.exercises]
            marks += [""] * (width - len(marks))
            writer.writerow(
                [grade.submission.student, grade.notebook, grade.submission.path.name, *marks]
                + [grade.score, len(grade.exercises), grade.status, round(grade.seconds, 1)]
            )


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
    return "\n".join(lines)


def feedback(grade: Grade) -> str:
    """The Markdown feedback for one submission: score, status, and per exercise pass or
    fail with the check's hint."""
    lines = [
        f"# Feedback: {grade.notebook or grade.submission.path.name}",
        "",
        f"Student: {grade.submission.student} · file: `{grade.submission.path.name}`",
        "",
        f"**Score: {_score(grade)}** · status: {grade.status}",
        "",
    ]
    if not grade.exercises:
        lines.append(f"Not graded: {grade.status}.")
    if grade.detail:
        lines += ["", grade.detail]
    else:
        lines += ["| exercise | result | what the check said |", "| --- | --- | --- |"]
        for exercise in grade.exercises:
            result = "pass" if exercise.passed else "fail"
            message = " ".join(exercise.message.split()).replace("|", "\\|")
            lines.append(f"| {exercise.number} | {result} | {message} |")
    return "\n".join(lines) + "\n"


def write_feedback(grade: Grade, folder: Path) -> Path:
    """Write :func:`feedback` to ``folder/<student>/<file name>.md``; returns that path."""
    path = folder / _safe(grade.submission.student) / f"{_safe(grade.submission.path.stem)}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(feedback(grade), encoding="utf-8")
    return path


def _score(grade: Grade) -> str:
    return f"{grade.score}/{len(grade.exercises)}"


def _safe(name: str) -> str:
    # names come from students' files: keep them to one harmless path component
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".") or "_"
