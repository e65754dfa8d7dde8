"""The catalogue: the named schedules of PyTorch, Keras, Optax and Hugging Face.

Each class equals its reference's formula at every step the reference
defines, with the step kept in integers until the phase inside a period or
a piece is formed, so values stay accurate to float32 rounding at step 10**9.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import final

import mlx.core as mx
from typing_extensions import override

from ._algebra import Builtin
from ._checks import (
    FLOAT32_MAX,
    MAX_STEP,
    IntPower,
    check_bool,
    check_choice,
    check_int,
    check_positive,
    check_real,
    check_steps,
    remaining,
    since,
    underflow_limit,
)
from ._combinators import method_call

_HALF_PI = 0.5 * math.pi


def _table(name: str, values: Sequence[float]) -> mx.array:
    """Values computed in float64 as one float32 array; refused where float32 overflows."""
    for value in values:
        if not abs(value) <= FLOAT32_MAX:
            raise ValueError(f"{name} reaches {value!r}, beyond float32's range")
    return mx.array(list(values), dtype=mx.float32)


def _passed(t: mx.array, boundaries: mx.array) -> mx.array:
    """How many of the sorted ``boundaries`` are ``<= t``: one broadcast comparison."""
    return mx.sum(mx.expand_dims(t, -1) >= boundaries, axis=-1)


class _Levels(Builtin):
    """A step function: ``levels[i]`` from the ``i``-th of its sorted boundaries on."""

    _levels_array: mx.array
    _bounds: mx.array

    def _set_levels(self, name: str, levels: Sequence[float], boundaries: Sequence[int]) -> None:
        self._levels_array = _table(name, levels)
        self._bounds = mx.array(list(boundaries), dtype=mx.int64)

    @override
    def _eval(self, t: mx.array) -> mx.array:
        return mx.take(self._levels_array, _passed(t, self._bounds))


def _bump(left: mx.array) -> mx.array:
    """``(1 + cos(pi * (1 - left))) / 2`` as ``sin(pi/2 * left) ** 2``: no cancellation as ``left -> 0``."""
    return mx.square(mx.sin(_HALF_PI * left))


@final
class MultiStepDecay(_Levels):
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

    def __init__(self, init: float, milestones: Sequence[int], decay_rate: float = 0.1) -> None:
        self.init = check_real("init", init)
        self.milestones = check_steps("milestones", milestones)
        self.decay_rate = check_positive("decay_rate", decay_rate)
        self._params["milestones"] = list(self.milestones)
        values = [self.init * self.decay_rate**k for k in range(len(self.milestones) + 1)]
        self._set_levels("init * decay_rate ** len(milestones)", values, self.milestones)


@final
class PiecewiseConstant(_Levels):
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

    def __init__(self, boundaries: Sequence[int], values: Sequence[float]) -> None:
        self.boundaries = check_steps("boundaries", boundaries)
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(f"values must be a list of numbers, got {values!r} ({type(values).__name__})")
        self._levels = [check_real(f"values[{i}]", v) for i, v in enumerate(values)]
        if len(self._levels) != len(self.boundaries) + 1:
            raise ValueError(
                f"values must hold len(boundaries) + 1 = {len(self.boundaries) + 1} values, "
                f"got {len(self._levels)}: {self._levels!r}"
            )
        self._params.update(boundaries=list(self.boundaries), values=list(self._levels))
        self._set_levels("values", self._levels, self.boundaries)


@final
class PolynomialDecay(Builtin):
    r"""From ``init`` to ``end`` along ``(1 - t / T) ** power`` over ``decay_steps`` steps.

    .. math::
        v(t) = (\text{init} - \text{end}) \left(1 - \frac{\min(t, T)}{T}\right)^{p} + \text{end}

    With ``cycle``, ``T`` becomes ``decay_steps * max(1, ceil(t / decay_steps))``:
    each new cycle restarts from a lower value (Keras's rule, with its
    multiplier 1 at step 0), and the schedule has no duration.

    Equals Keras's ``PolynomialDecay(init, decay_steps, end, power, cycle)``
    (whose ``end_learning_rate`` defaults to 1e-4, here to 0), Optax's
    ``polynomial_schedule(init, end, power, transition_steps=decay_steps)`` and
    PyTorch's ``PolynomialLR(total_iters=decay_steps, power)`` (``end=0``).

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

    def __init__(
        self, init: float, decay_steps: int, end: float = 0.0, power: float = 1.0, cycle: bool = False
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
    def _eval(self, t: mx.array) -> mx.array:
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
class InverseTimeDecay(Builtin):
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

    def __init__(self, init: float, decay_steps: int, decay_rate: float, staircase: bool = False) -> None:
        self.init = check_real("init", init)
        self.decay_steps = check_int("decay_steps", decay_steps)
        self.decay_rate = check_positive("decay_rate", decay_rate)
        self.staircase = check_bool("staircase", staircase)

    @override
    def _eval(self, t: mx.array) -> mx.array:
        whole = t // self.decay_steps
        p = whole.astype(mx.float32)
        if not self.staircase:
            p = p + (t - whole * self.decay_steps).astype(mx.float32) / self.decay_steps
        return self.init / (1.0 + self.decay_rate * p)


@final
class InverseSqrt(Builtin):
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

    def __init__(self, init: float, warmup_steps: int, timescale: int | None = None) -> None:
        self.init = check_real("init", init)
        self.warmup_steps = check_int("warmup_steps", warmup_steps, minimum=0)
        self.timescale = (self.warmup_steps or 10_000) if timescale is None else check_int("timescale", timescale)

    @override
    def _eval(self, t: mx.array) -> mx.array:
        w, tau = self.warmup_steps, self.timescale
        shifted = (mx.maximum(t, w) + (tau - w)).astype(mx.float32)
        out = self.init * mx.sqrt(tau / shifted)
        if w == 0:
            return out
        done, _ = remaining(t, w)
        return mx.where(t < w, self.init * done, out)


@final
class CosineRestarts(Builtin):
    r"""Cosine decays from ``init`` to ``end``, restarted at the end of each period (SGDR).

    .. math::
        v(t) = \text{end} + (\text{init} - \text{end})\, d^{\,i}\,
               \tfrac12 \left(1 + \cos\left(\pi \frac{t - S_i}{P m^i}\right)\right),
        \quad S_i = P \frac{m^i - 1}{m - 1} \le t < S_{i+1}

    with ``P = first_period``, ``m = period_mult`` (``S_i = i P`` when ``m = 1``)
    and ``d = decay``. Equals PyTorch's ``CosineAnnealingWarmRestarts(T_0=P,
    T_mult=m, eta_min=end)`` (integer ``m``, ``decay=1``) and Keras's
    ``CosineDecayRestarts(init, first_decay_steps=P, t_mul=m, m_mul=d,
    alpha=end / init)``.

    The period a step is in is found exactly: a float estimate of ``i``, then
    a fix-up against period starts tabulated in float64 (in integers for an
    integer ``m``); the phase is formed from the exact integer distance to
    the next restart. A ``period_mult`` so close to 1 that more than 65 536
    periods fit below step 2**60 is refused.

    Args:
        init: The value at the start of the first period.
        first_period: The length ``P`` of the first period, in steps.
        period_mult: The factor ``m >= 1`` from one period's length to the next.
        end: The value each period decays towards.
        decay: The factor ``d`` in ``(0, 1]`` from one period's height to the next.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.CosineRestarts(1.0, first_period=10, period_mult=2.0)
        >>> print(f"{s.at(5):.2f} {s.at(9):.3f} {s.at(10):.2f} {s.at(20):.2f} {s.at(30):.2f}")
        0.50 0.024 1.00 0.50 1.00
    """

    def __init__(
        self, init: float, first_period: int, period_mult: float = 1.0, end: float = 0.0, decay: float = 1.0
    ) -> None:
        self.init = check_real("init", init)
        self.first_period = check_int("first_period", first_period)
        self.period_mult = check_real("period_mult", period_mult)
        if self.period_mult < 1.0:
            raise ValueError(f"period_mult must be >= 1, got {period_mult!r}")
        self.end = check_real("end", end)
        self.decay = check_positive("decay", decay)
        if self.decay > 1.0:
            raise ValueError(f"decay must be in (0, 1], got {decay!r}")
        if self.period_mult == 1.0:
            self._heights = None if self.decay == 1.0 else IntPower(self.decay, underflow_limit(self.decay))
        else:
            self._tables = _restart_tables(self.first_period, self.period_mult, self.decay)

    @override
    def _eval(self, t: mx.array) -> mx.array:
        if self.period_mult == 1.0:
            period = t // self.first_period
            left = (self.first_period - (t - period * self.first_period)).astype(mx.float32) / self.first_period
            height = None if self._heights is None else self._heights(period)
        else:
            starts, offsets, lengths, heights, estimate = self._tables
            i = estimate(t)
            i = i + (t >= mx.take(starts, i + 1)).astype(mx.int32)
            i = mx.clip(i - (t < mx.take(starts, i)).astype(mx.int32), 0, starts.size - 2)
            nxt = i + 1
            left = ((mx.take(starts, nxt) - t).astype(mx.float32) - mx.take(offsets, nxt)) / mx.take(lengths, i)
            height = mx.take(heights, i)
        bump = _bump(left) if height is None else height * _bump(left)
        return self.end + (self.init - self.end) * bump


class _Estimate:
    """A float32 estimate of the period index of a step, clipped to a table's rows."""

    def __init__(self, first: int, mult: float, rows: int) -> None:
        self.scale = (mult - 1.0) / first
        self.inv_log = 1.0 / math.log(mult)
        self.rows = rows

    def __call__(self, t: mx.array) -> mx.array:
        guess = mx.floor(mx.log1p(t.astype(mx.float32) * self.scale) * self.inv_log)
        return mx.clip(guess, 0, self.rows - 2).astype(mx.int32)


_MAX_PERIODS = 2**16


def _restart_tables(first: int, mult: float, decay: float) -> tuple[mx.array, mx.array, mx.array, mx.array, _Estimate]:
    """Per period ``i``: its first step ``ceil(S_i)``, ``ceil(S_i) - S_i``, length, height ``decay**i``.

    The last row is a sentinel starting beyond ``MAX_STEP``. Integer ``mult``
    keeps every start an exact Python int; otherwise starts are summed in float64.
    """
    count = math.log1p(MAX_STEP * (mult - 1.0) / first) / math.log(mult) + 2
    if count > _MAX_PERIODS:
        raise ValueError(
            f"period_mult must be 1 or far enough from 1 that at most {_MAX_PERIODS} periods fit "
            f"below step 2**60, got period_mult={mult!r} with first_period={first!r}"
        )
    exact = mult.is_integer()
    start: float = 0
    length: float = first
    starts: list[int] = []
    offsets: list[float] = []
    lengths: list[float] = []
    while True:
        whole = math.ceil(start)
        starts.append(whole)
        offsets.append(whole - start)
        lengths.append(float(length))
        if whole > MAX_STEP:
            break
        start += length
        length = length * int(mult) if exact else length * mult
    heights = [decay**i if decay < 1.0 else 1.0 for i in range(len(starts))]
    return (
        mx.array(starts, dtype=mx.int64),
        mx.array(offsets, dtype=mx.float32),
        mx.array(lengths, dtype=mx.float32),
        mx.array(heights, dtype=mx.float32),
        _Estimate(first, mult, len(starts)),
    )


class _Phases:
    """Consecutive phases ending at real steps, as PyTorch's ``OneCycleLR`` lays them out.

    Phase ``k`` runs over the steps ``t`` with ``ends[k - 1] < t <= ends[k]``
    (the first from 0, the last up to ``last``); :meth:`locate` gives each
    step's phase and the fractions of it done and left, from exact integer
    distances to the phase's real ends.
    """

    def __init__(self, ends: list[float], last: int) -> None:
        starts = [0.0, *ends[:-1]]
        self.last = last
        self.cuts = [math.floor(e) for e in ends[:-1]]
        self.start_int = mx.array([math.floor(s) for s in starts], dtype=mx.int64)
        self.start_frac = mx.array([s - math.floor(s) for s in starts], dtype=mx.float32)
        self.end_int = mx.array([math.floor(e) for e in ends], dtype=mx.int64)
        self.end_frac = mx.array([e - math.floor(e) for e in ends], dtype=mx.float32)
        # A phase of no length is never selected (the constructor refuses the one that would be).
        self.length = mx.array([e - s if e > s else 1.0 for s, e in zip(starts, ends)], dtype=mx.float32)

    def locate(self, t: mx.array) -> tuple[mx.array, mx.array, mx.array]:
        t = mx.minimum(t, self.last)
        k = mx.zeros(t.shape, dtype=mx.int32)
        for cut in self.cuts:
            k = k + (t > cut).astype(mx.int32)
        length = mx.take(self.length, k)
        done = ((t - mx.take(self.start_int, k)).astype(mx.float32) - mx.take(self.start_frac, k)) / length
        left = ((mx.take(self.end_int, k) - t).astype(mx.float32) + mx.take(self.end_frac, k)) / length
        return k, done, left


def _anneal(kind: str, phases: _Phases, starts: mx.array, ends: mx.array, t: mx.array) -> mx.array:
    """Each phase from ``starts[k]`` to ``ends[k]``, along a half cosine or a line."""
    k, done, left = phases.locate(t)
    v0, v1 = mx.take(starts, k), mx.take(ends, k)
    if kind == "cos":
        return v1 + (v0 - v1) * _bump(left)
    return v0 * left + v1 * done


@final
class OneCycle(Builtin):
    r"""The 1cycle policy: up from ``max_value / div_factor`` to ``max_value``, then far below.

    Two phases (the default, as fastai): from ``init = max_value / div_factor``
    up to ``max_value`` until step ``e_1 = pct_start * total_steps - 1``, then
    down to ``init / final_div_factor`` at step ``total_steps - 1``. With
    ``three_phase``, back down to ``init`` at ``e_2 = 2 * pct_start *
    total_steps - 2`` first, then to the minimum (the original paper). In a
    phase from ``a`` to ``b`` over ``(s, e]``, with ``p = (t - s) / (e - s)``:

    .. math::
        v = b + \tfrac12 (a - b)(1 + \cos \pi p) \quad\text{(cos)}, \qquad
        v = a + (b - a)\, p \quad\text{(linear)}

    Equals PyTorch's ``OneCycleLR(max_lr=max_value, total_steps, pct_start,
    anneal_strategy=anneal, div_factor, final_div_factor, three_phase)`` at
    every step up to ``total_steps - 1``, phase ends read as PyTorch reads
    them (real numbers). PyTorch raises past ``total_steps`` (and at
    ``total_steps`` extrapolates its last phase one step on); this holds the
    final value from ``total_steps - 1`` on. ``pct_start * total_steps == 1`` makes
    a phase of no length at step 0 (a division by zero in PyTorch) and is
    refused. :meth:`momentum` gives the momentum PyTorch cycles with it.

    Args:
        max_value: The peak value.
        total_steps: The steps in the cycle (PyTorch's ``epochs * steps_per_epoch``).
        pct_start: The fraction of the cycle spent rising, in ``[0, 1]``.
        div_factor: ``max_value / div_factor`` is the value at step 0.
        final_div_factor: The final value is the initial one over this.
        anneal: ``"cos"`` or ``"linear"``.
        three_phase: Fall back to the initial value before the final descent.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.OneCycle(1.0, total_steps=101, pct_start=0.5, final_div_factor=100.0)
        >>> print(f"{s.at(0):.3f} {s.at(49):.4f} {s.at(100):.5f}")
        0.040 0.9998 0.00040
    """

    def __init__(
        self,
        max_value: float,
        total_steps: int,
        pct_start: float = 0.3,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        anneal: str = "cos",
        three_phase: bool = False,
    ) -> None:
        self.max_value = check_real("max_value", max_value)
        self.total_steps = check_int("total_steps", total_steps)
        self.pct_start = check_real("pct_start", pct_start)
        if not 0.0 <= self.pct_start <= 1.0:
            raise ValueError(f"pct_start must be in [0, 1], got {pct_start!r}")
        self.div_factor = check_positive("div_factor", div_factor)
        self.final_div_factor = check_positive("final_div_factor", final_div_factor)
        self.anneal = check_choice("anneal", anneal, ("cos", "linear"))
        self.three_phase = check_bool("three_phase", three_phase)
        rise = float(self.pct_start * self.total_steps) - 1
        if rise == 0.0:
            raise ValueError(
                f"pct_start * total_steps must not be 1 (a phase of no length), got {pct_start!r} * {total_steps!r}"
            )
        ends = [rise, float(2 * self.pct_start * self.total_steps) - 2] if self.three_phase else [rise]
        self._phases = _Phases([*ends, float(self.total_steps - 1)], self.total_steps - 1)
        initial = self.max_value / self.div_factor
        low = initial / self.final_div_factor
        path = [initial, self.max_value, initial, low] if self.three_phase else [initial, self.max_value, low]
        self._starts, self._ends = _table("the values", path[:-1]), _table("the values", path[1:])

    @property
    @override
    def duration(self) -> int:
        return self.total_steps

    def momentum(self, base_momentum: float = 0.85, max_momentum: float = 0.95) -> OneCycleMomentum:
        """The momentum that PyTorch's ``OneCycleLR`` cycles against this learning rate.

        See :class:`OneCycleMomentum`.
        """
        return OneCycleMomentum(self, base_momentum, max_momentum)

    @override
    def _eval(self, t: mx.array) -> mx.array:
        return _anneal(self.anneal, self._phases, self._starts, self._ends, t)


@final
class OneCycleMomentum(Builtin):
    """The momentum of a :class:`OneCycle`: down from ``max_momentum`` while the rate rises, and back.

    Two phases: ``max_momentum`` to ``base_momentum``, then back to
    ``max_momentum``; with ``three_phase``, down, up, then ``max_momentum``
    held. Same phases and annealing as the cycle. Equals the momentum (or
    Adam's ``beta1``) of PyTorch's ``OneCycleLR(..., cycle_momentum=True,
    base_momentum, max_momentum)``. Built by :meth:`OneCycle.momentum`.

    Args:
        cycle: The learning-rate cycle to follow.
        base_momentum: The momentum at the learning rate's peak.
        max_momentum: The momentum at the start and end of the cycle.

    Example:
        >>> import mlxlr
        >>> m = mlxlr.OneCycle(1.0, total_steps=100).momentum()
        >>> m
        OneCycle(max_value=1.0, total_steps=100).momentum()
        >>> print(f"{m.at(0):.2f} {m.at(29):.2f} {m.at(99):.2f}")
        0.95 0.85 0.95
    """

    def __init__(self, cycle: OneCycle, base_momentum: float = 0.85, max_momentum: float = 0.95) -> None:
        if not isinstance(cycle, OneCycle):
            raise TypeError(f"cycle must be a OneCycle, got {cycle!r} ({type(cycle).__name__})")
        self.cycle = cycle
        self.base_momentum = check_real("base_momentum", base_momentum)
        self.max_momentum = check_real("max_momentum", max_momentum)
        hi, lo = self.max_momentum, self.base_momentum
        path = [hi, lo, hi, hi] if cycle.three_phase else [hi, lo, hi]
        self._starts, self._ends = _table("momentum", path[:-1]), _table("momentum", path[1:])

    @property
    @override
    def duration(self) -> int:
        return self.cycle.total_steps

    @override
    def _eval(self, t: mx.array) -> mx.array:
        return _anneal(self.cycle.anneal, self.cycle._phases, self._starts, self._ends, t)

    @override
    def __repr__(self) -> str:
        base = None if self.base_momentum == 0.85 else self.base_momentum
        top = None if self.max_momentum == 0.95 else self.max_momentum
        return method_call(self.cycle, "momentum", base_momentum=base, max_momentum=top)


@final
class Cyclic(Builtin):
    r"""Triangles between ``base`` and ``max_value`` (CLR), with an optionally shrinking height.

    Up over ``step_size_up`` steps, down over ``step_size_down``; with
    ``c = floor(t / (up + down))`` and ``r = t - c (up + down)``:

    .. math::
        v(t) = \text{base} + (\text{max} - \text{base}) \cdot h(r) \cdot s, \quad
        h(r) = \begin{cases} r / \text{up} & r \le \text{up} \\
                             (\text{up} + \text{down} - r) / \text{down} & r > \text{up} \end{cases}

    with ``s = 1`` (triangular), ``s = 2**-c`` (triangular2) or
    ``s = gamma**t`` (exp_range). Equals PyTorch's ``CyclicLR(base_lr=base,
    max_lr=max_value, step_size_up, step_size_down, mode, gamma)``. PyTorch's
    momentum cycling (``cycle_momentum=True``) is ``Cyclic(max_momentum,
    base_momentum, ...)`` with the same steps and mode.

    Args:
        base: The value at the start of each cycle.
        max_value: The value at the top of the first cycle.
        step_size_up: Steps from ``base`` up to the top (> 0).
        step_size_down: Steps back down (>= 0); defaults to ``step_size_up``.
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: The per-step factor of ``exp_range``, in ``(0, 1]``.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.Cyclic(0.0, 1.0, step_size_up=4, mode="triangular2")
        >>> print(" ".join(f"{s.at(t):.3f}" for t in (0, 2, 4, 6, 8, 12, 16)))
        0.000 0.500 1.000 0.500 0.000 0.500 0.000
    """

    def __init__(
        self,
        base: float,
        max_value: float,
        step_size_up: int,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
    ) -> None:
        self.base = check_real("base", base)
        self.max_value = check_real("max_value", max_value)
        self.up = check_int("step_size_up", step_size_up)
        self.down = self.up if step_size_down is None else check_int("step_size_down", step_size_down, minimum=0)
        self.mode = check_choice("mode", mode, ("triangular", "triangular2", "exp_range"))
        self.gamma = check_positive("gamma", gamma)
        if self.gamma > 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        self._scale: IntPower | None = None
        if self.mode == "triangular2":
            self._scale = IntPower(0.5, underflow_limit(0.5))
        elif self.mode == "exp_range" and self.gamma < 1.0:
            self._scale = IntPower(self.gamma, underflow_limit(self.gamma))

    @override
    def _eval(self, t: mx.array) -> mx.array:
        period = self.up + self.down
        cycle = t // period
        r = t - cycle * period
        rising = r.astype(mx.float32) / self.up
        falling = (period - r).astype(mx.float32) / max(self.down, 1)
        height = mx.where(r <= self.up, rising, falling)
        if self._scale is not None:
            height = height * self._scale(cycle if self.mode == "triangular2" else t)
        return self.base + (self.max_value - self.base) * height


@final
class WarmupStableDecay(Builtin):
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
    ``num_cycles=0.5``. The duration is the sum of the three phases.

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

    def __init__(
        self,
        peak: float,
        warmup_steps: int,
        stable_steps: int,
        decay_steps: int,
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
        self.decay_shape = check_choice("decay_shape", decay_shape, ("linear", "cosine", "1-sqrt"))

    @property
    @override
    def duration(self) -> int:
        return self.warmup_steps + self.stable_steps + self.decay_steps

    @override
    def _eval(self, t: mx.array) -> mx.array:
        done, left = remaining(since(t, self.warmup_steps + self.stable_steps), self.decay_steps)
        rising = abs(self.end) > abs(self.peak)  # then from peak: rounding at the scale of end would swamp it
        if self.decay_shape == "linear":
            shape = done if rising else left
        elif self.decay_shape == "cosine":
            shape = _bump(done if rising else left)
        else:  # 1 - sqrt(p), without its cancellation as p -> 1
            shape = mx.sqrt(done) if rising else left / (1.0 + mx.sqrt(done))
        out = self.peak + (self.end - self.peak) * shape if rising else self.end + (self.peak - self.end) * shape
        if self.warmup_steps == 0:
            return out
        up, rest = remaining(t, self.warmup_steps)
        return mx.where(t < self.warmup_steps, self.init * rest + self.peak * up, out)
