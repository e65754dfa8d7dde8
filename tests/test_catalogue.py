"""The catalogue against float64 formulas written from each reference's documentation."""

from __future__ import annotations

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
from catalogue import CASES, hf_wsd, keras_piecewise, sgdr, torch_cyclic
from conftest import assert_same_values

LARGE = [10**6, 10**6 + 1, 2**24 + 1, 10**9 - 1, 10**9, 10**9 + 1, 10**9 + 12_345, 2**31 + 5, 3 * 10**9 + 7]


def values(schedule: mlxlr.Schedule, steps: list[int]) -> np.ndarray:
    out = schedule(mx.array(np.array(steps, dtype=np.int64)))
    assert out.dtype == mx.float32
    return np.array(out.tolist(), dtype=np.float64)


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
    peak = float(np.max(np.abs(values(schedule, list(range(3 * period + 3))))))
    for t in (0, period, 2 * period + 1, 10**9):
        step = mx.array(t, dtype=mx.uint64)
        assert_same_values(compiled(step), schedule(step), peak=peak, err_msg=f"{name} at {t}")


@pytest.mark.parametrize(("name", "schedule", "reference", "period"), CASES, ids=IDS)
def test_repr_round_trip_and_equality(name: str, schedule: mlxlr.Schedule, reference: Any, period: int) -> None:
    rebuilt = eval(repr(schedule), dict(vars(mlxlr)))
    assert rebuilt == schedule and hash(rebuilt) == hash(schedule)
    assert repr(rebuilt) == repr(schedule)


# Families that are not in the table, and where they are compared with their reference instead.
ELSEWHERE = {
    "Constant": "no reference",
    "Lambda": "no reference",
    "Linear": "tests/test_compat.py (MLX's closures)",
    "CosineDecay": "tests/test_compat.py (MLX's closures)",
    "ExponentialDecay": "tests/test_compat.py (MLX's closures)",
    "StepDecay": "tests/test_compat.py (MLX's closures)",
    "ReduceOnPlateau": "tests/test_plateau.py (PyTorch's decisions)",
}
ALGEBRA = {mlxlr.Sum, mlxlr.Product, mlxlr.Scaled, mlxlr.Quotient, mlxlr.Join, mlxlr.Clip, mlxlr.ForSteps}
ALGEBRA |= {mlxlr.Repeat, mlxlr.Stretch, mlxlr.WithWarmup, mlxlr.Cooldown}


def test_every_family_has_a_row_in_the_table() -> None:
    families = [
        name
        for name in mlxlr.__all__
        if isinstance(getattr(mlxlr, name), type)
        and issubclass(getattr(mlxlr, name), mlxlr.Schedule)
        and getattr(mlxlr, name) not in ALGEBRA | {mlxlr.Schedule}
    ]
    covered = {type(schedule).__name__ for _, schedule, _, _ in CASES}
    missing = [name for name in families if name not in covered and name not in ELSEWHERE]
    assert not missing, f"add a row for {missing} to CASES in tests/catalogue.py"


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


def test_warmup_stable_decay_below_zero_is_the_documented_exception_to_hugging_face():
    """HF clamps its factor at 0 (max(0.0, ...)): only a negative end reaches it; mlxlr decays to end."""
    s = mlxlr.WarmupStableDecay(1.0, 2, 2, 4, end=-0.5)
    reference = hf_wsd(1.0, 2, 2, 4, -0.5, "linear", warm_from_ratio=False)
    assert [reference(t) for t in (6, 7, 8, 100)] == [0.25, 0.0, -0.5, -0.5]  # HF: clamped in the decay only
    assert [s.at(t) for t in (6, 7, 8, 100)] == [0.25, -0.125, -0.5, -0.5]
