"""Decays by a factor: exponential (smooth or in stairs), step decay, milestones, and step functions.

Powers of the rate are exact integer powers (:class:`~mlxlr._steps.IntPower`),
not a float32 ``rate ** t``, which drifts as the step grows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import final

import mlx.core as mx
from typing_extensions import override

from ._native import Native
from ._stacking import Stackable
from ._steps import IntPower, since, underflow_limit
from ._units import Unit
from ._validate import check_bool, check_int, check_positive, check_real, check_reals, check_steps, float32_table


def step_function(t: mx.array, levels: mx.array, boundaries: mx.array) -> mx.array:
    """``levels[i]`` where ``t`` has passed ``i`` of the sorted ``boundaries``: one broadcast comparison."""
    return mx.take(levels, mx.sum(mx.expand_dims(t, -1) >= boundaries, axis=-1))


@final
class ExponentialDecay(Stackable):
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
    ``ExponentialLR(gamma=decay_rate)`` (the last three without ``end``).

    One exception to Optax's equality: a ``decay_rate`` of exactly 1 with an
    ``end``. Optax treats ``end_value`` as a floor only for rates below 1 and
    as a cap otherwise (``jnp.minimum``), so with ``end < init`` its value is
    ``end`` at every step; here a rate of 1 is a decay that never decays, and
    the value is ``init`` at every step (an ``end`` above ``init`` with a
    rate of 1, where Optax gives ``init``, is refused). Optax's constant
    ``init`` for ``decay_rate=0`` or ``transition_steps <= 0`` is refused
    here too.

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

    _durations = ("decay_steps",)

    def __init__(
        self,
        init: float,
        decay_rate: float,
        decay_steps: int | Unit = 1,
        staircase: bool = False,
        end: float | None = None,
    ) -> None:
        self.init = check_real("init", init)
        self.decay_rate = check_positive("decay_rate", decay_rate)
        self.decay_steps = check_int("decay_steps", decay_steps)
        self.staircase = check_bool("staircase", staircase)
        self.end = None if end is None else check_real("end", end)
        self._power = _decay_power(self.init, self.decay_rate, self.end, 1 if staircase else self.decay_steps)
        self._decays = self.decay_rate <= 1.0  # end is a floor; for a growth, a cap

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        x = since(t, start)
        out = self.init * self._power(x // self.decay_steps if self.staircase else x)
        if self.end is None:
            return out
        return mx.maximum(out, self.end) if self._decays else mx.minimum(out, self.end)


@final
class StepDecay(Stackable):
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

    _durations = ("step_size",)

    def __init__(self, init: float, decay_rate: float, step_size: int | Unit) -> None:
        self.init = check_real("init", init)
        self.decay_rate = check_positive("decay_rate", decay_rate)
        self.step_size = check_int("step_size", step_size)
        self._power = _decay_power(self.init, self.decay_rate, None, 1)

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        return self.init * self._power(since(t, start) // self.step_size)


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


class MultiStepDecay(Native):
    r"""``init`` times ``decay_rate`` at each milestone: stairs of any lengths.

    .. math::
        v(t) = \text{init} \cdot r^{\#\{m \in \text{milestones} \,:\, m \le t\}}

    Equals PyTorch's ``MultiStepLR(milestones, gamma=decay_rate)`` with
    ``init`` the optimizer's learning rate. The value changes *at* a milestone
    (``step >= m``), as in PyTorch. PyTorch also takes a milestone twice
    (decaying twice at once); here milestones increase strictly. It has no
    duration: give it one with ``.for_steps(n)``.

    Args:
        init: The value before the first milestone.
        milestones: Strictly increasing positive steps.
        decay_rate: The factor applied at each milestone.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.MultiStepDecay(1.0, milestones=[30, 80], decay_rate=0.1)
        >>> print(f"{s.at(29):.3f} {s.at(30):.3f} {s.at(80):.3f}")
        1.000 0.100 0.010
    """

    _durations = ("milestones",)

    def __init__(self, init: float, milestones: Sequence[int | Unit], decay_rate: float = 0.1) -> None:
        self.init = check_real("init", init)
        self.milestones = check_steps("milestones", milestones)
        self.decay_rate = check_positive("decay_rate", decay_rate)
        levels = [self.init * self.decay_rate**k for k in range(len(self.milestones) + 1)]
        self._levels = float32_table("init * decay_rate ** len(milestones)", levels)
        self._bounds = mx.array(self.milestones, dtype=mx.int64)

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        return step_function(since(t, start), self._levels, self._bounds)


@final
class PiecewiseConstant(Native):
    r"""``values[i]`` from ``boundaries[i - 1]`` on: a step function.

    .. math::
        v(t) = \text{values}[\#\{b \in \text{boundaries} \,:\, b \le t\}]

    The value changes *at* a boundary (``step >= boundary``), as PyTorch's
    ``MultiStepLR`` and Optax's ``piecewise_constant_schedule`` do (Optax's
    scales map to ``values[i] = values[i - 1] * scale_i``). Keras's
    ``PiecewiseConstantDecay(boundaries, values)`` switches one step later
    (at ``step > boundary``); ``PiecewiseConstant([b + 1 for b in boundaries],
    values)`` equals it. It has no duration: give it one with ``.for_steps(n)``.

    Args:
        boundaries: Strictly increasing positive steps.
        values: ``len(boundaries) + 1`` finite values.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.PiecewiseConstant([10, 20], [1.0, 0.5, 0.25])
        >>> print(s.at(9), s.at(10), s.at(20))
        1.0 0.5 0.25
        >>> keras = mlxlr.PiecewiseConstant([11, 21], [1.0, 0.5, 0.25])  # Keras's [10, 20]
        >>> print(keras.at(10), keras.at(11))
        1.0 0.5
    """

    _durations = ("boundaries",)

    def __init__(self, boundaries: Sequence[int | Unit], values: Sequence[float]) -> None:
        self.boundaries = check_steps("boundaries", boundaries)
        levels = check_reals("values", values)
        if len(levels) != len(self.boundaries) + 1:
            raise ValueError(
                f"values must hold len(boundaries) + 1 = {len(self.boundaries) + 1} values, "
                f"got {len(levels)}: {levels!r}"
            )
        self._levels = float32_table("values", levels)
        self._bounds = mx.array(self.boundaries, dtype=mx.int64)

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        return step_function(since(t, start), self._levels, self._bounds)


__all__ = ["ExponentialDecay", "MultiStepDecay", "PiecewiseConstant", "StepDecay"]
