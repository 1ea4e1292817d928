"""The pictures in the README and ``files/``, rendered from the library itself.

``python -m helpers figures files/`` writes one PNG per idea of the course: canvases with
their boxes, the two-headed network, IoU examples, baseline against improved predictions
and the multi-digit detector's output. The models in the last two are trained on the spot
on the offline sample (a short training, named in each figure's title), so the command
needs no network and a few minutes on a 2-core CPU. ``quick=True`` trains for one
short epoch instead: it checks that every figure renders, not what the models learn.

Not taught: the README's pictures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from helpers import boxes, detection, models, synthesis, viz
from helpers.constants import DEFAULT_SEED, quick_mode
from helpers.data import load_sample
from helpers.errors import InputError
from helpers.evaluation import evaluate
from helpers.pipeline import make_test_set
from helpers.training import train

#: Low resolution keeps the committed PNGs at a few tens of KB each.
DPI = 72
SEED = DEFAULT_SEED


@dataclass(frozen=True)
class Training:
    """How long the figures' models train; quoted in their titles."""

    localizer_epochs: int = 6
    detector_epochs: int = 4
    detector_images_per_epoch: int = 4000
    train_digits: int | None = None  # None: all 4,000 training digits of the sample


FULL_TRAINING = Training()
#: Quick mode's training: checks that every figure renders, not what the models learn.
QUICK_TRAINING = Training(
    localizer_epochs=1, detector_epochs=1, detector_images_per_epoch=64, train_digits=256
)


def canvases(digits: np.ndarray, labels: np.ndarray) -> Figure:
    """Eight canvases, each with its frame box; the ink's tight box beside it."""
    picked = digits[:8]
    images, frame = synthesis.synthesize(picked, seed=SEED, box_kind="frame")
    _, tight = synthesis.synthesize(picked, seed=SEED, box_kind="tight")
    fig = viz.plot_examples(
        images,
        frame,
        labels=labels[:8],
        pred_boxes=tight,
        ncols=8,
        title="75x75 canvases: frame box (solid) and tight ink box (dashed)",
    )
    fig.legends.clear()  # the dashed box here is the tight label, not a prediction
    return fig


def network() -> Figure:
    """The baseline and the improved two-headed network, side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 8.2))
    viz.draw_network(models.build_baseline_model(), axes[0])
    viz.draw_network(models.build_model(), axes[1])
    fig.tight_layout()
    return fig


def iou_examples(digit: np.ndarray) -> Figure:
    """One true box and three predictions: a good one, a poor one and a miss, with their IoU."""
    image, (truth,) = synthesis.synthesize(digit[None], seed=SEED, box_kind="frame")
    width = truth[2] - truth[0]
    shifts = {"good": (0.08, 0.05), "poor": (0.55, 0.45), "none": (1.2, 0.0)}
    fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.9))
    for ax, (name, (dx, dy)) in zip(axes, shifts.items(), strict=True):
        guess = np.clip(truth + np.float32([dx, dy, dx, dy]) * width, 0, 1)
        score = float(boxes.iou(truth[None], guess[None])[0])
        viz.show_canvas(ax, image[0])
        viz.draw_box(ax, truth, image.shape[1], viz.TRUE_STYLE)
        viz.draw_box(ax, guess, image.shape[1], viz.PRED_STYLE)
        ax.set_title(f"{name}: IoU = {score:.2f}")
    viz.box_legend(fig)
    fig.suptitle("IoU = area of overlap / area of union", x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return fig


def predictions(recipe: str, data: tuple, training: Training) -> Figure:
    """Test canvases with the true box and the box a freshly trained ``recipe`` predicts."""
    (x_train, y_train), (x_test, y_test) = data
    run = train(recipe, x_train, y_train, epochs=training.localizer_epochs, seed=SEED, verbose=0)
    images, labels, true_boxes = make_test_set(x_test[:8], y_test[:8])
    result = evaluate(run.model, images, labels, true_boxes)
    return viz.plot_examples(
        images,
        true_boxes,
        labels=labels,
        pred_boxes=result.boxes,
        pred_labels=result.predicted,
        ious=result.ious,
        ncols=8,
        title=f"{recipe} recipe, trained {training.localizer_epochs} epochs on "
        f"{len(x_train):,} sample digits; held-out test canvases",
    )


def detector_output(data: tuple, training: Training) -> Figure:
    """The multi-digit detector's boxes on held-out scenes, after a short training."""
    (x_train, y_train), (x_test, y_test) = data
    run = detection.train_detector(
        x_train,
        y_train,
        epochs=training.detector_epochs,
        images_per_epoch=training.detector_images_per_epoch,
        seed=SEED,
        verbose=0,
    )
    images, true_boxes, classes = detection.make_test_scenes(x_test, y_test, 4)
    found = detection.detect(run.model, images)
    images_seen = training.detector_epochs * training.detector_images_per_epoch
    return detection.plot_scenes(
        images,
        detection.unpad(true_boxes, classes),
        found,
        title=f"detector trained {training.detector_epochs} epochs "
        f"({images_seen:,} scenes of sample digits); held-out scenes",
    )


def render_all(out: str | os.PathLike, quick: bool | None = None) -> list[Path]:
    """Write every course figure as a PNG into ``out``; return the paths written.

    Args:
        out: folder for the PNGs (created when missing), a ``str`` or a path.
        quick: train each model for one short epoch (a check that everything renders);
            ``None`` follows quick mode (:func:`helpers.constants.quick_mode`).
    """
    if not isinstance(out, (str, os.PathLike)):
        raise InputError(f"out: expected a folder as a str or a path, got {out!r}")
    out = Path(out)
    training = QUICK_TRAINING if (quick_mode() if quick is None else quick) else FULL_TRAINING
    (x_train, y_train), (x_test, y_test) = load_sample()
    data = ((x_train[: training.train_digits], y_train[: training.train_digits]), (x_test, y_test))
    figures = {
        "canvases": lambda: canvases(x_test, y_test),
        "network": network,
        "iou_examples": lambda: iou_examples(x_test[0]),
        "baseline_predictions": lambda: predictions("baseline", data, training),
        "improved_predictions": lambda: predictions("improved", data, training),
        "detector": lambda: detector_output(data, training),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in figures.items():
        fig = make()
        path = out / f"{name}.png"
        # No "Software" stamp: the files change only when the pictures do.
        fig.savefig(path, dpi=DPI, metadata={"Software": None})
        plt.close(fig)
        written.append(path)
    return written
