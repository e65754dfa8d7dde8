"""The core families: constant, linear, cosine, exponential and step decay."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import final

import mlx.core as mx
from typing_extensions import override

from ._algebra import Builtin, Stacked, floats, ints, pick
from ._checks import (
    IntPower,
    check_bool,
    check_int,
    check_positive,
    check_real,
    remaining,
    underflow_limit,
)


@final
class Constant(Builtin):
    """The same value at every step.

    A constant has no duration of its own (``Constant(1) >> s`` is an error:
    use ``Constant(1).for_steps(n) >> s``), but in sums and products it never
    extends the duration of the other side.

    Args:
        value: The value.

    Example:
        >>> import mlxlr
        >>> print(mlxlr.Constant(3e-4).at(10**9))
        0.0003000000142492354
    """

    def __init__(self, value: float) -> None:
        self.value = check_real("value", value)

    @override
    def _eval(self, t: mx.array) -> mx.array:
        value = mx.array(self.value, dtype=mx.float32)  # a constant: a compiled kernel inlines it
        return value if t.ndim == 0 else mx.broadcast_to(value, t.shape)

    @override
    def _eval_since(self, t: mx.array, start: int) -> mx.array:
        return self._eval(t)

    @classmethod
    @override
    def _stack(cls, pieces: Sequence[Constant]) -> Stacked:
        return Stacked({"value": floats(p.value for p in pieces)})

    @classmethod
    @override
    def _eval_stacked(cls, t: mx.array, params: dict[str, mx.array]) -> mx.array:
        return mx.broadcast_to(params["value"], t.shape)


@final
class Linear(Builtin):
    r"""Linear interpolation from ``init`` to ``end`` over ``steps`` steps, then ``end``.

    .. math::
        v(t) = \text{init} + (\text{end} - \text{init}) \cdot \min(t, T) / T

    Equals MLX's ``linear_schedule(init, end, steps)``, Optax's
    ``linear_schedule(init, end, steps)`` and PyTorch's ``LinearLR`` (with
    ``init = base_lr * start_factor``, ``end = base_lr * end_factor`` and
    ``steps = total_iters``).

    Args:
        init: The value at step 0.
        end: The value from step ``steps`` on.
        steps: The number of steps to go from ``init`` to ``end`` (the duration).

    Example:
        >>> import mlxlr
        >>> s = mlxlr.Linear(0.0, 1e-3, steps=100)
        >>> print(f"{s.at(0):.2e} {s.at(50):.2e} {s.at(1000):.2e}")
        0.00e+00 5.00e-04 1.00e-03
    """

    def __init__(self, init: float, end: float, steps: int) -> None:
        self.init = check_real("init", init)
        self.end = check_real("end", end)
        self.steps = check_int("steps", steps)

    @property
    @override
    def duration(self) -> int:
        return self.steps

    @override
    def _eval(self, t: mx.array) -> mx.array:
        return self._eval_since(t, 0)

    @override
    def _eval_since(self, t: mx.array, start: int) -> mx.array:
        done, left = remaining(t - start if start else t, self.steps)
        return self.init * left + self.end * done

    @classmethod
    @override
    def _stack(cls, pieces: Sequence[Linear]) -> Stacked:
        init, end, steps = floats(p.init for p in pieces), floats(p.end for p in pieces), ints(p.steps for p in pieces)
        return Stacked({"init": init, "end": end, "steps": steps})

    @classmethod
    @override
    def _eval_stacked(cls, t: mx.array, params: dict[str, mx.array]) -> mx.array:
        done, left = remaining(t, params["steps"])
        return params["init"] * left + params["end"] * done


@final
class CosineDecay(Builtin):
    r"""Half a cosine from ``init`` down to ``end`` over ``decay_steps`` steps, then ``end``.

    .. math::
        v(t) = \text{end} + (\text{init} - \text{end}) \cdot
               \tfrac12 \left(1 + \cos\left(\pi \min(t, T) / T\right)\right)

    Equals MLX's ``cosine_decay(init, decay_steps, end)``, Optax's
    ``cosine_decay_schedule(init, decay_steps, alpha=end / init)`` and PyTorch's
    ``CosineAnnealingLR(T_max=decay_steps, eta_min=end)`` up to ``T_max``
    (PyTorch's keeps following the cosine after ``T_max``; this one holds ``end``).

    The value is computed from the nearer end, as ``init + (end - init) *
    sin(pi/2 * t / T) ** 2`` in the first half and ``end - (end - init) *
    sin(pi/2 * (T - t) / T) ** 2`` in the second, with ``t`` and ``T - t``
    formed in integers: one sine per step, and the value stays accurate at
    both ends of a decay (or a rise) over billions of steps, whichever end
    is small.

    Args:
        init: The value at step 0.
        decay_steps: The number of steps to decay over (the duration).
        end: The value from step ``decay_steps`` on.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.CosineDecay(1.0, decay_steps=100, end=0.1)
        >>> print(f"{s.at(0):.3f} {s.at(50):.3f} {s.at(100):.3f}")
        1.000 0.550 0.100
    """

    def __init__(self, init: float, decay_steps: int, end: float = 0.0) -> None:
        self.init = check_real("init", init)
        self.decay_steps = check_int("decay_steps", decay_steps)
        self.end = check_real("end", end)

    @property
    @override
    def duration(self) -> int:
        return self.decay_steps

    @override
    def _eval(self, t: mx.array) -> mx.array:
        return self._eval_since(t, 0)

    @override
    def _eval_since(self, t: mx.array, start: int) -> mx.array:
        steps = self.decay_steps
        x = t - start if start else t
        rise, angle = self.end - self.init, 0.5 * math.pi / steps
        return _cosine(x, (steps + start) - t, self.init, self.end, rise, angle, steps, steps // 2)

    @classmethod
    @override
    def _stack(cls, pieces: Sequence[CosineDecay]) -> Stacked:
        return Stacked(
            {
                "init": floats(p.init for p in pieces),
                "end": floats(p.end for p in pieces),
                "rise": floats(p.end - p.init for p in pieces),
                "angle": floats(0.5 * math.pi / p.decay_steps for p in pieces),
                "steps": ints(p.decay_steps for p in pieces),
                "half": ints(p.decay_steps // 2 for p in pieces),
            }
        )

    @classmethod
    @override
    def _eval_stacked(cls, t: mx.array, params: dict[str, mx.array]) -> mx.array:
        p = params
        return _cosine(t, p["steps"] - t, p["init"], p["end"], p["rise"], p["angle"], p["steps"], p["half"])


def _cosine(
    x: mx.array,
    back: mx.array,
    init: float | mx.array,
    end: float | mx.array,
    rise: float | mx.array,
    angle: float | mx.array,
    steps: int | mx.array,
    half: int | mx.array,
) -> mx.array:
    """Half a cosine from ``init`` to ``end`` at the local step ``x``, with ``back = steps - x``.

    One sine, of the angle to the nearer end: ``sin(pi/2 * m / T) ** 2`` with
    ``m = min(x, T - x)`` is at most 1/2, and the value is the nearer end
    plus the rise times it (``init + (end - init) s`` in the first half,
    ``end - (end - init) s`` in the second), accurate at both ends for falls
    and rises alike. ``x`` and ``T - x`` are exact integers. Past the end
    the rise is 0 and the value is ``end``; before the start (a join's
    unused branch) it is finite. ``rise = end - init`` and ``angle = pi / (2T)``
    are rounded once from float64.
    """
    first = x <= half
    base = mx.where(first, init, end)
    slope = mx.where(first, rise, mx.where(x < steps, -rise, 0.0))
    return base + slope * mx.square(mx.sin(mx.minimum(x, back).astype(mx.float32) * angle))


@final
class ExponentialDecay(Builtin):
    r"""``init`` times ``decay_rate`` once every ``decay_steps`` steps, continuously or in stairs.

    .. math::
        v(t) = \text{init} \cdot r^{t / T}
        \quad\text{or, with staircase,}\quad
        v(t) = \text{init} \cdot r^{\lfloor t / T \rfloor}

    clipped at ``end`` when it is given. Equals MLX's
    ``exponential_decay(init, decay_rate)`` (``decay_steps=1``), Optax's
    ``exponential_decay(init, transition_steps, decay_rate, staircase=...,
    end_value=end)`` with ``transition_begin=0``, Keras's
    ``ExponentialDecay(init, decay_steps, decay_rate, staircase)`` and PyTorch's
    ``ExponentialLR(gamma=decay_rate)``.

    MLX computes ``decay_rate ** step`` in float32, which drifts from the
    exact value as the step grows (0.14% at step 10**5 for a rate of 0.99999,
    13% at 10**7). mlxlr multiplies powers of the rate precomputed in float64
    and equals the exact value to a few float32 roundings at every step.

    Args:
        init: The value at step 0.
        decay_rate: The factor per ``decay_steps`` steps, in ``(0, 1]``; a rate
            above 1 (growth) needs ``end`` as its cap.
        decay_steps: The steps over which the value is multiplied by ``decay_rate``.
        staircase: Decay in whole stairs (``floor(t / decay_steps)``).
        end: A floor for a decay (a cap for a growth), as Optax's ``end_value``.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.ExponentialDecay(1.0, 0.5, decay_steps=10)
        >>> print(f"{s.at(10):.3f} {s.at(15):.4f} {s.at(20):.3f}")
        0.500 0.3536 0.250
    """

    def __init__(
        self,
        init: float,
        decay_rate: float,
        decay_steps: int = 1,
        staircase: bool = False,
        end: float | None = None,
    ) -> None:
        self.init = check_real("init", init)
        self.decay_rate = check_positive("decay_rate", decay_rate)
        self.decay_steps = check_int("decay_steps", decay_steps)
        self.staircase = check_bool("staircase", staircase)
        self.end = None if end is None else check_real("end", end)
        self._power = _decay_power(self.init, self.decay_rate, self.end, 1 if staircase else self.decay_steps)

    @override
    def _eval(self, t: mx.array) -> mx.array:
        q = t // self.decay_steps if self.staircase else t
        out = self.init * self._power(q)
        if self.end is None:
            return out
        return mx.maximum(out, self.end) if self.decay_rate <= 1.0 else mx.minimum(out, self.end)

    @classmethod
    @override
    def _stack(cls, pieces: Sequence[ExponentialDecay]) -> Stacked:
        lows = [p.end if p.end is not None and p.decay_rate <= 1.0 else -math.inf for p in pieces]
        highs = [p.end if p.end is not None and p.decay_rate > 1.0 else math.inf for p in pieces]
        divisors = [p.decay_steps if p.staircase else 1 for p in pieces]
        return _stack_powers(pieces, divisors, lows, highs)

    @classmethod
    @override
    def _eval_stacked(cls, t: mx.array, params: dict[str, mx.array]) -> mx.array:
        return _eval_powers(t, params)


@final
class StepDecay(Builtin):
    r"""``init`` times ``decay_rate`` every ``step_size`` steps: stairs.

    .. math::
        v(t) = \text{init} \cdot r^{\lfloor t / \text{step\_size} \rfloor}

    Equals MLX's ``step_decay(init, decay_rate, step_size)`` and PyTorch's
    ``StepLR(step_size, gamma=decay_rate)``. Like :class:`ExponentialDecay`,
    it is exact where MLX's float32 power drifts.

    Args:
        init: The value at step 0.
        decay_rate: The factor applied every ``step_size`` steps, in ``(0, 1]``.
        step_size: The length of one stair in steps.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.StepDecay(0.1, 0.5, step_size=10)
        >>> print(f"{s.at(9):.3f} {s.at(10):.3f} {s.at(25):.4f}")
        0.100 0.050 0.0250
    """

    def __init__(self, init: float, decay_rate: float, step_size: int) -> None:
        self.init = check_real("init", init)
        self.decay_rate = check_positive("decay_rate", decay_rate)
        self.step_size = check_int("step_size", step_size)
        self._power = _decay_power(self.init, self.decay_rate, None, 1)

    @override
    def _eval(self, t: mx.array) -> mx.array:
        return self.init * self._power(t // self.step_size)

    @classmethod
    @override
    def _stack(cls, pieces: Sequence[StepDecay]) -> Stacked:
        return _stack_powers(pieces, [p.step_size for p in pieces], None, None)

    @classmethod
    @override
    def _eval_stacked(cls, t: mx.array, params: dict[str, mx.array]) -> mx.array:
        return _eval_powers(t, params)


def _stack_powers(
    pieces: Sequence[ExponentialDecay | StepDecay],
    divisors: list[int],
    lows: list[float] | None,
    highs: list[float] | None,
) -> Stacked:
    """The stacked form of ``init * power(t // divisor)``, clipped to ``[low, high]``.

    The power tables of all pieces are padded to the same number of levels
    with ones (the digits there are 0, and ``x * 1.0 == x``), one row of
    ``levels * 1024`` values per piece; ``offset`` is where a piece's row
    starts in the flattened tables.
    """
    levels = max(len(p._power.tables) for p in pieces)
    width = 1024 * levels
    tables = []
    for p in pieces:
        row = [v for table in p._power.tables for v in table.tolist()]  # type: ignore[union-attr]
        tables.append(row + [1.0] * (width - len(row)))
    rows = {
        "init": floats(p.init for p in pieces),
        "divisor": ints(divisors),
        "limit": ints(p._power.limit for p in pieces),
        "offset": ints(width * i for i in range(len(pieces))),
    }
    if lows is not None and highs is not None and any(math.isfinite(v) for v in lows + highs):
        rows["low"], rows["high"] = floats(lows), floats(highs)
    return Stacked(rows, {"tables": mx.array(tables, dtype=mx.float32)})


def _eval_powers(t: mx.array, params: dict[str, mx.array]) -> mx.array:
    """:func:`_stack_powers`' pieces at ``t``: the arithmetic of :class:`~mlxlr._checks.IntPower`, row by row."""
    tables = params["tables"]
    flat, offset = tables.reshape(-1), params["offset"]
    q = mx.minimum(t // params["divisor"], params["limit"])
    power = pick(flat, offset + (q & 1023))
    for level in range(1, tables.shape[1] // 1024):
        power = power * pick(flat, offset + (1024 * level + ((q >> (10 * level)) & 1023)))
    out = params["init"] * power
    if "low" in params:
        out = mx.minimum(mx.maximum(out, params["low"]), params["high"])
    return out


def _decay_power(init: float, rate: float, end: float | None, per: int) -> IntPower:
    """``rate ** (q / per)`` for integer ``q``, with the exponent capped where the value settles."""
    if rate > 1.0:
        if end is None:
            raise ValueError(f"decay_rate above 1 grows without bound; give end as its cap, got decay_rate={rate!r}")
        if end <= init or init <= 0:
            raise ValueError(f"end must exceed a positive init for a growth, got init={init!r}, end={end!r}")
        limit = math.ceil(per * math.log(end / init) / math.log(rate)) + 1
    elif end is not None and end > init:
        raise ValueError(f"end must not exceed init for a decay, got init={init!r}, end={end!r}")
    else:
        limit = per * underflow_limit(rate)
    return IntPower(rate ** (1.0 / per), min(limit, 2**60))


@final
class Lambda(Builtin):
    """Any callable ``step -> array`` as a schedule, MLX's schedule closures included.

    The callable receives the step as an ``int64`` array (never negative) and
    its result is cast to float32 and broadcast to the step's shape. It must
    follow the rules of :class:`Schedule`: graph operations only.

    Args:
        fn: The callable.
        duration: Its duration as the left side of ``>>`` (``None``: unbounded).

    Example:
        >>> import mlx.optimizers as optim
        >>> import mlxlr
        >>> s = mlxlr.Lambda(optim.linear_schedule(0.0, 1.0, 10), duration=10)
        >>> print(f"{s.at(5):.2f}")
        0.50
    """

    _pure = False  # the callable may read any array, a traced one inside mx.compile included

    def __init__(self, fn: Callable[[mx.array], mx.array], duration: int | None = None) -> None:
        if not callable(fn) or isinstance(fn, type):
            raise TypeError(f"fn must be a callable step -> array, got {fn!r}")
        self.fn = fn
        self._duration = None if duration is None else check_int("duration", duration)

    @property
    @override
    def duration(self) -> int | None:
        return self._duration

    @override
    def _eval(self, t: mx.array) -> mx.array:
        out = self.fn(t)
        if not isinstance(out, mx.array):
            try:
                out = mx.array(out)
            except (TypeError, ValueError) as error:
                raise TypeError(
                    f"fn must return an mx.array or a number, got {out!r} ({type(out).__name__})"
                ) from error
        out = out.astype(mx.float32)
        return out if out.shape == t.shape else mx.broadcast_to(out, t.shape)
