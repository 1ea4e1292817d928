"""Plain data across the kernel's boundary: one ``.npz`` file, never a pickle.

Cases go into the sandbox and answers come back out as the plain data of
:mod:`helpers.exercises` (``None``, bools, numbers, strings, lists, string-keyed dicts and
NumPy arrays of numbers). A file holds the structure as JSON text, with every array
replaced by ``{"__array__": i}``, and the arrays themselves as entries ``a0``, ``a1``, ...
It is read with ``allow_pickle=False``: a file a kernel forged can hold wrong data, never
code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from helpers.errors import InputError

_ARRAY = "__array__"


def dump(value: Any, path: Path) -> None:
    """Write the plain data ``value`` to ``path`` (a ``.npz`` file).

    Raises:
        InputError: ``value`` holds something that is not plain data (a function, a model,
            an array of Python objects).
    """
    arrays: list[np.ndarray] = []

    def encode(item: Any) -> Any:
        if isinstance(item, np.ndarray):
            if item.dtype == object:
                raise InputError("expected an array of numbers, got an array of Python objects")
            arrays.append(item)
            return {_ARRAY: len(arrays) - 1}
        if isinstance(item, np.generic):
            return item.item()
        if item is None or isinstance(item, (bool, int, float, str)):
            return item
        if isinstance(item, dict):
            return {str(key): encode(entry) for key, entry in item.items()}
        if isinstance(item, (list, tuple)):
            return [encode(entry) for entry in item]
        kind = type(item).__name__
        raise InputError(f"expected plain data (numbers, strings, arrays), got {kind}")

    text = json.dumps(encode(value))
    entries = {f"a{index}": array for index, array in enumerate(arrays)}
    with open(path, "wb") as file:  # np.savez would append ".npz" to a name without it
        np.savez(file, json=np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **entries)


def load(path: Path) -> Any:
    """The plain data in ``path``, as :func:`dump` wrote it.

    Raises:
        InputError: the file is missing, not such a file, or refers to an array it lacks.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            text = archive["json"].tobytes().decode("utf-8")
            arrays = {name: archive[name] for name in archive.files if name != "json"}
        structure = json.loads(text)
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as error:
        raise InputError(f"{Path(path).name}: not a plain-data file ({error})") from None

    def decode(item: Any) -> Any:
        if isinstance(item, dict):
            if set(item) == {_ARRAY}:
                name = f"a{item[_ARRAY]}"
                if name not in arrays:
                    raise InputError(f"{Path(path).name}: refers to a missing array {name}")
                return arrays[name]
            return {key: decode(entry) for key, entry in item.items()}
        if isinstance(item, list):
            return [decode(entry) for entry in item]
        return item

    return decode(structure)
