import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.evaluation import evaluate
from helpers.pipeline import make_test_set, training_dataset
from helpers.training import IMPROVED, compile_model, get_recipe, get_strategy, train


def test_short_training_run_learns_something_and_reports_its_speed(digits):
    x, y = digits
    run = train("improved", x, y, epochs=2, seed=0, verbose=0)
    history = run.history.history
    assert history["bounding_box_loss"][-1] < history["bounding_box_loss"][0]
    assert run.images_seen == 2 * (200 // 64) * 64 and run.images_per_second > 0
    scores = evaluate(run.model, *make_test_set(x[:64], y[:64]))
    assert scores.mean_iou > 0.2  # a random box scores about 0.1


def test_same_seed_same_model(digits):
    x, y = digits
    a = train("baseline", x[:128], y[:128], epochs=1, seed=3, verbose=0).model
    b = train("baseline", x[:128], y[:128], epochs=1, seed=3, verbose=0).model
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(wa, wb, atol=1e-5)


def test_strategy_has_one_replica_per_gpu_and_one_without_several():
    gpus = tf.config.list_logical_devices("GPU")
    strategy = get_strategy()
    assert strategy.num_replicas_in_sync == (len(gpus) if len(gpus) > 1 else 1)
    if len(gpus) <= 1:  # one device: TensorFlow's default strategy, not a named one
        assert strategy is tf.distribute.get_strategy()


def test_one_training_step_on_96x96_canvases(digits):
    x, y = digits
    run = train("improved", x[:32], y[:32], epochs=1, batch_size=32, canvas_size=96, verbose=0)
    assert run.model.input_shape == (None, 96, 96, 1)
    assert run.images_seen == 32 and len(run.history.history["loss"]) == 1
    scores = evaluate(run.model, *make_test_set(x[:8], y[:8], canvas_size=96))
    assert 0 <= scores.accuracy <= 1


def test_epochs_below_one_is_a_clear_error(digits):
    with pytest.raises(ValueError, match="epochs: expected a whole number >= 1"):
        train("baseline", *digits, epochs=0)


def fit_counting_traces(digits, recipe, create_state: bool) -> tuple[int, dict]:
    """Two one-step epochs from seed 5; how often the training step was traced, the history."""
    x, y = digits
    keras.utils.set_random_seed(5)
    dataset, steps = training_dataset(x[:64], y[:64], batch_size=64, seed=5, epochs=2)
    model = compile_model(recipe.build(), recipe, steps, 2, create_state=create_state)
    traces, step = [0], model.train_step

    def counted_step(data):  # runs in Python only while TensorFlow traces the step
        traces[0] += 1
        return step(data)

    model.train_step = counted_step
    history = model.fit(dataset, epochs=2, steps_per_epoch=steps, verbose=0, shuffle=False)
    return traces[0], history.history


@pytest.mark.parametrize("recipe", [IMPROVED, get_recipe("baseline")], ids=lambda r: r.name)
def test_state_created_before_fit_means_one_trace_and_the_same_training(digits, recipe):
    traced_once, history = fit_counting_traces(digits, recipe, create_state=True)
    traced_while_creating, reference = fit_counting_traces(digits, recipe, create_state=False)
    assert (traced_once, traced_while_creating) == (1, 2)
    assert history.keys() == reference.keys()
    for key in history:
        np.testing.assert_allclose(history[key], reference[key], rtol=1e-5, err_msg=key)


def test_creating_the_state_leaves_weights_alone_and_metrics_empty():
    model = IMPROVED.build()
    weights = model.get_weights()
    compile_model(model, IMPROVED, steps_per_epoch=1, epochs=1)
    assert model.optimizer.built and int(model.optimizer.iterations) == 0
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    state = [np.asarray(v) for metric in model.metrics for v in metric.variables]
    assert state and not any(np.any(values) for values in state)
