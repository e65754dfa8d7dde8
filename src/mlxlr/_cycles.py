"""Periodic schedules: cosine restarts (SGDR), cyclical rates (CLR) and the 1cycle policy with its momentum.

The period or phase a step is in is found exactly, from integers (or from a
float estimate fixed up against tabulated starts), and the fraction of the
period is formed from exact integer distances to its ends, so values stay
accurate to float32 rounding at step 10**9.
"""

from __future__ import annotations

import math
from typing import final

import mlx.core as mx
from typing_extensions import override

from ._native import Native
from ._steps import MAX_STEP, IntPower, bump, since, underflow_limit
from ._units import Unit
from ._validate import check_bool, check_choice, check_int, check_positive, check_real, float32_table


@final
class CosineRestarts(Native):
    r"""Cosine decays from ``init`` to ``end``, restarted at the end of each period (SGDR).

    .. math::
        v(t) = \text{end} + (\text{init} - \text{end})\, d^{\,i}\,
               \tfrac12 \left(1 + \cos\left(\pi \frac{t - S_i}{P m^i}\right)\right),
        \quad S_i = P \frac{m^i - 1}{m - 1} \le t < S_{i+1}

    with ``P = first_period``, ``m = period_mult`` (``S_i = i P`` when ``m = 1``)
    and ``d = decay``. Equals PyTorch's ``CosineAnnealingWarmRestarts(T_0=P,
    T_mult=m, eta_min=end)`` (integer ``m``, ``decay=1``) and Keras's
    ``CosineDecayRestarts(init, first_decay_steps=P, t_mul=m, m_mul=d,
    alpha=end / init)`` (for ``init != 0``: Keras's value is a multiple of
    ``init``). Keras computes in the dtype of its initial learning rate
    (float32 by default), the step included, so past step 2**24 its
    restarts move by a few steps; here the period is found exactly.

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

    _durations = ("first_period",)

    def __init__(
        self, init: float, first_period: int | Unit, period_mult: float = 1.0, end: float = 0.0, decay: float = 1.0
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
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        t = since(t, start)
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
        shape = bump(left) if height is None else height * bump(left)
        return self.end + (self.init - self.end) * shape


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
        return v1 + (v0 - v1) * bump(left)
    return v0 * left + v1 * done


@final
class OneCycle(Native):
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

    _durations = ("total_steps",)

    def __init__(
        self,
        max_value: float,
        total_steps: int | Unit,
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
        self._starts, self._ends = float32_table("the values", path[:-1]), float32_table("the values", path[1:])

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
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        t = since(t, start)
        return _anneal(self.anneal, self._phases, self._starts, self._ends, t)


@final
class OneCycleMomentum(Native):
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

    _method = ("momentum", ())

    def __init__(self, cycle: OneCycle, base_momentum: float = 0.85, max_momentum: float = 0.95) -> None:
        if not isinstance(cycle, OneCycle):
            raise TypeError(f"cycle must be a OneCycle, got {cycle!r} ({type(cycle).__name__})")
        self.cycle = cycle
        self.base_momentum = check_real("base_momentum", base_momentum)
        self.max_momentum = check_real("max_momentum", max_momentum)
        hi, lo = self.max_momentum, self.base_momentum
        path = [hi, lo, hi, hi] if cycle.three_phase else [hi, lo, hi]
        self._starts, self._ends = float32_table("momentum", path[:-1]), float32_table("momentum", path[1:])

    @property
    @override
    def duration(self) -> int:
        return self.cycle.total_steps

    @override
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        t = since(t, start)
        return _anneal(self.cycle.anneal, self.cycle._phases, self._starts, self._ends, t)


@final
class Cyclic(Native):
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

    _durations = ("step_size_up", "step_size_down")

    def __init__(
        self,
        base: float,
        max_value: float,
        step_size_up: int | Unit,
        step_size_down: int | Unit | None = None,
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
    def formula(self, t: mx.array, start: int = 0) -> mx.array:
        t = since(t, start)
        period = self.up + self.down
        cycle = t // period
        r = t - cycle * period
        rising = r.astype(mx.float32) / self.up
        falling = (period - r).astype(mx.float32) / max(self.down, 1)
        height = mx.where(r <= self.up, rising, falling)
        if self._scale is not None:
            height = height * self._scale(cycle if self.mode == "triangular2" else t)
        return self.base + (self.max_value - self.base) * height


__all__ = ["CosineRestarts", "Cyclic", "OneCycle", "OneCycleMomentum"]
