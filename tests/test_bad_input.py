"""A table of bad inputs, as a careful and a careless user would supply them.

Every row must end in :class:`helpers.errors.InputError` (or, for the command line, exit
code 2 and one line on stderr) whose message names the argument or file and says what
was expected: never a silent wrong result, never a NumPy, zipfile or TensorFlow error
from deep inside. Rows are grouped by area; ``AREAS`` counts them.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pytest

import helpers
from helpers import boxes, cli, course, data, detection, evaluation, notebooks, pipeline, synthesis
from helpers.errors import InputError
from helpers.training import train

NAN, INF = float("nan"), float("inf")


@dataclass
class Context:
    """What the rows need: a few digits, files on disk and small models of each contract."""

    digits: np.ndarray
    labels: np.ndarray
    tmp: Path
    localizer: keras.Model  # the two-headed contract, untrained
    one_output: keras.Model
    three_number_box: keras.Model

    def npz(self, name: str, **arrays) -> Path:
        path = self.tmp / name
        np.savez(path, **arrays)
        return path

    def valid_npz(self) -> dict:
        return {
            "x_train": self.digits[:20],
            "y_train": self.labels[:20],
            "x_test": self.digits[20:30],
            "y_test": self.labels[20:30],
        }

    def file(self, name: str, content: bytes | str) -> Path:
        path = self.tmp / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    def notebook_folder(self, name: str, content: bytes | str) -> Path:
        folder = self.tmp / name
        folder.mkdir()
        (folder / "a.ipynb").write_bytes(content.encode() if isinstance(content, str) else content)
        return folder


def _model(box_size: int | None) -> keras.Model:
    inputs = keras.Input((75, 75, 1))
    flat = keras.layers.Flatten()(inputs)
    classes = keras.layers.Dense(10, activation="softmax")(flat)
    if box_size is None:
        return keras.Model(inputs, classes, name="one_output")
    outputs = {"classification": classes, "bounding_box": keras.layers.Dense(box_size)(flat)}
    return keras.Model(inputs, outputs, name="localizer" if box_size == 4 else "box3")


@pytest.fixture(scope="module")
def models():
    return _model(4), _model(None), _model(3)


@pytest.fixture
def ctx(digits, tmp_path, models):
    x, y = digits
    return Context(x[:40], y[:40], tmp_path, *models)


def _truncated_npz(c: Context) -> Path:
    path = c.npz("cut.npz", **c.valid_npz())
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    return path


def _damaged_member_npz(c: Context) -> Path:
    """A zip whose directory is intact but whose first member's bytes are overwritten."""
    path = c.tmp / "damaged.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x_train.npy", b"\x93NUMPY" + b"\x00" * 4000)
    raw = bytearray(path.read_bytes())
    raw[60:200] = b"\xff" * 140
    path.write_bytes(bytes(raw))
    return path


# Each row: (area, id, call, regular expression the InputError message must match).
ROWS = [
    # --- data ---------------------------------------------------------------------
    ("data", "unknown source", lambda c: data.load_mnist("mnist-online"), "auto, keras, sample"),
    ("data", "source not a string", lambda c: data.load_mnist(5), r"source: expected .* got 5"),
    (
        "data",
        "truncated npz",
        lambda c: data.load_npz(_truncated_npz(c)),
        r"cut\.npz is not a readable \.npz file \(corrupted, truncated",
    ),
    (
        "data",
        "random bytes npz",
        lambda c: data.load_npz(c.file("noise.npz", bytes(range(256)) * 4)),
        r"noise\.npz is not a readable \.npz",
    ),
    (
        "data",
        "damaged member",
        lambda c: data.load_npz(_damaged_member_npz(c)),
        r"damaged\.npz is not a readable \.npz",
    ),
    (
        "data",
        "pickled npz",
        lambda c: data.load_npz(
            c.npz("pickled.npz", **{**c.valid_npz(), "x_train": np.array([{"a": 1}], object)})
        ),
        r"pickled\.npz is not a readable \.npz file \(it holds pickled objects",
    ),
    (
        "data",
        "bare npy",
        lambda c: data.load_npz(
            (np.save(c.tmp / "bare.npy", c.digits), (c.tmp / "bare.npy").rename(c.tmp / "b.npz"))[1]
        ),
        r"b\.npz is not a readable \.npz file: it holds a single array",
    ),
    (
        "data",
        "missing keys",
        lambda c: data.load_npz(c.npz("keys.npz", x_train=c.digits)),
        r"keys\.npz is missing y_train",
    ),
    (
        "data",
        "float images",
        lambda c: data.load_npz(c.npz("f.npz", **{**c.valid_npz(), "x_train": c.digits[:20] / 1})),
        "train images: expected dtype uint8",
    ),
    (
        "data",
        "label 12",
        lambda c: data.load_npz(
            c.npz("l.npz", **{**c.valid_npz(), "y_test": np.full(10, 12, np.uint8)})
        ),
        "test labels: expected classes 0..9, got values from 12 to 12",
    ),
    (
        "data",
        "labels shorter than images",
        lambda c: data.load_npz(c.npz("s.npz", **{**c.valid_npz(), "y_train": c.labels[:5]})),
        r"train labels: expected shape \(20,\)",
    ),
    (
        "data",
        "sample with a negative test split",
        lambda c: data.load_sample(-1),
        "test_per_class: expected a whole number >= 0, got -1",
    ),
    (
        "data",
        "course data with a negative size",
        lambda c: course.load_course_data("sample", train_size=-5),
        "train_size: expected a whole number >= 1, got -5",
    ),
    # --- synthesis ------------------------------------------------------------------
    (
        "synthesis",
        "float digits 0..255",
        lambda c: synthesis.synthesize(c.digits.astype(np.float32)),
        r"digits: float digits must be in \[0, 1\].*divide by 255",
    ),
    (
        "synthesis",
        "int64 digits above 255",
        lambda c: synthesis.synthesize(c.digits.astype(np.int64) * 2),
        r"digits: expected integer pixels in 0\.\.255",
    ),
    (
        "synthesis",
        "NaN digits",
        lambda c: synthesis.synthesize(np.full((2, 28, 28), NAN)),
        "digits: expected finite pixel values",
    ),
    (
        "synthesis",
        "digits 28x27",
        lambda c: synthesis.synthesize(c.digits[:, :, :27]),
        r"digits: expected shape \(N, 28, 28\), got \(40, 28, 27\)",
    ),
    (
        "synthesis",
        "one digit without batch axis",
        lambda c: synthesis.synthesize(c.digits[0]),
        r"digits: expected shape \(N, 28, 28\), got \(28, 28\)",
    ),
    (
        "synthesis",
        "bool digits",
        lambda c: synthesis.synthesize(c.digits > 0),
        "digits: expected uint8 .* got bool",
    ),
    (
        "synthesis",
        "noise NaN",
        lambda c: synthesis.synthesize(c.digits, noise=NAN),
        "noise: expected a finite number, got nan",
    ),
    (
        "synthesis",
        "noise negative",
        lambda c: synthesis.synthesize(c.digits, noise=-0.1),
        "noise: expected a number >= 0, got -0.1",
    ),
    (
        "synthesis",
        "noise as text",
        lambda c: synthesis.synthesize(c.digits, noise="0.1"),
        "noise: expected a number, got '0.1'",
    ),
    (
        "synthesis",
        "clutter negative",
        lambda c: synthesis.synthesize(c.digits, clutter=-3),
        "clutter: expected a whole number >= 0, got -3",
    ),
    (
        "synthesis",
        "clutter fraction",
        lambda c: synthesis.synthesize(c.digits, clutter=1.5),
        "clutter: expected a whole number, got 1.5",
    ),
    (
        "synthesis",
        "canvas_size 0",
        lambda c: synthesis.synthesize(c.digits, canvas_size=0),
        "canvas_size: expected a whole number >= 28, got 0",
    ),
    (
        "synthesis",
        "canvas_size float",
        lambda c: synthesis.synthesize(c.digits, canvas_size=75.0),
        "canvas_size: expected a whole number, got 75.0",
    ),
    (
        "synthesis",
        "unknown box kind",
        lambda c: synthesis.synthesize(c.digits, box_kind="foo"),
        "box_kind: expected one of frame, tight, got 'foo'",
    ),
    (
        "synthesis",
        "scale reversed",
        lambda c: synthesis.synthesize(c.digits, scale=(40, 20)),
        r"scale: expected \(min, max\)",
    ),
    (
        "synthesis",
        "scale NaN",
        lambda c: synthesis.synthesize(c.digits, scale=(NAN, 30)),
        r"scale: expected \(min, max\)",
    ),
    (
        "synthesis",
        "scale not a pair",
        lambda c: synthesis.synthesize(c.digits, scale=30),
        r"scale: expected \(min, max\)",
    ),
    (
        "synthesis",
        "negative seed",
        lambda c: synthesis.synthesize(c.digits, seed=-1),
        "seed: expected a whole number >= 0, got -1",
    ),
    # --- boxes ----------------------------------------------------------------------
    (
        "boxes",
        "to_normalized canvas 0",
        lambda c: boxes.to_normalized(np.ones((2, 4)), canvas_size=0),
        "canvas_size: expected a whole number >= 1, got 0",
    ),
    (
        "boxes",
        "to_pixels canvas fraction",
        lambda c: boxes.to_pixels(np.ones((2, 4)), canvas_size=7.5),
        "canvas_size: expected a whole number, got 7.5",
    ),
    (
        "boxes",
        "iou with inf",
        lambda c: boxes.iou([[0, 0, INF, 1]], [[0, 0, 1, 1]]),
        "boxes_a: 1 box.* NaN or infinite",
    ),
    (
        "boxes",
        "iou shapes differ",
        lambda c: boxes.iou(np.zeros((3, 4)), np.zeros((2, 4))),
        "must have the same shape",
    ),
    (
        "boxes",
        "three numbers per box",
        lambda c: boxes.area(np.zeros((3, 3))),
        r"boxes: expected shape \(N, 4\)",
    ),
    (
        "boxes",
        "ragged list",
        lambda c: boxes.to_pixels([[0, 0, 1], [0, 0, 1, 1]]),
        "boxes: expected an array of float32",
    ),
    (
        "boxes",
        "text box",
        lambda c: boxes.order_corners("0 0 1 1"),
        "boxes: expected an array of float32",
    ),
    (
        "boxes",
        "unknown source format",
        lambda c: boxes.convert(np.zeros((1, 4)), "xywh", "xyxy"),
        "source: expected one of xyxy",
    ),
    # --- pipeline -------------------------------------------------------------------
    (
        "pipeline",
        "targets label 12",
        lambda c: pipeline.targets([12], [[0, 0, 1, 1]]),
        "labels: expected classes 0..9, got values from 12 to 12",
    ),
    (
        "pipeline",
        "targets label -1",
        lambda c: pipeline.targets([-1], [[0, 0, 1, 1]]),
        "labels: expected classes 0..9",
    ),
    (
        "pipeline",
        "targets fractional label",
        lambda c: pipeline.targets([2.5], [[0, 0, 1, 1]]),
        "labels: expected whole-number classes",
    ),
    (
        "pipeline",
        "targets fewer boxes",
        lambda c: pipeline.targets([1, 2], [[0, 0, 1, 1]]),
        "boxes: expected 2 boxes, one per image, got 1",
    ),
    (
        "pipeline",
        "targets NaN box",
        lambda c: pipeline.targets([1], [[0, 0, NAN, 1]]),
        "boxes: 1 box.* NaN",
    ),
    (
        "pipeline",
        "test set 40 digits 10 labels",
        lambda c: pipeline.make_test_set(c.digits, c.labels[:10]),
        r"labels: expected shape \(40,\), one per digit, got \(10,\)",
    ),
    (
        "pipeline",
        "test set noise NaN",
        lambda c: pipeline.make_test_set(c.digits, c.labels, noise=NAN),
        "noise: expected a finite number",
    ),
    (
        "pipeline",
        "dataset digits 28x27",
        lambda c: pipeline.training_dataset(c.digits[:, :, :27], c.labels, batch_size=8),
        r"digits: expected shape \(N, 28, 28\)",
    ),
    (
        "pipeline",
        "dataset box foo",
        lambda c: pipeline.training_dataset(c.digits, c.labels, batch_size=8, box_kind="foo"),
        "box_kind: expected one of frame, tight",
    ),
    (
        "pipeline",
        "dataset labels shorter",
        lambda c: pipeline.training_dataset(c.digits, c.labels[:30], batch_size=8),
        r"labels: expected shape \(40,\)",
    ),
    (
        "pipeline",
        "dataset batch 0",
        lambda c: pipeline.training_dataset(c.digits, c.labels, batch_size=0),
        "batch_size: expected a whole number >= 1, got 0",
    ),
    (
        "pipeline",
        "dataset batch above digits",
        lambda c: pipeline.training_dataset(c.digits, c.labels, batch_size=41),
        "batch_size: expected a whole number <= 40, got 41",
    ),
    (
        "pipeline",
        "dataset unknown option",
        lambda c: pipeline.training_dataset(c.digits, c.labels, batch_size=8, blur=2),
        "unknown synthesis option.*'blur'",
    ),
    (
        "pipeline",
        "dataset clutter negative",
        lambda c: pipeline.training_dataset(c.digits, c.labels, batch_size=8, clutter=-1),
        "clutter: expected a whole number >= 0",
    ),
    # --- training (all refused before any model is built or fitted) -----------------
    (
        "training",
        "batch_size 0",
        lambda c: train("baseline", c.digits, c.labels, epochs=1, batch_size=0),
        "batch_size: expected a whole number >= 1, got 0",
    ),
    (
        "training",
        "epochs 0",
        lambda c: train("baseline", c.digits, c.labels, epochs=0),
        "epochs: expected a whole number >= 1, got 0",
    ),
    (
        "training",
        "unknown recipe",
        lambda c: train("fast", c.digits, c.labels, epochs=1),
        "recipe: expected one of improved, baseline, got 'fast'",
    ),
    (
        "training",
        "recipe None",
        lambda c: train(None, c.digits, c.labels, epochs=1),
        "recipe: expected one of improved, baseline, got None",
    ),
    (
        "training",
        "labels shorter",
        lambda c: train("baseline", c.digits, c.labels[:10], epochs=1, batch_size=8),
        r"labels: expected shape \(40,\)",
    ),
    (
        "training",
        "digits 28x27",
        lambda c: train("baseline", c.digits[:, :, :27], c.labels, epochs=1, batch_size=8),
        r"digits: expected shape \(N, 28, 28\)",
    ),
    (
        "training",
        "box foo",
        lambda c: train("baseline", c.digits, c.labels, epochs=1, batch_size=8, box_kind="foo"),
        "box_kind: expected one of frame, tight",
    ),
    (
        "training",
        "float digits 0..255",
        lambda c: train("baseline", c.digits * 1.0, c.labels, epochs=1, batch_size=8),
        r"float digits must be in \[0, 1\]",
    ),
    (
        "training",
        "validation targets without boxes",
        lambda c: train(
            "baseline",
            c.digits,
            c.labels,
            epochs=1,
            batch_size=8,
            validation=(np.zeros((2, 75, 75, 1)), {"classification": np.zeros((2, 10))}),
        ),
        "validation targets: expected a dict with classification and bounding_box",
    ),
    (
        "training",
        "validation images of another side",
        lambda c: train(
            "baseline",
            c.digits,
            c.labels,
            epochs=1,
            batch_size=8,
            validation=(np.zeros((2, 64, 64, 1)), pipeline.targets([1, 2], np.zeros((2, 4)))),
        ),
        r"validation images: expected shape \(N, 75, 75, 1\)",
    ),
    # --- evaluation -----------------------------------------------------------------
    (
        "evaluation",
        "one-output model",
        lambda c: evaluation.evaluate(
            c.one_output, np.zeros((2, 75, 75, 1)), [1, 2], np.zeros((2, 4))
        ),
        "model 'one_output': expected a two-headed localizer",
    ),
    (
        "evaluation",
        "3-number box head",
        lambda c: evaluation.evaluate(
            c.three_number_box, np.zeros((2, 75, 75, 1)), [1, 2], np.zeros((2, 4))
        ),
        r"model 'box3': expected a two-headed localizer.*'bounding_box': \(None, 3\)",
    ),
    (
        "evaluation",
        "predict with one-output model",
        lambda c: evaluation.predict(c.one_output, np.zeros((2, 75, 75, 1))),
        "model 'one_output': expected a two-headed localizer",
    ),
    (
        "evaluation",
        "empty test set",
        lambda c: evaluation.evaluate(
            c.localizer, np.zeros((0, 75, 75, 1)), np.zeros(0, int), np.zeros((0, 4))
        ),
        "images: expected at least one test image",
    ),
    (
        "evaluation",
        "labels shorter",
        lambda c: evaluation.evaluate(
            c.localizer, np.zeros((3, 75, 75, 1)), [1, 2], np.zeros((3, 4))
        ),
        r"labels: expected shape \(3,\)",
    ),
    (
        "evaluation",
        "NaN boxes",
        lambda c: evaluation.evaluate(c.localizer, np.zeros((1, 75, 75, 1)), [1], [[0, 0, NAN, 1]]),
        "boxes: 1 box.* NaN",
    ),
    (
        "evaluation",
        "images in 0..255",
        lambda c: evaluation.evaluate(
            c.localizer, np.full((2, 75, 75, 1), 255.0), [1, 2], np.zeros((2, 4))
        ),
        r"images: expected pixel values in \[0, 1\], got values from 255 to 255 "
        r"\(for 0..255 images, divide by 255\)",
    ),
    (
        "evaluation",
        "load_model given a number for a path",
        lambda c: helpers.load_model(7),
        "path: expected a str or a path to a .keras file, got 7",
    ),
    (
        "synthesis",
        "absurd canvas size",
        lambda c: synthesis.synthesize(c.digits, canvas_size=10**6),
        "canvas_size: expected a whole number <= 1200, got 1000000",
    ),
    (
        "evaluation",
        "images of another side",
        lambda c: evaluation.evaluate(c.localizer, np.zeros((1, 64, 64, 1)), [1], np.zeros((1, 4))),
        r"images: expected shape \(N, 75, 75, 1\), got \(1, 64, 64, 1\)",
    ),
    (
        "evaluation",
        "threshold above 1",
        lambda c: evaluation.evaluate(
            c.localizer, np.zeros((1, 75, 75, 1)), [1], np.zeros((1, 4)), threshold=1.5
        ),
        "threshold: expected a number <= 1, got 1.5",
    ),
    (
        "evaluation",
        "share above 1.5",
        lambda c: evaluation.Evaluation(
            *([np.zeros(1, int)] * 2), np.zeros((1, 10)), *([np.zeros((1, 4))] * 2), np.ones(1), 0.0
        ).share_above(1.5),
        "threshold: expected a number <= 1, got 1.5",
    ),
    # --- detection ------------------------------------------------------------------
    (
        "detection",
        "scenes from no digits",
        lambda c: detection.synthesize_scenes(np.zeros((0, 28, 28), np.uint8), [], 2),
        "digits: expected at least one digit",
    ),
    (
        "detection",
        "scenes label 10",
        lambda c: detection.synthesize_scenes(c.digits, np.full(40, 10), 2),
        "labels: expected classes 0..9",
    ),
    (
        "detection",
        "negative n_images",
        lambda c: detection.synthesize_scenes(c.digits, c.labels, -1),
        "n_images: expected a whole number >= 0, got -1",
    ),
    (
        "detection",
        "max_overlap NaN",
        lambda c: detection.synthesize_scenes(c.digits, c.labels, 2, max_overlap=NAN),
        "max_overlap: expected a finite number",
    ),
    (
        "detection",
        "encode class 11",
        lambda c: detection.encode_targets(np.zeros((1, 2, 4)), [[11, -1]]),
        r"classes: expected -1 \(empty slot\) or 0\.\.9",
    ),
    (
        "detection",
        "encode shapes differ",
        lambda c: detection.encode_targets(np.zeros((1, 2, 4)), [[1, 2, 3]]),
        r"expected shapes \(N, K, 4\) and \(N, K\)",
    ),
    (
        "detection",
        "decode NaN grid",
        lambda c: detection.decode_grid(np.full((1, 12, 12, 15), NAN)),
        "grid: expected finite values",
    ),
    (
        "detection",
        "NMS NaN scores",
        lambda c: detection.non_max_suppression(np.zeros((2, 4)), [0.5, NAN]),
        "scores: expected finite values",
    ),
    (
        "detection",
        "NMS threshold 2",
        lambda c: detection.non_max_suppression(np.zeros((2, 4)), [0.5, 0.4], iou_threshold=2),
        "iou_threshold: expected a number <= 1, got 2",
    ),
    (
        "detection",
        "NMS max_detections 0",
        lambda c: detection.non_max_suppression(np.zeros((2, 4)), [0.5, 0.4], max_detections=0),
        "max_detections: expected a whole number >= 1, got 0",
    ),
    (
        "detection",
        "detect with the localizer",
        lambda c: detection.detect(c.localizer, np.zeros((1, 75, 75, 1))),
        "model 'localizer': expected a grid detector",
    ),
    (
        "detection",
        "train_detector batch 0",
        lambda c: detection.train_detector(c.digits, c.labels, epochs=1, batch_size=0),
        "batch_size: expected a whole number >= 1, got 0",
    ),
    (
        "detection",
        "train_detector labels -1",
        lambda c: detection.train_detector(
            c.digits, np.full(40, -1), epochs=1, batch_size=4, images_per_epoch=8
        ),
        "labels: expected classes 0..9",
    ),
    (
        "detection",
        "mAP iou_threshold NaN",
        lambda c: detection.mean_average_precision([], [], iou_threshold=NAN),
        "iou_threshold: expected a finite number",
    ),
    (
        "detection",
        "build_detector grid 0",
        lambda c: detection.build_detector(grid_size=0),
        "grid_size: expected a whole number >= 1, got 0",
    ),
    (
        "detection",
        "owner cells of a 0-cell grid",
        lambda c: detection.owner_cells(np.zeros((1, 4)), grid_size=0),
        "grid_size: expected a whole number >= 1, got 0",
    ),
    (
        "detection",
        "unpad with classes of another shape",
        lambda c: detection.unpad(np.zeros((2, 5, 4)), np.zeros((2, 4))),
        r"expected shapes \(N, K, 4\) and \(N, K\)",
    ),
    # --- notebooks ------------------------------------------------------------------
    (
        "notebooks",
        "not JSON",
        lambda c: notebooks.write_student_versions(
            c.notebook_folder("nb", "not json"), c.tmp / "out"
        ),
        r"a\.ipynb is not a valid notebook \(JSON error",
    ),
    (
        "notebooks",
        "a JSON list",
        lambda c: notebooks.write_student_versions(c.notebook_folder("nb", "[1, 2]"), c.tmp / "o"),
        r"a\.ipynb is not a notebook: expected a JSON object with a list of cells, found list",
    ),
    (
        "notebooks",
        "no cells",
        lambda c: notebooks.write_student_versions(
            c.notebook_folder("nb", '{"metadata": {}}'), c.tmp / "o"
        ),
        r"a\.ipynb is not a notebook: .* found no valid cells",
    ),
    (
        "notebooks",
        "cells without a type",
        lambda c: notebooks.write_student_versions(
            c.notebook_folder("nb", '{"cells": [{"source": "x"}]}'), c.tmp / "o"
        ),
        r"a\.ipynb is not a notebook",
    ),
    (
        "notebooks",
        "not UTF-8",
        lambda c: notebooks.write_student_versions(
            c.notebook_folder("nb", '{"cells": ["\xe9"]}'.encode("latin-1")), c.tmp / "o"
        ),
        r"a\.ipynb is not a notebook: it is not UTF-8 text",
    ),
    (
        "notebooks",
        "a text file",
        lambda c: notebooks.write_student_versions(c.file("notes.txt", "hi"), c.tmp / "o"),
        r"notes\.txt: expected a \.ipynb file",
    ),
    (
        "notebooks",
        "out is a file",
        lambda c: notebooks.write_student_versions(
            c.notebook_folder("nb", '{"cells": []}'), c.file("taken", "")
        ),
        "--out: expected a folder, got the file",
    ),
    (
        "notebooks",
        "fork with a trailing newline",
        lambda c: notebooks.fork("owner/name\n", c.tmp),
        r"expected a GitHub repository as OWNER/NAME, got 'owner/name\\n'",
    ),
    (
        "notebooks",
        "fork ../..",
        lambda c: notebooks.fork("../..", c.tmp),
        "expected a GitHub repository as OWNER/NAME, got '../..'",
    ),
    (
        "notebooks",
        "fork owner/..",
        lambda c: notebooks.fork("owner/..", c.tmp),
        "expected a GitHub repository as OWNER/NAME",
    ),
]


@pytest.mark.parametrize(
    ("call", "message"),
    [pytest.param(call, message, id=f"{area}: {name}") for area, name, call, message in ROWS],
)
def test_bad_input_is_refused_with_one_clear_sentence(ctx, call, message):
    with pytest.raises(InputError, match=message) as caught:
        call(ctx)
    assert "\n" not in str(caught.value)


# --- the command line, in process: exit code 2 and one line on stderr -------------------


@pytest.fixture
def no_data(monkeypatch):
    """Fail the test if the CLI loads data: every row here must be refused before that."""

    def refuse(*args, **kwargs):
        raise AssertionError("the CLI loaded data before checking its arguments")

    monkeypatch.setattr(data, "load_mnist", refuse)


CLI_ROWS = [
    ("no command", lambda c: [], "required: command"),
    ("unknown command", lambda c: ["fly"], "invalid choice: 'fly'"),
    ("epochs 0", lambda c: ["train", "--epochs", "0"], "must be at least 1, got 0"),
    ("epochs text", lambda c: ["train", "--epochs", "ten"], "expected a whole number, got 'ten'"),
    ("batch size 0", lambda c: ["train", "--batch-size", "0"], "must be at least 1, got 0"),
    ("unknown recipe", lambda c: ["train", "--recipe", "fast"], "invalid choice: 'fast'"),
    ("unknown box", lambda c: ["train", "--box", "foo"], "invalid choice: 'foo'"),
    ("seed text", lambda c: ["train", "--seed", "x"], "invalid int value: 'x'"),
    ("out not .keras", lambda c: ["train", "--out", "model.h5"], "must end in .keras"),
    (
        "out under a file",
        lambda c: ["train", "--out", str(c.file("afile.txt", "") / "model.keras")],
        r"cannot be written: .*afile\.txt is a file, not a folder",
    ),
    (
        "out is a folder",
        lambda c: ["train", "--out", str((c.tmp / "m.keras").mkdir() or c.tmp / "m.keras")],
        r"is a folder: expected a file name ending in \.keras",
    ),
    (
        "detector out under a file",
        lambda c: ["detect-train", "--out", str(c.file("f.txt", "") / "d.keras")],
        "is a file, not a folder",
    ),
    ("detector test images 0", lambda c: ["detect-train", "--test-images", "0"], "at least 1"),
    (
        "evaluate missing model",
        lambda c: ["evaluate", "--model", str(c.tmp / "none.keras")],
        "model file not found",
    ),
    (
        "evaluate a text file as model",
        lambda c: ["evaluate", "--model", str(c.file("m.keras", "not a model"))],
        r"could not load .*m\.keras as a Keras model",
    ),
    (
        "evaluate a one-output model",
        lambda c: [
            "evaluate",
            "--model",
            str((c.one_output.save(c.tmp / "one.keras"), c.tmp / "one.keras")[1]),
        ],
        r"--model .*one\.keras 'one_output': expected a two-headed localizer",
    ),
    (
        "student bad notebook",
        lambda c: ["student", str(c.notebook_folder("nb", "[]")), "--out", str(c.tmp / "o")],
        r"a\.ipynb is not a notebook",
    ),
    ("fork with a newline", lambda c: ["fork", "owner/name\n"], "expected a GitHub repository"),
]

DATA_ROWS = [
    (
        "train on a truncated npz",
        lambda c: ["train", "--data", str(_truncated_npz(c)), "--out", str(c.tmp / "m.keras")],
        r"cut\.npz is not a readable \.npz file",
    ),
    (
        "train on a missing npz",
        lambda c: ["train", "--data", str(c.tmp / "gone.npz"), "--out", str(c.tmp / "m.keras")],
        "MNIST file not found",
    ),
]


def _exits_2_with_one_line(argv, message, capsys):
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert re.search(message, lines[0]), lines[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [pytest.param(argv, message, id=f"cli: {name}") for name, argv, message in CLI_ROWS],
)
def test_cli_refuses_bad_arguments_before_loading_data(ctx, no_data, capsys, argv, message):
    _exits_2_with_one_line(argv(ctx), message, capsys)


@pytest.mark.parametrize(
    ("argv", "message"),
    [pytest.param(argv, message, id=f"cli: {name}") for name, argv, message in DATA_ROWS],
)
def test_cli_refuses_bad_data_files_in_one_line(ctx, capsys, argv, message):
    _exits_2_with_one_line(argv(ctx), message, capsys)


def test_student_leaves_no_out_folder_when_the_source_is_bad(ctx, capsys):
    out = ctx.tmp / "never"
    assert cli.main(["student", str(ctx.notebook_folder("nb", "{}")), "--out", str(out)]) == 2
    assert not out.exists()


def test_cli_shows_a_traceback_for_a_genuine_bug(monkeypatch):
    def broken(args):
        raise ZeroDivisionError("a bug, not bad input")

    monkeypatch.setattr(cli, "run_fork", broken)
    with pytest.raises(ZeroDivisionError):
        cli.main(["fork", "owner/name"])


def test_the_table_covers_every_area_with_at_least_60_rows():
    areas = Counter(area for area, *_ in ROWS) + Counter(cli=len(CLI_ROWS) + len(DATA_ROWS))
    expected = {"data", "synthesis", "boxes", "pipeline", "training", "evaluation"}
    assert expected | {"detection", "notebooks", "cli"} == set(areas)
    assert sum(areas.values()) >= 60


def test_integer_digits_in_range_are_converted_not_refused(ctx):
    as_uint8, _ = synthesis.synthesize(ctx.digits, seed=3)
    as_int64, _ = synthesis.synthesize(ctx.digits.astype(np.int64), seed=3)
    np.testing.assert_array_equal(as_uint8, as_int64)
    assert as_int64.max() <= 1
