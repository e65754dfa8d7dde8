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

MAX_COUNT = 2**60
"""The largest step count (a duration, a boundary, a period): ``mlxlr._steps.MAX_STEP``, where steps are clipped.

Counts above it would never be reached, and their sums and products with
steps must stay inside ``int64`` (MLX refuses a Python int beyond it). The
two modules share a layer and may not import each other; a test keeps the
two numbers equal.
"""


def plain(value: Any) -> Any:
    """``value`` with NumPy and MLX scalars as Python numbers, and arrays and sequences as lists, recursively.

    A NumPy scalar becomes the Python number it holds exactly (``np.float32(0.1)``
    is ``0.10000000149011612``), a subclass of ``int``, ``float`` or ``str``
    (``np.float64``, an ``IntEnum``) its base type, and an array (NumPy or
    MLX, read on the host: constructors run once, outside compiled code) its
    ``tolist()``. ``bool`` stays ``bool``; anything else is returned as it is.
    """
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if isinstance(value, mx.array):
        return _array_scalar(value) if value.ndim == 0 else value.tolist()  # host: a constructor argument
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    for base in (bool, int, float, str):  # np.float64, IntEnum, np.str_: their base type, as Python prints it
        if isinstance(value, base):
            return base(value)
    if hasattr(value, "dtype") and hasattr(value, "tolist") and isinstance(getattr(value, "shape", None), tuple):
        item = value.tolist()  # host: a NumPy scalar or array
        return plain(item) if isinstance(item, (bool, int, float, list)) else value
    return value


def _array_scalar(value: mx.array) -> Any:
    item = value.item()  # host: a constructor argument, read once
    return bool(item) if value.dtype == mx.bool_ else item


def is_number(value: object) -> bool:
    """Whether ``value`` is a Python ``int`` or ``float`` (not a ``bool``)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_int(name: str, value: object, minimum: int = 1, maximum: int | None = MAX_COUNT) -> int:
    """Returns ``value`` as an ``int`` if it is an integer in ``[minimum, maximum]`` (``None``: no maximum)."""
    given, value = value, plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {given!r} ({type(given).__name__})")
    number = int(value)
    if number < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {number!r}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{name} must be at most {_power_of_two(maximum)}, got {number!r}")
    return number


def _power_of_two(value: int) -> str:
    """``2**60`` for 2**60, ``2**31 - 1`` for 2**31 - 1, else the number."""
    for offset in (0, 1):
        bits = (value + offset).bit_length() - 1
        if bits > 8 and value + offset == 2**bits:
            return f"2**{bits}" + (" - 1" if offset else "")
    return str(value)


def check_real(name: str, value: object) -> float:
    """Returns ``value`` as a ``float`` if it is a finite real number (finite in float32 too)."""
    given, value = value, plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {given!r} ({type(given).__name__})")
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
    """Returns ``steps`` (a list, tuple or 1-D array) as a list of strictly increasing positive ints.

    The list must be non-empty unless ``allow_empty``.
    """
    items = _sequence(name, steps, "a list of ints")
    if len(items) == 0 and not allow_empty:
        raise ValueError(f"{name} must hold at least one step, got {items!r}")
    result = [check_int(f"{name}[{i}]", s) for i, s in enumerate(items)]
    if any(b <= a for a, b in itertools.pairwise(result)):
        raise ValueError(f"{name} must increase strictly, got {result!r}")
    return result


def check_reals(name: str, values: object) -> list[float]:
    """Returns ``values`` (a list, tuple or 1-D array) as a list of finite floats."""
    return [check_real(f"{name}[{i}]", v) for i, v in enumerate(_sequence(name, values, "a list of numbers"))]


def _sequence(name: str, value: object, kind: str) -> list[Any]:
    """The items of a sequence or a 1-D NumPy or MLX array, with NumPy and MLX scalars as Python numbers."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist") and getattr(value, "ndim", None) == 1:
        items: list[Any] = plain(value)
        return items
    raise TypeError(f"{name} must be {kind}, got {value!r} ({type(value).__name__})")


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """Returns ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_bool(name: str, value: object) -> bool:
    """Returns ``value`` if it is a ``bool`` (a NumPy or MLX bool included)."""
    given, value = value, plain(value)
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {given!r} ({type(given).__name__})")
    return value


def float32_table(name: str, values: Sequence[float]) -> mx.array:
    """Values computed in float64 as one float32 array; refused where float32 overflows."""
    for value in values:
        if not abs(value) <= FLOAT32_MAX:
            raise ValueError(f"{name} reaches {value!r}, beyond float32's range")
    return mx.array(list(values), dtype=mx.float32)
