"""Argument validation: every constructor's checks, raising at construction with the name and the value.

Each ``check_*`` returns the argument in its normal form (a Python ``int``,
``float`` or ``list``) or raises ``TypeError``/``ValueError`` naming the
parameter, the value received and what is allowed. NumPy and MLX scalars
(``np.int64(10)``, a 0-d ``mx.array``) are taken as the Python numbers they
hold (:func:`plain`).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from typing import Any

import mlx.core as mx

FLOAT32_MAX = 3.4028234663852886e38
"""The largest finite float32: a Python float beyond it becomes ``inf`` in a schedule's value."""


def plain(value: Any) -> Any:
    """``value`` with NumPy and MLX scalars as Python numbers and sequences as lists, recursively.

    A 0-d ``mx.array`` is read on the host (constructors run once, outside
    compiled code); ``bool`` stays ``bool``; anything else is returned as it is.
    """
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, mx.array):
        return _array_scalar(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():  # a NumPy scalar or 0-d array
        item = value.item()  # host: a NumPy scalar, not an mx.array
        return item if isinstance(item, (bool, int, float)) else value
    return value


def _array_scalar(value: mx.array) -> Any:
    if value.ndim != 0:
        return value
    item = value.item()  # host: a constructor argument, read once
    return bool(item) if value.dtype == mx.bool_ else item


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """Returns ``value`` as an ``int`` if it is an integer >= ``minimum``."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return int(value)


def check_real(name: str, value: object) -> float:
    """Returns ``value`` as a ``float`` if it is a finite real number (finite in float32 too)."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if abs(result) > FLOAT32_MAX:
        raise ValueError(f"{name} must be finite in float32 (|{name}| <= {FLOAT32_MAX:.4g}), got {value!r}")
    return result


def check_positive(name: str, value: object) -> float:
    """Returns ``value`` as a ``float`` if it is finite and > 0."""
    result = check_real(name, value)
    if result <= 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return result


def check_steps(name: str, steps: object, *, allow_empty: bool = False) -> list[int]:
    """Returns ``steps`` as a list of strictly increasing positive ints (non-empty unless ``allow_empty``)."""
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
        raise TypeError(f"{name} must be a list of ints, got {steps!r} ({type(steps).__name__})")
    if len(steps) == 0 and not allow_empty:
        raise ValueError(f"{name} must hold at least one step, got {list(steps)!r}")
    result = [check_int(f"{name}[{i}]", s) for i, s in enumerate(steps)]
    if any(b <= a for a, b in itertools.pairwise(result)):
        raise ValueError(f"{name} must increase strictly, got {result!r}")
    return result


def check_reals(name: str, values: object) -> list[float]:
    """Returns ``values`` as a list of finite floats."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a list of numbers, got {values!r} ({type(values).__name__})")
    return [check_real(f"{name}[{i}]", v) for i, v in enumerate(values)]


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """Returns ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_bool(name: str, value: object) -> bool:
    """Returns ``value`` if it is a ``bool`` (a NumPy or MLX bool included)."""
    value = plain(value)
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {value!r} ({type(value).__name__})")
    return value


def float32_table(name: str, values: Sequence[float]) -> mx.array:
    """Values computed in float64 as one float32 array; refused where float32 overflows."""
    for value in values:
        if not abs(value) <= FLOAT32_MAX:
            raise ValueError(f"{name} reaches {value!r}, beyond float32's range")
    return mx.array(list(values), dtype=mx.float32)
