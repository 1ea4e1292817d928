"""The exercises of notebooks 01-03, judged as the grader judges them.

Each answer below goes through ``make_cases -> collect -> judge`` exactly as
``python -m helpers grade`` runs it: cases from a seed, the student's function called in
``collect``, the judgement on plain data. Every exercise must fail the empty stub and
realistic wrong answers (with a hint that names the mistake) and pass its solution.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from keras import layers

from helpers import course, exercises, models, synthesis
from helpers.errors import InputError
from helpers.exercises import nb02_architecture, student_code

# --- answers, right and wrong, as students write them ---------------------------------------


def paste_batch(digits, offsets, canvas_size=75):
    images = np.zeros((len(digits), canvas_size, canvas_size, 1), np.float32)
    boxes = np.zeros((len(digits), 4), np.float32)
    for i, (digit, (x, y)) in enumerate(zip(digits, offsets, strict=True)):
        images[i, y : y + 28, x : x + 28, 0] = digit / 255
        boxes[i] = (x, y, x + 28, y + 28)
    return images, boxes / canvas_size


def paste_batch_xy_swapped(digits, offsets, canvas_size=75):
    images = np.zeros((len(digits), canvas_size, canvas_size, 1), np.float32)
    boxes = np.zeros((len(digits), 4), np.float32)
    for i, (digit, (x, y)) in enumerate(zip(digits, offsets, strict=True)):
        images[i, x : x + 28, y : y + 28, 0] = digit.T / 255
        boxes[i] = (y, x, y + 28, x + 28)
    return images, boxes / canvas_size


def paste_batch_pixels(digits, offsets, canvas_size=75):
    images, boxes = paste_batch(digits, offsets, canvas_size)
    return images, boxes * canvas_size


def paste_batch_off_by_one(digits, offsets, canvas_size=75):
    images, _ = paste_batch(digits, offsets, canvas_size)
    x, y = np.asarray(offsets).T
    return images, np.stack([x, y, x + 27, y + 27], 1) / canvas_size


def paste_batch_xywh(digits, offsets, canvas_size=75):
    images, _ = paste_batch(digits, offsets, canvas_size)
    x, y = np.asarray(offsets).T
    return images, np.stack([x, y, 0 * x + 28, 0 * y + 28], 1) / canvas_size


def paste_batch_divides_by_75(digits, offsets, canvas_size=75):
    images, boxes = paste_batch(digits, offsets, canvas_size)
    return images, boxes * canvas_size / 75


def paste_batch_uint8(digits, offsets, canvas_size=75):
    images, boxes = paste_batch(digits, offsets, canvas_size)
    return images * 255, boxes


def paste_batch_library(digits, offsets, canvas_size=75):
    return synthesis.place_digits(digits, offsets[:, 0], offsets[:, 1], canvas_size=canvas_size)


def tight_boxes(digits):
    found = []
    for digit in digits:
        columns = np.flatnonzero(digit.any(axis=0))
        rows = np.flatnonzero(digit.any(axis=1))
        found.append((columns[0], rows[0], columns[-1] + 1, rows[-1] + 1))
    return np.array(found)


def tight_boxes_last_pixel(digits):
    return tight_boxes(digits) - np.array([0, 0, 1, 1])


def tight_boxes_swapped(digits):
    return tight_boxes(digits)[:, [1, 0, 3, 2]]


def tight_boxes_threshold(digits):
    return tight_boxes(np.where(digits > 128, digits, 0))


def tight_boxes_library(digits):
    return synthesis.ink_extents(digits)


layer_params = {"wide_conv": (5 * 5 * 32 + 1) * 48, "small_head": 64 * 10 + 10}


def build_two_heads(input_shape=(75, 75, 1), filters=(16, 32, 64)):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for count in filters:
        x = layers.Conv2D(count, 3, activation="relu")(x)
        x = layers.AveragePooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    classification = layers.Dense(10, activation="softmax")(x)
    bounding_box = layers.Dense(4)(x)
    return keras.Model(inputs, {"classification": classification, "bounding_box": bounding_box})


def two_heads_as_a_list(input_shape=(75, 75, 1), filters=(16, 32, 64)):
    model = build_two_heads(input_shape, filters)
    return keras.Model(model.input, [model.output["classification"], model.output["bounding_box"]])


def two_heads_fixed_filters(input_shape=(75, 75, 1), filters=(16, 32, 64)):
    return build_two_heads(input_shape, (16, 32, 64))


def two_heads_no_softmax(input_shape=(75, 75, 1), filters=(16, 32, 64)):
    model = build_two_heads(input_shape, filters)
    dense = model.layers[-3].output  # the Dense(128) both heads read
    heads = {"classification": layers.Dense(10)(dense), "bounding_box": layers.Dense(4)(dense)}
    return keras.Model(model.input, heads)


def two_heads_max_pooling(input_shape=(75, 75, 1), filters=(16, 32, 64)):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for count in filters:
        x = layers.MaxPooling2D(2)(layers.Conv2D(count, 3, activation="relu")(x))
    x = layers.Dense(128, activation="relu")(layers.Flatten()(x))
    heads = {"classification": layers.Dense(10, activation="softmax")(x)}
    heads["bounding_box"] = layers.Dense(4)(x)
    return keras.Model(inputs, heads)


def two_heads_library(input_shape=(75, 75, 1), filters=(16, 32, 64)):
    return models.build_baseline_model(input_shape)


def decode_boxes(raw):
    centre = 1 / (1 + np.exp(-raw[:, :2]))
    size = 1 / (1 + np.exp(-raw[:, 2:]))
    corners = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    return np.clip(corners, 0, 1)


def decode_boxes_unclipped(raw):
    centre, size = 1 / (1 + np.exp(-raw[:, :2])), 1 / (1 + np.exp(-raw[:, 2:]))
    return np.concatenate([centre - size / 2, centre + size / 2], axis=1)


def decode_boxes_whole_size(raw):
    centre, size = 1 / (1 + np.exp(-raw[:, :2])), 1 / (1 + np.exp(-raw[:, 2:]))
    return np.clip(np.concatenate([centre - size, centre + size], axis=1), 0, 1)


def decode_boxes_centre_size(raw):
    return np.clip(1 / (1 + np.exp(-raw)), 0, 1)


def decode_boxes_library(raw):
    return np.asarray(models.BoxDecoder()(raw))


def _mse_and_iou(y_true, y_pred):
    """The two terms the box losses below start from: (N,) MSE of the corners, (N,) IoU."""
    mse = np.mean((y_true - y_pred) ** 2, axis=1)
    (tx0, ty0, tx1, ty1), (px0, py0, px1, py1) = y_true.T, y_pred.T
    inter = np.clip(np.minimum(tx1, px1) - np.maximum(tx0, px0), 0, None) * np.clip(
        np.minimum(ty1, py1) - np.maximum(ty0, py0), 0, None
    )
    union = (tx1 - tx0) * (ty1 - ty0) + (px1 - px0) * (py1 - py0) - inter
    return mse, inter / (union + 1e-7)


def box_loss(y_true, y_pred):
    mse, iou = _mse_and_iou(y_true, y_pred)
    (tx0, ty0, tx1, ty1), (px0, py0, px1, py1) = y_true.T, y_pred.T
    centres = ((tx0 + tx1) - (px0 + px1)) ** 2 / 4 + ((ty0 + ty1) - (py0 + py1)) ** 2 / 4
    diagonal = (np.maximum(tx1, px1) - np.minimum(tx0, px0)) ** 2 + (
        np.maximum(ty1, py1) - np.minimum(ty0, py0)
    ) ** 2
    v = (
        4
        / np.pi**2
        * (np.arctan((px1 - px0) / (py1 - py0)) - np.arctan((tx1 - tx0) / (ty1 - ty0))) ** 2
    )
    alpha = v / (1 - iou + v + 1e-7)
    ciou = iou - centres / diagonal - alpha * v
    return mse + 1 - ciou


def box_loss_no_penalties(y_true, y_pred):
    mse, iou = _mse_and_iou(y_true, y_pred)
    return mse + 1 - iou


def box_loss_no_mse(y_true, y_pred):
    return box_loss(y_true, y_pred) - np.mean((y_true - y_pred) ** 2, axis=1)


def box_loss_mean(y_true, y_pred):
    return float(np.mean(box_loss(y_true, y_pred)))


def box_loss_library(y_true, y_pred):
    return np.asarray(models.BoxLoss(reduction=None)(y_true, y_pred))


def cosine_learning_rate(step, total_steps, peak, final_fraction):
    progress = min(step, total_steps) / total_steps
    cosine = 0.5 * (1 + math.cos(math.pi * progress))
    return peak * ((1 - final_fraction) * cosine + final_fraction)


def cosine_to_zero(step, total_steps, peak, final_fraction):
    return peak * 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))


def cosine_unclamped(step, total_steps, peak, final_fraction):
    cosine = 0.5 * (1 + math.cos(math.pi * step / total_steps))
    return peak * ((1 - final_fraction) * cosine + final_fraction)


def cosine_library(step, total_steps, peak, final_fraction):
    schedule = keras.optimizers.schedules.CosineDecay(peak, total_steps, alpha=final_fraction)
    return float(schedule(step))


# --- the grader's path ----------------------------------------------------------------------

STUB = object()  # the student copy's "# YOUR CODE HERE": the answer is never defined


def judge(key: str, answer, seed: int = 7) -> str | None:
    """The hint (None: right), computed as the grader computes it."""
    if answer is STUB:
        return "the answer is not defined"
    return course.judge_answer(key, answer, np.random.default_rng(seed))


RIGHT = {
    "01.paste_batch": paste_batch,
    "01.tight_boxes": tight_boxes,
    "02.layer_params": layer_params,
    "02.two_heads": build_two_heads,
    "02.decode_boxes": decode_boxes,
    "03.box_loss": box_loss,
    "03.cosine_schedule": cosine_learning_rate,
}

WRONG = [
    ("01.paste_batch", paste_batch_xy_swapped, "x and y are swapped"),
    ("01.paste_batch", paste_batch_pixels, "these are pixels"),
    ("01.paste_batch", paste_batch_off_by_one, "off by one pixel"),
    ("01.paste_batch", paste_batch_xywh, "(x, y, width, height)"),
    ("01.paste_batch", paste_batch_divides_by_75, "not by 75"),
    ("01.paste_batch", paste_batch_uint8, "in [0, 1]"),
    ("01.paste_batch", paste_batch_library, "the library function this exercise replaces"),
    ("01.tight_boxes", tight_boxes_last_pixel, "off by one pixel"),
    ("01.tight_boxes", tight_boxes_swapped, "x and y are swapped"),
    ("01.tight_boxes", tight_boxes_threshold, "faint ink"),
    ("01.tight_boxes", tight_boxes_library, "the library function this exercise replaces"),
    ("02.layer_params", {"wide_conv": 5 * 5 * 32 * 48, "small_head": 650}, "biases are missing"),
    ("02.layer_params", {"wide_conv": (5 * 5 + 1) * 48, "small_head": 650}, "input channels"),
    ("02.layer_params", {"wide_conv": 38448, "small_head": 640}, "small_head: the biases"),
    ("02.layer_params", (38448, 650), "a dict"),
    ("02.two_heads", two_heads_as_a_list, "dict of outputs"),
    ("02.two_heads", two_heads_fixed_filters, "Conv2D layers"),
    ("02.two_heads", two_heads_no_softmax, "softmax"),
    ("02.two_heads", two_heads_max_pooling, "average pooling, not max pooling"),
    ("02.two_heads", two_heads_library, "the library function this exercise replaces"),
    ("02.decode_boxes", decode_boxes_unclipped, "not valid"),
    ("02.decode_boxes", decode_boxes_whole_size, "half a size"),
    ("02.decode_boxes", decode_boxes_centre_size, "centre and size"),
    ("02.decode_boxes", decode_boxes_library, "the library function this exercise replaces"),
    ("03.box_loss", box_loss_no_penalties, "1 - IoU"),
    ("03.box_loss", box_loss_no_mse, "MSE of the corners is missing"),
    ("03.box_loss", box_loss_mean, "not their mean"),
    ("03.box_loss", box_loss_library, "the library function this exercise replaces"),
    ("03.cosine_schedule", cosine_to_zero, "ends at 0"),
    ("03.cosine_schedule", cosine_unclamped, "not rise again"),
    ("03.cosine_schedule", cosine_library, "the library function this exercise replaces"),
]


@pytest.mark.parametrize("key", sorted(RIGHT))
def test_the_solution_passes_on_several_seeds(key):
    for seed in (0, 1, 2):
        assert judge(key, RIGHT[key], seed) is None


@pytest.mark.parametrize("key", sorted(RIGHT))
def test_the_empty_stub_fails(key):
    assert judge(key, STUB) is not None
    assert course._judgement(key, lambda: undefined_answer) is not None  # noqa: F821


@pytest.mark.parametrize(
    ("key", "answer", "hint"), WRONG, ids=lambda v: getattr(v, "__name__", None)
)
def test_a_wrong_answer_fails_with_a_hint_that_names_the_mistake(key, answer, hint):
    found = judge(key, answer)
    assert found is not None and hint in found, found


FUNCTIONS = sorted(key for key, e in exercises.all_exercises().items() if e.kind == "function")


@pytest.mark.parametrize("key", FUNCTIONS)
def test_a_function_that_raises_gets_a_hint_naming_the_error(key):
    def crashes(**arguments):
        raise ZeroDivisionError("division by zero")

    hint = judge(key, crashes)
    assert hint is not None and "raised ZeroDivisionError: division by zero on " in hint, hint


def test_a_crash_on_one_case_only_is_reported_too():
    def tight_boxes_crashes_on_three(digits):
        if len(digits) == 3:
            raise IndexError("index 3 is out of bounds")
        return tight_boxes(digits)

    assert judge("01.tight_boxes", tight_boxes_crashes_on_three) == (
        "`tight_boxes` raised IndexError: index 3 is out of bounds on one of the inputs"
    )


def test_a_value_that_is_not_plain_data_is_a_hint():
    hint = judge("02.layer_params", object())
    assert hint.startswith("`layer_params` gave something the check cannot read"), hint


def test_every_exercise_of_01_to_03_is_tested_with_two_wrong_answers():
    keys = {key for key in exercises.all_exercises() if key[:2] in ("01", "02", "03")}
    assert keys == set(RIGHT)
    for key in keys:
        assert sum(1 for wrong_key, *_ in WRONG if wrong_key == key) >= 2, key


def test_the_two_heads_reference_is_the_lab_network():
    reference = nb02_architecture.two_heads_reference()
    lab = models.build_baseline_model()
    kinds = sorted((type(layer).__name__, layer.count_params()) for layer in reference.layers)
    assert kinds == sorted((type(layer).__name__, layer.count_params()) for layer in lab.layers)


def test_a_check_in_the_notebook_prints_and_never_raises(capsys):
    assert course.check_exercise("01.tight_boxes", lambda: tight_boxes) is True
    assert not course.check_exercise("01.tight_boxes", lambda: tight_boxes_swapped)
    assert not course.check_exercise("01.tight_boxes", lambda: undefined_answer)  # noqa: F821
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Correct!"
    assert lines[1].startswith("Not yet: x and y are swapped")
    assert lines[2] == "Not yet: define `tight_boxes` in the cell above and run it"


def test_later_cells_use_the_answer_or_the_library(capsys):
    assert course.use_answer_or_library("01.tight_boxes", lambda: tight_boxes, len) is tight_boxes
    assert course.use_answer_or_library("01.tight_boxes", lambda: tight_boxes_swapped, len) is len
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Using your `tight_boxes`.",
        "Using the library's `len`: your `tight_boxes` is not ready yet.",
    ]


def test_a_prediction_is_compared_and_never_raises(capsys):
    choices = {"a": "more", "b": "the same", "c": "fewer"}
    assert not course.check_prediction(lambda: undefined_prediction, "c", choices)  # noqa: F821
    assert not course.check_prediction(lambda: "", "c", choices)
    assert not course.check_prediction(lambda: "d", "c", choices)
    assert not course.check_prediction(lambda: "a", "c", choices)
    assert course.check_prediction(lambda: " C", "c", choices)
    assert course.check_prediction(lambda: 105, 100)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Not yet: write your prediction (a, b, c)") and out[1] == out[0]
    assert out[2] == "Not yet: `my_prediction` should be one of a, b, c"
    assert out[3] == "Not what happened: you predicted (a) more; the experiment gave (c) fewer."
    assert out[4].startswith("Right: ")


def test_describe_model_refuses_what_is_not_a_model():
    with pytest.raises(InputError, match="keras.Model"):
        student_code.describe_model(object())


def test_a_result_of_an_unexpected_form_is_a_hint_not_an_error(capsys):
    def paste_batch_one_result(digits, offsets, canvas_size=75):
        return [paste_batch(digits, offsets, canvas_size)]  # a list around the pair

    def tight_boxes_ragged(digits):
        return [[1, 2, 3], [4]]

    assert not course.check_exercise("01.paste_batch", lambda: paste_batch_one_result)
    assert not course.check_exercise("01.tight_boxes", lambda: tight_boxes_ragged)
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith("Not yet: ") for line in lines) and len(lines) == 2
