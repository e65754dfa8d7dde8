"""Argument validation and the step arithmetic every schedule shares.

Everything here is private. Validators raise at construction time and name
the parameter and the value received; step helpers only build graph
operations (no host syncs), so schedules stay correct under ``mx.compile``.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence

import mlx.core as mx

StepLike = int | mx.array
"""What a schedule accepts as its step: a Python ``int`` or an integer ``mx.array``."""

MAX_STEP = 2**60
"""Steps are clipped here; 2**53 is the documented range, the rest is margin."""

FLOAT32_MAX = 3.4028234663852886e38
"""The largest finite float32: a Python float beyond it becomes ``inf`` in a schedule's value."""


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """Returns ``value`` as an ``int`` if it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return int(value)


def check_real(name: str, value: object) -> float:
    """Returns ``value`` as a ``float`` if it is a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if abs(result) > FLOAT32_MAX:
        raise ValueError(f"{name} must be finite in float32 (|{name}| <= {FLOAT32_MAX:.4g}), got {value!r}")
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


def check_positive(name: str, value: object) -> float:
    """Returns ``value`` as a ``float`` if it is finite and > 0."""
    result = check_real(name, value)
    if result <= 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return result


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """Returns ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_bool(name: str, value: object) -> bool:
    """Returns ``value`` if it is a ``bool``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {value!r} ({type(value).__name__})")
    return value


def as_step(step: StepLike) -> mx.array:
    """Returns ``step`` as an ``int64`` array clipped to ``[0, MAX_STEP]``.

    ``int64`` holds every step up to 2**53 exactly and, unlike the ``uint64``
    counter of MLX's optimizers, never wraps when a boundary is subtracted.
    """
    if isinstance(step, mx.array):
        if not mx.issubdtype(step.dtype, mx.integer):
            raise TypeError(f"step must be an integer array or an int, got an array of dtype {step.dtype}")
        if step.dtype == mx.uint64:
            return mx.minimum(step, MAX_STEP).astype(mx.int64)
        t = step.astype(mx.int64)
        return mx.clip(t, 0, MAX_STEP) if mx.issubdtype(step.dtype, mx.signedinteger) else t
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise TypeError(f"step must be an int or an integer mx.array, got {step!r} ({type(step).__name__})")
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step!r}")
    return mx.array(min(int(step), MAX_STEP), dtype=mx.int64)


def host_float(value: mx.array) -> float:
    """Reads a one-element array on the host: a sync, for human-facing helpers only."""
    return float(value.item())  # type: ignore[arg-type]  # host


def since(t: mx.array, boundary: int) -> mx.array:
    """``max(t - boundary, 0)`` for an ``int64`` step: never wraps, never negative."""
    return mx.maximum(t - boundary, 0)


def remaining(t: mx.array, steps: int | mx.array) -> tuple[mx.array, mx.array]:
    """The fractions done and left of ``steps``, both in float32, from exact integers.

    Forming ``steps - t`` in integers first keeps the fraction left accurate
    near the end of a long decay, where ``1 - t / steps`` would cancel.
    ``steps`` may be an ``int64`` array (one per step, as a join gathers them).
    """
    done = mx.minimum(t, steps)
    return done.astype(mx.float32) / steps, (steps - done).astype(mx.float32) / steps


class IntPower:
    """``base ** q`` for integer arrays ``q``, accurate to a few float32 ulps.

    ``q`` is split into 10-bit digits; each digit picks a power of ``base``
    precomputed in float64 and rounded once to float32. A float32 ``base ** q``
    would carry ``base``'s rounding error ``q`` times (MLX's
    ``exponential_decay(1, 0.99999)`` is 13% off at step 10**7); this is off
    by at most one rounding per digit.
    """

    def __init__(self, base: float, limit: int) -> None:
        levels = max(1, math.ceil(max(limit, 1).bit_length() / 10))
        rows = []
        for level in range(levels):
            scale = 1024**level
            rows.append([_pow(base, digit * scale) for digit in range(1024)])
        self.limit = limit
        self.tables = [mx.array(row, dtype=mx.float32) for row in rows]

    def __call__(self, q: mx.array) -> mx.array:
        q = mx.minimum(q, self.limit)
        out = mx.take(self.tables[0], q & 1023)
        for level, table in enumerate(self.tables[1:], start=1):
            out = out * mx.take(table, (q >> (10 * level)) & 1023)
        return out


def _pow(base: float, exponent: int) -> float:
    try:
        return min(math.pow(base, exponent), 3.0e38)
    except OverflowError:
        return 3.0e38


def underflow_limit(base: float) -> int:
    """The smallest ``q`` with ``base ** q`` below float32's smallest subnormal."""
    if base >= 1.0:
        return MAX_STEP
    if base == 0.0:
        return 1
    return min(MAX_STEP, math.ceil(math.log(1e-46) / math.log(base)) + 1)
