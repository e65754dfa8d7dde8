"""The combinators: with_warmup, clip, repeat, stretch, for_steps."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mlx.core as mx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlxlr

LARGE = [10**6 + 3, 2**24 + 1, 10**9 - 1, 10**9, 10**9 + 1, 3 * 10**9 + 7]


def values(schedule: mlxlr.Schedule, steps: list[int]) -> np.ndarray:
    out = schedule(mx.array(np.array(steps, dtype=np.int64)))
    assert out.dtype == mx.float32
    return np.array(out.tolist(), dtype=np.float64)


def cosine(init: float, steps: int, end: float) -> Callable[[int], float]:
    return lambda t: end + (init - end) * 0.5 * (1 + math.cos(math.pi * min(t, steps) / steps))


def line(init: float, end: float, steps: int) -> Callable[[int], float]:
    return lambda t: init + (end - init) * min(t, steps) / steps


def warmed(steps: int, init: float, inner: Callable[[int], float]) -> Callable[[int], float]:
    return lambda t: init + (inner(0) - init) * t / steps if t < steps else inner(t - steps)


def cooled(inner: Callable[[int], float], at: int, steps: int, shape: str, end: float) -> Callable[[int], float]:
    start = inner(at)
    f = {
        "linear": lambda p: 1 - p,
        "cosine": lambda p: 0.5 * (1 + math.cos(math.pi * p)),
        "1-sqrt": lambda p: 1 - math.sqrt(p),
    }[shape]
    return lambda t: inner(t) if t < at else end + (start - end) * f(min(t - at, steps) / steps)


CASES: list[tuple[str, mlxlr.Schedule, Callable[[int], float], int]] = [
    (
        "warmup",
        mlxlr.CosineDecay(1.0, 100, end=0.1).with_warmup(10),
        warmed(10, 0.0, cosine(1.0, 100, 0.1)),
        110,
    ),
    (
        "warmup-init",
        mlxlr.CosineDecay(1.0, 30, end=0.1).with_warmup(7, init=0.05),
        warmed(7, 0.05, cosine(1.0, 30, 0.1)),
        37,
    ),
    (
        "warmup-long",
        mlxlr.Linear(1.0, 0.01, 2 * 10**9).with_warmup(1000),
        warmed(1000, 0.0, line(1.0, 0.01, 2 * 10**9)),
        10,
    ),
    ("warmup-unbounded", mlxlr.Constant(2.0).with_warmup(4), warmed(4, 0.0, lambda t: 2.0), 4),
    (
        "clip",
        mlxlr.Linear(0.0, 1.0, 20).clip(lo=0.2, hi=0.7),
        lambda t: min(max(t / 20, 0.2), 0.7) if t < 20 else 0.7,
        20,
    ),
    ("clip-lo", mlxlr.Linear(1.0, -1.0, 10).clip(lo=-0.5), lambda t: max(1.0 - 2.0 * min(t, 10) / 10, -0.5), 10),
    ("clip-hi", mlxlr.Linear(0.0, 1.0, 10).clip(hi=0.25), lambda t: min(min(t, 10) / 10, 0.25), 10),
    ("repeat", mlxlr.Linear(1.0, 0.5, 7).repeat(), lambda t: line(1.0, 0.5, 7)(t % 7), 7),
    (
        "repeat-3",
        mlxlr.CosineDecay(1.0, 6, end=0.1).repeat(3),
        lambda t: cosine(1.0, 6, 0.1)(t % 6 if t < 18 else 6),
        8,
    ),
    ("stretch-2", mlxlr.Linear(0.0, 1.0, 10).stretch(2), lambda t: line(0.0, 1.0, 10)(t // 2), 20),
    ("stretch-half", mlxlr.Linear(0.0, 1.0, 10).stretch(0.5), lambda t: line(0.0, 1.0, 10)(2 * t), 5),
    ("stretch-1.5", mlxlr.CosineDecay(1.0, 9, end=0.2).stretch(1.5), lambda t: cosine(1.0, 9, 0.2)(2 * t // 3), 14),
    ("stretch-third", mlxlr.Linear(1.0, 0.0, 9).repeat().stretch(1 / 3), lambda t: line(1.0, 0.0, 9)(3 * t % 9), 9),
    ("stretch-tenth", mlxlr.Linear(0.0, 1.0, 100).stretch(0.1), lambda t: line(0.0, 1.0, 100)(10 * t), 10),
    ("for-steps", mlxlr.Linear(0.0, 1.0, 10).for_steps(4), lambda t: line(0.0, 1.0, 10)(min(t, 4)), 4),
    (
        "cooldown",
        mlxlr.Constant(2.0).cooldown(30, 20),
        cooled(lambda t: 2.0, 30, 20, "linear", 0.0),
        50,
    ),
    (
        "cooldown-cosine",
        mlxlr.CosineDecay(1.0, 100, end=0.1).cooldown(40, 25, shape="cosine", end=0.05),
        cooled(cosine(1.0, 100, 0.1), 40, 25, "cosine", 0.05),
        65,
    ),
    (
        "cooldown-1-sqrt",
        mlxlr.Linear(0.0, 1.0, 10).cooldown(7, 13, shape="1-sqrt"),
        cooled(line(0.0, 1.0, 10), 7, 13, "1-sqrt", 0.0),
        20,
    ),
    ("cooldown-at-0", mlxlr.Constant(1.0).cooldown(0, 9, end=0.5), cooled(lambda t: 1.0, 0, 9, "linear", 0.5), 9),
    (
        "cooldown-rising",
        mlxlr.Constant(1e-6).cooldown(5, 10, shape="1-sqrt", end=1.0),
        cooled(lambda t: 1e-6, 5, 10, "1-sqrt", 1.0),
        15,
    ),
    (
        "cooldown-long",
        mlxlr.Constant(1.0).cooldown(10**9, 2 * 10**9, shape="cosine"),
        cooled(lambda t: 1.0, 10**9, 2 * 10**9, "cosine", 0.0),
        10,
    ),
    ("for-steps-const", mlxlr.Constant(0.5).for_steps(3), lambda t: 0.5, 3),
    (
        "nested",
        (mlxlr.Linear(0.0, 1.0, 4) >> mlxlr.Linear(1.0, 0.0, 4))
        .repeat(2)
        .stretch(3)
        .with_warmup(5, init=0.5)
        .clip(hi=0.9),
        lambda t: min(
            warmed(
                5, 0.5, lambda u: (lambda v: v / 4 if v < 4 else 1 - (v - 4) / 4)((u // 3) % 8 if u // 3 < 16 else 8)
            )(t),
            0.9,
        ),
        24,
    ),
]

IDS = [c[0] for c in CASES]


@pytest.mark.parametrize(("name", "schedule", "reference", "period"), CASES, ids=IDS)
def test_matches_reference(name: str, schedule: mlxlr.Schedule, reference: Any, period: int) -> None:
    steps = [*range(3 * period + 3), *LARGE]
    got = values(schedule, steps)
    expected = np.array([reference(t) for t in steps])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7, err_msg=name)


@pytest.mark.parametrize(("name", "schedule", "reference", "period"), CASES, ids=IDS)
def test_dtypes_shapes_finite_compiled(name: str, schedule: mlxlr.Schedule, reference: Any, period: int) -> None:
    steps = np.array([0, 1, period, 3 * period + 1], dtype=np.int64)
    want = values(schedule, steps.tolist())
    for dtype in (np.uint64, np.int64, np.int32):
        out = schedule(mx.array(steps.astype(dtype)))
        assert out.dtype == mx.float32 and out.shape == (4,)
        np.testing.assert_array_equal(np.array(out.tolist()), want)
        assert schedule(mx.array(np.array(steps[2], dtype=dtype))).shape == ()
    far = schedule(mx.array(np.array([2**53, 2**53 + 1, 2**64 - 1], dtype=np.uint64)))
    assert np.all(np.isfinite(np.array(far.tolist())))
    compiled = mx.compile(schedule)
    for t in (0, period + 1, 10**9):
        step = mx.array(t, dtype=mx.uint64)
        assert compiled(step).item() == schedule(step).item()


@pytest.mark.parametrize(("name", "schedule", "reference", "period"), CASES, ids=IDS)
def test_repr_round_trip(name: str, schedule: mlxlr.Schedule, reference: Any, period: int) -> None:
    rebuilt = eval(repr(schedule), dict(vars(mlxlr)))
    assert rebuilt == schedule and hash(rebuilt) == hash(schedule)
    assert repr(rebuilt) == repr(schedule)


def test_reprs_are_method_calls() -> None:
    lin = mlxlr.Linear(0.0, 1.0, 10)
    assert repr(lin.with_warmup(5)) == "Linear(init=0.0, end=1.0, steps=10).with_warmup(5)"
    assert repr(lin.with_warmup(5, init=0.1)) == "Linear(init=0.0, end=1.0, steps=10).with_warmup(5, init=0.1)"
    assert repr(lin.clip(lo=0.1)) == "Linear(init=0.0, end=1.0, steps=10).clip(lo=0.1)"
    assert repr(lin.repeat()) == "Linear(init=0.0, end=1.0, steps=10).repeat()"
    assert repr(lin.stretch(1.5)) == "Linear(init=0.0, end=1.0, steps=10).stretch(1.5)"
    assert repr(lin.for_steps(3)) == "Linear(init=0.0, end=1.0, steps=10).for_steps(3)"
    assert repr((lin >> lin).clip(hi=0.5)) == f"({lin!r} >> {lin!r}).clip(hi=0.5)"
    assert repr((lin + 1).repeat(2)) == f"({lin!r} + 1).repeat(2)"
    assert repr(2 * lin.clip(hi=0.5)) == f"2 * {lin!r}.clip(hi=0.5)"
    assert repr(lin.for_steps(3) >> lin) == f"{lin!r}.for_steps(3) >> {lin!r}"


def test_durations() -> None:
    lin = mlxlr.Linear(0.0, 1.0, 10)
    assert lin.with_warmup(5).duration == 15
    assert mlxlr.Constant(1.0).with_warmup(5).duration is None
    assert lin.clip(hi=0.5).duration == 10
    assert lin.repeat().duration is None
    assert lin.repeat(3).duration == 30
    assert lin.stretch(2).duration == 20
    assert lin.stretch(0.3).duration == 3
    assert lin.stretch(0.25).duration == 3  # ceil(2.5): the final value is reached at step 3
    assert lin.stretch(0.25).at(3) == 1.0 and lin.stretch(0.25).at(2) < 1.0
    assert mlxlr.Constant(1.0).for_steps(7).duration == 7


def test_with_warmup_starts_the_schedule_at_its_own_step_0() -> None:
    s = mlxlr.Linear(1.0, 0.0, 4).with_warmup(2)
    assert s.values(8).tolist() == [0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]


def test_with_warmup_reads_user_schedules() -> None:
    class Halving(mlxlr.Schedule):
        def __init__(self, init: float) -> None:
            self.init = init

        def __call__(self, step: Any) -> mx.array:
            return self.init * 0.5 ** (mlxlr.as_step(step) // 10).astype(mx.float32)

    s = Halving(8.0).with_warmup(4)
    assert s.values(6).tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 8.0]
    assert s.at(14) == 4.0


@pytest.mark.parametrize("factor", [0.1, 1 / 3, 0.75, 1.5, 2.0, 7.0, 1e-3, 123.456])
@pytest.mark.parametrize("k", [5, 10**9 + 7, 2**40 + 1, 2**52 + 3])
def test_stretch_is_integer_exact(factor: float, k: int) -> None:
    # The value switches exactly at the first t with floor(t / factor) >= k, factor read as a decimal.
    ratio = {0.1: (1, 10), 1 / 3: (1, 3), 0.75: (3, 4), 1.5: (3, 2), 2.0: (2, 1), 7.0: (7, 1)}
    p, q = ratio.get(factor) or (round(factor * 1000), 1000)
    first = -(-k * p // q)
    if first > 2**60:
        return
    s = mlxlr.PiecewiseConstant([k], [0.0, 1.0]).stretch(factor)
    got = values(s, [first - 1, first])
    assert got.tolist() == [0.0, 1.0]


def test_repeat_is_exact_at_large_steps() -> None:
    s = mlxlr.Linear(0.0, 1.0, 1000).repeat()
    steps = [10**9 + 999, 2**52 + 17, 2**53 - 1]
    np.testing.assert_allclose(values(s, steps), [(t % 1000) / 1000 for t in steps], rtol=1e-6)


BAD: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: mlxlr.Linear(0, 1, 5).with_warmup(0), ValueError, r"steps must be a positive int, got 0"),
    (lambda: mlxlr.Linear(0, 1, 5).with_warmup(True), TypeError, r"steps must be an int, got True"),
    (lambda: mlxlr.Linear(0, 1, 5).with_warmup(5, init=math.inf), ValueError, r"init must be finite, got inf"),
    (lambda: mlxlr.WithWarmup(1.0, 5), TypeError, r"schedule must be a Schedule, got 1.0"),
    (lambda: mlxlr.Linear(0, 1, 5).clip(), ValueError, r"clip needs lo, hi or both"),
    (lambda: mlxlr.Linear(0, 1, 5).clip(lo=1.0, hi=0.5), ValueError, r"lo must not exceed hi, got lo=1.0 and hi=0.5"),
    (lambda: mlxlr.Linear(0, 1, 5).clip(lo=True), TypeError, r"lo must be a real number, got True"),
    (lambda: mlxlr.Linear(0, 1, 5).clip(hi=math.nan), ValueError, r"hi must be finite, got nan"),
    (lambda: mlxlr.Constant(1.0).repeat(), ValueError, r"repeat needs a schedule with a duration"),
    (lambda: mlxlr.Linear(0, 1, 5).repeat(0), ValueError, r"times must be a positive int, got 0"),
    (lambda: mlxlr.Linear(0, 1, 5).repeat(2.0), TypeError, r"times must be an int, got 2.0"),
    (lambda: mlxlr.Linear(0, 1, 5).stretch(0), ValueError, r"factor must be > 0, got 0"),
    (lambda: mlxlr.Linear(0, 1, 5).stretch(-2.0), ValueError, r"factor must be > 0, got -2.0"),
    (lambda: mlxlr.Linear(0, 1, 5).stretch(True), TypeError, r"factor must be a real number, got True"),
    (lambda: mlxlr.Linear(0, 1, 5).stretch(2.0**31), ValueError, r"factor must be in \[2\*\*-30, 2\*\*30\]"),
    (lambda: mlxlr.Constant(1.0).for_steps(0), ValueError, r"n must be a positive int, got 0"),
    (lambda: mlxlr.Constant(1.0).for_steps(2.5), TypeError, r"n must be an int, got 2.5"),
    (lambda: mlxlr.Constant(1.0).for_steps(False), TypeError, r"n must be an int, got False"),
]


@pytest.mark.parametrize(("build", "error", "message"), BAD, ids=[m for _, _, m in BAD])
def test_invalid_arguments(build: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        build()


@settings(max_examples=50, deadline=None)
@given(p=st.integers(1, 1000), q=st.integers(1, 1000), k=st.integers(1, 2**45))
def test_stretch_property(p: int, q: int, k: int) -> None:
    # For a factor p / q, floor(t / factor) = floor(t * q / p) reaches k first at t = ceil(k * p / q).
    s = mlxlr.PiecewiseConstant([k], [0.0, 1.0]).stretch(p / q)
    first = -(-k * p // q)
    assert values(s, [first - 1, first]).tolist() == [0.0, 1.0]


@settings(max_examples=50, deadline=None)
@given(period=st.integers(1, 10**6), times=st.one_of(st.none(), st.integers(1, 100)), step=st.integers(0, 2**50))
def test_repeat_property(period: int, times: int | None, step: int) -> None:
    s = mlxlr.Linear(0.0, 1.0, period).repeat(times)
    inner = step % period if times is None or step < times * period else period
    assert values(s, [step])[0] == pytest.approx(inner / period, rel=1e-6, abs=0)
