import dataclasses
import inspect
import re

import keras
import numpy as np
import pytest

import helpers
from helpers.models import BoxDecoder, BoxLoss, build_baseline_model, build_model, multiply_adds
from helpers.training import Recipe, ablation_recipes, compile_model, get_recipe


@pytest.mark.parametrize("builder", [build_baseline_model, build_model])
def test_output_names_shapes_and_ranges(builder, rng):
    model = builder()
    images = rng.uniform(0, 1, (3, 75, 75, 1)).astype(np.float32)
    out = model.predict(images, verbose=0)
    assert set(out) == {"classification", "bounding_box"}
    assert out["classification"].shape == (3, 10) and out["bounding_box"].shape == (3, 4)
    np.testing.assert_allclose(out["classification"].sum(axis=1), 1.0, atol=1e-5)


def test_baseline_is_the_original_lab_network():
    model = build_baseline_model()
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    pools = [layer for layer in model.layers if isinstance(layer, keras.layers.AveragePooling2D)]
    assert [c.filters for c in convs] == [16, 32, 64] and len(pools) == 3
    assert model.get_layer("classification").activation.__name__ == "softmax"
    assert model.get_layer("bounding_box").activation.__name__ == "linear"
    assert model.count_params() == 426_638


def test_improved_box_head_always_gives_ordered_boxes_inside_the_canvas(rng):
    raw = keras.ops.convert_to_tensor(rng.normal(0, 5, (1000, 4)).astype(np.float32))
    boxes = keras.ops.convert_to_numpy(BoxDecoder()(raw))
    assert boxes.min() >= 0 and boxes.max() <= 1
    assert np.all(boxes[:, 2] >= boxes[:, 0]) and np.all(boxes[:, 3] >= boxes[:, 1])


def test_box_loss_is_zero_for_a_perfect_box_and_grows_with_error():
    truth = np.array([[0.2, 0.2, 0.6, 0.6]], np.float32)
    loss = BoxLoss(ciou_weight=1.0)
    perfect = float(loss(truth, truth))
    near = float(loss(truth, truth + 0.02))
    far = float(loss(truth, truth + 0.2))
    assert perfect == pytest.approx(0.0, abs=1e-4) and 0 < near < far


def test_save_and_load_round_trip_gives_identical_predictions(tmp_path, rng):
    model = compile_model(build_model(), get_recipe("improved"), steps_per_epoch=1, epochs=1)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = helpers.load_model(path)
    images = rng.uniform(0, 1, (4, 75, 75, 1)).astype(np.float32)
    a, b = model.predict(images, verbose=0), loaded.predict(images, verbose=0)
    for name in ("classification", "bounding_box"):
        np.testing.assert_array_equal(a[name], b[name])


def test_ablation_undoes_one_change_at_a_time():
    recipe = get_recipe("improved")
    recipes = ablation_recipes()
    assert recipes[0] == recipe
    # The fields each variant changes against the recipe, written out: one decision each
    # (a decision that needs two or three fields, such as a schedule and its rate, is one).
    expected = {
        "constant learning rate 1e-3": {"cosine_schedule", "learning_rate"},
        "no CIoU term (MSE only)": {"ciou_weight"},
        "average pooling": {"max_pooling"},
        "linear box head": {"box_decoder"},
        "shared dense layer": {"split_heads"},
        "+ batch norm": {"batch_norm"},
        "+ box-loss weight 10": {"box_loss_weight"},
        "no class-feature normalisation": {"class_norm"},
        "+ wider network (16, 32, 64)": {"channels"},
        "+ strided 4x4 stem (32, 48)": {"strided_stem", "channels", "box_pool"},
    }
    changed = {
        variant.name: {
            field.name
            for field in dataclasses.fields(variant)
            if field.name != "name" and getattr(variant, field.name) != getattr(recipe, field.name)
        }
        for variant in recipes[1:]
    }
    assert changed == expected
    for variant in recipes[1:]:
        variant.build()  # every variant builds


def test_recipe_and_build_model_share_their_defaults():
    """``Recipe()``'s network fields default to what ``build_model()`` builds by default."""
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(build_model).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    recipe = Recipe(name="defaults")
    assert defaults == {name: getattr(recipe, name) for name in defaults}
    assert recipe == dataclasses.replace(get_recipe("improved"), name="defaults")
    assert not recipe.baseline_network


def test_recipe_builds_for_the_canvas_size_it_is_given():
    for name in ("improved", "baseline"):
        model = get_recipe(name).build((96, 96, 1))
        assert model.input_shape == (None, 96, 96, 1)
        out = model.predict(np.zeros((2, 96, 96, 1), np.float32), verbose=0)
        assert out["bounding_box"].shape == (2, 4) and out["classification"].shape == (2, 10)


def test_unknown_recipe_is_a_clear_error():
    with pytest.raises(ValueError, match="expected one of improved, baseline"):
        get_recipe("fancy")


@pytest.mark.parametrize(
    "builder, expected",
    [
        (build_baseline_model, {"stage1_conv", "stage2_conv", "stage3_conv", "shared_dense"}),
        (build_model, {"stage1_conv", "stage3_conv", "box_pool", "class_pool", "box_dense"}),
    ],
)
def test_layers_have_names_that_say_what_they_are(builder, expected):
    names = [layer.name for layer in builder().layers]
    assert expected <= set(names)
    assert not [name for name in names if re.search(r"_\d+$", name)], names


@pytest.mark.parametrize("side", [75, 64])
def test_strided_stem_reads_every_pixel(side):
    """The 4x4 windows, 2 pixels apart, reach the first and the last row and column."""
    model = build_model((side, side, 1), strided_stem=True, channels=(32, 48))
    assert "stem_pad" in [layer.name for layer in model.layers]
    stem = keras.Model(model.input, model.get_layer("stage1_conv").output)
    empty = np.zeros((1, side, side, 1), np.float32)
    for row, col in [(0, 0), (side - 1, side - 1), (side - 1, 0), (side // 2, side // 2 + 1)]:
        image = empty.copy()
        image[0, row, col, 0] = 1.0
        assert np.abs(np.asarray(stem(image)) - np.asarray(stem(empty))).max() > 0, (row, col)


def test_multiply_adds_counts_every_convolution_and_dense_weight():
    # The baseline by hand: 3x3 convolutions on 73x73, 34x34 and 15x15 maps, then
    # Flatten (7*7*64) -> 128 -> the two heads.
    convs = 73 * 73 * 16 * 9 * 1 + 34 * 34 * 32 * 9 * 16 + 15 * 15 * 64 * 9 * 32
    dense = 3136 * 128 + 128 * 10 + 128 * 4
    assert multiply_adds(build_baseline_model()) == convs + dense
    # The recipe's narrower first stages do 40% of that work.
    assert 0.3 < multiply_adds(build_model()) / (convs + dense) < 0.4


def test_class_features_are_normalised_per_canvas(rng):
    model = build_model()
    probe = keras.Model(
        model.input, [model.get_layer(n).output for n in ("class_pool", "class_norm")]
    )
    pooled, normalised = (
        np.asarray(t) for t in probe(rng.uniform(0, 1, (2, 75, 75, 1)).astype(np.float32))
    )
    epsilon = model.get_layer("class_norm").epsilon  # untrained: no scale or shift yet
    expected = (pooled - pooled.mean(axis=1, keepdims=True)) / np.sqrt(
        pooled.var(axis=1, keepdims=True) + epsilon
    )
    np.testing.assert_allclose(normalised, expected, atol=1e-4)
    np.testing.assert_allclose(normalised.mean(axis=1), 0.0, atol=1e-5)
    assert "class_norm" not in [layer.name for layer in build_model(class_norm=False).layers]


def test_network_shapes_and_options():
    assert tuple(build_model().get_layer("box_flatten").output.shape[1:]) == (7 * 7 * 64,)
    strided = build_model(strided_stem=True, channels=(32, 48), box_pool="average")
    assert tuple(strided.get_layer("stage2_relu").output.shape[1:]) == (16, 16, 48)
    assert tuple(strided.get_layer("box_flatten").output.shape[1:]) == (8 * 8 * 48,)
    with pytest.raises(ValueError, match="box_pool: expected one of max, average"):
        build_model(box_pool="median")
