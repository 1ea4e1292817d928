"""Figures for the course. Every function returns its ``matplotlib.figure.Figure``.

Box styles are fixed across the course and defined once, here: the **true** box is a solid
sky-blue line, the **predicted** box a dashed vermillion one (:data:`TRUE_STYLE`,
:data:`PRED_STYLE`), two colours of the Okabe-Ito palette that readers with any common
colour-vision deficiency tell apart, and a line style that tells them apart without colour.
A legend on each figure says so.

Used by every notebook, 01 to 05.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Rectangle
from matplotlib.ticker import LogFormatter, MaxNLocator

from helpers.boxes import check_boxes

#: The Okabe-Ito palette (Okabe and Ito, 2008): colours that stay distinct with every
#: common colour-vision deficiency.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}
#: How every true box is drawn: solid sky blue (visible on the black canvas and on white).
TRUE_STYLE = {"color": OKABE_ITO["sky blue"], "linestyle": "-"}
#: How every predicted box is drawn: dashed vermillion, told apart by line style too.
PRED_STYLE = {"color": OKABE_ITO["vermillion"], "linestyle": "--"}
#: A detection that non-maximum suppression removed (notebook 05): dotted, a third colour.
SUPPRESSED_STYLE = {"color": OKABE_ITO["reddish purple"], "linestyle": ":"}
TRUE_COLOUR = TRUE_STYLE["color"]  # for text and marks that go with a true box
PRED_COLOUR = PRED_STYLE["color"]  # for text and marks that go with a prediction


def draw_box(
    ax, box: Sequence[float], canvas_size: int, style: Mapping[str, str] | str, **kwargs
) -> Rectangle:
    """Draw one normalised ``(xmin, ymin, xmax, ymax)`` box on an image axis.

    ``style`` is :data:`TRUE_STYLE`, :data:`PRED_STYLE` (a colour and a line style) or a
    plain colour (a solid line). The axis must show the image with pixel edges at integer
    coordinates, as :func:`show_canvas` does (``extent=(0, size, size, 0)``).
    """
    if isinstance(style, str):
        style = {"color": style, "linestyle": "-"}
    x0, y0, x1, y1 = np.asarray(box, dtype=float) * canvas_size
    patch = Rectangle(
        (min(x0, x1), min(y0, y1)),
        abs(x1 - x0),
        abs(y1 - y0),
        fill=False,
        edgecolor=style["color"],
        linestyle=kwargs.pop("linestyle", style["linestyle"]),
        linewidth=kwargs.pop("linewidth", 1.5),
        **kwargs,
    )
    ax.add_patch(patch)
    return patch


def show_canvas(ax, image: np.ndarray) -> None:
    """Show one ``(H, W)`` or ``(H, W, 1)`` image in grey, pixel edges on integer coordinates."""
    image = np.asarray(image).squeeze()
    height, width = image.shape
    ax.imshow(image, cmap="gray", vmin=0, vmax=1, extent=(0, width, height, 0))
    ax.set_xticks([])
    ax.set_yticks([])


def box_legend(fig: Figure, predicted: bool = True) -> None:
    """A figure-level legend that names the box styles."""
    handles = [Line2D([], [], **TRUE_STYLE, label="true box")]
    if predicted:
        handles.append(Line2D([], [], **PRED_STYLE, label="predicted box"))
    fig.legend(handles=handles, loc="upper right", ncols=len(handles), frameon=False)


def plot_examples(
    images: np.ndarray,
    true_boxes: np.ndarray,
    *,
    labels: np.ndarray | None = None,
    pred_boxes: np.ndarray | None = None,
    pred_labels: np.ndarray | None = None,
    ious: np.ndarray | None = None,
    threshold: float = 0.6,
    ncols: int = 8,
    title: str | None = None,
) -> Figure:
    """A grid of canvases with their true and, optionally, predicted boxes (see TRUE_STYLE).

    Args:
        images: ``(N, S, S, 1)`` float32 in [0, 1].
        true_boxes, pred_boxes: ``(N, 4)`` normalised xyxy.
        labels, pred_labels: ``(N,)`` classes; the caption shows ``pred (true)`` and takes
            the prediction's colour when they differ.
        ious: ``(N,)`` IoU, shown under each image, in the prediction's colour below
            ``threshold``.
    """
    images = np.asarray(images)
    true_boxes = check_boxes(true_boxes, "true_boxes")
    n = len(images)
    size = images.shape[1]
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.6 * ncols, 1.9 * nrows + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        show_canvas(ax, images[i])
        draw_box(ax, true_boxes[i], size, TRUE_STYLE)
        if pred_boxes is not None:
            draw_box(ax, pred_boxes[i], size, PRED_STYLE)
        if labels is not None:
            wrong = pred_labels is not None and pred_labels[i] != labels[i]
            text = str(labels[i]) if pred_labels is None else f"{pred_labels[i]} ({labels[i]})"
            ax.set_title(text, color=PRED_COLOUR if wrong else "black", fontsize=10)
        if ious is not None:
            colour = PRED_COLOUR if ious[i] < threshold else "black"
            ax.set_xlabel(f"IoU {ious[i]:.2f}", color=colour, fontsize=9)
    box_legend(fig, predicted=pred_boxes is not None)
    if title:
        fig.suptitle(title, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return fig


def plot_history(history, title: str | None = None) -> Figure:
    """Training curves from one Keras ``History`` (or its ``.history`` dict).

    The panels of :func:`compare_histories`, for a single run.
    """
    return compare_histories({"training": history}, title=title)


def compare_histories(histories: Mapping[str, object], title: str | None = None) -> Figure:
    """Training curves of several runs on shared axes, one colour per run.

    Args:
        histories: ``{run name: Keras History or its .history dict}``.

    Four panels, epoch on x (whole numbers): the classification loss, the box loss
    (log scale), the classification accuracy and the box MSE in normalised units
    (log scale). A validation curve, when logged, is dashed in its run's colour.
    """
    panels = [
        ("classification_loss", "classification loss", "cross-entropy (log scale)", True),
        ("bounding_box_loss", "box loss", "the recipe's box loss (log scale)", True),
        ("classification_accuracy", "classification accuracy", "share of digits right", False),
        ("bounding_box_mse", "box mean squared error", "MSE, normalised units (log)", True),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(14, 3.4))
    handles = []
    for colour, (run, history) in zip(plt.cm.tab10.colors, histories.items(), strict=False):
        logs = getattr(history, "history", history)
        handles.append(Line2D([], [], color=colour, marker="o", markersize=3, label=run))
        for ax, (key, *_rest) in zip(axes, panels, strict=True):
            if key not in logs:
                continue
            epochs = np.arange(1, len(logs[key]) + 1)
            ax.plot(epochs, logs[key], marker="o", markersize=3, color=colour)
            if f"val_{key}" in logs:
                ax.plot(epochs, logs[f"val_{key}"], "--", color=colour)
    if any("val_loss" in getattr(h, "history", h) for h in histories.values()):
        handles.append(Line2D([], [], color="grey", linestyle="--", label="validation"))
    for ax, (_key, name, unit, log_scale) in zip(axes, panels, strict=True):
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(unit)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
        if log_scale:
            ax.set_yscale("log")
            for axis_ticks in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
                axis_ticks(_PlainLogFormatter(minor_thresholds=(2, 0.5)))
        ax.grid(alpha=0.3)
    fig.legend(handles=handles, loc="upper right", ncols=len(handles), frameon=False)
    if title:
        fig.suptitle(title, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return fig


class _PlainLogFormatter(LogFormatter):
    """Log-axis labels as plain numbers (0.3, 0.003) instead of 3e-01 or 3x10^-1."""

    def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
        return f"{x:g}"


def plot_iou_pair(true_box: Sequence[float], pred_box: Sequence[float], canvas_size: int) -> Figure:
    """Two pixel boxes ``(xmin, ymin, xmax, ymax)`` with their intersection and union shaded.

    The left panel shades the intersection, the right one the union; the title gives
    IoU = intersection / union in pixels.
    """
    rows, cols = np.mgrid[0:canvas_size, 0:canvas_size] + 0.5  # pixel centres

    def inside(box: Sequence[float]) -> np.ndarray:
        x0, y0, x1, y1 = box
        return (cols > x0) & (cols < x1) & (rows > y0) & (rows < y1)

    masks = {
        "intersection": inside(true_box) & inside(pred_box),
        "union": inside(true_box) | inside(pred_box),
    }
    fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.6))
    for ax, (name, mask) in zip(axes, masks.items(), strict=True):
        ax.imshow(mask, cmap="Blues", vmin=0, vmax=2, extent=(0, canvas_size, canvas_size, 0))
        draw_box(ax, np.float32(true_box) / canvas_size, canvas_size, TRUE_STYLE, linewidth=2)
        draw_box(ax, np.float32(pred_box) / canvas_size, canvas_size, PRED_STYLE, linewidth=2)
        ax.set_title(f"{name} (shaded): {int(mask.sum())} px²")
        ax.set_xlabel("x (px)")
        ax.set_ylabel("y (px)")
    iou = masks["intersection"].sum() / masks["union"].sum()
    fig.suptitle(f"IoU = intersection / union = {iou:.3f}", x=0.01, ha="left")
    box_legend(fig)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return fig


def show_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Display ``rows`` (lists of values, one per column of ``header``) as a Markdown table."""
    from IPython.display import Markdown, display

    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(value) for value in row) + " |" for row in rows]
    display(Markdown("\n".join(lines)))


def plot_iou_histogram(
    ious: np.ndarray, threshold: float = 0.6, title: str | None = None
) -> Figure:
    """Histogram of per-example IoU with the threshold marked and the share above it."""
    ious = np.asarray(ious)
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.hist(ious, bins=np.linspace(0, 1, 41), color="tab:blue", alpha=0.8)
    ax.axvline(threshold, color=PRED_COLOUR, linestyle="--")
    share = float(np.mean(ious >= threshold))
    ax.text(
        threshold,
        ax.get_ylim()[1] * 0.9,
        f"  {share:.1%} at IoU >= {threshold:g}",
        color=PRED_COLOUR,
    )
    ax.set_xlabel("IoU between predicted and true box")
    ax.set_ylabel("test images")
    ax.set_title(title or f"IoU over {len(ious)} test images (mean {ious.mean():.3f})")
    fig.tight_layout()
    return fig


def plot_confusion_matrix(matrix: np.ndarray, title: str = "Confusion matrix") -> Figure:
    """A ``(10, 10)`` confusion matrix (rows = true class) with the counts written in."""
    matrix = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    shown = ax.imshow(matrix, cmap="Blues")
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            colour = "white" if count > matrix.max() / 2 else "black"
            ax.text(col, row, count, ha="center", va="center", fontsize=9, color=colour)
    ax.set_xticks(range(matrix.shape[1]))
    ax.set_yticks(range(matrix.shape[0]))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.colorbar(shown, ax=ax, fraction=0.046, label="count")
    fig.tight_layout()
    return fig


#: Box colours of the network diagram, by layer type.
_LAYER_COLOURS = {
    "InputLayer": "#dddddd",
    "Conv2D": "#9ecae1",
    "Activation": "#deebf7",
    "AveragePooling2D": "#fdd0a2",
    "MaxPooling2D": "#fdae6b",
    "Flatten": "#fff2ae",
    "GlobalMaxPooling2D": "#fff2ae",
    "Dense": "#c7e9c0",
    "BoxDecoder": "#bcbddc",
}


def layer_wiring(model) -> dict[str, list[str]]:
    """``{layer name: [names of the layers that feed it]}``, read from a functional model's config.

    The config lists layers parents-first, and so does the returned dict.
    """

    def sources(value) -> list[str]:
        if isinstance(value, dict):
            if "keras_history" in value:
                return [value["keras_history"][0]]
            return [name for item in value.values() for name in sources(item)]
        if isinstance(value, list | tuple):
            return [name for item in value for name in sources(item)]
        return []

    return {
        layer["name"]: sources(layer["inbound_nodes"]) for layer in model.get_config()["layers"]
    }


def _heads_served(model, parents: dict[str, list[str]]) -> dict[str, set[str]]:
    """``{layer name: names of the outputs it feeds}``, walking the wiring backwards."""
    served = {name: set() for name in parents}
    for head, (layer_name, *_) in model.get_config()["output_layers"].items():
        stack = [layer_name]
        while stack:
            name = stack.pop()
            if head not in served[name]:
                served[name].add(head)
                stack.extend(parents[name])
    return served


def draw_network(model, ax=None) -> Figure:
    """Draw a two-headed functional model as boxes and arrows, from its own config.

    Each layer sits one row below its lowest parent; layers that serve only the first
    output go to the left lane, only the second to the right, both in the middle, so the
    fork where the heads part appears wherever the model has it. Each box names the
    layer, its type, output shape and weight count.

    Args:
        model: a functional Keras model with a dict of two named outputs.
        ax: the axis to draw on; a new figure when ``None``.

    Returns:
        the figure that holds the axis.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 8.2))
    parents = layer_wiring(model)
    served = _heads_served(model, parents)
    heads = list(model.get_config()["output_layers"])
    depth: dict[str, int] = {}
    for name, sources in parents.items():  # parents come first, so their depth is known
        depth[name] = 1 + max((depth[s] for s in sources), default=-1)
    lane = {
        name: 0.0 if len(s) != 1 else (-1.0 if heads.index(next(iter(s))) == 0 else 1.0)
        for name, s in served.items()
    }
    width, height, gap = 2.1, 0.62, 2.5
    layer_of = {layer.name: layer for layer in model.layers}
    for name in parents:
        layer, x, y = layer_of[name], lane[name] * gap, -depth[name]
        kind = type(layer).__name__
        shape = "x".join(str(d) for d in layer.output.shape[1:])
        ax.add_patch(
            FancyBboxPatch(
                (x - width / 2, y - height / 2),
                width,
                height,
                boxstyle="round,pad=0.03",
                facecolor=_LAYER_COLOURS.get(kind, "white"),
                edgecolor="black",
                lw=2 if name in heads else 0.8,
            )
        )
        params = f" | {layer.count_params():,} w" if layer.count_params() else ""
        ax.text(x, y + 0.1, name, ha="center", va="center", fontsize=8, weight="bold")
        ax.text(x, y - 0.14, f"{kind} {shape}{params}", ha="center", va="center", fontsize=6.5)
        for source in parents[name]:
            ax.annotate(
                "",
                xy=(x, y + height / 2),
                xytext=(lane[source] * gap, -depth[source] - height / 2),
                arrowprops={"arrowstyle": "->", "color": "0.3", "lw": 1},
            )
    ax.set_xlim(-gap - width / 2 - 0.2, gap + width / 2 + 0.2)
    ax.set_ylim(-max(depth.values()) - 0.6, 0.6)
    ax.axis("off")
    ax.set_title(f"{model.name}: {model.count_params():,} parameters")
    return ax.figure
