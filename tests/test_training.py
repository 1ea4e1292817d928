import numpy as np
import pytest

from helpers.evaluation import evaluate
from helpers.pipeline import make_test_set
from helpers.training import get_strategy, train


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


def test_default_strategy_on_a_cpu_machine_has_one_replica():
    assert get_strategy().num_replicas_in_sync == 1


def test_epochs_below_one_is_a_clear_error(digits):
    with pytest.raises(ValueError, match="epochs: expected a whole number >= 1"):
        train("baseline", *digits, epochs=0)
