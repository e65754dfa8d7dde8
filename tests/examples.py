"""Example schedules of every public class, for the round-trip tests of repr, parse and configs.

The rows of the catalogue's table (``tests/catalogue.py``) are examples too:
a new family needs its row there and nothing here. For a new combinator or
algebra class, add an example below: ``tests/test_expr.py`` fails for a
public class without one. Keep them cheap: every example is evaluated at
200 steps.
"""

from __future__ import annotations

import mlx.core as mx

import mlxlr
from catalogue import CASES
from mlxlr import testing

_warm = mlxlr.Linear(0.0, 3e-4, steps=10)
_cos = mlxlr.CosineDecay(3e-4, decay_steps=90, end=3e-5)

EXAMPLES: list[mlxlr.Schedule] = [
    # Families.
    mlxlr.Constant(3e-4),
    mlxlr.Constant(-2),
    mlxlr.Linear(0.0, 1.0, steps=10),
    mlxlr.Linear(1, -0.5, 7),
    mlxlr.CosineDecay(1e-3, decay_steps=100),
    _cos,
    mlxlr.ExponentialDecay(1e-3, 0.9),
    mlxlr.ExponentialDecay(1e-3, 0.5, decay_steps=20, staircase=True, end=1e-4),
    mlxlr.ExponentialDecay(1e-4, 1.1, end=1e-3),
    mlxlr.StepDecay(0.1, 0.5, step_size=30),
    mlxlr.MultiStepDecay(1.0, [30, 80, 150]),
    mlxlr.MultiStepDecay(1.0, (30, 80), decay_rate=0.5),
    mlxlr.PiecewiseConstant([50, 120], [1e-3, 5e-4, 1e-4]),
    mlxlr.PolynomialDecay(1e-3, decay_steps=100, end=1e-5, power=2.0),
    mlxlr.PolynomialDecay(1e-3, 50, cycle=True),
    mlxlr.InverseTimeDecay(1e-3, decay_steps=10, decay_rate=0.5),
    mlxlr.InverseTimeDecay(1e-3, 10, 0.5, staircase=True),
    mlxlr.InverseSqrt(1e-3, warmup_steps=20),
    mlxlr.InverseSqrt(1e-3, 20, timescale=40),
    mlxlr.CosineRestarts(1e-3, first_period=30),
    mlxlr.CosineRestarts(1e-3, 20, period_mult=2.0, end=1e-5, decay=0.5),
    mlxlr.Cyclic(1e-4, 1e-3, step_size_up=20),
    mlxlr.Cyclic(1e-4, 1e-3, 20, step_size_down=30, mode="exp_range", gamma=0.99),
    mlxlr.OneCycle(1e-3, total_steps=150),
    mlxlr.OneCycle(1e-3, 150, pct_start=0.25, anneal="linear", three_phase=True),
    mlxlr.OneCycleMomentum(mlxlr.OneCycle(1e-3, 150)),
    mlxlr.WarmupStableDecay(1e-3, warmup_steps=20, stable_steps=100, decay_steps=50),
    mlxlr.WarmupStableDecay(1e-3, 20, 100, 50, init=1e-5, end=1e-5, decay_shape="cosine"),
    mlxlr.ReduceOnPlateau(factor=0.5, patience=3),
    # MLX's functions and the recipes.
    mlxlr.cosine_decay(1e-3, 100, 1e-5),
    mlxlr.exponential_decay(1e-3, 0.99),
    mlxlr.linear_schedule(0, 1e-3, 10),
    mlxlr.step_decay(1e-3, 0.9, 10),
    mlxlr.join_schedules([mlxlr.linear_schedule(0, 1e-3, 10), mlxlr.cosine_decay(1e-3, 100)], [10]),
    mlxlr.warmup_constant(1e-3, 20),
    mlxlr.warmup_cosine(1e-3, 20, 180),
    mlxlr.warmup_cosine_restarts(1e-3, 20, 180, cycles=3),
    mlxlr.warmup_linear(1e-3, 20, 180, end=1e-5),
    mlxlr.warmup_polynomial(1e-3, 20, 180, power=2.0),
    # Algebra.
    _warm >> _cos,
    _warm >> _cos >> mlxlr.Constant(3e-5),
    mlxlr.Join([mlxlr.Constant(1.0), mlxlr.Linear(1, 0, 10), mlxlr.Constant(0.5)], boundaries=[5, 50]),
    _cos + mlxlr.Linear(0, 1e-4, 50),
    _cos - 1e-5,
    1e-5 - _cos,
    2 * _cos,
    -_cos,
    -(_warm >> _cos),
    _cos * mlxlr.Linear(1, 0.5, 100),
    _cos / 4,
    _cos / mlxlr.Linear(1, 2, 100),
    1e-3 / mlxlr.CosineDecay(2, 100, end=1),
    (_warm + _cos) * 0.5 - mlxlr.Linear(0, 1e-5, 30) / (1 + mlxlr.Linear(0, 1, 10)),
    mlxlr.Sum(_warm, _cos, mlxlr.Constant(1.0)),
    mlxlr.Product(_warm, _cos),
    mlxlr.Scaled(_cos, 3),
    mlxlr.Quotient(_cos, mlxlr.Constant(2)),
    # Combinators.
    _cos.with_warmup(10),
    _cos.with_warmup(10, init=1e-5),
    mlxlr.WithWarmup(_cos, 5),
    _cos.clip(hi=2e-4),
    _cos.clip(1e-4, 2e-4),
    mlxlr.Clip(_cos, lo=1e-4),
    mlxlr.Linear(1, 0, 20).repeat(3),
    mlxlr.Linear(1, 0, 20).repeat(),
    mlxlr.Repeat(mlxlr.Linear(1, 0, 20), times=2),
    _cos.stretch(2),
    mlxlr.Stretch(_cos, factor=0.5),
    mlxlr.Constant(1e-3).for_steps(20) >> _cos,
    mlxlr.ForSteps(mlxlr.ExponentialDecay(1.0, 0.9), n=50),
    (2 * _cos).clip(hi=5e-4).repeat(2) >> mlxlr.Constant(0.0),
    mlxlr.Constant(3e-4).cooldown(150, 40),
    _cos.cooldown(30, 20, shape="1-sqrt", end=1e-5),
    (_warm >> _cos).cooldown(0, 50, shape="cosine"),
    mlxlr.Cooldown(mlxlr.ExponentialDecay(1.0, 0.99), at=100, steps=60),
    # The catalogue's table (tests/catalogue.py): every family beside its reference formula.
    *(schedule for _, schedule, _, _ in CASES),
]

UNSERIALIZABLE: list[mlxlr.Schedule] = [
    mlxlr.Lambda(lambda t: t * 0.5, duration=10),
]
"""Examples with no expression and no config (a Python callable inside)."""


# Random expression trees (hypothesis), built with the operators and combinators. --------

LEAVES: list[mlxlr.Schedule] = [
    mlxlr.Constant(3e-4),
    mlxlr.Linear(0.0, 3e-4, steps=10),
    mlxlr.Linear(1, 0, 37),
    mlxlr.CosineDecay(3e-4, decay_steps=90, end=3e-5),
    mlxlr.ExponentialDecay(1.0, 0.97),
    mlxlr.StepDecay(1.0, 0.5, step_size=25),
    mlxlr.PiecewiseConstant([20, 60], [1.0, 0.5, 0.1]),
    mlxlr.Cyclic(0.1, 1.0, step_size_up=15),
    mlxlr.OneCycle(1e-3, total_steps=80),
]
DENOMINATORS: list[mlxlr.Schedule] = [mlxlr.Constant(2.0), mlxlr.Linear(1, 2, 50), mlxlr.CosineDecay(2, 30, end=1)]


def trees(max_leaves: int = 6):  # -> SearchStrategy[Schedule]
    """Random schedules: leaves above combined by + - * / unary -, >> and combinator methods."""
    from hypothesis import strategies as st

    numbers = st.one_of(
        st.integers(-1000, 1000),
        st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).filter(lambda x: x == 0 or abs(x) > 1e-3),
    )
    nonzero = numbers.filter(lambda x: x != 0)

    def extend(children):
        pairs = st.tuples(children, children)
        return st.one_of(
            pairs.map(lambda ab: ab[0] + ab[1]),
            pairs.map(lambda ab: ab[0] - ab[1]),
            pairs.map(lambda ab: ab[0] * ab[1]),
            st.tuples(children, numbers).map(lambda ab: ab[0] * ab[1]),
            st.tuples(numbers, children).map(lambda ab: ab[0] - ab[1]),
            st.tuples(children, nonzero).map(lambda ab: ab[0] / ab[1]),
            st.tuples(children, st.sampled_from(DENOMINATORS)).map(lambda ab: ab[0] / ab[1]),
            children.map(lambda a: -a),
            pairs.filter(lambda ab: ab[0].duration is not None).map(lambda ab: ab[0] >> ab[1]),
            children.map(lambda a: a.for_steps(17)),
            children.map(lambda a: a.with_warmup(5)),
            children.map(lambda a: a.clip(hi=0.5)),
            children.map(lambda a: a.stretch(2)),
            children.filter(lambda a: a.duration is not None).map(lambda a: a.repeat(2)),
        )

    return st.recursive(st.sampled_from(LEAVES), extend, max_leaves=max_leaves)


def same(a: mlxlr.Schedule, b: mlxlr.Schedule) -> bool:
    """Structural equality; also for stateful classes whose ``==`` is identity (ReduceOnPlateau)."""
    return a == b or (type(a) is type(b) and a.params == b.params)


def registered_class():
    """Registers a user schedule class, yields it, then unregisters it (for a fixture)."""

    @mlxlr.register
    class UserHalving(mlxlr.Schedule):
        def __init__(self, init: float, every: int) -> None:
            self.init, self.every = init, every

        def __call__(self, step):
            return self.init * 0.5 ** (mlxlr.as_step(step) // self.every).astype(mx.float32)

        @property
        def duration(self):
            return 4 * self.every

    yield UserHalving
    testing.unregister("UserHalving")
