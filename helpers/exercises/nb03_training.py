"""Notebook 03's exercises: the improved recipe's box loss (MSE + 1 - CIoU), and its
cosine learning-rate schedule.

The loss is judged against :class:`helpers.models.BoxLoss` (Keras' ``compute_ciou``), the
schedule against ``keras.optimizers.schedules.CosineDecay``, on boxes and steps drawn here.
"""

from __future__ import annotations

import math

import numpy as np

from helpers.exercises import Exercise, Plain, register
from helpers.exercises.student_code import collect_calls, raised, reference_iou, refusal

NOTEBOOK = "03_training"

# --- Exercise: the box loss ----------------------------------------------------------------


def box_loss_reference(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """``(N,)`` MSE of the corners + ``1 - CIoU``, as :class:`helpers.models.BoxLoss`."""
    from helpers import models

    loss = models.BoxLoss(ciou_weight=1.0, reduction=None)
    return np.asarray(loss(np.float32(y_true), np.float32(y_pred)), np.float64)


def _boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, 4)`` normalised boxes, 0.1 to 0.5 of the canvas on each side."""
    size = rng.uniform(0.1, 0.5, size=(n, 2))
    corner = rng.uniform(0, 1, size=(n, 2)) * (1 - size)
    return np.concatenate([corner, corner + size], axis=1).astype(np.float32)


def _loss_cases(rng: np.random.Generator) -> list[dict[str, Plain]]:
    y_true = _boxes(rng, 24)
    y_pred = y_true + rng.normal(0, 0.04, size=y_true.shape).astype(np.float32)
    y_pred[:8] = _boxes(rng, 8)  # far off, most of them not overlapping at all
    y_pred[8] = y_true[8]  # a perfect box: loss 0
    y_pred[9] = [0.0, 0.0, 0.1, 0.1]
    y_true[9] = [0.8, 0.8, 0.95, 0.9]  # no overlap, different shapes
    y_pred[10:] = np.sort(y_pred[10:].reshape(-1, 2, 2), axis=1).reshape(-1, 4)  # ordered
    y_true[10], y_pred[10] = [0.2, 0.2, 0.4, 0.5], [0.4, 0.25, 0.6, 0.45]  # touching
    return [{"y_true": y_true, "y_pred": y_pred}]


def _judge_loss(data: Plain, cases: list[dict[str, Plain]], source: str | None) -> str | None:
    refused = refusal(source, {"BoxLoss", "compute_ciou", "compute_iou"}, "write the loss")
    if refused:
        return refused
    for result, case in zip(data, cases, strict=True):
        crash = raised(result, "box_loss")
        if crash:
            return crash
        y_true = np.asarray(case["y_true"], np.float64)
        y_pred = np.asarray(case["y_pred"], np.float64)
        found = np.asarray(result, dtype=np.float64)
        expected = box_loss_reference(y_true, y_pred)
        if found.shape != expected.shape:
            if found.size == 1:
                return "return one loss per box, shape (N,), not their mean"
            return f"expected shape (N,), one loss per box; got {found.shape}"
        if np.isnan(found).any() or np.isinf(found).any():
            return "some losses are NaN or infinite; does a box that misses divide by zero?"
        if np.allclose(found, expected, atol=2e-3):
            continue
        mse = np.mean((y_true - y_pred) ** 2, axis=1)
        iou = reference_iou(y_true, y_pred)
        if np.allclose(found, expected - mse, atol=2e-3):
            return "the MSE of the corners is missing: the loss is MSE + (1 - CIoU)"
        if np.allclose(found, 1 - iou, atol=2e-3) or np.allclose(found, mse + 1 - iou, atol=2e-3):
            return "this is 1 - IoU: CIoU also subtracts the centre-distance and shape penalties"
        if np.allclose(found, mse * 4 + expected - mse, atol=2e-3):
            return "the MSE is the mean of the 4 squared differences, not their sum"
        overlap = iou > 0
        if np.allclose(found[overlap], expected[overlap], atol=2e-3):
            return "right where boxes overlap, wrong where they do not: check the enclosing box"
        return "the losses differ from MSE + (1 - CIoU); compare your CIoU term by term"
    return None


register(
    Exercise(
        key="03.box_loss",
        notebook=NOTEBOOK,
        answer="box_loss",
        kind="function",
        make_cases=_loss_cases,
        collect=collect_calls,
        judge=_judge_loss,
        points=3,
    )
)


# --- Exercise: the cosine schedule ---------------------------------------------------------


def cosine_reference(step: int, total_steps: int, peak: float, final_fraction: float) -> float:
    """The learning rate at ``step``, as ``keras.optimizers.schedules.CosineDecay(peak,
    total_steps, alpha=final_fraction)`` gives it (flat at its end value after ``total_steps``)."""
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(peak, total_steps, alpha=final_fraction)
    return float(schedule(step))


def _schedule_cases(rng: np.random.Generator) -> list[dict[str, Plain]]:
    total = int(rng.integers(100, 1000))
    peak = float(rng.choice([1e-3, 5e-3, 2e-2]))
    fraction = float(rng.choice([0.01, 0.1, 0.2]))
    steps = [0, 1, total // 3, total // 2, total - 1, total, total + total // 2]
    steps += [int(s) for s in rng.integers(0, total, size=3)]
    return [
        {"step": step, "total_steps": total, "peak": peak, "final_fraction": fraction}
        for step in steps
    ]


def _judge_schedule(data: Plain, cases: list[dict[str, Plain]], source: str | None) -> str | None:
    refused = refusal(source, {"CosineDecay", "adam"}, "write the schedule")
    if refused:
        return refused
    for result, case in zip(data, cases, strict=True):
        crash = raised(result, "cosine_learning_rate", f"step {case['step']}")
        if crash:
            return crash
    try:
        found = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        return "return one number, the learning rate at that step"
    if found.shape != (len(cases),):
        return "return one number, the learning rate at that step"
    if np.isnan(found).any():
        return "some learning rates are NaN"
    expected = np.array([cosine_reference(**case) for case in cases])
    if np.allclose(found, expected, rtol=1e-4, atol=1e-9):
        return None
    case = cases[0]
    peak, fraction, total = case["peak"], case["final_fraction"], case["total_steps"]
    progress = np.array([min(c["step"], total) / total for c in cases])
    cosine = 0.5 * (1 + np.cos(math.pi * progress))
    if np.allclose(found, peak * cosine + fraction, rtol=1e-4):
        return "final_fraction is a fraction of the peak, not a rate of its own"
    if not np.isclose(found[0], peak, rtol=1e-4):
        return "at step 0 the rate should be the peak"
    if np.allclose(found, peak * cosine, rtol=1e-4):
        return "the rate ends at 0; it should end at final_fraction of the peak"
    unclamped = np.array([c["step"] / total for c in cases])
    rising = peak * ((1 - fraction) * 0.5 * (1 + np.cos(math.pi * unclamped)) + fraction)
    if np.allclose(found, rising, rtol=1e-4):
        return "after total_steps the rate should stay at its end value, not rise again"
    return "the rates differ from a cosine decay from the peak to final_fraction of it"


register(
    Exercise(
        key="03.cosine_schedule",
        notebook=NOTEBOOK,
        answer="cosine_learning_rate",
        kind="function",
        make_cases=_schedule_cases,
        collect=collect_calls,
        judge=_judge_schedule,
        points=2,
    )
)
