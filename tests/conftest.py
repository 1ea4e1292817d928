"""Shared fixtures. Tests never touch the network: data come from the offline sample."""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def _no_data_override(monkeypatch):
    """Tests choose their data source explicitly, whatever LOCALIZER_DATA says in CI."""
    monkeypatch.delenv("LOCALIZER_DATA", raising=False)


@pytest.fixture(scope="session")
def sample():
    from helpers.data import load_mnist

    return load_mnist("sample")


@pytest.fixture(scope="session")
def digits(sample):
    """200 training digits and their labels, small enough for fast tests."""
    (x_train, y_train), _ = sample
    return x_train[:200], y_train[:200]


@pytest.fixture
def rng():
    return np.random.default_rng(0)
