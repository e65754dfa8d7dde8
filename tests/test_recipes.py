"""The Hugging Face recipes against HF's documented lambdas, in float64."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mlx.core as mx
import numpy as np
import pytest

import mlxlr

LARGE = [10**6 + 3, 2**24 + 1, 10**9 - 1, 10**9, 10**9 + 1]


def values(schedule: mlxlr.Schedule, steps: list[int]) -> np.ndarray:
    out = schedule(mx.array(np.array(steps, dtype=np.int64)))
    assert out.dtype == mx.float32
    return np.array(out.tolist(), dtype=np.float64)


def hf_warmup(t: int, warmup: int) -> float:
    return t / max(1, warmup)


def hf_linear(peak: float, warmup: int, total: int, end: float = 0.0) -> Callable[[int], float]:
    def f(t: int) -> float:
        if t < warmup:
            return peak * hf_warmup(t, warmup)
        factor = max(0.0, (total - t) / max(1, total - warmup))
        return end + (peak - end) * factor

    return f


def hf_cosine(peak: float, warmup: int, total: int, end: float = 0.0, cycles: float = 0.5) -> Callable[[int], float]:
    # get_cosine_with_min_lr_schedule_with_warmup (min_lr_rate = end / peak); the plain one when end = 0.
    def f(t: int) -> float:
        if t < warmup:
            return peak * hf_warmup(t, warmup)
        progress = min(t - warmup, total - warmup) / max(1, total - warmup)  # mlxlr holds after total_steps
        # 0.5 (1 + cos(2 pi c p)) written as cos(pi c p) ** 2: no float64 cancellation near the zeros.
        factor = math.cos(math.pi * cycles * progress) ** 2
        return end + (peak - end) * factor

    return f


def hf_constant(peak: float, warmup: int) -> Callable[[int], float]:
    return lambda t: peak * hf_warmup(t, warmup) if t < warmup else peak


def hf_polynomial(
    peak: float, warmup: int, total: int, end: float = 1e-7, power: float = 1.0
) -> Callable[[int], float]:
    def f(t: int) -> float:
        if t < warmup:
            return peak * hf_warmup(t, warmup)
        if t > total:
            return end
        remaining = (total - t) / (total - warmup)  # HF's 1 - (t - warmup) / decay_steps, without its cancellation
        return (peak - end) * remaining**power + end

    return f


def hf_restarts(peak: float, warmup: int, total: int, cycles: int = 1) -> Callable[[int], float]:
    def f(t: int) -> float:
        if t < warmup:
            return peak * hf_warmup(t, warmup)
        if t - warmup >= total - warmup:
            return 0.0
        # (cycles * progress) % 1.0 in exact integers (HF's float64 rounds it at the restarts).
        phase = (cycles * (t - warmup)) % (total - warmup) / (total - warmup)
        return peak * math.cos(math.pi * phase / 2) ** 2

    return f


CASES: list[tuple[str, mlxlr.Schedule, Callable[[int], float], int]] = [
    ("linear", mlxlr.warmup_linear(1e-3, 10, 110), hf_linear(1e-3, 10, 110), 110),
    ("linear-end", mlxlr.warmup_linear(1.0, 7, 57, end=0.1), hf_linear(1.0, 7, 57, 0.1), 57),
    ("linear-nowarm", mlxlr.warmup_linear(1.0, 0, 30), hf_linear(1.0, 0, 30), 30),
    ("linear-long", mlxlr.warmup_linear(1.0, 2000, 2 * 10**9), hf_linear(1.0, 2000, 2 * 10**9), 10),
    ("cosine", mlxlr.warmup_cosine(1e-3, 10, 110), hf_cosine(1e-3, 10, 110), 110),
    ("cosine-min", mlxlr.warmup_cosine(1.0, 5, 45, end=0.1), hf_cosine(1.0, 5, 45, 0.1), 45),
    ("cosine-1", mlxlr.warmup_cosine(1.0, 5, 45, end=0.1, cycles=1.0), hf_cosine(1.0, 5, 45, 0.1, 1.0), 45),
    ("cosine-1.5", mlxlr.warmup_cosine(1.0, 3, 40, cycles=1.5), hf_cosine(1.0, 3, 40, 0.0, 1.5), 40),
    ("cosine-3", mlxlr.warmup_cosine(1.0, 0, 31, end=0.2, cycles=3), hf_cosine(1.0, 0, 31, 0.2, 3), 31),
    ("cosine-long", mlxlr.warmup_cosine(1.0, 100, 2 * 10**9 + 7), hf_cosine(1.0, 100, 2 * 10**9 + 7), 10),
    ("constant", mlxlr.warmup_constant(1e-3, 10), hf_constant(1e-3, 10), 10),
    ("constant-nowarm", mlxlr.warmup_constant(2.0, 0), hf_constant(2.0, 0), 3),
    ("poly", mlxlr.warmup_polynomial(1e-3, 10, 110), hf_polynomial(1e-3, 10, 110), 110),
    ("poly-2", mlxlr.warmup_polynomial(1.0, 4, 44, end=0.01, power=2.0), hf_polynomial(1.0, 4, 44, 0.01, 2.0), 44),
    (
        "poly-long",
        mlxlr.warmup_polynomial(1.0, 10, 10**10, end=0.0, power=0.5),
        hf_polynomial(1.0, 10, 10**10, 0.0, 0.5),
        9,
    ),
    ("restarts", mlxlr.warmup_cosine_restarts(1.0, 10, 110), hf_restarts(1.0, 10, 110), 110),
    ("restarts-3", mlxlr.warmup_cosine_restarts(1.0, 10, 110, cycles=3), hf_restarts(1.0, 10, 110, 3), 110),
    ("restarts-4", mlxlr.warmup_cosine_restarts(0.5, 0, 40, cycles=4), hf_restarts(0.5, 0, 40, 4), 40),
    (
        "restarts-long",
        mlxlr.warmup_cosine_restarts(1.0, 1000, 3 * 10**9 + 1000, cycles=7),
        hf_restarts(1.0, 1000, 3 * 10**9 + 1000, 7),
        10,
    ),
]

IDS = [c[0] for c in CASES]


@pytest.mark.parametrize(("name", "schedule", "reference", "period"), CASES, ids=IDS)
def test_matches_hugging_face(name: str, schedule: mlxlr.Schedule, reference: Any, period: int) -> None:
    steps = [*range(2 * period + 3), *LARGE]
    np.testing.assert_allclose(
        values(schedule, steps), [reference(t) for t in steps], rtol=1e-5, atol=1e-12, err_msg=name
    )


@pytest.mark.parametrize(("name", "schedule", "reference", "period"), CASES, ids=IDS)
def test_dtypes_finite_repr(name: str, schedule: mlxlr.Schedule, reference: Any, period: int) -> None:
    steps = np.array([0, 3, period, 2 * period + 1], dtype=np.int64)
    want = values(schedule, steps.tolist())
    for dtype in (np.uint64, np.int32):
        out = schedule(mx.array(steps.astype(dtype)))
        assert out.dtype == mx.float32
        np.testing.assert_array_equal(np.array(out.tolist()), want)
    assert schedule(mx.array(3, dtype=mx.uint64)).shape == ()
    far = schedule(mx.array(np.array([2**53, 2**64 - 1], dtype=np.uint64)))
    assert np.all(np.isfinite(np.array(far.tolist())))
    assert eval(repr(schedule), dict(vars(mlxlr))) == schedule


def test_durations_cover_total_steps() -> None:
    assert mlxlr.warmup_linear(1.0, 10, 110).duration == 110
    assert mlxlr.warmup_cosine(1.0, 10, 110, cycles=2).duration == 110
    assert mlxlr.warmup_polynomial(1.0, 10, 110).duration == 110
    assert mlxlr.warmup_cosine_restarts(1.0, 10, 110, cycles=3).duration == 110
    assert mlxlr.warmup_constant(1.0, 10).duration is None


def test_builds_from_the_catalogue() -> None:
    assert mlxlr.warmup_cosine(1.0, 10, 110) == mlxlr.CosineDecay(1.0, 100).with_warmup(10)
    assert mlxlr.warmup_polynomial(1.0, 0, 50, 0.0, 2.0) == mlxlr.PolynomialDecay(1.0, 50, 0.0, 2.0)
    assert mlxlr.warmup_constant(1.0, 5) == mlxlr.Constant(1.0).with_warmup(5)


BAD: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: mlxlr.warmup_linear(1.0, 10, 10), ValueError, r"total_steps must exceed warmup_steps, got total_steps=10"),
    (lambda: mlxlr.warmup_linear(1.0, -1, 10), ValueError, r"warmup_steps must be an int >= 0, got -1"),
    (lambda: mlxlr.warmup_linear(math.inf, 1, 10), ValueError, r"peak must be finite, got inf"),
    (lambda: mlxlr.warmup_cosine(1.0, 1, 10, cycles=-0.3), ValueError, r"cycles must be > 0, got -0.3"),
    (
        lambda: mlxlr.warmup_cosine(1.0, 0, 10**12, cycles=2.0**30),
        ValueError,
        r"cycles=1073741824\.0 over 1000000000000 steps after the warmup is out of range: 2 \* cycles must be at most",
    ),
    (lambda: mlxlr.warmup_cosine(1.0, 1, 10, cycles=0), ValueError, r"cycles must be > 0, got 0"),
    (lambda: mlxlr.warmup_cosine(1.0, 1, True), TypeError, r"total_steps must be an int, got True"),
    (lambda: mlxlr.warmup_constant(1.0, 2.5), TypeError, r"warmup_steps must be an int, got 2.5"),
    (lambda: mlxlr.warmup_constant("1", 2), TypeError, r"peak must be a real number, got '1'"),
    (lambda: mlxlr.warmup_constant(1.0, -3), ValueError, r"warmup_steps must be an int >= 0, got -3"),
    (
        lambda: mlxlr.warmup_polynomial(1.0, 1, 10, end=1.0),
        ValueError,
        r"end must be below peak, got peak=1.0, end=1.0",
    ),
    (lambda: mlxlr.warmup_polynomial(1.0, 1, 10, power=-1.0), ValueError, r"power must be > 0, got -1.0"),
    (lambda: mlxlr.warmup_polynomial(1.0, 1, 0), ValueError, r"total_steps must be a positive int, got 0"),
    (lambda: mlxlr.warmup_cosine_restarts(1.0, 1, 10, cycles=0), ValueError, r"cycles must be a positive int, got 0"),
    (lambda: mlxlr.warmup_cosine_restarts(1.0, 1, 10, cycles=1.5), TypeError, r"cycles must be an int, got 1.5"),
    (lambda: mlxlr.warmup_cosine_restarts(1.0, 20, 10), ValueError, r"total_steps must exceed warmup_steps"),
]


@pytest.mark.parametrize(("build", "error", "message"), BAD, ids=[m for _, _, m in BAD])
def test_invalid_arguments(build: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        build()


def hf_cosine_literal(peak: float, warmup: int, total: int, end: float, cycles: float) -> Callable[[int], float]:
    """Hugging Face's lambda as written (get_cosine_with_min_lr_schedule_with_warmup), held after total_steps."""

    def f(t: int) -> float:
        if t < warmup:
            return peak * t / max(1, warmup)
        progress = float(min(t, total) - warmup) / float(max(1, total - warmup))
        factor = max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(cycles) * 2.0 * progress)))
        return end + (peak - end) * factor  # factor * (1 - min_lr_rate) + min_lr_rate, times peak

    return f


CYCLES = [0.3, 0.5, 0.75, 1, 1.5, 2.25, 7]


@pytest.mark.parametrize("cycles", CYCLES)
@pytest.mark.parametrize(("warmup", "total"), [(10, 110), (0, 97), (7, 1007)])
def test_warmup_cosine_takes_any_positive_cycles(cycles: float, warmup: int, total: int) -> None:
    """Every step, against HF's formula in float64: as written where the floor keeps it from cancelling
    (end = 0.1 peak), as cos(pi c p) ** 2 where it ends at 0 (the same value, without float64's cancellation)."""
    steps = list(range(total + 20))
    for end, reference in [
        (0.1, hf_cosine_literal(1.0, warmup, total, 0.1, cycles)),
        (0.0, hf_cosine(1.0, warmup, total, 0.0, cycles)),
    ]:
        s = mlxlr.warmup_cosine(1.0, warmup, total, end=end, cycles=cycles)
        want = [reference(t) for t in steps]
        np.testing.assert_allclose(values(s, steps), want, rtol=1e-5, atol=1e-20, err_msg=f"{cycles=} {end=}")
        assert s.duration == total and s.at(10**12) == s.at(total)  # after total_steps it holds its value
        assert mlxlr.parse(repr(s)) == s


@pytest.mark.parametrize("cycles", [*CYCLES, 0.123456789, 1 / 3, 1e-3, 1000.5])
def test_warmup_cosine_over_10_9_steps(cycles: float) -> None:
    """Steps around 10**9 (float32 holds integers only to 2**24): the phase is formed in integers."""
    warmup, total = 100, 10**9 + 100
    s = mlxlr.warmup_cosine(1.0, warmup, total, end=0.0, cycles=cycles)
    reference = hf_cosine(1.0, warmup, total, 0.0, cycles)
    rng = np.random.default_rng(7)
    marks = [warmup + round(k * (total - warmup) / (2 * cycles)) for k in range(int(2 * cycles) + 1)][:50]
    steps = sorted({*rng.integers(0, total + 10, 500).tolist(), *(m + d for m in marks for d in (-1, 0, 1)), total})
    got, want = values(s, steps), np.array([reference(t) for t in steps])
    far = want > 1e-6  # near an exact trough the float64 reference itself is off by 1e-16 absolute
    np.testing.assert_allclose(got[far], want[far], rtol=1e-5)
    np.testing.assert_allclose(got[~far], want[~far], rtol=0, atol=1e-12)


def test_warmup_cosine_keeps_its_repr_for_multiples_of_a_half() -> None:
    assert repr(mlxlr.warmup_cosine(1.0, 10, 110)) == "CosineDecay(init=1.0, decay_steps=100).with_warmup(10)"
    assert repr(mlxlr.warmup_cosine(1.0, 0, 100, cycles=1.5)) == (
        "(CosineDecay(init=1.0, decay_steps=100) >> CosineDecay(init=0.0, decay_steps=100, end=1.0))"
        ".repeat().stretch(0.3333333333333333).for_steps(100)"
    )
    waves = mlxlr.warmup_cosine(1.0, 0, 100, cycles=0.75)  # 2 * 0.75 = 3/2: waves of 2 * 200 steps, stretched 1/3
    assert repr(waves) == (
        "(CosineDecay(init=1.0, decay_steps=200) >> CosineDecay(init=0.0, decay_steps=200, end=1.0))"
        ".repeat().stretch(0.3333333333333333).for_steps(100)"
    )
    assert waves.at(0) == 1.0 and waves.at(100) == pytest.approx(0.5, rel=2e-7)  # cos(2 pi 0.75) = 0: half way


def test_hard_restarts_are_exact_where_hugging_faces_float64_phase_is_not() -> None:
    """The documented exception: HF's (cycles * p) % 1 in float64 lands just below 1 at some restarts."""
    total, cycles, step = 217191925, 43, 116172425  # a restart: 23 * 217191925 / 43 == 116172425
    assert step * cycles % total == 0
    p = float(step) / float(total)
    hf = max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(cycles) * p) % 1.0))))  # HF's lambda as written
    assert hf < 1e-12  # HF: the bottom of the previous decay
    s = mlxlr.warmup_cosine_restarts(1.0, 0, total, cycles=cycles)
    assert s.at(step) == 1.0 and s.at(step - 1) < 1e-12  # a restart: peak; just before: the bottom
    assert hf_restarts(1.0, 0, total, cycles)(step) == 1.0  # the exact-phase reference agrees
