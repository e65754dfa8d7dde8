"""Step arithmetic every schedule shares: normalized steps, safe offsets, exact fractions and powers.

Everything here builds graph operations only (no host syncs), so schedules
stay correct inside ``mx.compile``d steps. Steps are ``int64`` arrays
clipped to ``[0, MAX_STEP]``: unlike the ``uint64`` counter of MLX's
optimizers they never wrap when a boundary is subtracted, and they stay
integers until a fraction of a period is formed.
"""

from __future__ import annotations

import math
import numbers

import mlx.core as mx

StepLike = int | mx.array
"""What a schedule accepts as its step: a Python ``int`` or an integer ``mx.array``."""

MAX_STEP = 2**60
"""Steps are clipped here; 2**53 is the documented range, the rest is margin."""


def as_step(step: StepLike) -> mx.array:
    """Returns ``step`` as an ``int64`` array clipped to ``[0, 2**60]``.

    ``int64`` holds every step up to 2**53 exactly and, unlike the ``uint64``
    counter of MLX's optimizers, never wraps when a boundary is subtracted.

    Args:
        step: A Python ``int`` (>= 0) or an integer ``mx.array`` of any shape.

    Returns:
        An ``int64`` array of the step's shape.

    Example:
        >>> import mlx.core as mx
        >>> import mlxlr
        >>> mlxlr.as_step(mx.array(7, dtype=mx.uint64))
        array(7, dtype=int64)
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


def arange(start: int, count: int) -> mx.array:
    """The normalized steps ``start .. start + count - 1`` (an array that fits in memory needs no clip)."""
    return mx.arange(start, start + count, dtype=mx.int64)


def since(t: mx.array, start: int) -> mx.array:
    """The local step ``max(t - start, 0)`` of a normalized step: never wraps, never negative."""
    return mx.maximum(t - start, 0) if start else t


def remaining(t: mx.array, steps: int | mx.array) -> tuple[mx.array, mx.array]:
    """The fractions done and left of ``steps``, both in float32, from exact integers.

    Forming ``steps - t`` in integers first keeps the fraction left accurate
    near the end of a long decay, where ``1 - t / steps`` would cancel.
    ``steps`` may be an ``int64`` array (one per step, as a join gathers them).
    """
    done = mx.minimum(t, steps)
    return done.astype(mx.float32) / steps, (steps - done).astype(mx.float32) / steps


def bump(left: mx.array) -> mx.array:
    """``(1 + cos(pi * (1 - left))) / 2`` as ``sin(pi/2 * left) ** 2``: no cancellation as ``left -> 0``."""
    return mx.square(mx.sin(0.5 * math.pi * left))


SHAPES = ("linear", "cosine", "1-sqrt")
"""The shapes of a decay from one value to another: a line, half a cosine, ``1 - sqrt(p)``."""


def decay(shape: str, start: float, end: float, done: mx.array, left: mx.array) -> mx.array:
    r"""From ``start`` to ``end`` along ``shape``, at the fractions ``done`` and ``left`` (= 1 - done) of the way.

    .. math::
        v = \text{end} + (\text{start} - \text{end})\, f(p), \quad
        f(p) = 1 - p, \;\; \tfrac12 (1 + \cos \pi p), \;\; 1 - \sqrt{p}

    Computed from the end whose value is smaller in magnitude, so that
    rounding at the scale of the larger one does not swamp it, and ``1 -
    sqrt(p)`` as ``(1 - p) / (1 + sqrt(p))``, without its cancellation as ``p -> 1``.
    """
    rising = abs(end) > abs(start)  # then from start: rounding at the scale of end would swamp it
    if shape == "linear":
        f = done if rising else left
    elif shape == "cosine":
        f = bump(done if rising else left)
    else:
        f = mx.sqrt(done) if rising else left / (1.0 + mx.sqrt(done))
    return start + (end - start) * f if rising else end + (start - end) * f


def host_float(value: mx.array) -> float:
    """Reads a one-element array on the host: a sync, for construction and human-facing helpers only."""
    return float(value.item())  # type: ignore[arg-type]  # host


class IntPower:
    """``base ** q`` for integer arrays ``q``, accurate to a few float32 ulps.

    ``q`` is split into 10-bit digits; each digit picks a power of ``base``
    precomputed in float64 and rounded once to float32. A float32 ``base ** q``
    would carry ``base``'s rounding error ``q`` times (MLX's
    ``exponential_decay(1, 0.99999)`` is 13% off at step 10**7); this is off
    by at most one rounding per digit. ``q`` is capped at ``limit`` (where
    the power has settled).
    """

    def __init__(self, base: float, limit: int) -> None:
        levels = max(1, math.ceil(max(limit, 1).bit_length() / 10))
        self.base = base
        self.limit = limit
        self.rows = [[_pow(base, digit * 1024**level) for digit in range(1024)] for level in range(levels)]
        self.tables = [mx.array(row, dtype=mx.float32) for row in self.rows]

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
    """The smallest ``q`` with ``base ** q`` below float32's smallest subnormal (``MAX_STEP`` for no decay)."""
    if base >= 1.0:
        return MAX_STEP
    if base == 0.0:
        return 1
    return min(MAX_STEP, math.ceil(math.log(1e-46) / math.log(base)) + 1)
