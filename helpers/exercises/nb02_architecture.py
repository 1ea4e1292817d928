"""Notebook 02's exercises: count a layer's parameters, build the two-headed network,
decode raw numbers into boxes that are always valid.

The network is judged by its description (:func:`helpers.exercises.student_code.describe_model`)
against the lab's network built here for the same input shape and filters; the decoder
against :class:`helpers.models.BoxDecoder`.
"""

from __future__ import annotations

import numpy as np

from helpers.exercises import Exercise, Plain, register
from helpers.exercises.student_code import (
    collect_calls,
    collect_value,
    describe_model,
    raised,
    refusal,
)

NOTEBOOK = "02_architecture"

# --- Exercise: parameters by hand ----------------------------------------------------------

#: The two layers the notebook asks about: Conv2D(48, 5x5) on 32 channels, Dense(10) on 64.
_WIDE_CONV = {"kernel": 5, "channels": 32, "filters": 48}
_SMALL_HEAD = {"inputs": 64, "outputs": 10}


def _params_cases(rng: np.random.Generator) -> list[dict[str, Plain]]:
    return []  # a value: the task's two layers are fixed in the notebook's text


def _judge_params(data: Plain, cases: list[dict[str, Plain]], source: str | None) -> str | None:
    if not isinstance(data, dict) or set(data) != {"wide_conv", "small_head"}:
        return 'layer_params should be a dict with the keys "wide_conv" and "small_head"'
    k, c, f = _WIDE_CONV["kernel"], _WIDE_CONV["channels"], _WIDE_CONV["filters"]
    conv = data["wide_conv"]
    if conv != (k * k * c + 1) * f:
        if conv == k * k * c * f:
            return "wide_conv: the biases are missing (one per filter)"
        if conv == (k * k + 1) * f or conv == k * k * f + f:
            return "wide_conv: each filter looks at all the input channels at once"
        if conv == (3 * 3 * c + 1) * f:
            return "wide_conv: this layer's kernel is 5x5, not 3x3"
        return "wide_conv: count kernel height x width x input channels, plus a bias, per filter"
    n_in, n_out = _SMALL_HEAD["inputs"], _SMALL_HEAD["outputs"]
    head = data["small_head"]
    if head != n_in * n_out + n_out:
        if head == n_in * n_out:
            return "small_head: the biases are missing (one per output)"
        return "small_head: a dense layer has one weight per (input, output) pair, plus biases"
    return None


register(
    Exercise(
        key="02.layer_params",
        notebook=NOTEBOOK,
        answer="layer_params",
        kind="value",
        make_cases=_params_cases,
        collect=collect_value,
        judge=_judge_params,
        points=1,
    )
)


# --- Exercise: the two-headed network ------------------------------------------------------


def two_heads_reference(input_shape=(75, 75, 1), filters=(16, 32, 64)):
    """The lab's network for any input shape and filter counts (what the exercise asks).

    One ``Conv2D(f, 3, relu)`` + ``AveragePooling2D(2)`` stage per entry of ``filters``,
    ``Flatten``, ``Dense(128, relu)``, then the heads ``classification`` (``Dense(10)``,
    softmax) and ``bounding_box`` (``Dense(4)``, linear). With the defaults it is
    :func:`helpers.models.build_baseline_model`, layer for layer.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=tuple(input_shape))
    x = inputs
    for count in filters:
        x = layers.Conv2D(int(count), 3, activation="relu")(x)
        x = layers.AveragePooling2D(2)(x)
    x = layers.Dense(128, activation="relu")(layers.Flatten()(x))
    heads = {
        "classification": layers.Dense(10, activation="softmax")(x),
        "bounding_box": layers.Dense(4)(x),
    }
    return keras.Model(inputs, heads)


def _model_cases(rng: np.random.Generator) -> list[dict[str, Plain]]:
    side = int(rng.integers(56, 90))
    first = int(rng.choice([4, 8, 12]))
    return [
        {"input_shape": [75, 75, 1], "filters": [16, 32, 64]},
        {"input_shape": [side, side, 1], "filters": [first, 2 * first]},
    ]


def _collect_model(answer, cases: list[dict[str, Plain]]) -> Plain:
    return collect_calls(answer, cases, convert=describe_model)


def _kinds(description: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind, *_ in description["layers"]:
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _judge_model(data: Plain, cases: list[dict[str, Plain]], source: str | None) -> str | None:
    refused = refusal(source, {"build_baseline_model", "build_model"}, "build the network")
    if refused:
        return refused
    for found, case in zip(data, cases, strict=True):
        given = f"for input_shape={tuple(case['input_shape'])}, filters={tuple(case['filters'])}"
        crash = raised(found, "build_two_heads", f"the call {given}")
        if crash:
            return crash
        expected = describe_model(two_heads_reference(**case))
        if found["outputs"] is None:
            return "give keras.Model a dict of outputs, so that each head has its name"
        if set(found["outputs"]) != {"classification", "bounding_box"}:
            return f"name the outputs 'classification' and 'bounding_box', got {found['outputs']}"
        if found["outputs"] != expected["outputs"]:
            shapes = found["outputs"]
            return f"the heads' shapes: expected 10 class scores and 4 box numbers, got {shapes}"
        probabilities = np.asarray(found["probe"]["classification"])
        if not np.allclose(probabilities.sum(axis=1), 1, atol=1e-4):
            return "the classification head should give probabilities (a softmax)"
        box_activations = {
            activation for kind, _, params, activation in found["layers"] if params == 4 * 129
        }
        if box_activations - {"linear"}:
            return "the box head is a plain Dense(4): no activation"
        mine, theirs = _kinds(found), _kinds(expected)
        if "MaxPooling2D" in mine:
            return "this is the lab's network: average pooling, not max pooling"
        for kind in ("Conv2D", "AveragePooling2D", "Flatten", "Dense"):
            if mine.get(kind, 0) != theirs[kind]:
                return f"{given}: expected {theirs[kind]} {kind} layers, got {mine.get(kind, 0)}"
        if found["params"] != expected["params"]:
            return (
                f"{given}: {found['params']:,} parameters, not what those layers should have; "
                "do your filters, kernel sizes and Dense(128) follow the arguments?"
            )
    return None


register(
    Exercise(
        key="02.two_heads",
        notebook=NOTEBOOK,
        answer="build_two_heads",
        kind="function",
        make_cases=_model_cases,
        collect=_collect_model,
        judge=_judge_model,
        points=3,
    )
)


# --- Exercise: a box decoder ---------------------------------------------------------------


def decode_boxes_reference(raw: np.ndarray) -> np.ndarray:
    """``(N, 4)`` raw numbers -> ``(N, 4)`` boxes, as :class:`helpers.models.BoxDecoder`."""
    from helpers import models

    return np.asarray(models.BoxDecoder()(np.asarray(raw, np.float32)))


def _decoder_cases(rng: np.random.Generator) -> list[dict[str, Plain]]:
    raw = rng.normal(0, 2.5, size=(40, 4)).astype(np.float32)
    raw[:4] = [[9, -9, 3, 3], [-12, 0, 6, -6], [0, 0, -9, -9], [0, 0, 0, 0]]  # edges, tiny
    return [{"raw": raw}, {"raw": rng.normal(0, 0.5, size=(7, 4)).astype(np.float32)}]


def _valid(found: np.ndarray) -> bool:
    ordered = (found[:, 2] >= found[:, 0]) & (found[:, 3] >= found[:, 1])
    return bool(np.all(ordered) and found.min() >= 0 and found.max() <= 1)


def _judge_decoder(data: Plain, cases: list[dict[str, Plain]], source: str | None) -> str | None:
    refused = refusal(source, {"BoxDecoder"}, "decode the boxes")
    if refused:
        return refused
    for result, case in zip(data, cases, strict=True):
        crash = raised(result, "decode_boxes")
        if crash:
            return crash
        found = np.asarray(result, dtype=np.float64)
        expected = decode_boxes_reference(case["raw"]).astype(np.float64)
        if found.shape != expected.shape:
            return f"expected (N, 4) boxes for (N, 4) raw numbers, got shape {found.shape}"
        if np.isnan(found).any():
            return "some boxes hold NaN"
        if np.allclose(found, expected, atol=1e-5):
            continue
        centre = 1 / (1 + np.exp(-np.asarray(case["raw"], np.float64)))
        if np.allclose(found, np.clip(centre, 0, 1), atol=1e-5):
            return "these are the centre and size; build the corners from them"
        half = np.concatenate([centre[:, :2] - centre[:, 2:], centre[:, :2] + centre[:, 2:]], 1)
        if np.allclose(found, np.clip(half, 0, 1), atol=1e-5):
            return "the corners sit half a size from the centre, not a whole size"
        if not _valid(found):
            return "some boxes are not valid: flipped corners or outside [0, 1]; clip them"
        return "the boxes differ from the decoder's: sigmoid centre and size, corners, clip"
    return None


register(
    Exercise(
        key="02.decode_boxes",
        notebook=NOTEBOOK,
        answer="decode_boxes",
        kind="function",
        make_cases=_decoder_cases,
        collect=collect_calls,
        judge=_judge_decoder,
        points=2,
    )
)
