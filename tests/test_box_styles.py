"""True and predicted boxes look different to every reader: colour-blind-safe colours from
one palette, and a different line style, defined once in ``helpers.viz``."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle

from helpers import viz
from helpers.detection import Detections, plot_scenes

# Okabe and Ito (2008), "Color Universal Design", the palette written out independently
OKABE_ITO = {"#000000", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7"}


def _styles(ax):
    return [
        (to_hex(p.get_edgecolor()), p.get_linestyle())
        for p in ax.patches
        if isinstance(p, Rectangle) and not p.get_fill()
    ]


def test_true_and_predicted_styles_differ_in_colour_and_line_style():
    styles = (viz.TRUE_STYLE, viz.PRED_STYLE, viz.SUPPRESSED_STYLE)
    assert {to_hex(style["color"]) for style in styles} <= OKABE_ITO
    assert len({style["color"] for style in styles}) == 3
    assert len({style["linestyle"] for style in styles}) == 3
    assert viz.TRUE_STYLE["linestyle"] == "-" and viz.PRED_STYLE["linestyle"] == "--"
    assert (viz.TRUE_COLOUR, viz.PRED_COLOUR) == (viz.TRUE_STYLE["color"], viz.PRED_STYLE["color"])


def test_every_box_figure_draws_the_two_styles_and_names_them():
    box = np.float32([[0.2, 0.2, 0.6, 0.7]])
    true_look = (to_hex(viz.TRUE_STYLE["color"]), "-")
    pred_look = (to_hex(viz.PRED_STYLE["color"]), "--")
    examples = viz.plot_examples(np.zeros((1, 75, 75, 1)), box, pred_boxes=box + 0.05)
    scenes = plot_scenes(
        np.zeros((1, 96, 96, 1)),
        [(box, np.array([3]))],
        [Detections(box + 0.05, np.array([3]), np.array([0.9]))],
    )
    for fig in (examples, scenes):
        assert set(_styles(fig.axes[0])) == {true_look, pred_look}
        legend = fig.legends[0].get_lines()
        assert [(to_hex(line.get_color()), line.get_linestyle()) for line in legend] == [
            true_look,
            pred_look,
        ]
        plt.close(fig)
