"""The catalogue against float64 formulas written from each reference's documentation."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mlx.core as mx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlxlr

LARGE = [10**6, 10**6 + 1, 2**24 + 1, 10**9 - 1, 10**9, 10**9 + 1, 10**9 + 12_345, 2**31 + 5, 3 * 10**9 + 7]


def values(schedule: mlxlr.Schedule, steps: list[int]) -> np.ndarray:
    out = schedule(mx.array(np.array(steps, dtype=np.int64)))
    assert out.dtype == mx.float32
    return np.array(out.tolist(), dtype=np.float64)


# References: float64, from the formulas the references document. -------------


def multistep(init: float, milestones: list[int], gamma: float) -> Callable[[int], float]:
    return lambda t: init * gamma ** bisect.bisect_right(milestones, t)


def piecewise(boundaries: list[int], vals: list[float]) -> Callable[[int], float]:
    # Optax/PyTorch: the value switches at step >= boundary.
    return lambda t: vals[sum(1 for b in boundaries if t >= b)]


def keras_piecewise(boundaries: list[int], vals: list[float]) -> Callable[[int], float]:
    # Keras: values[0] for t <= b[0], values[i] for b[i-1] < t <= b[i], values[-1] for t > b[-1].
    def f(t: int) -> float:
        for b, v in zip(boundaries, vals):
            if t <= b:
                return v
        return vals[-1]

    return f


def keras_polynomial(init: float, decay_steps: int, end: float, power: float, cycle: bool) -> Callable[[int], float]:
    def f(t: int) -> float:
        steps = float(decay_steps)
        step = float(t)
        if cycle:
            steps *= 1.0 if t == 0 else math.ceil(t / decay_steps)
        else:
            step = min(step, steps)
        # (1 - step / steps) with the integer difference formed first (a float64 1 - p cancels at 1e9).
        left = (steps - step) / steps
        return (init - end) * left**power + end

    return f


def keras_inverse_time(init: float, decay_steps: int, rate: float, staircase: bool) -> Callable[[int], float]:
    def f(t: int) -> float:
        p = t / decay_steps
        if staircase:
            p = math.floor(p)
        return init / (1 + rate * p)

    return f


def hf_inverse_sqrt(init: float, warmup: int, timescale: int | None) -> Callable[[int], float]:
    tau = timescale if timescale is not None else (warmup or 10_000)

    def f(t: int) -> float:
        if t < warmup:
            return init * t / max(1, warmup)
        shift = tau - warmup
        return init / math.sqrt((t + shift) / tau)

    return f


def sgdr(init: float, period: int, mult: float, end: float, decay: float) -> Callable[[int], float]:
    """PyTorch's closed form (T_cur, T_i) / Keras's geometric sum, with the period found exactly."""
    m = Fraction(mult)

    def start(i: int) -> Fraction:
        return period * Fraction(i) if m == 1 else period * (m**i - 1) / (m - 1)

    def f(t: int) -> float:
        if m == 1:
            i = t // period
        else:
            i = int(math.log(t / period * (mult - 1) + 1) / math.log(mult))
            while start(i + 1) <= t:
                i += 1
            while start(i) > t:
                i -= 1
        t_cur, t_i = t - start(i), period * m**i
        # 0.5 (1 + cos(pi x)) written as cos(pi x / 2) ** 2 (no float64 cancellation near x = 1).
        return end + (init - end) * decay**i * math.cos(math.pi * float(t_cur / t_i) / 2) ** 2

    return f


def torch_one_cycle(
    max_lr: float,
    total: int,
    pct: float = 0.3,
    div: float = 25.0,
    final_div: float = 1e4,
    anneal: str = "cos",
    three: bool = False,
    momentum: tuple[float, float] | None = None,
) -> Callable[[int], float]:
    initial = max_lr / div
    low = initial / final_div
    base_m, max_m = momentum or (0.0, 0.0)
    if three:
        phases = [
            (float(pct * total) - 1, initial, max_lr, max_m, base_m),
            (float(2 * pct * total) - 2, max_lr, initial, base_m, max_m),
            (total - 1, initial, low, max_m, max_m),
        ]
    else:
        phases = [(float(pct * total) - 1, initial, max_lr, max_m, base_m), (total - 1, max_lr, low, base_m, max_m)]

    def ann(a: float, b: float, p: float) -> float:
        if anneal == "cos":
            return b + (a - b) / 2.0 * (math.cos(math.pi * p) + 1)
        return (b - a) * p + a

    def f(t: int) -> float:
        t = min(t, total - 1)  # mlxlr holds the final value; PyTorch raises past total_steps
        start = 0.0
        for i, (end, a, b, ma, mb) in enumerate(phases):
            if t <= end or i == len(phases) - 1:
                p = (t - start) / (end - start)
                return ann(ma, mb, p) if momentum else ann(a, b, p)
            start = end
        raise AssertionError

    return f


def torch_cyclic(
    base: float, max_lr: float, up: int, down: int | None, mode: str, gamma: float
) -> Callable[[int], float]:
    down_ = float(down if down is not None else up)
    total = up + down_
    ratio = up / total

    def f(t: int) -> float:
        cycle = math.floor(1 + t / total)
        x = 1.0 + t / total - cycle
        factor = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
        height = (max_lr - base) * factor
        if mode == "triangular":
            scale = 1.0
        elif mode == "triangular2":
            scale = 0.5 ** (cycle - 1)  # = 1 / 2 ** (cycle - 1), without the overflow
        else:
            scale = gamma**t
        return base + height * scale

    return f


def hf_wsd(
    peak: float, warmup: int, stable: int, decay: int, ratio: float, decay_type: str, warm_from_ratio: bool = True
) -> Callable[[int], float]:
    def lam(t: int) -> float:
        if t < warmup:
            progress = t / max(1, warmup)
            return progress * (1 - ratio) + ratio if warm_from_ratio else progress
        if t < warmup + stable:
            return 1.0
        if t < warmup + stable + decay:
            progress = (t - warmup - stable) / max(1, decay)
            if decay_type == "linear":
                factor = 1.0 - progress
            elif decay_type == "cosine":
                factor = math.cos(math.pi * progress / 2) ** 2  # = 0.5 (1 + cos(pi * 2 * 0.5 * progress))
            else:
                factor = 1.0 - math.sqrt(progress)
            return max(0.0, factor * (1.0 - ratio) + ratio)
        return ratio

    return lambda t: peak * lam(t)


# Table: (schedule, reference, steps to compare beyond 0 .. 3 * period, period). ---

CASES: list[tuple[str, mlxlr.Schedule, Callable[[int], float], int]] = [
    ("multistep", mlxlr.MultiStepDecay(0.1, [30, 80, 200], 0.1), multistep(0.1, [30, 80, 200], 0.1), 100),
    ("multistep-grow", mlxlr.MultiStepDecay(1.0, [3, 5], 2.0), multistep(1.0, [3, 5], 2.0), 4),
    ("piecewise", mlxlr.PiecewiseConstant([10, 25], [1.0, 0.5, 0.01]), piecewise([10, 25], [1.0, 0.5, 0.01]), 15),
    (
        "piecewise-keras",
        mlxlr.PiecewiseConstant([11, 26], [1.0, -0.5, 0.01]),
        keras_piecewise([10, 25], [1.0, -0.5, 0.01]),
        15,
    ),
    ("poly", mlxlr.PolynomialDecay(1.0, 50, 0.01, 2.0), keras_polynomial(1.0, 50, 0.01, 2.0, False), 50),
    ("poly-sqrt", mlxlr.PolynomialDecay(0.3, 40, 0.0, 0.5), keras_polynomial(0.3, 40, 0.0, 0.5, False), 40),
    ("poly-cycle", mlxlr.PolynomialDecay(1.0, 7, 0.1, 1.5, cycle=True), keras_polynomial(1.0, 7, 0.1, 1.5, True), 7),
    ("poly-long", mlxlr.PolynomialDecay(1.0, 2 * 10**9, 0.0), keras_polynomial(1.0, 2 * 10**9, 0.0, 1.0, False), 9),
    ("invtime", mlxlr.InverseTimeDecay(0.1, 10, 0.5), keras_inverse_time(0.1, 10, 0.5, False), 10),
    ("invtime-stairs", mlxlr.InverseTimeDecay(0.1, 7, 2.0, True), keras_inverse_time(0.1, 7, 2.0, True), 7),
    ("invsqrt", mlxlr.InverseSqrt(1e-3, 20), hf_inverse_sqrt(1e-3, 20, None), 20),
    ("invsqrt-tau", mlxlr.InverseSqrt(1.0, 10, timescale=3), hf_inverse_sqrt(1.0, 10, 3), 10),
    ("invsqrt-nowarm", mlxlr.InverseSqrt(1.0, 0), hf_inverse_sqrt(1.0, 0, None), 10),
    ("sgdr", mlxlr.CosineRestarts(1.0, 10, end=0.05), sgdr(1.0, 10, 1.0, 0.05, 1.0), 10),
    ("sgdr-decay", mlxlr.CosineRestarts(1.0, 7, 1.0, 0.0, 0.9), sgdr(1.0, 7, 1.0, 0.0, 0.9), 7),
    ("sgdr-x2", mlxlr.CosineRestarts(0.1, 10, 2.0, 0.001), sgdr(0.1, 10, 2.0, 0.001, 1.0), 30),
    ("sgdr-x3", mlxlr.CosineRestarts(1.0, 5, 3.0, 0.0, 0.5), sgdr(1.0, 5, 3.0, 0.0, 0.5), 20),
    ("sgdr-x1.5", mlxlr.CosineRestarts(1.0, 10, 1.5, 0.1, 0.8), sgdr(1.0, 10, 1.5, 0.1, 0.8), 30),
    ("sgdr-x1.01", mlxlr.CosineRestarts(1.0, 3, 1.01, 0.01), sgdr(1.0, 3, 1.01, 0.01, 1.0), 30),
    ("onecycle", mlxlr.OneCycle(1.0, 100), torch_one_cycle(1.0, 100), 34),
    (
        "onecycle-lin",
        mlxlr.OneCycle(0.5, 77, 0.25, anneal="linear"),
        torch_one_cycle(0.5, 77, 0.25, anneal="linear"),
        26,
    ),
    ("onecycle-3", mlxlr.OneCycle(1.0, 99, 0.3, three_phase=True), torch_one_cycle(1.0, 99, 0.3, three=True), 33),
    (
        "onecycle-3lin",
        mlxlr.OneCycle(2.0, 50, 0.45, 10.0, 100.0, "linear", True),
        torch_one_cycle(2.0, 50, 0.45, 10.0, 100.0, "linear", True),
        17,
    ),
    ("onecycle-pct0", mlxlr.OneCycle(1.0, 40, 0.0), torch_one_cycle(1.0, 40, 0.0), 14),
    (
        "onecycle-pct1",
        mlxlr.OneCycle(1.0, 40, 1.0, anneal="linear"),
        torch_one_cycle(1.0, 40, 1.0, anneal="linear"),
        14,
    ),
    ("onecycle-short", mlxlr.OneCycle(1.0, 3, 0.1), torch_one_cycle(1.0, 3, 0.1), 1),
    ("onecycle-big", mlxlr.OneCycle(1.0, 3 * 10**9), torch_one_cycle(1.0, 3 * 10**9), 10),
    (
        "onecycle-momentum",
        mlxlr.OneCycle(1.0, 100).momentum(),
        torch_one_cycle(1.0, 100, momentum=(0.85, 0.95)),
        34,
    ),
    (
        "onecycle-momentum-3",
        mlxlr.OneCycle(1.0, 60, 0.2, anneal="linear", three_phase=True).momentum(0.8, 0.9),
        torch_one_cycle(1.0, 60, 0.2, anneal="linear", three=True, momentum=(0.8, 0.9)),
        20,
    ),
    ("cyclic", mlxlr.Cyclic(0.1, 1.0, 5), torch_cyclic(0.1, 1.0, 5, None, "triangular", 1.0), 10),
    ("cyclic-asym", mlxlr.Cyclic(0.0, 1.0, 3, 7), torch_cyclic(0.0, 1.0, 3, 7, "triangular", 1.0), 10),
    ("cyclic-2", mlxlr.Cyclic(0.01, 0.1, 4, 2, "triangular2"), torch_cyclic(0.01, 0.1, 4, 2, "triangular2", 1.0), 6),
    (
        "cyclic-exp",
        mlxlr.Cyclic(0.01, 0.1, 4, mode="exp_range", gamma=0.999),
        torch_cyclic(0.01, 0.1, 4, None, "exp_range", 0.999),
        8,
    ),
    ("cyclic-saw", mlxlr.Cyclic(0.5, 1.0, 4, 0), torch_cyclic(0.5, 1.0, 4, 0, "triangular", 1.0), 4),
    (
        "cyclic-momentum",
        mlxlr.Cyclic(0.95, 0.85, 6),  # PyTorch's momentum: max_momentum - (max - base) * factor
        lambda t: 0.95 - (0.95 - 0.85) * (torch_cyclic(0.0, 1.0, 6, None, "triangular", 1.0)(t)),
        12,
    ),
    ("wsd", mlxlr.WarmupStableDecay(1.0, 10, 20, 15), hf_wsd(1.0, 10, 20, 15, 0.0, "linear"), 15),
    (
        "wsd-cos",
        mlxlr.WarmupStableDecay(2.0, 5, 5, 20, init=0.2, end=0.2, decay_shape="cosine"),
        hf_wsd(2.0, 5, 5, 20, 0.1, "cosine"),
        10,
    ),
    (
        "wsd-sqrt",
        mlxlr.WarmupStableDecay(1.0, 4, 0, 16, end=0.1, decay_shape="1-sqrt"),
        hf_wsd(1.0, 4, 0, 16, 0.1, "1-sqrt", warm_from_ratio=False),
        7,
    ),
    ("wsd-nowarm", mlxlr.WarmupStableDecay(1.0, 0, 3, 9, decay_shape="cosine"), hf_wsd(1.0, 0, 3, 9, 0, "cosine"), 4),
    (
        "wsd-long",
        mlxlr.WarmupStableDecay(1.0, 1000, 5 * 10**8, 10**9, end=0.01),
        hf_wsd(1.0, 1000, 5 * 10**8, 10**9, 0.01, "linear", warm_from_ratio=False),
        1000,
    ),
]

IDS = [c[0] for c in CASES]


def _steps(period: int) -> list[int]:
    return [*range(3 * period + 3), *LARGE]


@pytest.mark.parametrize(("name", "schedule", "reference", "period"), CASES, ids=IDS)
def test_matches_reference(name: str, schedule: mlxlr.Schedule, reference: Any, period: int) -> None:
    steps = _steps(period)
    expected = np.array([reference(t) for t in steps])
    got = values(schedule, steps)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=0.0, err_msg=name)


def test_relative_error_at_1e9_is_tiny() -> None:
    worst = 0.0
    for _, schedule, reference, _ in CASES:
        steps = [10**9 - 1, 10**9, 10**9 + 1]
        expected = np.array([reference(t) for t in steps])
        got = values(schedule, steps)
        mask = expected != 0
        worst = max(worst, float(np.max(np.abs(got[mask] - expected[mask]) / np.abs(expected[mask]), initial=0.0)))
    assert worst < 1e-6


@pytest.mark.parametrize(("name", "schedule", "reference", "period"), CASES, ids=IDS)
def test_step_dtypes_and_shapes(name: str, schedule: mlxlr.Schedule, reference: Any, period: int) -> None:
    steps = np.array([0, 1, period, 3 * period + 1, 10**6], dtype=np.int64)
    want = values(schedule, steps.tolist())
    for dtype in (np.uint64, np.int64, np.int32):
        vector = schedule(mx.array(steps.astype(dtype)))
        assert vector.dtype == mx.float32 and vector.shape == (5,)
        np.testing.assert_array_equal(np.array(vector.tolist()), want)
        scalar = schedule(mx.array(np.array(steps[3], dtype=dtype)))
        assert scalar.dtype == mx.float32 and scalar.shape == ()
        assert scalar.item() == want[3]
    assert schedule(int(steps[3])).item() == want[3]
    grid = schedule(mx.array(steps[:4].reshape(2, 2)))
    assert grid.shape == (2, 2)


@pytest.mark.parametrize(("name", "schedule", "reference", "period"), CASES, ids=IDS)
def test_finite_to_2_53(name: str, schedule: mlxlr.Schedule, reference: Any, period: int) -> None:
    far = np.array([2**53 - 1, 2**53, 2**53 + 1, 2**60, 2**63 - 1, 2**64 - 1], dtype=np.uint64)
    out = schedule(mx.array(far))
    assert out.dtype == mx.float32
    assert np.all(np.isfinite(np.array(out.tolist())))
    dense = schedule(mx.arange(5000, dtype=mx.uint64))
    assert bool(mx.all(mx.isfinite(dense)).item())


@pytest.mark.parametrize(("name", "schedule", "reference", "period"), CASES, ids=IDS)
def test_compiled_equals_eager(name: str, schedule: mlxlr.Schedule, reference: Any, period: int) -> None:
    compiled = mx.compile(schedule)
    for t in (0, period, 2 * period + 1, 10**9):
        step = mx.array(t, dtype=mx.uint64)
        assert compiled(step).item() == schedule(step).item()


@pytest.mark.parametrize(("name", "schedule", "reference", "period"), CASES, ids=IDS)
def test_repr_round_trip_and_equality(name: str, schedule: mlxlr.Schedule, reference: Any, period: int) -> None:
    rebuilt = eval(repr(schedule), dict(vars(mlxlr)))
    assert rebuilt == schedule and hash(rebuilt) == hash(schedule)
    assert repr(rebuilt) == repr(schedule)


def test_durations() -> None:
    assert mlxlr.MultiStepDecay(1.0, [5]).duration is None
    assert mlxlr.PiecewiseConstant([5], [1.0, 2.0]).duration is None
    assert mlxlr.PolynomialDecay(1.0, 50).duration == 50
    assert mlxlr.PolynomialDecay(1.0, 50, cycle=True).duration is None
    assert mlxlr.InverseTimeDecay(1.0, 5, 1.0).duration is None
    assert mlxlr.InverseSqrt(1.0, 5).duration is None
    assert mlxlr.CosineRestarts(1.0, 5, 2.0).duration is None
    assert mlxlr.OneCycle(1.0, 80).duration == 80
    assert mlxlr.OneCycle(1.0, 80).momentum().duration == 80
    assert mlxlr.Cyclic(0.0, 1.0, 5).duration is None
    assert mlxlr.WarmupStableDecay(1.0, 3, 4, 5).duration == 12


def test_one_cycle_holds_final_value_and_joins() -> None:
    s = mlxlr.OneCycle(1.0, 100)
    final = s.at(99)
    assert s.at(100) == s.at(10**9) == final == pytest.approx(1.0 / 25 / 1e4, rel=1e-6)
    joined = s >> mlxlr.Constant(7.0)
    assert joined.at(99) == final and joined.at(100) == 7.0


def test_piecewise_keras_shift() -> None:
    keras = keras_piecewise([10, 20], [1.0, 2.0, 3.0])
    ours = mlxlr.PiecewiseConstant([11, 21], [1.0, 2.0, 3.0])
    assert [ours.at(t) for t in range(30)] == [keras(t) for t in range(30)]


def test_restart_index_exact_at_every_boundary() -> None:
    # Around every restart below 2**40, for integer and real multipliers (where a period starts
    # between two steps), against the exact rational reference.
    for mult in (2.0, 1.5, 1.1):
        s, reference = mlxlr.CosineRestarts(1.0, 3, mult, 0.01, 0.9), sgdr(1.0, 3, mult, 0.01, 0.9)
        m, steps, start, length = Fraction(mult), [], Fraction(0), Fraction(3)
        while start < 2**40:
            steps += [math.ceil(start) - 1, math.ceil(start), math.ceil(start) + 1]
            start, length = start + length, length * m
        steps = steps[1:]
        np.testing.assert_allclose(values(s, steps), [reference(t) for t in steps], rtol=1e-5)


BAD: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: mlxlr.MultiStepDecay(1.0, [10, 5]), ValueError, r"milestones must increase strictly, got \[10, 5\]"),
    (lambda: mlxlr.MultiStepDecay(1.0, [0, 5]), ValueError, r"milestones\[0\] must be a positive int, got 0"),
    (lambda: mlxlr.MultiStepDecay(1.0, [True]), TypeError, r"milestones\[0\] must be an int, got True"),
    (lambda: mlxlr.MultiStepDecay(1.0, 10), TypeError, r"milestones must be a list of ints, got 10"),
    (lambda: mlxlr.MultiStepDecay(1.0, [5], decay_rate=0.0), ValueError, r"decay_rate must be > 0, got 0.0"),
    (lambda: mlxlr.MultiStepDecay(1.0, []), ValueError, r"milestones must hold at least one step"),
    (
        lambda: mlxlr.PiecewiseConstant([5], [1.0]),
        ValueError,
        r"values must hold len\(boundaries\) \+ 1 = 2 values, got 1",
    ),
    (lambda: mlxlr.PiecewiseConstant([5, 5], [1.0, 2.0, 3.0]), ValueError, r"boundaries must increase strictly"),
    (lambda: mlxlr.PiecewiseConstant([5], [1.0, math.inf]), ValueError, r"values\[1\] must be finite, got inf"),
    (lambda: mlxlr.PiecewiseConstant([5], "ab"), TypeError, r"values must be a list of numbers, got 'ab'"),
    (lambda: mlxlr.PiecewiseConstant([5], [1.0, 1e39]), ValueError, r"values\[1\] must be finite in float32"),
    (
        lambda: mlxlr.MultiStepDecay(1e38, [5, 6], 10.0),
        ValueError,
        r"init \* decay_rate \*\* len\(milestones\) reaches",
    ),
    (lambda: mlxlr.PolynomialDecay(1.0, 0), ValueError, r"decay_steps must be a positive int, got 0"),
    (lambda: mlxlr.PolynomialDecay(1.0, 10, power=0.0), ValueError, r"power must be > 0, got 0.0"),
    (lambda: mlxlr.PolynomialDecay(1.0, 10, cycle=1), TypeError, r"cycle must be a bool, got 1"),
    (lambda: mlxlr.PolynomialDecay(1.0, 10.0), TypeError, r"decay_steps must be an int, got 10.0"),
    (lambda: mlxlr.InverseTimeDecay(1.0, 10, -0.5), ValueError, r"decay_rate must be > 0, got -0.5"),
    (lambda: mlxlr.InverseTimeDecay(1.0, True, 0.5), TypeError, r"decay_steps must be an int, got True"),
    (lambda: mlxlr.InverseTimeDecay(math.nan, 10, 0.5), ValueError, r"init must be finite, got nan"),
    (lambda: mlxlr.InverseSqrt(1.0, -1), ValueError, r"warmup_steps must be an int >= 0, got -1"),
    (lambda: mlxlr.InverseSqrt(1.0, 10, timescale=0), ValueError, r"timescale must be a positive int, got 0"),
    (lambda: mlxlr.InverseSqrt("1", 10), TypeError, r"init must be a real number, got '1'"),
    (lambda: mlxlr.CosineRestarts(1.0, 10, period_mult=0.5), ValueError, r"period_mult must be >= 1, got 0.5"),
    (lambda: mlxlr.CosineRestarts(1.0, 10, decay=1.5), ValueError, r"decay must be in \(0, 1\], got 1.5"),
    (lambda: mlxlr.CosineRestarts(1.0, 0), ValueError, r"first_period must be a positive int, got 0"),
    (lambda: mlxlr.CosineRestarts(1.0, 1, period_mult=1.0001), ValueError, r"period_mult must be 1 or far enough"),
    (lambda: mlxlr.OneCycle(1.0, 100, pct_start=1.5), ValueError, r"pct_start must be in \[0, 1\], got 1.5"),
    (lambda: mlxlr.OneCycle(1.0, 100, anneal="cosine"), ValueError, r"anneal must be one of 'cos', 'linear'"),
    (lambda: mlxlr.OneCycle(1.0, 10, pct_start=0.1), ValueError, r"pct_start \* total_steps must not be 1"),
    (lambda: mlxlr.OneCycle(1.0, 100, div_factor=0), ValueError, r"div_factor must be > 0, got 0"),
    (lambda: mlxlr.OneCycle(1.0, 100, three_phase=None), TypeError, r"three_phase must be a bool, got None"),
    (lambda: mlxlr.OneCycle(1.0, 100).momentum(max_momentum=math.inf), ValueError, r"max_momentum must be finite"),
    (lambda: mlxlr.OneCycleMomentum(mlxlr.Constant(1.0)), TypeError, r"cycle must be a OneCycle"),
    (lambda: mlxlr.Cyclic(0.0, 1.0, 0), ValueError, r"step_size_up must be a positive int, got 0"),
    (lambda: mlxlr.Cyclic(0.0, 1.0, 5, -1), ValueError, r"step_size_down must be an int >= 0, got -1"),
    (lambda: mlxlr.Cyclic(0.0, 1.0, 5, mode="tri"), ValueError, r"mode must be one of 'triangular'"),
    (lambda: mlxlr.Cyclic(0.0, 1.0, 5, gamma=1.1), ValueError, r"gamma must be in \(0, 1\], got 1.1"),
    (lambda: mlxlr.WarmupStableDecay(1.0, 5, 5, 0), ValueError, r"decay_steps must be a positive int, got 0"),
    (lambda: mlxlr.WarmupStableDecay(1.0, 5, -5, 5), ValueError, r"stable_steps must be an int >= 0, got -5"),
    (lambda: mlxlr.WarmupStableDecay(1.0, 5, 5, 5, decay_shape="sqrt"), ValueError, r"decay_shape must be one of"),
    (lambda: mlxlr.WarmupStableDecay(1.0, False, 5, 5), TypeError, r"warmup_steps must be an int, got False"),
]


@pytest.mark.parametrize(("build", "error", "message"), BAD, ids=[m for _, _, m in BAD])
def test_invalid_arguments(build: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        build()


@settings(max_examples=40, deadline=None)
@given(
    period=st.integers(1, 1000),
    mult=st.sampled_from([1.0, 2.0, 3.0, 1.25, 1.5, 1.7]),
    decay=st.sampled_from([1.0, 0.9, 0.5]),
    step=st.integers(0, 2**40),
)
def test_restarts_property(period: int, mult: float, decay: float, step: int) -> None:
    s = mlxlr.CosineRestarts(1.0, period, mult, 0.01, decay)
    want = sgdr(1.0, period, mult, 0.01, decay)(step)
    assert values(s, [step])[0] == pytest.approx(want, rel=1e-5, abs=1e-30)


@settings(max_examples=40, deadline=None)
@given(
    up=st.integers(1, 500),
    down=st.integers(0, 500),
    mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
    step=st.integers(0, 2**40),
)
def test_cyclic_property(up: int, down: int, mode: str, step: int) -> None:
    s = mlxlr.Cyclic(0.1, 1.0, up, down, mode, 0.99999)
    want = torch_cyclic(0.1, 1.0, up, down, mode, 0.99999)(step)
    assert values(s, [step])[0] == pytest.approx(want, rel=1e-5)
