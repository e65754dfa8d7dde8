"""Property tests: the rules every schedule obeys, on random schedules of every class and random trees.

Schedules come from ``tests/strategies.py``: every class with random valid
arguments, and trees of ``+ - * / >>`` (numbers too) and the combinators up
to depth 4. Steps lie in ``[0, 2**53]``, in every integer dtype that holds
them, as scalars, vectors and matrices, and as Python ints. Each example
evaluates many steps in one vectorized call.

The hypothesis profile sets the number of examples (``tests/conftest.py``):
``default``, ``ci`` (derandomized, chosen when ``CI`` is set) and ``fuzz``
(``HYPOTHESIS_PROFILE=fuzz``, ``nox -s fuzz``). Each property takes a share
of the profile's ``max_examples`` (``budget``).
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import operator

import mlx.core as mx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

import mlxlr
from conftest import assert_same_values, stable_id
from mlxlr import Join, Product, Scaled, Sum, testing
from mlxlr.testing import walk
from strategies import (
    FAMILIES,
    MONOTONE,
    bounded_trees,
    counts,
    holding,
    landmarks,
    positive,
    rates,
    reals,
    serializable,
    shapes,
    steps,
    trees,
)
from strategies import array as step_array

U = 2.0**-24
"""float32's unit roundoff: a correctly rounded operation is off by at most ``U`` times its result."""

SMALL = 2.0**-100
"""Below this, float32 arithmetic may underflow to subnormals and lose relative precision."""


def budget(fraction: float) -> settings:
    """This property's settings: ``fraction`` of the profile's ``max_examples`` (at least 5)."""
    return settings(
        max_examples=max(5, int(settings().max_examples * fraction)),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def evaluate(schedule: mlxlr.Schedule, t: np.ndarray | list[int]) -> np.ndarray:
    """The schedule's float32 values at int64 steps, as numpy."""
    return np.array(schedule(mx.array(np.asarray(t, dtype=np.int64))))


def check_typed(out: object, shape: tuple[int, ...]) -> np.ndarray:
    assert isinstance(out, mx.array), type(out)
    assert out.dtype == mx.float32, out.dtype
    assert out.shape == shape, (out.shape, shape)
    values = np.array(out)
    assert np.isfinite(values).all(), values
    return values


def assert_same(got: np.ndarray, want: np.ndarray, what: str) -> None:
    """Equal float32 values (0.0 and -0.0 alike)."""
    bad = np.flatnonzero(np.asarray(got) != np.asarray(want))
    assert bad.size == 0, (
        f"{what}: {bad.size} values differ, first at {bad[0]}: {got.ravel()[bad[0]]!r} != {want.ravel()[bad[0]]!r}"
    )


def assert_close(got: np.ndarray, want: np.ndarray, tol: np.ndarray | float, what: str) -> None:
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bad = np.flatnonzero(err > tol)
    if bad.size:
        i = bad[0]
        tol_i = np.broadcast_to(tol, err.shape).ravel()[i]
        raise AssertionError(
            f"{what}: {bad.size} values off, first at {i}: {got.ravel()[i]!r} vs {want.ravel()[i]!r} (tol {tol_i!r})"
        )


# 1. Finite, float32, the step's shape. -------------------------------------------------------------


def check_finite_typed_shaped(schedule: mlxlr.Schedule, ks: list[int], data: st.DataObject) -> None:
    _, np_dtype = data.draw(st.sampled_from(holding(max(ks))), label="dtype")
    shape = data.draw(shapes(len(ks)), label="shape")
    check_typed(schedule(step_array(ks, np_dtype, shape)), shape)
    check_typed(schedule(ks[-1]), ())  # a Python int


@budget(1.0)
@given(schedule=trees(), data=st.data())
def test_values_are_finite_float32_and_shaped_like_the_step(schedule: mlxlr.Schedule, data: st.DataObject) -> None:
    check_finite_typed_shaped(schedule, data.draw(steps(schedule), label="steps"), data)


# 4. at(k) == values(n)[k]; every dtype gives the same values. --------------------------------------


def check_at_values_and_dtypes(schedule: mlxlr.Schedule, ks: list[int], n: int, data: st.DataObject) -> None:
    values = np.array(schedule.values(n))
    for k in data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3), label="at"):
        assert schedule.at(k) == float(values[k]), (k, schedule.at(k), values[k])
    want = evaluate(schedule, ks)
    for _, np_dtype in holding(max(ks)):
        assert_same(np.array(schedule(step_array(ks, np_dtype))), want, f"steps as {np_dtype.__name__}")
    rows = data.draw(st.sampled_from([r for r in range(1, len(ks) + 1) if len(ks) % r == 0]), label="rows")
    matrix = np.array(schedule(step_array(ks, np.uint64, (rows, len(ks) // rows))))
    assert_same(matrix.ravel(), want, "steps as a matrix")
    for i in data.draw(st.lists(st.integers(0, len(ks) - 1), min_size=1, max_size=2, unique=True), label="scalars"):
        k = ks[i]
        scalar = np.array(schedule(k))
        # a scalar step of a stacking family is one fused kernel: bitwise on the CPU, PEAK_ULPS apart on a GPU
        assert_same_values(scalar, want[i], peak=float(np.max(np.abs(want))), err_msg=f"Python int {k} vs the vector")
        for _, np_dtype in holding(k):
            assert_same(
                np.array(schedule(step_array([k], np_dtype, ()))), scalar, f"{k} as a {np_dtype.__name__} scalar"
            )


@budget(0.6)
@given(schedule=trees(), data=st.data())
def test_at_equals_values_and_every_dtype_agrees(schedule: mlxlr.Schedule, data: st.DataObject) -> None:
    n = data.draw(st.one_of(st.integers(1, 300), st.integers(1, 6_000)), label="n")
    check_at_values_and_dtypes(schedule, data.draw(steps(schedule, max_size=24), label="steps"), n, data)


@budget(0.3)
@given(schedule=trees(), n=st.integers(1, 300), chunk=st.sampled_from([3, 4, 7, 16, 61]))
def test_values_in_chunks_equal_the_schedule_at_every_step(schedule: mlxlr.Schedule, n: int, chunk: int) -> None:
    """``values`` evaluates chunk by chunk (2**18 steps each): here in chunks of a few steps, edges everywhere."""
    with testing.chunks_of(chunk):
        got = check_typed(schedule.values(n), (n,))
    assert_same(got, evaluate(schedule, np.arange(n)), f"values({n}) in chunks of {chunk}")


# A bounded schedule holds its final value after its duration. ----------------------------------------


def check_holds_final_value(schedule: mlxlr.Schedule, data: st.DataObject) -> None:
    d = schedule.duration
    if d is None:
        return
    after = data.draw(st.lists(st.one_of(st.integers(d, d + 300), st.integers(d, 2**53)), min_size=1, max_size=16))
    got = evaluate(schedule, after)
    assert_same(got, np.full_like(got, evaluate(schedule, [d])[0]), f"after the duration {d}")


@budget(0.6)
@given(schedule=bounded_trees(), data=st.data())
def test_bounded_schedules_hold_their_final_value(schedule: mlxlr.Schedule, data: st.DataObject) -> None:
    check_holds_final_value(schedule, data)


# 6. Equality and hashing. ------------------------------------------------------------------------------


def copies(schedule: mlxlr.Schedule) -> list[mlxlr.Schedule]:
    """Copies that should equal ``schedule``: the copy module's, and rebuilt from repr and config."""
    out = [copy.copy(schedule), copy.deepcopy(schedule)]
    if serializable(schedule):
        out += [mlxlr.parse(repr(schedule)), mlxlr.from_config(json.loads(json.dumps(schedule.to_config())))]
    return out


def check_equal_means_same(a: mlxlr.Schedule, b: mlxlr.Schedule, ks: list[int]) -> None:
    """``==`` is symmetric; ``a == b`` implies equal hashes and equal values."""
    assert (a == b) == (b == a)
    assert (a != b) is not (a == b)
    if a == b:
        assert hash(a) == hash(b), (a, b)
        assert_same(evaluate(a, ks), evaluate(b, ks), "values of equal schedules")


_POOL = [
    mlxlr.Linear(0, 1, 10),
    mlxlr.Linear(0.0, 1.0, 10),
    mlxlr.Linear(0.0, 1.0, steps=11),
    mlxlr.CosineDecay(1.0, 10),
    mlxlr.CosineDecay(1, 10, end=0.0),
    mlxlr.Constant(2),
    mlxlr.Constant(2.0),
    mlxlr.Constant(-0.0),
    mlxlr.Constant(0),
    mlxlr.MultiStepDecay(1.0, [3, 5]),
    mlxlr.MultiStepDecay(1.0, (3, 5)),
    mlxlr.PiecewiseConstant([4], [1, 2]),
    mlxlr.ExponentialDecay(1.0, 0.5),
]
"""Leaves of which many pairs are equal without being the same object."""


@budget(0.6)
@given(
    a=st.one_of(trees(), trees(2, st.sampled_from(_POOL))),
    b=trees(2, st.sampled_from(_POOL)),
    data=st.data(),
)
def test_equal_schedules_have_equal_hashes(a: mlxlr.Schedule, b: mlxlr.Schedule, data: st.DataObject) -> None:
    ks = data.draw(steps(a, max_size=12), label="steps")
    assert a == a and hash(a) == hash(a)
    for c in copies(a):
        check_equal_means_same(a, c, ks)
        if not isinstance(a, mlxlr.ReduceOnPlateau) and serializable(a):
            assert c == a, (a, c)
    check_equal_means_same(a, b, ks)
    check_equal_means_same(b, copy.deepcopy(b), ks)


# 5. Algebra laws. --------------------------------------------------------------------------------------


def _terms(s: mlxlr.Schedule) -> list[mlxlr.Schedule]:
    return list(s.terms) if isinstance(s, Sum) else [s]


def _factors(s: mlxlr.Schedule) -> list[mlxlr.Schedule | float]:
    if isinstance(s, Scaled):
        return [*_factors(s.schedule), s.factor]
    if isinstance(s, Product):
        return [f for factor in s.factors for f in _factors(factor)]
    return [s]


@budget(0.6)
@given(a=trees(3), b=trees(3), x=st.one_of(reals(-100.0, 100.0), st.integers(-100, 100)), data=st.data())
def test_sums_and_differences_are_pointwise(
    a: mlxlr.Schedule, b: mlxlr.Schedule, x: float, data: st.DataObject
) -> None:
    """``(a + b)(t)`` is ``a(t) + b(t)`` up to the order of the float32 additions (sums flatten, numbers fold)."""
    ks = data.draw(steps(a, max_size=32), label="steps")
    va, vb = evaluate(a, ks), evaluate(b, ks)
    xs = np.float32(x)
    cases = [
        (a + b, va + vb, "a + b"),
        (a - b, va - vb, "a - b"),
        (a + x, va + xs, "a + x"),
        (x + a, xs + va, "x + a"),
        (a - x, va - xs, "a - x"),
        (x - a, xs - va, "x - a"),
    ]
    for s, want, what in cases:
        note(f"{what} = {s!r}")
        # Every term summed on either side (b's own, or the terms of a negated sum that the result flattens).
        parts = [*_terms(a), *_terms(b), mlxlr.Constant(x), *_terms(s)]
        magnitude = sum(np.abs(evaluate(p, ks).astype(np.float64)) for p in parts)
        tol = 4 * (len(parts) + 2) * U * magnitude + 1e-37
        assert_close(evaluate(s, ks), want, tol, what)


@budget(0.6)
@given(a=trees(3), x=st.one_of(reals(-100.0, 100.0), st.integers(-100, 100)), data=st.data())
def test_scaling_by_a_number_is_pointwise(a: mlxlr.Schedule, x: float, data: st.DataObject) -> None:
    """``(2 * a)(t) == 2 * a(t)`` and ``(-a)(t) == -a(t)`` exactly; ``(x * a)(t)`` to a few roundings.

    Exactly, but for a ``Scaled(Constant(c), f)`` built directly: the operators fold it into
    ``Constant(-c * f)``, rounded once where ``a`` rounds twice (one rounding apart).
    """
    ks = data.draw(steps(a, max_size=32), label="steps")
    va = evaluate(a, ks)
    normal = (np.abs(va) >= SMALL) | (va == 0)
    folds = isinstance(a, Scaled) and isinstance(a.schedule, mlxlr.Constant)

    def check(s: mlxlr.Schedule, want: np.ndarray, what: str) -> None:
        got = evaluate(s, ks)
        if folds:
            assert_close(got, want, 2 * U * np.abs(want.astype(np.float64)), what)
        else:
            assert_same(got[normal], want[normal], what)

    negated = -a
    check(negated, -va, "-a")
    check(-negated, va, "-(-a)")
    assert_same(evaluate(+a, ks), va, "+a")
    for s, want, what in [(2 * a, 2 * va, "2 * a"), (a * 2, 2 * va, "a * 2"), (a / 2, va / 2, "a / 2")]:
        check(s, want, what)
    if x != 0 and abs(x) < SMALL:
        return  # a subnormal factor has no relative precision to keep
    want = va.astype(np.float64) * float(np.float32(x))
    # Factors fold: y * f32(f * x) against y * f32(f) * f32(x), five roundings at most; subnormals: absolute.
    tol = 6 * U * np.abs(want) + (~normal) * 1e-30 + 2.0**-145
    assert_close(evaluate(x * a, ks), want, tol, "x * a")
    assert_close(evaluate(a * x, ks), want, tol, "a * x")


@budget(0.6)
@given(a=trees(3), b=trees(3), data=st.data())
def test_products_are_pointwise(a: mlxlr.Schedule, b: mlxlr.Schedule, data: st.DataObject) -> None:
    """``(a * b)(t)`` is ``a(t) * b(t)`` up to the order of the float32 products (products flatten)."""
    ks = data.draw(steps(a, max_size=32), label="steps")
    got, want = evaluate(a * b, ks), evaluate(a, ks) * evaluate(b, ks)
    factors = [*_factors(a), *_factors(b)]
    values = [np.full(len(ks), f) if isinstance(f, float) else evaluate(f, ks) for f in factors]
    # Where a partial product could leave float32's normal range, products lose relative precision: skip.
    low, high = np.zeros(len(ks)), np.zeros(len(ks))
    zero = np.zeros(len(ks), dtype=bool)
    for v in values:
        zero |= v == 0
        with np.errstate(divide="ignore"):
            log = np.log2(np.abs(v.astype(np.float64)))
        low += np.minimum(log, 0)
        high += np.maximum(log, 0)
    checked = zero | ((low > -100) & (high < 100))
    tol = 4 * (len(factors) + 2) * U * np.abs(want.astype(np.float64))
    assert_close(got[checked], want[checked], tol[checked], "a * b")
    assert_same(got[zero], want[zero], "a * b where a factor is 0")


def piecewise(pieces: list[mlxlr.Schedule], bounds: list[int], ks: list[int]) -> np.ndarray:
    """Piece ``i`` from ``bounds[i - 1]`` on, at the steps since then: a join by its definition."""
    t = np.array(ks, dtype=np.int64)
    starts = np.array([0, *bounds], dtype=np.int64)
    index = np.searchsorted(np.array(bounds, dtype=np.int64), t, side="right")
    out = np.empty(len(ks), dtype=np.float32)
    for i, piece in enumerate(pieces):
        here = index == i
        if here.any():
            out[here] = evaluate(piece, t[here] - starts[i])
    return out


def join_steps(bounds: list[int], data: st.DataObject) -> list[int]:
    """Steps around every boundary, plus any: sometimes one, sometimes thousands (each evaluation path of a join)."""
    near = [v for b in [0, *bounds] for v in range(max(b - 3, 0), b + 4)]
    many = data.draw(st.sampled_from([0, 0, 100, 5_000]), label="extra steps")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    extra = rng.integers(0, max(bounds[-1] if bounds else 0, 1) * 2 + 10, size=many).tolist()
    picked = data.draw(st.lists(st.integers(0, 2**53), max_size=8), label="far steps")
    ks = near + extra + picked
    return ks if data.draw(st.booleans(), label="all at once") else [data.draw(st.sampled_from(ks), label="one step")]


@budget(0.6)
@given(a=bounded_trees(3), b=trees(3), data=st.data())
def test_shift_is_the_piecewise_definition(a: mlxlr.Schedule, b: mlxlr.Schedule, data: st.DataObject) -> None:
    """``(a >> b)(t)`` is ``a(t)`` before ``a.duration`` and ``b(t - a.duration)`` from it on, bit for bit."""
    s = a >> b
    d = a.duration
    assert d is not None
    ks = join_steps([d], data)
    assert_same(evaluate(s, ks), piecewise([a, b], [d], ks), "a >> b")
    if b.duration is not None:
        assert s.duration == d + b.duration


@budget(0.6)
@given(
    pieces=st.lists(st.one_of(FAMILIES["Linear"], FAMILIES["CosineDecay"], trees(2)), min_size=1, max_size=12),
    data=st.data(),
)
def test_joins_are_the_piecewise_definition(pieces: list[mlxlr.Schedule], data: st.DataObject) -> None:
    """``Join(pieces, boundaries)`` at any boundaries, whatever path evaluates it (side by side, gathered)."""
    gaps = data.draw(st.lists(st.integers(1, 40), min_size=len(pieces) - 1, max_size=len(pieces) - 1), label="gaps")
    bounds = [int(b) for b in np.cumsum(gaps)]
    s = Join(pieces, bounds)
    ks = join_steps(bounds, data)
    assert_same(evaluate(s, ks), piecewise(pieces, bounds, ks), "Join")


@budget(0.6)
@given(schedule=trees())
def test_parse_repr_rebuilds_the_schedule(schedule: mlxlr.Schedule) -> None:
    if not serializable(schedule):
        return
    text = repr(schedule)
    rebuilt = mlxlr.parse(text)
    assert rebuilt == schedule, (text, repr(rebuilt))
    assert repr(rebuilt) == text


@budget(0.6)
@given(schedule=trees())
def test_from_config_rebuilds_the_schedule(schedule: mlxlr.Schedule) -> None:
    if not serializable(schedule):
        return
    config = json.loads(json.dumps(schedule.to_config()))
    rebuilt = mlxlr.from_config(config)
    assert rebuilt == schedule, (schedule, rebuilt)
    assert rebuilt.to_config() == config


# 2. Monotone families. ---------------------------------------------------------------------------------


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def direction(s: mlxlr.Schedule) -> tuple[int, int]:
    """The direction of a monotone family (+1 up, -1 down, 0 constant) and the step it starts at."""
    if isinstance(s, (mlxlr.Linear, mlxlr.CosineDecay, mlxlr.PolynomialDecay)):
        return _sign(s.end - s.init), 0
    if isinstance(s, (mlxlr.ExponentialDecay, mlxlr.StepDecay, mlxlr.MultiStepDecay)):
        return _sign(s.init) * _sign(s.decay_rate - 1.0), 0
    if isinstance(s, mlxlr.InverseTimeDecay):
        return -_sign(s.init), 0
    if isinstance(s, mlxlr.InverseSqrt):
        return -_sign(s.init), s.warmup_steps
    assert isinstance(s, mlxlr.WarmupStableDecay)
    return _sign(s.end - s.peak), s.warmup_steps


MONOTONE_FAMILIES = {
    **{name: FAMILIES[name] for name in MONOTONE},
    "PolynomialDecay": st.builds(mlxlr.PolynomialDecay, reals(), counts(), reals(), positive(0.1, 5.0)),
}


@budget(1.0)
@given(
    schedule=st.one_of(*MONOTONE_FAMILIES.values()),
    far=st.lists(st.integers(0, 2**53), max_size=64),
    seed=st.integers(0, 2**32 - 1),
)
def test_monotone_families_are_monotone(schedule: mlxlr.Schedule, far: list[int], seed: int) -> None:
    """Every step to the next, and across far steps, in the family's direction, up to float32 rounding.

    Not bit for bit: ``Linear`` computes ``init * left + end * done`` (exact at both ends, accurate
    to the last step of a long decay), whose two rounded terms can step back by an ulp where the
    exact values move by less; powers of a rate close to 1 are products of rounded table entries.
    A step back of more than a few float32 roundings of the largest value is a bug.
    """
    sign, start = direction(schedule)
    marks = [m for m in landmarks(schedule) if m >= start]
    rng = np.random.default_rng(seed)
    dense = [np.arange(start, start + 3_000)]
    dense += [np.arange(max(m - 300, start), m + 300) for m in marks]
    spread = [np.array(far, dtype=np.int64), rng.integers(start, 2**53, size=256)]
    ks = np.unique(np.concatenate([*dense, *spread]))
    ks = ks[(ks >= start) & (ks <= 2**53)]
    v = evaluate(schedule, ks).astype(np.float64)
    tol = 16 * U * np.abs(v).max() + 1e-38
    if sign == 0:
        assert np.ptp(v) <= tol, (v.min(), v.max())
        return
    back = -sign * np.diff(v)
    worst = int(np.argmax(back)) if back.size else 0
    assert back.size == 0 or back[worst] <= tol, (
        f"steps back by {back[worst]!r} from step {ks[worst]} ({v[worst]!r}) to {ks[worst + 1]} ({v[worst + 1]!r})"
    )


# 3. Joins are continuous where their parts meet. ---------------------------------------------------------


def starting_at(v: float, bounded: bool) -> st.SearchStrategy[mlxlr.Schedule]:
    """Schedules whose value at step 0 is ``v`` (up to rounding): the right side of a meeting."""
    options = [
        st.builds(mlxlr.Linear, st.just(v), reals(), counts()),
        st.builds(mlxlr.CosineDecay, st.just(v), counts(), reals()),
        st.builds(mlxlr.PolynomialDecay, st.just(v), counts(), reals(), positive(0.1, 5.0)),
        st.builds(lambda n: mlxlr.Constant(v).for_steps(n), counts()),
        st.builds(
            lambda s, d, end, shape: mlxlr.WarmupStableDecay(v, 0, s, d, end=end, decay_shape=shape),
            counts(lo=0),
            counts(),
            reals(),
            st.sampled_from(["linear", "cosine", "1-sqrt"]),
        ),
        st.builds(
            lambda w, peak, s, d, end: mlxlr.WarmupStableDecay(peak, w, s, d, init=v, end=end),
            counts(),
            reals(),
            counts(lo=0),
            counts(),
            reals(),
        ),
        st.builds(lambda s, n, init: s.with_warmup(n, init=v), FAMILIES["CosineDecay"], counts(), reals()),
    ]
    if not bounded:
        options += [
            st.just(mlxlr.Constant(v)),
            st.builds(mlxlr.ExponentialDecay, st.just(v), rates(), counts(), st.booleans()),
            st.builds(mlxlr.StepDecay, st.just(v), rates(), counts()),
            st.builds(mlxlr.InverseTimeDecay, st.just(v), counts(), positive(1e-4, 10.0), st.booleans()),
            st.builds(mlxlr.InverseSqrt, st.just(v), st.just(0), counts()),
            # Restarts towards an end above v (rising cosines) carry float32 rounding at the scale of the end:
            # CosineRestarts keeps end + (init - end) * bump, so only restarts down towards their end here.
            st.builds(
                mlxlr.CosineRestarts,
                st.just(v),
                counts(),
                st.sampled_from([1.0, 2.0, 1.5]),
                reals().map(lambda end: end if abs(end) <= abs(v) else v / 2),
            ),
            st.builds(mlxlr.Cyclic, st.just(v), reals(), counts()),
        ]
    return st.one_of(*options)


@st.composite
def meeting_chains(draw: st.DrawFn) -> list[mlxlr.Schedule]:
    """Two to four schedules, each starting at the value where the one before it ends."""
    chain = [draw(bounded_trees(2), label="first")]
    n = draw(st.integers(1, 3))
    for i in range(n):
        end = chain[-1].at(chain[-1].duration)  # a float32 value, exactly a Python float
        chain.append(draw(starting_at(end, bounded=i < n - 1), label=f"piece {i + 1}"))
    return chain


@budget(0.6)
@given(chain=meeting_chains())
def test_joins_are_continuous_where_their_parts_meet(chain: list[mlxlr.Schedule]) -> None:
    """At each boundary the join takes the value where both sides meet, and jumps no more than its parts step.

    The value at a boundary is the right side's first value, equal to the left side's last one up to
    a few roundings of the meeting value; the change from the step before is the left side's last
    change, give or take the same.
    """
    s = chain[0]
    for piece in chain[1:]:
        s = s >> piece
    start = 0
    for left, right in itertools.pairwise(chain):
        d = left.duration
        assert d is not None
        start += d  # the boundary, in the join's steps
        k = min(d, 64)
        window = np.arange(start - k, start + 65)
        v = evaluate(s, window).astype(np.float64)
        lv = evaluate(left, np.arange(d - k, d + 1)).astype(np.float64)
        rv = evaluate(right, np.arange(0, 65)).astype(np.float64)
        meeting = lv[-1]
        tol = 8 * U * max(abs(meeting), abs(v[k - 1])) + 1e-37
        assert abs(v[k] - meeting) <= tol, (start, v[k], meeting)
        inside = max(np.abs(np.diff(lv)).max(initial=0.0), np.abs(np.diff(rv)).max(initial=0.0))
        assert abs(v[k] - v[k - 1]) <= inside + tol, (start, v[k - 1], v[k], inside)


@budget(0.4)
@given(schedule=trees(3), n=counts(), init=reals())
def test_with_warmup_meets_the_schedule_at_its_first_value(schedule: mlxlr.Schedule, n: int, init: float) -> None:
    s = schedule.with_warmup(n, init)
    v = evaluate(s, np.arange(max(n - 3, 0), n + 3)).astype(np.float64)
    first = float(evaluate(schedule, [0])[0])
    assert evaluate(s, [n])[0] == first
    step = abs(first - float(np.float32(init))) / n
    tol = 8 * U * max(abs(first), abs(init)) + 1e-37
    assert np.abs(np.diff(v[: min(n, 3) + 1])).max(initial=0.0) <= step + tol


# Every class, each rule. ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FAMILIES))
@budget(0.15)
@given(data=st.data())
def test_every_class_obeys_every_rule(name: str, data: st.DataObject) -> None:
    """Each class with random valid arguments: finite, typed, shaped; at/values/dtypes agree; holds; copies."""
    schedule = data.draw(FAMILIES[name], label=name)
    ks = data.draw(steps(schedule, max_size=24), label="steps")
    check_finite_typed_shaped(schedule, ks, data)
    check_at_values_and_dtypes(schedule, ks, data.draw(st.integers(1, 2_000), label="n"), data)
    check_holds_final_value(schedule, data)
    for c in copies(schedule):
        check_equal_means_same(schedule, c, ks)
        if serializable(schedule):
            assert c == schedule and repr(c) == repr(schedule), (schedule, c)


# Regressions: what these properties found. -----------------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [
        mlxlr.Sum(mlxlr.Constant(1.0), mlxlr.Linear(0, 1, 10)),
        mlxlr.Sum(mlxlr.Constant(0.0), mlxlr.Constant(0)),
        -mlxlr.Sum(mlxlr.Constant(0.0), mlxlr.Constant(0)),
        mlxlr.Sum(mlxlr.Linear(0, 1, 10), mlxlr.Sum(mlxlr.Linear(1, 0, 5), mlxlr.CosineDecay(1, 10))),
        mlxlr.Sum(mlxlr.Linear(0, 1, 10), mlxlr.Scaled(mlxlr.Scaled(mlxlr.Linear(1, 0, 5), 2), -1)),
        mlxlr.Product(mlxlr.Constant(2.0), mlxlr.Linear(0, 1, 10)),
        mlxlr.Product(mlxlr.Scaled(mlxlr.Linear(0, 1, 10), 2), mlxlr.CosineDecay(1, 10)),
        mlxlr.Scaled(mlxlr.Scaled(mlxlr.Linear(0, 1, 10), 3), 2),
        mlxlr.Scaled(mlxlr.Constant(2.0), 3),
        mlxlr.Scaled(mlxlr.Linear(0, 1, 10), 1),
        mlxlr.Join([mlxlr.Linear(0, 1, 10) >> mlxlr.Linear(1, 0, 10), mlxlr.Constant(0.5)], [20]),
    ],
    ids=stable_id,
)
def test_algebra_built_directly_reads_back_as_built(schedule: mlxlr.Schedule) -> None:
    """Sum, Product, Scaled and Join built in a form the operators would fold write their constructor call.

    ``Sum(Constant(1.0), s)`` wrote ``Constant(value=1.0) + s``, which parses as ``Sum(s, Constant(1.0))``;
    ``Scaled(Scaled(s, 3), 2)`` wrote ``2 * (3 * s)``, which parses as ``Scaled(s, 6.0)`` (and rounds once
    where the original rounds twice).
    """
    text = repr(schedule)
    assert mlxlr.parse(text) == schedule, text
    assert repr(mlxlr.parse(text)) == text


def test_algebra_built_by_the_operators_keeps_its_operator_repr() -> None:
    a, b = mlxlr.Linear(0, 1, 10), mlxlr.CosineDecay(1, 10)
    assert repr(a + b - 1) == f"{a!r} + {b!r} - 1"
    assert repr(a - 2 * b) == f"{a!r} - 2 * {b!r}"
    assert repr(2 * (a * b)) == f"2 * ({a!r} * {b!r})"
    assert repr(a >> b >> a) == f"{a!r} >> {b!r} >> {a!r}"


def _rising_cosine(init: float, end: float, t: np.ndarray, steps: int) -> np.ndarray:
    return init + (end - init) * (1 - np.cos(np.pi * np.minimum(t, steps) / steps)) / 2


@pytest.mark.parametrize("init", [1e-7, 1e-30, 0.0])
def test_a_rising_cosine_keeps_its_first_value(init: float) -> None:
    """``CosineDecay(init, T, end)`` with ``|end| > |init|`` was ``end + (init - end) * bump``: at step 0 the
    rounding of ``end`` swamped ``init`` (``CosineDecay(1e-30, 10, end=1.0).at(0)`` was 0.0, a join into it
    jumped). It now counts from ``init``; relative error under 1e-5 at every step, in joins too.
    """
    s = mlxlr.CosineDecay(init, 1000, end=1e-3)
    t = np.arange(1001)
    want = _rising_cosine(init, 1e-3, t, 1000)
    assert_close(evaluate(s, t), want, 1e-5 * np.abs(want), "rising cosine")
    joined = evaluate(mlxlr.Linear(1.0, init, 7) >> s >> s >> mlxlr.CosineDecay(1e-3, 1000, end=init), t + 7)
    assert_close(joined, np.concatenate([want[:-1], want[:1]]), 1e-5 * np.abs(want), "in a join")
    assert s.at(0) == float(np.float32(init))
    joined = mlxlr.Constant(init).for_steps(5) >> s
    assert joined.at(5) == float(np.float32(init))


@pytest.mark.parametrize("shape", ["linear", "cosine", "1-sqrt"])
def test_a_rising_warmup_stable_decay_keeps_its_plateau(shape: str) -> None:
    s = mlxlr.WarmupStableDecay(1e-7, 0, 5, 10, end=1e-3, decay_shape=shape)
    assert evaluate(s, np.arange(6)).tolist() == [np.float32(1e-7)] * 6


def test_warmup_cosine_waves_reach_their_trough_exactly() -> None:
    s = mlxlr.warmup_cosine(1e-3, 0, 1000, end=1e-8, cycles=1.0)  # down, then a rising CosineDecay
    assert s.at(500) == pytest.approx(1e-8, rel=1e-6)


@pytest.mark.parametrize("cycle", [False, True])
def test_a_rising_polynomial_decay_keeps_its_first_value(cycle: bool) -> None:
    """``PolynomialDecay(1e-7, T, end=1e-3)`` was ``end + (init - end) * left ** p``: off by 8e-4 at step 0."""
    s = mlxlr.PolynomialDecay(1e-7, 1000, end=1e-3, power=2.0, cycle=cycle)
    t = np.arange(1001)
    want = 1e-3 + (1e-7 - 1e-3) * (1 - t / 1000) ** 2
    assert_close(evaluate(s, t), want, 1e-5 * np.abs(want), "rising polynomial")
    assert s.at(0) == float(np.float32(1e-7))


# The operator notation: written exactly when the operators rebuild the node. --------------------------


def _direct(parts: SearchStrategy[mlxlr.Schedule]) -> SearchStrategy[mlxlr.Schedule]:
    """Sum, Product, Scaled and Join called directly, with parts the operators would fold or not."""
    constants = st.sampled_from([mlxlr.Constant(0.0), mlxlr.Constant(-0.0), mlxlr.Constant(1.5), mlxlr.Constant(-2)])
    some = st.one_of(parts, constants)
    bounded = parts.filter(lambda p: p.duration is not None and p.duration > 0)

    def joined(pieces: list[mlxlr.Schedule], last: mlxlr.Schedule, shift: int) -> mlxlr.Schedule:
        ends = list(itertools.accumulate(p.duration for p in pieces))
        return Join([*pieces, last], [e + shift for e in ends])

    return st.one_of(
        st.lists(some, min_size=2, max_size=4).map(lambda p: Sum(*p)),
        st.lists(some, min_size=2, max_size=4).map(lambda p: Product(*p)),
        st.tuples(some, st.sampled_from([1.0, -1.0, 2.0, 0.5])).map(lambda a: Scaled(*a)),
        st.builds(joined, st.lists(bounded, min_size=1, max_size=3), some, st.sampled_from([0, 0, 1])),
    )


def _notation_trees() -> SearchStrategy[mlxlr.Schedule]:
    level1 = st.one_of(trees(2), _direct(trees(1)))
    return st.one_of(level1, _direct(level1))


_REBUILD = {Sum: ("terms", operator.add), Product: ("factors", operator.mul), Join: ("schedules", operator.rshift)}


@budget(0.4)
@given(schedule=_notation_trees())
def test_operator_notation_is_written_exactly_when_the_operators_rebuild_the_node(schedule: mlxlr.Schedule) -> None:
    """Sum, Product and Join decide from flags set at construction (no rebuild at every repr, which was quadratic
    for long chains) whether to print as operators; the flags agree with the old test, ``reduce(op, parts) == node``."""
    for node in walk(schedule):
        entry = _REBUILD.get(type(node))
        if entry is None:
            continue
        name, op = entry
        try:
            rebuilt = functools.reduce(op, getattr(node, name))
        except ValueError:  # >> of an unbounded piece
            rebuilt = None
        as_call = repr(node).startswith(f"{type(node).__name__}(")
        assert as_call == (rebuilt != node), (repr(node), repr(rebuilt))
        assert not serializable(node) or mlxlr.parse(repr(node)) == node
