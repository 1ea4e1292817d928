import re

import keras
import numpy as np
import pytest

import helpers  # noqa: F401 - registers the custom layer and loss
from helpers.models import BoxDecoder, BoxLoss, build_baseline_model, build_model
from helpers.training import ablation_recipes, compile_model, get_recipe


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
    loaded = keras.saving.load_model(path, compile=False)
    images = rng.uniform(0, 1, (4, 75, 75, 1)).astype(np.float32)
    a, b = model.predict(images, verbose=0), loaded.predict(images, verbose=0)
    for name in ("classification", "bounding_box"):
        np.testing.assert_array_equal(a[name], b[name])


def test_ablation_undoes_one_change_at_a_time():
    recipes = ablation_recipes()
    assert recipes[0] == get_recipe("improved")
    names = [r.name for r in recipes]
    assert len(set(names)) == len(names)
    for recipe in recipes[1:]:
        recipe.build()  # every variant builds


def test_unknown_recipe_is_a_clear_error():
    with pytest.raises(ValueError, match="expected one of improved, baseline"):
        get_recipe("fancy")


@pytest.mark.parametrize("builder", [build_baseline_model, build_model])
def test_layers_have_names_that_say_what_they_are(builder):
    names = [layer.name for layer in builder().layers]
    assert {"stage1_conv", "stage2_conv", "stage3_conv", "stage3_pool"} <= set(names)
    assert not [name for name in names if re.search(r"_\d+$", name)], names
