"""Figures for the detector: scenes with boxes, precision-recall curves.

Used in notebook 05 (scenes with boxes, precision-recall curves).
"""

from __future__ import annotations

import numpy as np

from helpers.detection.grid import owner_cells
from helpers.detection.inference import Detections
from helpers.detection.metrics import MeanAP


def plot_scenes(
    images: np.ndarray,
    truths: list[tuple[np.ndarray, np.ndarray]] | None = None,
    detections: list[Detections] | None = None,
    *,
    ncols: int = 4,
    grid_size: int | None = None,
    title: str | None = None,
    size: float = 2.6,
    captions: list[str] | None = None,
    suppressed: list[Detections] | None = None,
):
    """Canvases with true boxes (class on top) and detections (class:score below), drawn in
    :data:`helpers.viz.TRUE_STYLE` and :data:`helpers.viz.PRED_STYLE`.

    ``images`` is ``(N, S, S, 1)`` float32; every box is normalised xyxy.
    ``grid_size`` draws the grid lines and shades the cells that own a true digit.
    ``captions`` replace the panel titles (by default: the number of digits and
    detections). ``suppressed`` detections (those non-maximum suppression removed)
    are drawn dotted (:data:`helpers.viz.SUPPRESSED_STYLE`), without a label.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from helpers.viz import (
        PRED_STYLE,
        SUPPRESSED_STYLE,
        TRUE_STYLE,
        box_legend,
        draw_box,
        show_canvas,
    )

    images = np.asarray(images)
    n = len(images)
    side = images.shape[1]
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, (size + 0.4) * nrows + 0.5), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        show_canvas(ax, images[i])
        caption = []
        if truths is not None:
            caption.append(_plural(len(truths[i][1]), "digit"))
        if detections is not None:
            caption.append(_plural(len(detections[i].scores), "detection"))
        text = f"#{i}: " + ", ".join(caption) if caption else f"#{i}"
        ax.set_title(captions[i] if captions is not None else text, fontsize=10)
        if grid_size:
            step = side / grid_size
            for k in range(1, grid_size):
                ax.axhline(k * step, color="tab:blue", linewidth=0.4, alpha=0.6)
                ax.axvline(k * step, color="tab:blue", linewidth=0.4, alpha=0.6)
        if truths is not None:
            true_boxes, true_classes = truths[i]
            if grid_size and len(true_boxes):
                rows, cols = owner_cells(true_boxes, grid_size)
                step = side / grid_size
                for r, c in zip(rows, cols, strict=True):
                    ax.add_patch(
                        plt.Rectangle(
                            (c * step, r * step), step, step, color="tab:blue", alpha=0.45
                        )
                    )
                    ax.plot((c + 0.5) * step, (r + 0.5) * step, "o", color="tab:blue", ms=2)
            for box, cls in zip(true_boxes, true_classes, strict=True):
                draw_box(ax, box, side, TRUE_STYLE)
                ax.text(
                    box[0] * side,
                    box[1] * side - 1,
                    str(cls),
                    color=TRUE_STYLE["color"],
                    fontsize=9,
                    va="bottom",
                    clip_on=True,
                )
        if detections is not None:
            det = detections[i]
            for box, cls, score in zip(det.boxes, det.classes, det.scores, strict=True):
                draw_box(ax, box, side, PRED_STYLE, linewidth=1.2)
                ax.text(
                    box[2] * side,
                    box[3] * side + 1,
                    f"{cls}:{score:.2f}",
                    color=PRED_STYLE["color"],
                    fontsize=9,
                    ha="right",
                    va="top",
                    clip_on=True,
                )
        if suppressed is not None:
            for box in suppressed[i].boxes:
                draw_box(ax, box, side, SUPPRESSED_STYLE, linewidth=1.5)
    box_legend(fig, predicted=detections is not None)
    if suppressed is not None:
        fig.legends[-1].remove()  # one legend that also names the dashed boxes
        handles = [
            Line2D([], [], **TRUE_STYLE, label="true box"),
            Line2D([], [], **PRED_STYLE, label="kept detection"),
            Line2D([], [], **SUPPRESSED_STYLE, label="suppressed"),
        ]
        fig.legend(handles=handles, loc="upper right", ncols=3, frameon=False)
    if title:
        fig.suptitle(title, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    return fig


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def plot_pr_curves(result: MeanAP, title: str | None = None):
    """One precision-recall panel per class: raw curve, interpolated envelope and AP.

    The precision axis starts just below the lowest interpolated precision of any class,
    so that the curves fill the panels.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    classes = sorted(result.curves)
    # The interpolated curve ends at its lowest value: the precision after the last detection.
    ends = [result.curves[c].precision[-1] for c in classes if len(result.curves[c].recall)]
    bottom = max(0.0, np.floor(min(ends, default=0.0) * 20) / 20 - 0.05)  # a round value below
    ncols = 5
    nrows = -(-len(classes) // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(2.6 * ncols, 2.4 * nrows + 0.4),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    for ax, cls in zip(axes.flat, classes, strict=False):
        curve = result.curves[cls]
        recall, precision = curve.recall, curve.precision
        if len(recall):
            envelope = np.maximum.accumulate(precision[::-1])[::-1]
            r = np.concatenate([[0.0], recall])
            e = np.concatenate([envelope[:1], envelope])
            ax.plot(recall, precision, color="tab:gray", linewidth=0.8)
            ax.step(r, e, where="pre", color="tab:blue")
            ax.fill_between(r, e, bottom, step="pre", color="tab:blue", alpha=0.15)
        ax.set_title(f"digit {cls}: AP {curve.ap:.3f}", fontsize=10)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(bottom, 1.01)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("recall")
    for ax in axes[:, 0]:
        ax.set_ylabel("precision" if bottom == 0 else f"precision (from {bottom:g})")
    for ax in axes.flat[len(classes) :]:
        ax.axis("off")
    handles = [
        Line2D([], [], color="tab:gray", linewidth=0.8, label="precision after each detection"),
        Line2D([], [], color="tab:blue", label="interpolated (AP = its area down to 0)"),
    ]
    fig.legend(handles=handles, loc="lower center", ncols=2, frameon=False, fontsize=9)
    fig.suptitle(title or f"Precision-recall at IoU {result.iou_threshold:g}: mAP {result.map:.3f}")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
