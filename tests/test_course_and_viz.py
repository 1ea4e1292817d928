import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers import constants, course, viz
from helpers.evaluation import Evaluation


def test_quick_mode_and_pick(monkeypatch):
    monkeypatch.setenv(constants.QUICK_ENV, "1")
    assert course.quick_mode() and course.pick(10, 1) == 1
    monkeypatch.setenv(constants.QUICK_ENV, "0")
    assert not course.quick_mode() and course.pick(10, 1) == 10


def test_check_passes_quietly_or_fails_with_the_hint(capsys):
    course.check(True, "unused")
    assert "Correct" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="Not yet: look at the y axis"):
        course.check(False, "look at the y axis")


def test_check_turns_a_missing_or_broken_answer_into_its_hint(capsys):
    course.check(lambda: 2 + 2 == 4, "unused")
    assert "Correct" in capsys.readouterr().out
    with pytest.raises(AssertionError, match=r"Not yet: define it \(NameError: .*undefined_name"):
        course.check(lambda: undefined_name == 1, "define it")  # noqa: F821
    with pytest.raises(AssertionError, match=r"Not yet: shapes \(ValueError"):
        course.check(lambda: bool(np.ones(3) == np.ones(2)), "shapes")
    assert "Correct" not in capsys.readouterr().out


def test_load_course_data_announces_its_source(capsys):
    (x_train, _), (x_test, _) = course.load_course_data("sample", train_size=100, test_size=50)
    assert len(x_train) == 100 and len(x_test) == 50
    assert "offline sample" in capsys.readouterr().out


def test_example_grid_draws_both_boxes_and_names_them(rng):
    images = rng.uniform(0, 1, (3, 75, 75, 1)).astype(np.float32)
    boxes = np.tile(np.float32([[0.1, 0.1, 0.5, 0.5]]), (3, 1))
    fig = viz.plot_examples(
        images,
        boxes,
        labels=np.array([1, 2, 3]),
        pred_boxes=boxes + 0.1,
        pred_labels=np.array([1, 2, 4]),
        ious=np.array([0.9, 0.5, 0.7]),
    )
    assert isinstance(fig, Figure)
    legend = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert legend == ["true box", "predicted box"]
    first = fig.axes[0]
    edges = [p.get_edgecolor() for p in first.patches]
    assert len(edges) == 2  # green true box, red predicted box
    assert first.patches[0].get_width() == pytest.approx(0.4 * 75)
    wrong_title = fig.axes[2].title
    assert wrong_title.get_text() == "4 (3)" and wrong_title.get_color() == viz.PRED_COLOUR


def test_other_figures_return_figures():
    history = {
        "classification_loss": [1.0, 0.5],
        "bounding_box_loss": [0.1, 0.05],
        "classification_accuracy": [0.5, 0.8],
        "bounding_box_mse": [0.01, 0.005],
    }
    assert isinstance(viz.plot_history(history), Figure)
    assert isinstance(viz.plot_iou_histogram(np.array([0.2, 0.7, 0.9])), Figure)
    assert isinstance(viz.plot_confusion_matrix(np.eye(10, dtype=int) * 5), Figure)


def test_histories_share_axes_with_whole_epoch_ticks():
    run = {"classification_loss": [1.0, 0.5, 0.4], "bounding_box_mse": [0.01, 0.005, 0.004]}
    fig = viz.compare_histories({"baseline": run, "improved": {**run, "val_loss": [1, 1, 1]}})
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["baseline", "improved", "validation"]
    loss_panel = fig.axes[0]
    assert len(loss_panel.lines) == 2, "both runs on the same axes"
    fig.canvas.draw()
    ticks = [t for t in loss_panel.get_xticks() if 1 <= t <= 3]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert all(ax.get_xlabel() == "epoch" and ax.get_ylabel() for ax in fig.axes)


def test_iou_pair_shades_intersection_and_union():
    fig = viz.plot_iou_pair([10, 10, 20, 20], [15, 10, 25, 20], canvas_size=30)
    assert fig.axes[0].get_title() == "intersection (shaded): 50 px²"
    assert fig.axes[1].get_title() == "union (shaded): 150 px²"
    assert fig.texts[0].get_text() == "IoU = intersection / union = 0.333"


def test_show_table_displays_markdown(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    viz.show_table(["a", "b"], [[1, 2.5]])
    assert shown[0].data == "| a | b |\n| --- | --- |\n| 1 | 2.5 |"


def test_evaluation_break_downs():
    labels = np.array([0, 0, 1, 1])
    boxes = np.tile(np.float32([[0, 0, 0.5, 0.5]]), (4, 1))
    scores = Evaluation(
        labels=labels,
        predicted=np.array([0, 1, 1, 1]),
        probabilities=np.zeros((4, 10)),
        true_boxes=boxes,
        boxes=boxes,
        ious=np.array([1.0, 0.59, 0.6, 0.2]),
        seconds_per_image=0.001,
    )
    assert scores.accuracy == 0.75 and scores.share_above() == 0.5
    assert scores.confusion[0, 1] == 1 and scores.confusion[1, 1] == 2
    np.testing.assert_allclose(scores.per_class_accuracy[:2], [0.5, 1.0])
    assert np.isnan(scores.per_class_accuracy[5])
    assert scores.summary()["share_iou_0.6"] == 0.5


def test_network_diagram_reads_the_wiring_from_the_model():
    from helpers import models

    model = models.build_baseline_model()
    wiring = viz.layer_wiring(model)
    assert wiring["classification"] == ["shared_dense"] == wiring["bounding_box"]
    fig = viz.draw_network(model)
    names = {text.get_text() for text in fig.axes[0].texts}
    assert set(wiring) <= names, "one box per layer, named"
    assert len(fig.axes[0].patches) == len(wiring)
