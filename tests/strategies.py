"""Hypothesis strategies: schedules of every mlxlr class with random valid arguments, and trees of them.

``FAMILIES`` maps every public schedule class (and schedule-returning
function) of mlxlr to a strategy that draws it with random valid arguments;
``trees`` combines them with ``+ - * / >>``, numbers and the combinators up
to a given depth. Values stay within ``[-100, 100]`` at the leaves, numbers
within ``[-100, 100]`` and divisors away from 0, so a tree of depth 4 stays
far inside float32's range: a non-finite value is a bug, not an overflow of
the test's own making. Step counts stay below 2**33 and repeats and stretches
small, so every boundary of a tree stays below 2**60 (``mlxlr``'s step clip).
"""

from __future__ import annotations

import math
from typing import Any

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

import mlxlr
from examples import EXAMPLES
from mlxlr import Join
from mlxlr.testing import walk

# Numbers. --------------------------------------------------------------------

_NICE = (0.0, 1.0, -1.0, 0.5, 2.0, 0.1, 1e-3, 3e-4, 1e-5, 10.0, -10.0, 1e-30)


def reals(lo: float = -10.0, hi: float = 10.0) -> SearchStrategy[float]:
    """Finite numbers in ``[lo, hi]``: round ones, ints (as a user writes them) and any float."""
    options: list[SearchStrategy[Any]] = [st.floats(lo, hi, allow_nan=False, allow_infinity=False)]
    nice = [v for v in _NICE if lo <= v <= hi]
    if nice:
        options.append(st.sampled_from(nice))
    if math.ceil(lo) <= math.floor(hi):
        options.append(st.integers(math.ceil(lo), math.floor(hi)))
    return st.one_of(*options)


def positive(lo: float, hi: float) -> SearchStrategy[float]:
    """Numbers in ``[lo, hi]`` with ``lo > 0``, round ones included."""
    return reals(lo, hi)


def rates() -> SearchStrategy[float]:
    """Decay rates in ``(0, 1]``, with rates very close to 1 (where float32 powers drift)."""
    near_one = st.sampled_from([0.5, 0.9, 0.99, 0.999, 0.99999, 1 - 1e-7, 1 - 1e-9, 1.0])
    return st.one_of(near_one, st.floats(1e-3, 1.0))


def counts(lo: int = 1) -> SearchStrategy[int]:
    """Step counts: mostly short (so whole schedules are evaluated), sometimes past 2**24 and 2**32."""
    far = st.sampled_from([2**24 - 1, 2**24, 2**24 + 1, 2**31 - 1, 2**31 + 1, 2**32 + 3])
    return st.one_of(st.integers(lo, 40), st.integers(lo, 3_000), st.integers(lo, 10**9), far)


def increasing(min_size: int = 1, max_size: int = 6) -> SearchStrategy[list[int]]:
    """Strictly increasing positive steps."""
    gaps = st.lists(st.one_of(st.integers(1, 50), st.integers(1, 10**8)), min_size=min_size, max_size=max_size)
    return gaps.map(lambda g: [int(v) for v in np.cumsum(g)])


def numbers() -> SearchStrategy[float]:
    """Numbers that operators combine with schedules."""
    return st.one_of(reals(-100.0, 100.0), st.sampled_from([0, 1, -1, 2, 0.5, 3]))


def divisors() -> SearchStrategy[float]:
    """Numbers a schedule is divided by: at least 0.01 away from 0."""
    magnitude = st.one_of(st.sampled_from([1, 2, 4, 0.5, 3, 10]), st.floats(0.01, 100.0))
    return st.tuples(magnitude, st.booleans()).map(lambda ms: -ms[0] if ms[1] else ms[0])


# Every class with random valid arguments. ------------------------------------------


def _ramp(t: mx.array) -> mx.array:
    return mx.minimum(t, 50).astype(mx.float32) * 0.02


def _wave(t: mx.array) -> mx.array:
    return mx.sin((t % 628).astype(mx.float32) * 0.01)


LAMBDAS = [
    mlxlr.Lambda(_ramp, duration=50),
    mlxlr.Lambda(_wave),
    mlxlr.Lambda(optim.linear_schedule(0.0, 1.0, 10), duration=10),
    mlxlr.Lambda(optim.cosine_decay(1.0, 30, 0.1), duration=30),
]
"""Lambdas of graph-only callables (MLX's closures too); shared, so equal copies keep their callable."""


class Halving(mlxlr.Schedule):
    """A user's schedule (not registered): only ``__init__`` and ``__call__``."""

    def __init__(self, init: float, every: int) -> None:
        self.init, self.every = init, every

    def __call__(self, step: mlxlr.StepLike) -> mx.array:
        return self.init * 0.5 ** (mlxlr.as_step(step) // self.every).astype(mx.float32)


@st.composite
def _exponential(draw: st.DrawFn) -> mlxlr.ExponentialDecay:
    steps, staircase = draw(counts()), draw(st.booleans())
    if draw(st.booleans()):
        init = draw(reals())
        end = draw(st.one_of(st.none(), reals(-10.0, init)))
        return mlxlr.ExponentialDecay(init, draw(rates()), steps, staircase, end)
    init = draw(positive(1e-3, 5.0))
    end = init + draw(positive(1e-3, 5.0))
    rate = draw(st.one_of(st.sampled_from([1.01, 1.5, 2.0, 1 + 1e-6]), st.floats(1.0, 2.0, exclude_min=True)))
    return mlxlr.ExponentialDecay(init, rate, steps, staircase, end)


@st.composite
def _one_cycle(draw: st.DrawFn) -> mlxlr.OneCycle:
    total = draw(counts())
    pct = draw(st.one_of(st.sampled_from([0.0, 0.25, 0.3, 0.5, 1.0]), st.floats(0.0, 1.0)))
    if float(pct * total) == 1.0:
        pct = 0.5 if total != 2 else 0.3
    return mlxlr.OneCycle(
        draw(reals()),
        total,
        pct,
        draw(positive(1.0, 100.0)),
        draw(positive(1.0, 1e5)),
        draw(st.sampled_from(["cos", "linear"])),
        draw(st.booleans()),
    )


@st.composite
def _plateau(draw: st.DrawFn) -> mlxlr.ReduceOnPlateau:
    plateau = mlxlr.ReduceOnPlateau(
        draw(st.floats(0.01, 0.99)),
        draw(st.integers(0, 3)),
        draw(st.sampled_from([0.0, 1e-4, 0.1])),
        draw(st.sampled_from(["min", "max"])),
        draw(st.integers(0, 2)),
        draw(st.sampled_from([0.0, 0.01, 0.5])),
    )
    for metric in draw(st.lists(st.floats(-10.0, 10.0), max_size=8)):
        plateau.observe(metric)
    return plateau


@st.composite
def _warmup_stable_decay(draw: st.DrawFn) -> mlxlr.WarmupStableDecay:
    return mlxlr.WarmupStableDecay(
        draw(reals()),
        draw(counts(lo=0)),
        draw(counts(lo=0)),
        draw(counts()),
        draw(reals()),
        draw(reals()),
        draw(st.sampled_from(["linear", "cosine", "1-sqrt"])),
    )


@st.composite
def _multi_step(draw: st.DrawFn) -> mlxlr.MultiStepDecay:
    return mlxlr.MultiStepDecay(draw(reals()), draw(increasing(1, 5)), draw(positive(0.05, 1.5)))


@st.composite
def _piecewise(draw: st.DrawFn) -> mlxlr.PiecewiseConstant:
    bounds = draw(increasing(1, 6))
    return mlxlr.PiecewiseConstant(bounds, draw(st.lists(reals(), min_size=len(bounds) + 1, max_size=len(bounds) + 1)))


@st.composite
def _restarts(draw: st.DrawFn) -> mlxlr.CosineRestarts:
    mult = draw(st.one_of(st.sampled_from([1.0, 1.0, 2.0, 3.0, 1.5]), st.floats(1.01, 4.0)))
    return mlxlr.CosineRestarts(draw(reals()), draw(counts()), mult, draw(reals()), draw(positive(0.01, 1.0)))


@st.composite
def _cyclic(draw: st.DrawFn) -> mlxlr.Cyclic:
    return mlxlr.Cyclic(
        draw(reals()),
        draw(reals()),
        draw(counts()),
        draw(st.one_of(st.none(), counts(lo=0))),
        draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
        draw(st.one_of(st.just(1.0), rates())),
    )


@st.composite
def _recipe(draw: st.DrawFn, name: str) -> mlxlr.Schedule:
    peak, warmup = draw(reals()), draw(counts(lo=0))
    if name == "warmup_constant":
        return mlxlr.warmup_constant(peak, warmup)
    total = warmup + draw(counts())
    if name == "warmup_linear":
        return mlxlr.warmup_linear(peak, warmup, total, draw(reals()))
    if name == "warmup_cosine":
        cycles = draw(st.sampled_from([0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 2.25, 3.0]))
        return mlxlr.warmup_cosine(peak, warmup, total, draw(reals()), cycles)
    if name == "warmup_polynomial":
        end = peak - draw(positive(1e-3, 10.0))
        return mlxlr.warmup_polynomial(peak, warmup, total, end, draw(positive(0.1, 5.0)))
    assert name == "warmup_cosine_restarts"
    return mlxlr.warmup_cosine_restarts(peak, warmup, total, draw(st.integers(1, 5)))


def _leaves_of(strategy: SearchStrategy[mlxlr.Schedule], size: int) -> SearchStrategy[list[mlxlr.Schedule]]:
    return st.lists(strategy, min_size=2, max_size=size)


def _simple() -> SearchStrategy[mlxlr.Schedule]:
    """A few cheap families: the parts of directly built algebra and combinator classes."""
    return st.one_of(
        st.builds(mlxlr.Constant, reals()),
        st.builds(mlxlr.Linear, reals(), reals(), counts()),
        st.builds(mlxlr.CosineDecay, reals(), counts(), reals()),
        st.builds(mlxlr.StepDecay, reals(), rates(), counts()),
    )


def _bounded(strategy: SearchStrategy[mlxlr.Schedule]) -> SearchStrategy[mlxlr.Schedule]:
    """Schedules with a duration: an unbounded one is given one with ``for_steps``."""
    return st.tuples(strategy, counts()).map(lambda sn: sn[0] if sn[0].duration is not None else sn[0].for_steps(sn[1]))


@st.composite
def _join(draw: st.DrawFn, pieces: SearchStrategy[mlxlr.Schedule], max_pieces: int = 5) -> mlxlr.Join:
    """A join at arbitrary boundaries (not where its pieces end), numbers among its pieces."""
    parts = draw(st.lists(st.one_of(pieces, reals()), min_size=1, max_size=max_pieces))
    bounds = draw(increasing(len(parts) - 1, len(parts) - 1)) if len(parts) > 1 else []
    return mlxlr.Join(parts, bounds)


def _denominators() -> SearchStrategy[mlxlr.Schedule]:
    """Schedules that never reach 0: magnitudes within ``[0.5, 10]``, of one sign."""
    mags = st.one_of(
        st.builds(mlxlr.Constant, positive(0.5, 10.0)),
        st.builds(mlxlr.Linear, positive(0.5, 10.0), positive(0.5, 10.0), counts()),
        st.builds(mlxlr.CosineDecay, positive(0.5, 10.0), counts(), positive(0.5, 10.0)),
        st.builds(mlxlr.InverseTimeDecay, positive(0.5, 10.0), counts(), positive(0.01, 1.0)).map(
            lambda s: s.clip(lo=0.5)
        ),
    )
    return st.tuples(mags, st.booleans()).map(lambda ms: -ms[0] if ms[1] else ms[0])


FAMILIES: dict[str, SearchStrategy[Any]] = {
    "Constant": st.builds(mlxlr.Constant, reals()),
    "Linear": st.builds(mlxlr.Linear, reals(), reals(), counts()),
    "CosineDecay": st.builds(mlxlr.CosineDecay, reals(), counts(), reals()),
    "ExponentialDecay": _exponential(),
    "StepDecay": st.builds(mlxlr.StepDecay, reals(), rates(), counts()),
    "MultiStepDecay": _multi_step(),
    "PiecewiseConstant": _piecewise(),
    "PolynomialDecay": st.builds(mlxlr.PolynomialDecay, reals(), counts(), reals(), positive(0.1, 5.0), st.booleans()),
    "InverseTimeDecay": st.builds(mlxlr.InverseTimeDecay, reals(), counts(), positive(1e-4, 10.0), st.booleans()),
    "InverseSqrt": st.builds(mlxlr.InverseSqrt, reals(), counts(lo=0), st.one_of(st.none(), counts())),
    "CosineRestarts": _restarts(),
    "Cyclic": _cyclic(),
    "OneCycle": _one_cycle(),
    "OneCycleMomentum": st.builds(lambda c, lo, hi: c.momentum(lo, hi), _one_cycle(), reals(), reals()),
    "WarmupStableDecay": _warmup_stable_decay(),
    "ReduceOnPlateau": _plateau(),
    "Lambda": st.sampled_from(LAMBDAS),
    "Halving": st.builds(Halving, reals(), counts()),
    # MLX's names and the recipes.
    "cosine_decay": st.builds(mlxlr.cosine_decay, reals(), counts(), reals()),
    "exponential_decay": st.builds(mlxlr.exponential_decay, reals(), rates()),
    "linear_schedule": st.builds(mlxlr.linear_schedule, reals(), reals(), counts()),
    "step_decay": st.builds(mlxlr.step_decay, reals(), rates(), counts()),
    "join_schedules": _join(_bounded(_simple())).map(lambda j: mlxlr.join_schedules(j.schedules, j.boundaries)),
    "warmup_constant": _recipe("warmup_constant"),
    "warmup_linear": _recipe("warmup_linear"),
    "warmup_cosine": _recipe("warmup_cosine"),
    "warmup_polynomial": _recipe("warmup_polynomial"),
    "warmup_cosine_restarts": _recipe("warmup_cosine_restarts"),
    # The algebra and the combinators, built directly (the operators build them in trees).
    "Sum": _leaves_of(_simple(), 3).map(lambda ts: mlxlr.Sum(*ts)),
    "Product": _leaves_of(_simple(), 2).map(lambda fs: mlxlr.Product(*fs)),
    "Scaled": st.builds(mlxlr.Scaled, _simple(), reals()),
    "Quotient": st.builds(mlxlr.Quotient, _simple(), _denominators()),
    "Join": _join(_simple()),
    "Clip": st.tuples(_simple(), reals(), reals()).map(lambda s: mlxlr.Clip(s[0], min(s[1:]), max(s[1:]))),
    "ForSteps": st.builds(mlxlr.ForSteps, _simple(), counts()),
    "Repeat": st.builds(mlxlr.Repeat, _bounded(_simple()), st.one_of(st.none(), st.integers(1, 4))),
    "Stretch": st.builds(mlxlr.Stretch, _simple(), st.floats(1 / 16, 16.0)),
    "WithWarmup": st.builds(mlxlr.WithWarmup, _simple(), counts(), reals()),
    # The examples of tests/examples.py, as they are.
    "examples": st.sampled_from(EXAMPLES),
}
"""A strategy per public schedule class and schedule-returning function (and the examples)."""

MONOTONE = ("Linear", "CosineDecay", "ExponentialDecay", "StepDecay", "MultiStepDecay", "PolynomialDecay")
MONOTONE += ("InverseTimeDecay", "InverseSqrt", "WarmupStableDecay")


def leaves() -> SearchStrategy[mlxlr.Schedule]:
    """Any schedule of ``FAMILIES``."""
    return st.one_of(*FAMILIES.values())


# Trees. ------------------------------------------------------------------------


def _group(*options: SearchStrategy[mlxlr.Schedule]) -> SearchStrategy[mlxlr.Schedule]:
    """One of ``options``, as one choice of an enclosing ``one_of`` (which would flatten a bare ``one_of``)."""
    return st.one_of(*options).map(lambda s: s)


def _combine(children: SearchStrategy[mlxlr.Schedule]) -> SearchStrategy[mlxlr.Schedule]:
    pairs = st.tuples(children, children)
    clip_bounds = st.tuples(reals(), reals()).map(sorted)
    two_schedules = _group(
        pairs.map(lambda ab: ab[0] + ab[1]),
        pairs.map(lambda ab: ab[0] - ab[1]),
        pairs.map(lambda ab: ab[0] * ab[1]),
        st.tuples(children, _denominators()).map(lambda ad: ad[0] / ad[1]),
        st.tuples(_bounded(children), children).map(lambda ab: ab[0] >> ab[1]),
        _join(children, 3),
    )
    with_numbers = _group(
        st.tuples(children, numbers()).map(lambda ax: ax[0] + ax[1]),
        st.tuples(numbers(), children).map(lambda xa: xa[0] - xa[1]),
        st.tuples(children, numbers()).map(lambda ax: ax[0] * ax[1]),
        st.tuples(numbers(), children).map(lambda xa: xa[0] * xa[1]),
        st.tuples(children, divisors()).map(lambda ax: ax[0] / ax[1]),
        st.tuples(numbers(), _denominators()).map(lambda xd: xd[0] / xd[1]),
        children.map(lambda a: -a),
    )
    combinators = _group(
        st.tuples(children, counts()).map(lambda an: an[0].for_steps(an[1])),
        st.tuples(children, counts(), reals()).map(lambda a: a[0].with_warmup(a[1], a[2])),
        st.tuples(children, clip_bounds, st.sampled_from(["lo", "hi", "both"])).map(
            lambda a: a[0].clip(
                a[1][0] if a[2] != "hi" else None,
                a[1][1] if a[2] != "lo" else None,
            )
        ),
        st.tuples(children, st.one_of(st.sampled_from([2, 0.5, 1.5, 1 / 3, 3]), st.floats(1 / 16, 16.0))).map(
            lambda af: af[0].stretch(af[1])
        ),
        st.tuples(_bounded(children), st.one_of(st.none(), st.integers(1, 4))).map(lambda at: at[0].repeat(at[1])),
    )
    return st.one_of(two_schedules, two_schedules, with_numbers, combinators)


def trees(depth: int = 4, leaf: SearchStrategy[mlxlr.Schedule] | None = None) -> SearchStrategy[mlxlr.Schedule]:
    """Schedules built by up to ``depth`` nested operators and combinators over ``leaf`` (any family)."""
    base = leaves() if leaf is None else leaf
    levels = [base]  # levels[d]: d nested operators on one path at least
    for _ in range(depth):
        levels.append(_combine(levels[-1]).map(lambda s: s))
    return st.one_of(*levels)


def bounded_trees(depth: int = 4) -> SearchStrategy[mlxlr.Schedule]:
    """Trees with a duration."""
    return _bounded(trees(depth))


# Properties of a schedule that tests read. ----------------------------------


def serializable(schedule: mlxlr.Schedule) -> bool:
    """Whether ``schedule`` has an expression and a config: no callable, no state, no unregistered class."""
    classes = mlxlr.testing.config_classes()
    return all(
        classes.get(type(node).__name__) is type(node) and not isinstance(node, (mlxlr.Lambda, mlxlr.ReduceOnPlateau))
        for node in walk(schedule)
    )


def landmarks(schedule: mlxlr.Schedule) -> list[int]:
    """Steps where something happens somewhere in the tree: durations and boundaries, each +-1."""
    marks = {0, 1, 2, 3, 2**24 - 1, 2**24, 2**24 + 1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53 - 1, 2**53}
    for node in walk(schedule):
        found = [node.duration or 0]
        if isinstance(node, Join):
            found += list(node.boundaries)
        for name in ("milestones", "boundaries", "warmup_steps", "first_period"):
            value = getattr(node, name, None)
            found += list(value) if isinstance(value, (list, tuple)) else [value] if isinstance(value, int) else []
        for b in found:
            marks.update(v for v in (b - 1, b, b + 1, 2 * b) if 0 <= v <= 2**53)
    return sorted(marks)


def steps(schedule: mlxlr.Schedule, min_size: int = 1, max_size: int = 40) -> SearchStrategy[list[int]]:
    """Lists of steps in ``[0, 2**53]``: landmarks of ``schedule``, small steps and any step."""
    one = st.one_of(st.sampled_from(landmarks(schedule)), st.integers(0, 1_000), st.integers(0, 2**53))
    return st.lists(one, min_size=min_size, max_size=max_size)


INT_DTYPES: list[tuple[mx.Dtype, type, int]] = [
    (mx.int8, np.int8, 2**7 - 1),
    (mx.uint8, np.uint8, 2**8 - 1),
    (mx.int16, np.int16, 2**15 - 1),
    (mx.uint16, np.uint16, 2**16 - 1),
    (mx.int32, np.int32, 2**31 - 1),
    (mx.uint32, np.uint32, 2**32 - 1),
    (mx.int64, np.int64, 2**63 - 1),
    (mx.uint64, np.uint64, 2**64 - 1),
]


def holding(largest: int) -> list[tuple[mx.Dtype, type]]:
    """The integer dtypes (MLX's and numpy's) that hold every step up to ``largest``."""
    return [(m, n) for m, n, top in INT_DTYPES if largest <= top]


def array(values: list[int], np_dtype: type = np.int64, shape: tuple[int, ...] | None = None) -> mx.array:
    """An ``mx.array`` of steps with a given dtype and shape (a 0-d array for ``shape=()``)."""
    out = np.array(values, dtype=np_dtype)
    return mx.array(out if shape is None else out.reshape(shape))


def shapes(n: int) -> SearchStrategy[tuple[int, ...]]:
    """Shapes of ``n`` elements: a scalar (for one), a vector, and matrices."""
    options: list[tuple[int, ...]] = [(n,), (1, n), (n, 1)]
    options += [(r, n // r) for r in range(2, n) if n % r == 0]
    if n == 1:
        options.append(())
    return st.sampled_from(options)
