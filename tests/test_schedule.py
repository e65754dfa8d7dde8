"""The Schedule base class: steps, operators, durations, repr, equality, errors."""

import json
import math
import operator
import re
from functools import partial

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest

import mlxlr
from conftest import stable_id
from examples import EXAMPLES
from mlxlr._steps import MAX_STEP

W = mlxlr.Linear(0.0, 3e-4, steps=1_000)
C = mlxlr.CosineDecay(3e-4, decay_steps=2_000, end=3e-5)
K = mlxlr.Constant(3e-5)
E = mlxlr.ExponentialDecay(1.0, 0.999)


def lin(init, end, steps):
    return lambda t: init + (end - init) * np.minimum(t, steps) / steps


def cos(init, steps, end):
    return lambda t: end + (init - end) * 0.5 * (1 + np.cos(np.pi * np.minimum(t, steps) / steps))


def exp(init, rate):
    return lambda t: init * rate ** t.astype(np.float64)


def f64(schedule, steps):
    """Evaluates the float64 reference of the few schedules used in this file."""
    table = {W: lin(0.0, 3e-4, 1_000), C: cos(3e-4, 2_000, 3e-5), E: exp(1.0, 0.999)}
    if schedule in table:
        return table[schedule](steps)
    if schedule == K:
        return np.full(steps.shape, 3e-5)
    raise KeyError(schedule)


def values(schedule, steps):
    return np.array(schedule(mx.array(steps)), dtype=np.float64)


# Steps. ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [mx.int32, mx.int64, mx.uint64, mx.uint32, mx.int16, mx.uint8])
@pytest.mark.parametrize("schedule", [W >> C >> K, W, C, E, mlxlr.StepDecay(1.0, 0.5, 7), K, 2 * W - C / 3])
def test_every_integer_dtype_gives_the_same_values(schedule, dtype):
    steps = [0, 1, 5, 99, 100, 101, 250]
    reference = [schedule.at(s) for s in steps]
    vector = schedule(mx.array(steps, dtype=dtype))
    assert vector.dtype == mx.float32
    assert vector.shape == (len(steps),)
    np.testing.assert_array_equal(np.array(vector), np.array(reference, dtype=np.float32))
    for s, expected in zip(steps, reference):
        scalar = schedule(mx.array(s, dtype=dtype))
        assert scalar.shape == ()
        assert scalar.dtype == mx.float32
        assert scalar.item() == expected
        assert schedule(s).item() == expected


def test_shape_is_preserved():
    steps = mx.arange(12, dtype=mx.uint64).reshape(3, 4)
    for schedule in [W >> C, K, E, W * C, 1 / (C + 1)]:
        assert schedule(steps).shape == (3, 4)


def test_uint64_step_minus_boundary_never_wraps():
    joined = W >> C
    steps = mx.array([0, 1, 999, 1000, 1001, 2**53], dtype=mx.uint64)
    out = values(joined, np.array([0, 1, 999, 1000, 1001, 2**53], dtype=np.uint64))
    assert np.all(np.isfinite(out))
    assert out[0] == 0.0
    assert out[-1] == pytest.approx(3e-5, rel=1e-6)
    assert joined(steps).dtype == mx.float32


def test_steps_up_to_2_53_are_finite():
    steps = mx.array([2**24 + 1, 10**9, 2**40, 2**53 - 1, 2**53], dtype=mx.uint64)
    for schedule in [W >> C >> K, E, mlxlr.StepDecay(1.0, 0.9, 3), W / (C + 1)]:
        out = np.array(schedule(steps))
        assert np.all(np.isfinite(out)), schedule


@pytest.mark.parametrize("schedule", EXAMPLES, ids=lambda s: stable_id(s)[:60])
def test_steps_past_2_60_hold_the_value_at_2_60(schedule):
    """Steps are clipped at MAX_STEP = 2**60, beyond every schedule's end: Python ints of any size, uint64 to its max.

    (``mx.array(2**63, mx.uint64)`` itself raises inside MLX, which reads the Python int as an int64 first.)
    """
    at_max = schedule(mx.array(MAX_STEP, dtype=mx.int64)).item()
    assert math.isfinite(at_max)
    big = np.array([MAX_STEP, MAX_STEP + 1, 2**63, 2**64 - 1], dtype=np.uint64)
    np.testing.assert_array_equal(np.array(schedule(mx.array(big))), np.full(4, at_max, dtype=np.float32))
    np.testing.assert_array_equal(np.array(schedule(mx.array(big[1:2]))), [at_max])
    assert schedule(mx.array(np.uint64(2**64 - 1))).item() == at_max
    assert schedule(mx.array(np.int64(2**63 - 1))).item() == at_max
    for step in (2**60 + 1, 2**63, 2**64, 10**30):
        assert schedule(step).item() == at_max
        assert schedule.at(step) == at_max


def test_bad_steps():
    with pytest.raises(TypeError, match="step must be an integer array or an int, got an array of dtype"):
        W(mx.array(1.5))
    with pytest.raises(TypeError, match=r"step must be an int or an integer mx.array, got True \(bool\)"):
        W(True)
    with pytest.raises(ValueError, match="step must be >= 0, got -1"):
        W(-1)
    with pytest.raises(TypeError, match="step must be an int"):
        W(1.0)


# Operators. -----------------------------------------------------------------

STEPS = np.arange(0, 5_000, dtype=np.uint64)


@pytest.mark.parametrize(
    ("build", "reference"),
    [
        (lambda: 2 * W + C, lambda t: 2 * f64(W, t) + f64(C, t)),
        (lambda: W * C, lambda t: f64(W, t) * f64(C, t)),
        (lambda: W / 4, lambda t: f64(W, t) / 4),
        (lambda: -W, lambda t: -f64(W, t)),
        (lambda: W - C, lambda t: f64(W, t) - f64(C, t)),
        (lambda: 1 - W, lambda t: 1 - f64(W, t)),
        (lambda: W + 0.5, lambda t: f64(W, t) + 0.5),
        (lambda: 3 / (C + 1), lambda t: 3 / (f64(C, t) + 1)),
        (lambda: E / C, lambda t: f64(E, t) / f64(C, t)),
        (lambda: (W + C) * 2 - K, lambda t: (f64(W, t) + f64(C, t)) * 2 - 3e-5),
    ],
)
def test_pointwise_operators_match_float64(build, reference):
    schedule = build()
    exact = reference(STEPS.astype(np.float64))
    # Where a difference crosses zero, relative error is meaningless: atol is relative to the scale.
    np.testing.assert_allclose(values(schedule, STEPS), exact, rtol=2e-6, atol=1e-6 * np.abs(exact).max())


def test_join_values_at_every_boundary_and_one_either_side():
    joined = W >> C >> K
    assert joined.duration is None  # a Constant tail is unbounded
    assert (W >> C >> C).duration == 1_000 + 2_000 + 2_000
    t = np.array([0, 1, 999, 1000, 1001, 2999, 3000, 3001, 10**6], dtype=np.uint64)
    exact = np.where(t < 1000, f64(W, t), np.where(t < 3000, f64(C, t - np.minimum(t, 1000)), 3e-5))
    np.testing.assert_allclose(values(joined, t), exact, rtol=1e-6)


def test_join_flattens_and_reports_boundaries():
    a, b, c = W, C, mlxlr.Linear(1.0, 2.0, 10)
    for joined in [a >> b >> c, a >> (b >> c), (a >> b) >> c]:
        assert isinstance(joined, mlxlr.Join)
        assert joined.schedules == (a, b, c)
        assert joined.boundaries == (1_000, 3_000)
        assert joined.duration == 3_010
        assert not any(isinstance(p, mlxlr.Join) for p in joined.schedules)


def test_unbounded_left_side_of_join_raises():
    with pytest.raises(ValueError, match=r"the left side of >> must have a duration, got the unbounded Constant"):
        K >> W
    with pytest.raises(ValueError, match="must have a duration"):
        E >> W


def test_non_schedules_around_join():
    with pytest.raises(TypeError, match=r"the left side of >> must be a Schedule, got 2"):
        2 >> W
    with pytest.raises(TypeError):
        W >> 2


def test_mx_array_on_the_left_raises_inside_mlx():
    """An mx.array on the left is handled by MLX before Python asks the schedule: documented."""
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        mx.array(2.0) * W
    assert (W * 2) == (2 * W)


def test_numbers_combine_and_fold():
    s = 2 * (3 * W)
    assert isinstance(s, mlxlr.Scaled)
    assert s.factor == 6.0
    assert s.schedule is W
    assert isinstance(W * 2, mlxlr.Scaled)
    negated = -W
    assert -negated == W
    assert W * 1 is W
    assert isinstance(W + 1 + 2, mlxlr.Sum)
    assert repr(W + 1 + 2) == f"{W!r} + 3"
    assert mlxlr.Constant(6e-5) == K * 2
    assert isinstance(W + C + K, mlxlr.Sum) and len((W + C + K).terms) == 3


def test_bad_operands():
    with pytest.raises(ValueError, match="cannot divide a schedule by 0"):
        W / 0
    with pytest.raises(ValueError, match="must be finite, got nan"):
        W + math.nan
    with pytest.raises(ValueError, match=r"denominator must not reach 0, got Linear"):
        C / W
    with pytest.raises(TypeError):
        W + "1"
    with pytest.raises(TypeError):
        W * True


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: W * np.float32(2), 2 * W),
        (lambda: np.float32(2) * W, 2 * W),
        (lambda: np.float64(2) * W, 2 * W),
        (lambda: W * np.int64(3), 3 * W),
        (lambda: np.int64(3) + W, W + 3),
        (lambda: W - np.float64(1.5), W - 1.5),
        (lambda: np.float64(1.5) - W, 1.5 - W),
        (lambda: W / np.int32(4), W / 4),
        (lambda: np.float64(2) / (W + 1), 2 / (W + 1)),
        (lambda: np.array(2.0) * W, 2 * W),  # a 0-d NumPy array is a number too
        (lambda: W * np.array(2), 2 * W),
    ],
    ids=lambda x: "" if callable(x) else repr(x),
)
def test_numpy_scalars_on_either_side_of_an_operator(build, expected):
    """NumPy would grab the operator on the left (an object array); the schedule opts out (__array_ufunc__ = None)."""
    s = build()
    assert type(s) is type(expected) and s == expected and repr(s) == repr(expected)


def test_numpy_arrays_and_bools_are_refused_by_operators():
    refused = r"(?s)got an array array\(.*\(ndarray\); an array of schedules is a list"
    for bad in (np.array([1.0, 2.0]), np.ones((2, 2))):
        for op in (operator.add, operator.sub, operator.mul, operator.truediv):
            with pytest.raises(TypeError, match=refused):
                op(bad, W)
            with pytest.raises(TypeError, match=refused):
                op(W, bad)
    for flag in (True, np.bool_(False)):
        with pytest.raises(TypeError, match=r"combines with schedules and numbers, got (True|np\.False_) \(bool\)"):
            W * flag
        with pytest.raises(TypeError, match=r"combines with schedules and numbers"):
            flag + W
    with pytest.raises(TypeError, match=r"the right side of >> must be a Schedule, got np\.int64\(3\) \(int64\)"):
        W >> np.int64(3)
    with pytest.raises(TypeError, match=r"the left side of >> must be a Schedule, got np\.int64\(3\) \(int64\)"):
        np.int64(3) >> W


def test_durations_of_combinations():
    assert (W + C).duration == 2_000
    assert (W + K).duration == 1_000
    assert (W * 3).duration == 1_000
    assert (W + E).duration is None
    assert (K + 1).duration is None


# repr and equality. ---------------------------------------------------------


def test_repr_is_a_readable_expression():
    assert repr(W >> C) == (
        "Linear(init=0.0, end=0.0003, steps=1000) >> CosineDecay(init=0.0003, decay_steps=2000, end=3e-05)"
    )
    assert repr(mlxlr.CosineDecay(1.0, 10)) == "CosineDecay(init=1.0, decay_steps=10)"
    assert repr(2 * W + C) == f"2 * {W!r} + {C!r}"
    assert repr(W - 2 * C) == f"{W!r} - 2 * {C!r}"
    assert repr(-(W + C)) == f"-({W!r} + {C!r})"
    assert repr((W >> C) * 2) == f"2 * ({W!r} >> {C!r})"
    assert repr(W * C) == f"{W!r} * {C!r}"
    assert repr(3 / (C + 1)) == f"3 / ({C!r} + 1)"
    assert repr(W / 4) == f"0.25 * {W!r}"
    assert repr(mlxlr.Join([W, C], [10])) == f"Join(schedules=[{W!r}, {C!r}], boundaries=[10])"


def test_structural_equality_and_hash():
    assert mlxlr.Linear(0.0, 1.0, 10) == mlxlr.Linear(0.0, 1.0, steps=10)
    assert mlxlr.CosineDecay(1.0, 10) == mlxlr.CosineDecay(1.0, 10, end=0.0)
    assert mlxlr.Linear(0.0, 1.0, 10) != mlxlr.Linear(0.0, 1.0, 11)
    assert (W >> C) == (W >> C)
    assert hash(W >> C) == hash(W >> C)
    assert len({W, mlxlr.Linear(0.0, 3e-4, 1_000), C}) == 2
    assert (W == 3) is False
    assert isinstance(W == W, bool)


def test_at_and_values():
    assert W.at(500) == pytest.approx(1.5e-4, rel=1e-6)
    assert isinstance(W.at(500), float)
    vals = W.values()
    assert vals.shape == (1_001,)
    assert vals[-1].item() == pytest.approx(3e-4)
    np.testing.assert_array_equal(np.array(E.values(10)), np.array([E.at(k) for k in range(10)], dtype=np.float32))
    with pytest.raises(ValueError, match="steps is required for an unbounded schedule"):
        E.values()
    with pytest.raises(ValueError, match="step must be an int >= 0, got -3"):
        W.at(-3)


# Constructors. ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: mlxlr.Linear(0.0, 1.0, 0), ValueError, "steps must be a positive int, got 0"),
        (lambda: mlxlr.Linear(0.0, 1.0, -5), ValueError, "steps must be a positive int, got -5"),
        (lambda: mlxlr.Linear(0.0, 1.0, True), TypeError, r"steps must be an int, got True \(bool\)"),
        (lambda: mlxlr.Linear(math.nan, 1.0, 10), ValueError, "init must be finite, got nan"),
        (lambda: mlxlr.Linear(0.0, 1.0, 10.0), TypeError, r"steps must be an int, got 10.0 \(float\)"),
        (lambda: mlxlr.CosineDecay(1.0, 0), ValueError, "decay_steps must be a positive int, got 0"),
        (lambda: mlxlr.CosineDecay(1.0, 10, end=math.inf), ValueError, "end must be finite, got inf"),
        (lambda: mlxlr.Constant(math.nan), ValueError, "value must be finite, got nan"),
        (lambda: mlxlr.Constant(True), TypeError, r"value must be a real number, got True \(bool\)"),
        (lambda: mlxlr.Constant("1"), TypeError, "value must be a real number, got '1'"),
        (lambda: mlxlr.ExponentialDecay(1.0, 0.0), ValueError, "decay_rate must be > 0, got 0.0"),
        (lambda: mlxlr.ExponentialDecay(1.0, 1.5), ValueError, "decay_rate above 1 grows without bound"),
        (lambda: mlxlr.ExponentialDecay(1.0, 0.5, decay_steps=0), ValueError, "decay_steps must be a positive int"),
        (lambda: mlxlr.ExponentialDecay(1.0, 0.5, staircase=1), TypeError, "staircase must be a bool, got 1"),
        (lambda: mlxlr.ExponentialDecay(1.0, 0.5, end=2.0), ValueError, "end must not exceed init for a decay"),
        (lambda: mlxlr.StepDecay(1.0, 0.5, 0), ValueError, "step_size must be a positive int, got 0"),
        (lambda: mlxlr.StepDecay(1.0, math.nan, 3), ValueError, "decay_rate must be finite, got nan"),
        (lambda: mlxlr.Join([W, C], [10, 20]), ValueError, "boundaries must hold len"),
        (lambda: mlxlr.Join([W, C, K], [20, 10]), ValueError, r"boundaries must increase strictly, got \[20, 10\]"),
        (lambda: mlxlr.Join([W, C], [0]), ValueError, r"boundaries\[0\] must be a positive int, got 0"),
        (lambda: mlxlr.Join([], []), ValueError, "schedules must hold at least one schedule"),
        (lambda: mlxlr.Join([W, "x"], [3]), TypeError, r"schedules\[1\] must be a Schedule, a number or a callable"),
        (lambda: mlxlr.Lambda(3), TypeError, "fn must be a callable"),
    ],
)
def test_constructor_errors_name_the_parameter(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_exponential_growth_with_a_cap_is_finite():
    s = mlxlr.ExponentialDecay(1.0, 1.01, end=5.0)
    out = np.array(s(mx.array([0, 10, 1000, 2**53], dtype=mx.uint64)))
    np.testing.assert_allclose(out, [1.0, 1.01**10, 5.0, 5.0], rtol=1e-6)


def test_exponential_decay_options_match_float64():
    t = np.arange(0, 3_000, dtype=np.int64)
    s = mlxlr.ExponentialDecay(2.0, 0.5, decay_steps=100)
    np.testing.assert_allclose(values(s, t), 2.0 * 0.5 ** (t / 100), rtol=1e-6)
    s = mlxlr.ExponentialDecay(2.0, 0.5, decay_steps=100, staircase=True, end=0.1)
    np.testing.assert_allclose(values(s, t), np.maximum(2.0 * 0.5 ** (t // 100), 0.1), rtol=1e-6)


def test_large_steps_accurate_against_float64():
    t = np.array([10**9 - 1, 10**9], dtype=np.uint64)
    cases = [
        (mlxlr.Linear(1.0, 0.0, 10**9 + 7), lambda t: 1.0 - t / (10**9 + 7)),
        # 0.5 * (1 + cos(x)) == cos(x / 2) ** 2; the latter does not cancel in float64 near the end.
        (mlxlr.CosineDecay(1.0, 10**9 + 3), lambda t: np.cos(np.pi / 2 * t / (10**9 + 3)) ** 2),
        (mlxlr.ExponentialDecay(1.0, 1 - 1e-8), lambda t: np.exp(t * np.log1p(-1e-8))),
        (mlxlr.StepDecay(1.0, 0.9, 10**7), lambda t: 0.9 ** (t // 10**7)),
    ]
    for schedule, reference in cases:
        np.testing.assert_allclose(
            values(schedule, t), reference(t.astype(np.float64)), rtol=1e-5, err_msg=repr(schedule)
        )


def test_user_subclass_gets_everything():
    class Halving(mlxlr.Schedule):
        def __init__(self, init: float, every: int) -> None:
            self.init, self.every = init, every

        def __call__(self, step):
            return self.init * 0.5 ** (mlxlr.as_step(step) // self.every).astype(mx.float32)

    h = Halving(1.0, every=10)
    s = mlxlr.Linear(0.0, 1.0, 5) >> h
    assert repr(h) == "Halving(init=1.0, every=10)"
    assert h == Halving(1.0, 10)
    assert s.at(3) == pytest.approx(0.6)
    assert s.at(5 + 25) == pytest.approx(0.25)
    assert (2 * h).at(10) == pytest.approx(1.0)
    assert s(mx.array([0, 30], dtype=mx.uint64)).dtype == mx.float32


def optax_exponential(init, transition_steps, rate, staircase=False, end=None):
    """optax.exponential_decay with transition_begin=0, in float64 from its source: end_value is a floor for a
    rate below 1 and a cap otherwise (`clip_fn = jnp.maximum if decay_rate < 1.0 else jnp.minimum`)."""

    def f(t):
        p = t / transition_steps
        value = init if t <= 0 else init * rate ** (math.floor(p) if staircase else p)
        if end is None:
            return value
        return max(value, end) if rate < 1.0 else min(value, end)

    return f


@pytest.mark.parametrize(
    "args",
    [(1.0, 10, 0.5, False, 0.1), (1.0, 7, 0.9, True, 0.3), (1e-3, 5, 1.5, False, 1e-2), (2.0, 3, 1.0, False, None)],
)
def test_exponential_decay_equals_optax_where_the_docstring_says(args):
    init, steps, rate, staircase, end = args
    s = mlxlr.ExponentialDecay(init, rate, steps, staircase, end)
    reference = optax_exponential(init, steps, rate, staircase, end)
    t = [0, 1, 5, 10, 33, 100, 1_000]
    np.testing.assert_allclose([s.at(k) for k in t], [reference(k) for k in t], rtol=1e-6)


def test_exponential_rate_one_with_an_end_below_init_is_the_documented_exception_to_optax():
    """Optax caps at end for a rate of 1 (its end is a floor only below 1): end everywhere; mlxlr holds init."""
    reference = optax_exponential(1.0, 10, 1.0, end=0.5)
    assert [reference(t) for t in (0, 10, 10**6)] == [0.5, 0.5, 0.5]
    s = mlxlr.ExponentialDecay(1.0, 1.0, 10, end=0.5)
    assert [s.at(t) for t in (0, 10, 10**6)] == [1.0, 1.0, 1.0]
    assert "One exception to Optax's equality: a ``decay_rate`` of exactly 1" in mlxlr.ExponentialDecay.__doc__
    with pytest.raises(ValueError, match=r"end must not exceed init for a decay, got init=1\.0, end=2\.0"):
        mlxlr.ExponentialDecay(1.0, 1.0, end=2.0)  # Optax: min(init, end) = init


def test_exponential_rate_one_with_a_floor_is_constant():
    s = mlxlr.ExponentialDecay(1.0, 1.0, end=0.5)
    assert s.at(0) == 1.0 and s.at(10**6) == 1.0
    joined = mlxlr.Linear(0.0, 1.0, 4) >> s  # the stacked path of a join agrees
    assert joined.at(4) == 1.0 and joined.at(10**6) == 1.0


# Long chains and deep trees. -------------------------------------------------------------------------------

CHAIN = [mlxlr.Linear(1.0, 1.001, 10 + i % 7) for i in range(5_000)]
"""Pieces near 1 (so that a product of 5000 stays finite), durations 10 .. 16."""


def _piece(i: int, t: np.ndarray) -> np.ndarray:
    d = 10 + i % 7
    return 1.0 + 0.001 * np.minimum(t, d) / d


def _chain_reference(op: str, t: np.ndarray) -> np.ndarray:
    """float64, from the definitions: >> runs each piece from its start, + and * are pointwise."""
    if op == "+":
        return sum(_piece(i, t) for i in range(len(CHAIN)))
    if op == "*":
        return np.exp(sum(np.log(_piece(i, t)) for i in range(len(CHAIN))))
    starts = np.cumsum([0] + [10 + i % 7 for i in range(len(CHAIN) - 1)])
    i = np.searchsorted(starts, t, side="right") - 1
    return np.array([_piece(k, np.array(x - starts[k])) for k, x in zip(i, t)])


# float32 sums and products of 5000 terms, one rounding each: up to 5000 * 2**-24 = 3e-4 relative.
@pytest.mark.parametrize(("op", "rtol"), [(">>", 1e-6), ("+", 1e-4), ("*", 1e-3)])
def test_chains_of_5000_built_one_by_one_work_everywhere(op, rtol):
    s = CHAIN[0]
    for piece in CHAIN[1:]:
        s = {">>": operator.rshift, "+": operator.add, "*": operator.mul}[op](s, piece)
    parts = {">>": "schedules", "+": "terms", "*": "factors"}[op]
    assert getattr(s, parts) == tuple(CHAIN)  # one flat node
    text = repr(s)
    assert text.startswith(f"Linear(init=1.0, end=1.001, steps=10) {op} Linear(init=1.0, end=1.001, steps=11) {op}")
    rebuilt = mlxlr.parse(text)
    assert rebuilt == s and hash(rebuilt) == hash(s) and repr(rebuilt) == text
    config = json.loads(json.dumps(s.to_config()))
    assert mlxlr.from_config(config) == s
    steps = np.array([0, 1, 9, 10, 11, 16, 100, 4321, 30_000, 64_990, 2**40], dtype=np.uint64)
    expected = _chain_reference(op, steps.astype(np.float64))
    np.testing.assert_allclose(np.array(s(mx.array(steps))), expected, rtol=rtol)
    np.testing.assert_allclose(np.array(s.values(50)), _chain_reference(op, np.arange(50.0)), rtol=rtol)
    assert s.at(4321) == np.array(s(mx.array(4321))).item()
    opt = mlxlr.ScheduledOptimizer(optim.SGD(0.0), learning_rate=s)
    opt.update({}, {})
    assert opt.learning_rate.item() == s.at(0)


def test_a_chain_of_30000_pieces_reads_back_through_parse():
    """Long chains are written in parenthesized groups, which the operators flatten back into one chain."""
    s = mlxlr.Join([CHAIN[i % 5_000] for i in range(30_000)], [10 * k for k in range(1, 30_000)])
    text = repr(s)
    assert "Join(" in text  # boundaries not at the pieces' ends: a call
    s = CHAIN[0]
    for i in range(1, 30_000):
        s = s >> CHAIN[i % 5_000]
    text = repr(s)
    assert text.count("(Linear") == 299  # groups of 100 pieces after the first
    assert mlxlr.parse(text) == s


DEEPER = {
    "with_warmup": lambda s: s.with_warmup(2),
    "1 - s": lambda s: 1 - s,  # a sum of a scale: two levels
    "clip": lambda s: s.clip(hi=10.0),
    "join in a join": lambda s: mlxlr.Join([s, mlxlr.Linear(0.0, 1.0, 3)], [s.duration]),
    "mixed": lambda s: (s >> mlxlr.Constant(0.5)).for_steps(30).stretch(2) * mlxlr.Linear(1, 2, 5),
}


def _deepest(kind: str) -> mlxlr.Schedule:
    """The deepest tree of ``kind`` that is accepted: one more level is refused, by name."""
    deeper = DEEPER[kind]
    s: mlxlr.Schedule = mlxlr.Linear(0.0, 1.0, 10)
    for _ in range(1_500):
        try:
            s = deeper(s)
        except ValueError as e:
            assert re.fullmatch(
                r"the expression nests deeper than 100 levels: this \w+ would be level 10[1-4]; build it flatter "
                r"\(a chain of >>, \+ or \* stays one level however long\)",
                str(e),
            ), e
            return s
    raise AssertionError("never refused")


def _with_a_deep_stack(run, frames: int = 150):
    """``run()`` called from ``frames`` frames deep: a caller's stack leaves the tree less room."""
    return run() if frames == 0 else _with_a_deep_stack(run, frames - 1)


@pytest.mark.parametrize("kind", DEEPER)
def test_trees_nest_up_to_100_levels_and_every_operation_works_there(kind):
    s = _deepest(kind)
    twin = mlxlr.parse(repr(s))

    def everything():
        assert mlxlr.parse(repr(s)) == s == twin and hash(s) == hash(twin)
        assert mlxlr.from_config(json.loads(json.dumps(s.to_config()))) == s
        assert np.isfinite(np.array(s.values(40))).all() and np.isfinite(s.at(7))
        assert s(mx.array([3, 2**40], dtype=mx.uint64)).shape == (2,)
        opt = mlxlr.ScheduledOptimizer(optim.SGD(0.0), learning_rate=s, momentum=s)
        opt.update({}, {})
        assert opt.learning_rate.item() == s.at(0)
        return True

    assert _with_a_deep_stack(everything)


def test_deeper_trees_are_refused_at_construction_never_a_recursion_error():
    s = mlxlr.Linear(0.0, 1.0, 10)
    with pytest.raises(ValueError, match=r"^the expression nests deeper than 100 levels: this WithWarmup would be"):
        for _ in range(1_500):
            s = s.with_warmup(2)
    s = mlxlr.Linear(0.0, 1.0, 10)
    with pytest.raises(ValueError, match=r"^the expression nests deeper than 100 levels: this Scaled would be"):
        for _ in range(1_500):
            s = -(s + mlxlr.Linear(0.0, 1.0, 10))
    text = "Linear(0, 1, 10)" + ".with_warmup(2)" * 1_500
    with pytest.raises(mlxlr.ParseError, match=r"^(\.with_warmup: the expression nests deeper|cannot parse|the exp)"):
        mlxlr.parse(text)
    for text in ("-" * 5_000 + "Constant(1)", "(" * 5_000 + "1" + ")" * 5_000, "Constant(" * 1_000 + ")" * 1_000):
        with pytest.raises(mlxlr.ParseError):
            mlxlr.parse(text)
    config = {"type": "Linear", "init": 0, "end": 1, "steps": 10}
    for _ in range(5_000):
        config = {"type": "WithWarmup", "schedule": config, "steps": 2}
    with pytest.raises(ValueError, match=r"config\.schedule\.schedule.*: the config nests schedules deeper than 100"):
        mlxlr.from_config(config)
    nested: list = [1.0]
    for _ in range(5_000):
        nested = [nested]
    with pytest.raises(ValueError, match=r"config\.values\[0\]\[0\].*: lists and mappings nest deeper than 100 levels"):
        mlxlr.from_config({"type": "PiecewiseConstant", "boundaries": [1], "values": nested})


# A user's subclass that breaks the contract of __call__. --------------------------------------------------


class ReturnsFloat(mlxlr.Schedule):
    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, step):
        return self.value  # a Python float: crashes MLX's optimizers, freezes under compile


class ReturnsScalar(mlxlr.Schedule):
    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, step):
        return mx.array(self.value)  # one value whatever the step's shape


class ReturnsInt(mlxlr.Schedule):
    def __init__(self, every: int) -> None:
        self.every = every

    def __call__(self, step):
        return mlxlr.as_step(step) // self.every  # an integer array


class ReturnsBool(mlxlr.Schedule):
    def __init__(self, at: int) -> None:
        self.at_ = at

    def __call__(self, step):
        return mlxlr.as_step(step) >= self.at_


class BranchesInPython(mlxlr.Schedule):
    def __init__(self, at: int) -> None:
        self.at_ = at

    def __call__(self, step):
        t = mlxlr.as_step(step)
        if t < self.at_:  # works for one eager scalar step only
            return mx.ones(t.shape)
        return mx.zeros(t.shape)


def _compiled_updates(schedule, n=3):
    opt = mlxlr.ScheduledOptimizer(optim.SGD(0.0), learning_rate=schedule)
    params = {"w": mx.ones(2)}
    opt.init(params)
    state = [opt.state]

    @partial(mx.compile, inputs=state, outputs=state)
    def step(p):
        return opt.apply_gradients({"w": mx.ones(2)}, p)

    for _ in range(n):
        params = step(params)
        mx.eval(params)
    return opt


BROKEN = [
    (
        ReturnsFloat(0.5),
        r"ReturnsFloat\.__call__ returned 0\.5 \(float\), not an mx\.array: a schedule returns a float32",
    ),
    (ReturnsInt(3), r"ReturnsInt\.__call__ returned an array of dtype mlx\.core\.int64: .*\.astype\(mx\.float32\)"),
    (ReturnsBool(3), r"ReturnsBool\.__call__ returned an array of dtype mlx\.core\.bool: .*\.astype\(mx\.float32\)"),
]
"""Broken at every step, eager or compiled: (schedule, what the TypeError says)."""

USES = {
    "at": lambda s: s.at(3),
    "values": lambda s: s.values(5),
    "in a sum": lambda s: (s + W)(mx.arange(3)),
    "in a join": lambda s: (W >> s)(mx.array([5, 2_000], dtype=mx.uint64)),
    "join values": lambda s: (W >> s).values(1_010),
    "with_warmup": lambda s: s.with_warmup(5),
    "denominator": lambda s: W / (s + 1),
    "ScheduledOptimizer": lambda s: mlxlr.ScheduledOptimizer(optim.SGD(0.0), momentum=s),
    "compiled step": _compiled_updates,
}


@pytest.mark.parametrize("use", USES)
@pytest.mark.parametrize(
    ("schedule", "message"), BROKEN, ids=lambda x: type(x).__name__ if not isinstance(x, str) else ""
)
def test_a_subclass_that_returns_the_wrong_kind_of_value_is_named_with_the_fix(schedule, message, use):
    with pytest.raises(TypeError, match=message):
        USES[use](schedule)


@pytest.mark.parametrize("use", [u for u in USES if u != "at"])
def test_one_value_for_an_array_of_steps_is_named(use):
    """A 0-d result is right for a scalar step (at, an optimizer's step) and wrong for an array of steps."""
    s = ReturnsScalar(0.5)
    if use in ("compiled step", "with_warmup"):  # scalar steps only (a momentum's range is sampled: not those)
        USES[use](s)
        return
    with pytest.raises(
        TypeError,
        match=r"ReturnsScalar\.__call__ returned an array of shape \(\) for a step of shape \(\d+,\): .*"
        r"mx\.broadcast_to\(value, step\.shape\)",
    ):
        USES[use](s)
    assert s.at(3) == 0.5


def test_python_branching_on_the_step_is_named_with_mx_where():
    s = BranchesInPython(2)
    assert s.at(0) == 1.0 and s.at(5) == 0.0  # eager, one scalar step: Python's `if` happens to work
    with pytest.raises(
        TypeError,
        match=r"BranchesInPython\.__call__ runs Python code on the step's value \(MLX: \[convert\] Only length-1 "
        r"arrays.*\): .*mx\.where\(condition, a, b\) instead of if/else",
    ):
        s.values(5)
    with pytest.raises(
        TypeError,
        match=r"BranchesInPython\.__call__ runs Python code on the step's value \(MLX: \[eval\] Attempting to eval "
        r"an array during function transformations.*mx\.where",
    ):
        _compiled_updates(s)
    with pytest.raises(TypeError, match=r"Lambda\(fn=<function .*>\): fn runs Python code on the step's value"):
        _compiled_updates(mlxlr.Lambda(lambda t: mx.array(1.0) if t < 3 else mx.array(0.0)))


def test_a_subclass_that_keeps_the_contract_is_taken_as_it_is():
    class Half(mlxlr.Schedule):
        def __init__(self, value: float) -> None:
            self.value = value

        def __call__(self, step):  # float16 of the step's shape: cast to float32, nothing else
            return mx.full(mlxlr.as_step(step).shape, self.value, dtype=mx.float16)

    s = Half(0.5)
    assert s.values(4).tolist() == [0.5] * 4 and s.values(4).dtype == mx.float32
    assert (W >> s)(mx.array([0, 1_001, 5_000])).dtype == mx.float32
    assert _compiled_updates(s).learning_rate.item() == 0.5
    assert _compiled_updates(ReturnsScalar(0.25)).learning_rate.item() == 0.25  # a scalar step: a 0-d value


def test_lambda_keeps_its_cast_and_broadcast():
    """Lambda wraps closures such as MLX's, which return a float32 scalar for a scalar step: it casts and broadcasts."""
    assert mlxlr.Lambda(lambda t: 0.5).values(3).tolist() == [0.5, 0.5, 0.5]
    assert mlxlr.Lambda(lambda t: t // 2).values(4).tolist() == [0.0, 0.0, 1.0, 1.0]
    assert mlxlr.Lambda(optim.cosine_decay(1.0, 10)).values(3).dtype == mx.float32
