"""Decays and warmups along smooth curves: linear, cosine, polynomial, inverse time, inverse square root, WSD.

Each family keeps the step in integers until the fraction of a phase is
formed, from exact integer distances to both ends, so values stay accurate
to float32 rounding at step 10**9 and at either end of a long phase.
"""

from __future__ import annotations

import math
from typing import final

import mlx.core as mx
from typing_extensions import override

from ._native import Native
from ._stacking import Stackable
from ._steps import SHAPES, decay, remaining, since
from ._units import Unit
from ._validate import check_bool, check_choice, check_int, check_positive, check_real


@final
class Linear(Stackable):
    r"""Linear interpolation from ``init`` to ``end`` over ``steps`` steps, then ``end``.

    .. math::
        v(t) = \text{init} + (\text{end} - \text{init}) \cdot \min(t, T) / T

    Computed as ``init * (T - min(t, T)) / T + end * min(t, T) / T``, both
    fractions from exact integers: exact at both ends, where ``1 - t / T``
    would cancel in float32.

    Equals MLX's ``linear_schedule(init, end, steps)``, Optax's
    ``linear_schedule(init, end, steps)`` and PyTorch's ``LinearLR`` (with
    ``init = base_lr * start_factor``, ``end = base_lr * end_factor`` and
    ``steps = total_iters``). Optax's ``transition_steps <= 0`` (a constant
    ``init`` there) is refused here.

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

    _durations = ("steps",)

    def __init__(self, init: float, end: float, steps: int | Unit) -> None:
        self.init = check_real("init", init)
        self.end = check_real("end", end)
        self.steps = check_int("steps", steps)

    @property
    @override
    def duration(self) -> int:
        return self.steps

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        x = t - start if start else t  # unclipped (finite before the start): one operation fewer than since()
        done, left = remaining(x, self.steps)
        return self.init * left + self.end * done


@final
class CosineDecay(Stackable):
    r"""Half a cosine from ``init`` down to ``end`` over ``decay_steps`` steps, then ``end``.

    .. math::
        v(t) = \text{end} + (\text{init} - \text{end}) \cdot
               \tfrac12 \left(1 + \cos\left(\pi \min(t, T) / T\right)\right)

    Equals MLX's ``cosine_decay(init, decay_steps, end)``, Optax's
    ``cosine_decay_schedule(init, decay_steps, alpha=end / init)`` (with its
    default ``exponent=1``, for ``init != 0``: Optax's value is a multiple of
    ``init``, so a rise from 0 has no Optax form) and PyTorch's
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

    _durations = ("decay_steps",)

    def __init__(self, init: float, decay_steps: int | Unit, end: float = 0.0) -> None:
        self.init = check_real("init", init)
        self.decay_steps = check_int("decay_steps", decay_steps)
        self.end = check_real("end", end)
        self._half = self.decay_steps // 2
        self._rise = self.end - self.init  # rounded once from float64, as the angle
        self._angle = 0.5 * math.pi / self.decay_steps

    @property
    @override
    def duration(self) -> int:
        return self.decay_steps

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        # One sine, of the angle to the nearer end: the nearer end plus the rise times sin(pi/2 m/T)**2, with
        # m = min(x, T - x) <= T/2 formed in integers, x = t - start and T - x each in one operation from t.
        x = t - start if start else t
        back = (self.decay_steps + start if start else self.decay_steps) - t
        first = x <= self._half
        base = mx.where(first, self.init, self.end)
        slope = mx.where(first, self._rise, mx.where(x < self.decay_steps, -self._rise, 0.0))
        return base + slope * mx.square(mx.sin(mx.minimum(x, back).astype(mx.float32) * self._angle))


@final
class PolynomialDecay(Native):
    r"""From ``init`` to ``end`` along ``(1 - t / T) ** power`` over ``decay_steps`` steps.

    .. math::
        v(t) = (\text{init} - \text{end}) \left(1 - \frac{\min(t, T)}{T}\right)^{p} + \text{end}

    With ``cycle``, ``T`` becomes ``decay_steps * max(1, ceil(t / decay_steps))``:
    each new cycle restarts from a lower value (Keras's rule, with its
    multiplier 1 at step 0), and the schedule has no duration.

    Equals Keras's ``PolynomialDecay(init, decay_steps, end, power, cycle)``
    (whose ``end_learning_rate`` defaults to 1e-4, here to 0), and without
    ``cycle`` (neither has one) Optax's ``polynomial_schedule(init, end, power,
    transition_steps=decay_steps)`` and PyTorch's
    ``PolynomialLR(total_iters=decay_steps, power)`` (``end=0``). Optax's
    ``transition_steps <= 0`` (a constant ``init`` there) is refused here.

    Args:
        init: The value at step 0.
        decay_steps: The steps to reach ``end`` (the duration without ``cycle``).
        end: The final value.
        power: The exponent, > 0 (1 is linear).
        cycle: Restart at every multiple of ``decay_steps``, as Keras does.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.PolynomialDecay(1.0, decay_steps=100, end=0.1, power=2.0)
        >>> print(f"{s.at(0):.4f} {s.at(50):.4f} {s.at(100):.4f}")
        1.0000 0.3250 0.1000
    """

    _durations = ("decay_steps",)

    def __init__(
        self, init: float, decay_steps: int | Unit, end: float = 0.0, power: float = 1.0, cycle: bool = False
    ) -> None:
        self.init = check_real("init", init)
        self.decay_steps = check_int("decay_steps", decay_steps)
        self.end = check_real("end", end)
        self.power = check_positive("power", power)
        self.cycle = check_bool("cycle", cycle)

    @property
    @override
    def duration(self) -> int | None:
        return None if self.cycle else self.decay_steps

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        t = since(t, start)
        if self.cycle:
            span = mx.maximum((t + (self.decay_steps - 1)) // self.decay_steps, 1) * self.decay_steps
            done = t.astype(mx.float32) / span.astype(mx.float32)
            left = (span - t).astype(mx.float32) / span.astype(mx.float32)
        else:
            done, left = remaining(t, self.decay_steps)
        if abs(self.end) > abs(self.init):  # rising: from init, or rounding at the scale of end swamps it
            return self.init + (self.end - self.init) * -mx.expm1(self.power * mx.log1p(-done))  # 1 - left ** p
        return self.end + (self.init - self.end) * mx.power(left, self.power)


@final
class InverseTimeDecay(Native):
    r"""``init / (1 + decay_rate * t / decay_steps)``, continuously or in stairs.

    .. math::
        v(t) = \frac{\text{init}}{1 + r \cdot t / T}
        \quad\text{or, with staircase,}\quad
        v(t) = \frac{\text{init}}{1 + r \lfloor t / T \rfloor}

    Equals Keras's ``InverseTimeDecay(init, decay_steps, decay_rate, staircase)``.

    Args:
        init: The value at step 0.
        decay_steps: The steps over which ``t / decay_steps`` grows by 1.
        decay_rate: The rate ``r`` > 0.
        staircase: Use ``floor(t / decay_steps)``.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.InverseTimeDecay(1.0, decay_steps=10, decay_rate=0.5)
        >>> print(f"{s.at(10):.4f} {s.at(15):.4f} {s.at(10**9):.4e}")
        0.6667 0.5714 2.0000e-08
    """

    _durations = ("decay_steps",)

    def __init__(self, init: float, decay_steps: int | Unit, decay_rate: float, staircase: bool = False) -> None:
        self.init = check_real("init", init)
        self.decay_steps = check_int("decay_steps", decay_steps)
        self.decay_rate = check_positive("decay_rate", decay_rate)
        self.staircase = check_bool("staircase", staircase)

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        t = since(t, start)
        whole = t // self.decay_steps
        p = whole.astype(mx.float32)
        if not self.staircase:
            p = p + (t - whole * self.decay_steps).astype(mx.float32) / self.decay_steps
        return self.init / (1.0 + self.decay_rate * p)


@final
class InverseSqrt(Native):
    r"""A linear warmup to ``init``, then ``init / sqrt`` of the time since a shifted origin.

    .. math::
        v(t) = \begin{cases}
            \text{init} \cdot t / W & t < W \\
            \text{init} \cdot \sqrt{\tau / (t - W + \tau)} & t \ge W
        \end{cases}

    Equals Hugging Face's ``get_inverse_sqrt_schedule(num_warmup_steps=W,
    timescale=tau)`` with ``init`` the optimizer's learning rate; ``tau``
    defaults, as there, to ``W`` (10 000 when ``W`` is 0).

    Args:
        init: The peak value, reached at step ``W``.
        warmup_steps: The warmup's length ``W`` (0: no warmup).
        timescale: The time scale ``tau`` of the decay.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.InverseSqrt(1.0, warmup_steps=100)
        >>> print(f"{s.at(50):.3f} {s.at(100):.3f} {s.at(400):.3f}")
        0.500 1.000 0.500
    """

    _durations = ("warmup_steps", "timescale")

    def __init__(self, init: float, warmup_steps: int | Unit, timescale: int | Unit | None = None) -> None:
        self.init = check_real("init", init)
        self.warmup_steps = check_int("warmup_steps", warmup_steps, minimum=0)
        self.timescale = (self.warmup_steps or 10_000) if timescale is None else check_int("timescale", timescale)

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        t = since(t, start)
        w, tau = self.warmup_steps, self.timescale
        shifted = (mx.maximum(t, w) + (tau - w)).astype(mx.float32)
        out = self.init * mx.sqrt(tau / shifted)
        if w == 0:
            return out
        done, _ = remaining(t, w)
        return mx.where(t < w, self.init * done, out)


@final
class WarmupStableDecay(Native):
    r"""Warmup, a plateau at ``peak``, then a decay to ``end`` (WSD, as in MiniCPM).

    A line from ``init`` to ``peak`` over ``warmup_steps``, ``peak`` for
    ``stable_steps``, then from ``peak`` to ``end`` over ``decay_steps`` along
    ``decay_shape``, with ``p`` the fraction of the decay done:

    .. math::
        v = \text{end} + (\text{peak} - \text{end})\, f(p), \quad
        f(p) = 1 - p \;\text{(linear)}, \quad \tfrac12 (1 + \cos \pi p) \;\text{(cosine)}, \quad
        1 - \sqrt{p} \;\text{(1-sqrt)}

    and ``end`` after. Equals Hugging Face's ``get_wsd_schedule(num_warmup_steps,
    num_decay_steps, num_stable_steps, warmup_type="linear", decay_type,
    min_lr_ratio=end / peak)`` with ``peak`` the optimizer's learning rate and
    ``init = end`` (current versions warm up from ``min_lr_ratio * peak``;
    older ones from 0, the default here). Its cosine is HF's default
    ``num_cycles=0.5``. HF clamps its factor at 0 during the warmup and the
    decay, which only a negative ``end`` reaches: there HF gives 0 where this
    follows the line or curve down to ``end`` (after the decay both give
    ``end``). The duration is the sum of the three phases.

    Args:
        peak: The plateau's value.
        warmup_steps: The warmup's length (0: none).
        stable_steps: The plateau's length (0: none).
        decay_steps: The decay's length (> 0).
        init: The value at step 0.
        end: The final value.
        decay_shape: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.WarmupStableDecay(1.0, 10, 80, 10, decay_shape="1-sqrt")
        >>> print(f"{s.at(5):.2f} {s.at(50):.2f} {s.at(94):.4f} {s.at(100):.2f} {s.duration}")
        0.50 1.00 0.3675 0.00 100
    """

    _durations = ("warmup_steps", "stable_steps", "decay_steps")

    def __init__(
        self,
        peak: float,
        warmup_steps: int | Unit,
        stable_steps: int | Unit,
        decay_steps: int | Unit,
        init: float = 0.0,
        end: float = 0.0,
        decay_shape: str = "linear",
    ) -> None:
        self.peak = check_real("peak", peak)
        self.warmup_steps = check_int("warmup_steps", warmup_steps, minimum=0)
        self.stable_steps = check_int("stable_steps", stable_steps, minimum=0)
        self.decay_steps = check_int("decay_steps", decay_steps)
        self.init = check_real("init", init)
        self.end = check_real("end", end)
        self.decay_shape = check_choice("decay_shape", decay_shape, SHAPES)

    @property
    @override
    def duration(self) -> int:
        return self.warmup_steps + self.stable_steps + self.decay_steps

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        t = since(t, start)
        done, left = remaining(since(t, self.warmup_steps + self.stable_steps), self.decay_steps)
        out = decay(self.decay_shape, self.peak, self.end, done, left)
        if self.warmup_steps == 0:
            return out
        up, rest = remaining(t, self.warmup_steps)
        return mx.where(t < self.warmup_steps, self.init * rest + self.peak * up, out)


__all__ = ["CosineDecay", "InverseSqrt", "InverseTimeDecay", "Linear", "PolynomialDecay", "WarmupStableDecay"]
