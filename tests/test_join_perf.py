"""What keeps schedules cheap: flat algebra, joins of constant cost, one evaluation per step.

Structural facts only: no test here measures a time (benchmarks/bench.py does).
"""

import copy
import functools
import itertools
import math
import operator
import pickle
import random
import sys
from bisect import bisect_right
from functools import partial

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlxlr
from conftest import assert_same_values, stable_id
from mlxlr import Join, testing

CHUNK = testing.chunk_size()
LOWEST = -float(np.finfo(np.float32).max)

U64 = np.uint64


def steps_array(steps):
    return mx.array(np.array(steps, dtype=np.uint64))


def bits(array):
    return np.array(array, dtype=np.float32).view(np.uint32)


def reference(join, steps):
    """The piecewise definition: each step's piece, at the steps since its start, evaluated on its own."""
    starts = [0, *join.boundaries]
    out = []
    for step in steps:
        step = min(int(step), 2**60)
        i = bisect_right(join.boundaries, step)
        out.append(np.float32(join.schedules[i].at(step - starts[i])))  # op by op, as the join's own evaluation
    return np.array(out, dtype=np.float32)


def linear_join(n, length=100):
    pieces = [mlxlr.Linear(1e-3 / (i + 1), 1e-3 / (i + 2), length) for i in range(n)]
    return Join(pieces, [length * (i + 1) for i in range(n - 1)])


def around_boundaries(join):
    edges = {0, 1, 2**24, 2**24 + 1, 2**53, 2**60}
    for b in join.boundaries:
        edges.update({b - 1, b, b + 1})
    return sorted(edges)


# Builders fold: trees stay flat. -------------------------------------------------


def test_chained_joins_flatten_into_one_level():
    a, b, c = mlxlr.Linear(0.0, 1.0, 10), mlxlr.CosineDecay(1.0, 20), mlxlr.Linear(0.0, 1.0, 30)
    for joined in [a >> b >> c, a >> (b >> c), (a >> b) >> c]:
        assert isinstance(joined, Join)
        assert joined.schedules == (a, b, c)
        assert not any(isinstance(p, Join) for p in joined.schedules)
    long = functools.reduce(lambda left, right: left >> right, [mlxlr.Linear(0.0, 1.0, 5)] * 1000)
    assert isinstance(long, Join)
    assert len(long.schedules) == 1000
    assert not any(isinstance(p, Join) for p in long.schedules)
    assert long.boundaries == tuple(range(5, 5000, 5))


def test_scales_fold_into_one_scaled():
    s = mlxlr.CosineDecay(1.0, 100)
    folded = 2 * (3 * s)
    assert isinstance(folded, mlxlr.Scaled)
    assert folded.schedule is s
    assert folded.factor == 6.0
    assert isinstance((s * 2) / 4, mlxlr.Scaled) and ((s * 2) / 4).schedule is s
    negated = -s
    assert -negated is s
    assert 1 * s is s


def test_constants_fold():
    k2, k3 = mlxlr.Constant(2.0), mlxlr.Constant(3.0)
    assert k2 + k3 == mlxlr.Constant(5.0)
    assert k2 * k3 == mlxlr.Constant(6.0)
    assert k2 * 4 == mlxlr.Constant(8.0)
    assert 3 * k2 - 1 == mlxlr.Constant(5.0)
    s = mlxlr.Linear(0.0, 1.0, 10)
    total = s + 1 + 2
    assert isinstance(total, mlxlr.Sum)
    assert total.terms == (s, mlxlr.Constant(3.0))  # the numbers folded into one constant, last
    assert s + 0 is s


def test_product_with_a_constant_is_a_scaled():
    s = mlxlr.Linear(0.0, 1.0, 10)
    for product in [s * mlxlr.Constant(2.0), mlxlr.Constant(2.0) * s, s * 2.0, 2.0 * s]:
        assert isinstance(product, mlxlr.Scaled)
        assert product.schedule is s
        assert product.factor == 2.0
    assert mlxlr.Constant(2.0) * (3 * s) == mlxlr.Scaled(s, 6.0)
    assert s * mlxlr.Constant(1.0) is s


# Joins evaluate each class of pieces once. --------------------------------------------


@pytest.fixture
def counted(monkeypatch):
    """Counts calls of ``Linear.formula``: for one piece, and for a stack (its numbers are arrays)."""
    calls = {"one": 0, "stacked": 0}
    formula = mlxlr.Linear.formula

    def counting(self, t, start=0):
        calls["stacked" if isinstance(self.init, mx.array) else "one"] += 1
        return formula(self, t, start)

    monkeypatch.setattr(mlxlr.Linear, "formula", counting)
    return calls


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param(lambda j: [mx.array(s, dtype=mx.uint64) for s in [0, 99, 100, 50_000, 99_999]], id="scalars"),
        pytest.param(lambda j: [steps_array(around_boundaries(j))], id="array"),
        pytest.param(lambda j: [steps_array(around_boundaries(j)[:3000]).reshape(3, 1000)], id="2d-array"),
    ],
)
def test_1000_linear_pieces_evaluate_through_the_stacked_path(counted, steps):
    joined = linear_join(1000)
    for t in steps(joined):
        counted["one"] = counted["stacked"] = 0
        mx.eval(joined(t))
        assert counted == {"one": 0, "stacked": 1}
    (stack,) = testing.stacks(joined)
    assert stack.family is mlxlr.Linear and stack.pieces == list(range(1000))
    assert testing.singles(joined) == []


def test_1000_linear_pieces_compile_once_and_stay_stacked(counted):
    joined = linear_join(1000)
    traces = []

    @mx.compile
    def value(step):
        traces.append(1)
        return joined(step)

    steps = [0, 100, 12_345, 99_999, 10**9]
    expected = reference(joined, steps)
    counted["one"] = 0
    for s, e in zip(steps, expected):
        assert value(mx.array(s, dtype=mx.uint64)).item() == e
    assert len(traces) == 1
    assert counted == {"one": 0, "stacked": 1}


@pytest.mark.parametrize("path", ["side by side", "gathered"])
def test_1000_piece_join_equals_the_piecewise_reference_at_every_boundary(path):
    joined = linear_join(1000)
    steps = around_boundaries(joined)
    if path == "side by side":
        got = np.array([joined(mx.array(s, dtype=mx.int64)).item() for s in steps], dtype=np.float32)
    else:
        got = np.array(joined(steps_array(steps)))
    np.testing.assert_array_equal(bits(got), bits(reference(joined, steps)))


def test_uint64_steps_never_wrap():
    joined = linear_join(1000)
    steps = [0, 99, 100, 2**32, 2**53, 2**60, 2**63, 2**64 - 1]
    expected = reference(joined, steps)
    got = joined(steps_array(steps))
    assert got.dtype == mx.float32
    np.testing.assert_array_equal(bits(got), bits(expected))
    for s, e in zip(steps, expected):
        assert bits(joined(mx.array(np.array(s, dtype=U64)))) == bits(e)
    assert expected[-1] == np.float32(1e-3 / 1001)  # the last piece's end, held


# Every stackable family, every path, bit for bit. -----------------------------------------

FAMILIES = {
    "Linear": lambda r: mlxlr.Linear(r.random(), r.random(), r.randint(1, 60)),
    "CosineDecay": lambda r: mlxlr.CosineDecay(r.random(), r.randint(1, 60), 0.1 * r.random()),
    "Constant": lambda r: mlxlr.Constant(r.uniform(-1, 1)),
    "ExponentialDecay": lambda r: mlxlr.ExponentialDecay(
        r.random() + 0.1,
        r.uniform(0.5, 0.999),
        r.randint(1, 5),
        staircase=r.random() < 0.5,
        end=r.choice([None, 0.01]),
    ),
    "ExponentialDecay growth": lambda r: mlxlr.ExponentialDecay(0.1, 1.01, r.randint(1, 4), end=r.choice([1.0, 5.0])),
    "StepDecay": lambda r: mlxlr.StepDecay(r.random() + 0.1, r.uniform(0.3, 0.9), r.randint(1, 5)),
    "Lambda": lambda r: mlxlr.Lambda(lambda t: t.astype(mx.float32) * 1e-3),
    "Scaled": lambda r: 0.5 * mlxlr.Linear(r.random(), r.random(), 7),
}


def random_join(seed, n, families):
    r = random.Random(seed)
    pieces = [FAMILIES[r.choice(families)](r) for _ in range(n)]
    return Join(pieces, sorted(r.sample(range(1, 60 * n + 10), n - 1)))


def check_all_paths(joined):
    steps = around_boundaries(joined)
    expected = joined.chain(mlxlr.as_step(steps_array(steps)))  # the one-piece-at-a-time evaluation
    assert np.all(np.isfinite(np.array(expected)))
    gathered = joined(steps_array(steps))
    np.testing.assert_array_equal(bits(gathered), bits(expected))
    sample = [*steps[:: max(1, len(steps) // 25)], 2**53]
    side = [joined(mx.array(np.array(s, dtype=U64))) for s in sample]
    assert all(v.dtype == mx.float32 for v in side)
    np.testing.assert_array_equal(bits(mx.stack(side)), bits(reference(joined, sample)))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n", [2, 10, 1000])
def test_joins_of_one_family_equal_the_one_piece_evaluation(family, n):
    check_all_paths(random_join(n, n, [family]))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    n=st.sampled_from([2, 3, 7, 30, 300]),
    families=st.lists(st.sampled_from(sorted(FAMILIES)), min_size=1, max_size=4, unique=True),
)
def test_mixed_joins_equal_the_one_piece_evaluation(seed, n, families):
    check_all_paths(random_join(seed, n, families))


def test_small_step_arrays_go_side_by_side_and_keep_their_shape():
    joined = random_join(1, 40, ["Linear", "CosineDecay", "StepDecay", "Lambda"])
    steps = np.array([[0, 1, 59], [600, 2**53, 2**60]], dtype=np.uint64)
    assert steps.size * len(joined.schedules) <= testing.SIDE_BY_SIDE
    got = joined(mx.array(steps))
    assert got.shape == (2, 3) and got.dtype == mx.float32
    np.testing.assert_array_equal(bits(got).ravel(), bits(reference(joined, steps.ravel())))


@pytest.mark.parametrize("family", [f for f in FAMILIES if f not in ("Lambda", "Scaled")])
def test_every_piece_is_finite_at_every_step_even_where_unused(family):
    """Side by side, every piece of a class is evaluated at every step: all of them must be finite."""
    joined = random_join(7, 50, [family])
    joined(0)  # the plan is built on first use
    stacks = testing.stacks(joined)  # one per combination of non-numeric arguments (staircase, end or none)
    assert sum(len(stack.pieces) for stack in stacks) == 50 and testing.singles(joined) == []
    t = mx.array([[0], [1], [2**24 + 1], [2**53], [2**60]], dtype=mx.int64)
    for stack in stacks:
        every = np.array(stack.values(mx.maximum(t - stack.starts, 0)))
        assert every.shape == (5, len(stack.pieces))
        assert np.all(np.isfinite(every)) and np.all(every > LOWEST)


def test_the_stacked_parameters_are_arrays_not_constants():
    """What lets a compiled join be compiled once: its numbers reach the kernel as arrays."""
    joined = linear_join(100)
    joined(0)
    (stack,) = testing.stacks(joined)
    assert {name: (a.dtype, a.shape) for name, a in stack.rows.items()} == {
        "init": (mx.float32, (100,)),
        "end": (mx.float32, (100,)),
        "steps": (mx.int64, (100,)),
    }


# ScheduledOptimizer evaluates a schedule once per step. --------------------------------------


def test_a_schedule_driving_two_hyperparameters_is_evaluated_once_per_step(monkeypatch):
    calls = []
    original = mlxlr.CosineDecay.formula

    def counting(self, t, start=0):
        calls.append(self)
        return original(self, t, start)

    monkeypatch.setattr(mlxlr.CosineDecay, "formula", counting)
    shared = mlxlr.CosineDecay(0.05, 100, 0.01)
    opt = mlxlr.ScheduledOptimizer(
        optim.AdamW(learning_rate=0.0, weight_decay=0.0),
        learning_rate=shared,
        weight_decay=shared,
        betas=(mlxlr.Linear(0.85, 0.95, 10) >> mlxlr.Constant(0.95), 0.999),
    )
    params = {"w": mx.ones((3,))}
    opt.init(params)
    calls.clear()
    for _ in range(5):
        opt.update(params, {"w": mx.ones((3,))})
    assert len(calls) == 5

    state = [opt.state]
    traced = []

    @partial(mx.compile, inputs=state, outputs=state)
    def step(grads):
        traced.append(1)
        opt.apply_gradients(grads, params)

    calls.clear()
    for _ in range(5):
        step({"w": mx.ones((3,))})
        mx.eval(state)
    assert len(traced) == 1 and len(calls) == 1  # traced once, evaluated once in that trace
    assert math.isclose(opt.learning_rate.item(), shared.at(9), rel_tol=1e-6)
    assert math.isclose(opt.weight_decay.item(), shared.at(9), rel_tol=1e-6)


# values() of a join of a few pieces: each piece on its own slice of the steps. ---------------------------


class Ramp(mlxlr.Schedule):
    """A user schedule (not one of mlxlr's own): the join evaluates it through its __call__."""

    def __call__(self, step):
        return mx.array(step).astype(mx.float32) * 0.5


@pytest.mark.parametrize("count", [1, 4, 5, 6, 12, 13, 40, 1000])
@pytest.mark.parametrize(
    "joined",
    [
        mlxlr.Linear(0.0, 1.0, 5) >> mlxlr.CosineDecay(1.0, 7, 0.1),
        mlxlr.Linear(0.0, 1.0, 5) >> mlxlr.CosineDecay(1.0, 7, 0.1) >> mlxlr.Constant(0.1),
        Join(
            [Ramp(), mlxlr.Lambda(lambda t: mx.sqrt(t.astype(mx.float32))), mlxlr.ExponentialDecay(1.0, 0.9)], [5, 12]
        ),
        Join([mlxlr.Constant(1.0), 2.0 * mlxlr.CosineDecay(1.0, 3).repeat(2), mlxlr.StepDecay(1.0, 0.5, 3)], [1, 7]),
    ],
    ids=stable_id,
)
def test_values_of_a_few_pieces_equal_the_join_at_every_step(joined, count):
    got = joined.values(count)
    assert got.shape == (count,) and got.dtype == mx.float32
    np.testing.assert_array_equal(bits(got), bits(joined(mx.arange(count, dtype=mx.uint64))))


def test_values_evaluate_each_of_a_few_pieces_on_its_own_steps_only(monkeypatch):
    with testing.spans(mlxlr.CosineDecay) as seen:
        (mlxlr.Linear(0.0, 1.0, 1000) >> mlxlr.CosineDecay(1.0, 9000)).values(10**6)
    # its own steps 0 .. 10**6 - 1001, once each, in order (in chunks)
    ends = [start + count for start, count in seen]
    assert [start for start, _ in seen] == [0, *ends[:-1]] and ends[-1] == 10**6 - 1000


def test_values_of_many_pieces_that_do_not_stack_slice_too():
    pieces = [mlxlr.Lambda(lambda t, i=i: t.astype(mx.float32) * i) for i in range(40)]
    joined = Join(pieces, [3 * (i + 1) for i in range(39)])
    np.testing.assert_array_equal(bits(joined.values(130)), bits(joined(mx.arange(130, dtype=mx.uint64))))


def test_values_of_many_stacked_pieces_work_inside_a_compiled_function():
    joined = linear_join(100, length=10)
    expected = joined(mx.arange(2000, dtype=mx.uint64))

    @mx.compile
    def shifted(x):
        return joined.values(2000) + x

    assert_same_values(shifted(mx.array(0.0)), expected)  # compiled: bitwise on the CPU, ulps of the peak on a GPU
    np.testing.assert_array_equal(bits(joined.values(2000)), bits(expected))


# values() over many steps: chunk by chunk. -----------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [
        mlxlr.Linear(0.0, 1.0, CHUNK) >> mlxlr.CosineDecay(1.0, CHUNK + 1, 0.1) >> mlxlr.Constant(0.1),
        mlxlr.Linear(0.0, 1.0, CHUNK - 1) >> mlxlr.CosineDecay(1.0, 3 * CHUNK, 0.1),
        mlxlr.CosineDecay(1.0, 10**5).repeat(3) * mlxlr.ExponentialDecay(1.0, 0.99999) + 0.5,
        linear_join(700, length=311),  # many stacked pieces: the gathered path, pieces across chunk edges
        Join([mlxlr.Constant(0.5), linear_join(40, length=3000), mlxlr.StepDecay(1.0, 0.5, 999)], [17, 17 + 120_000]),
    ],
    ids=lambda s: repr(s)[:60],
)
def test_values_over_several_chunks_equal_the_schedule_at_every_step(schedule):
    count = 3 * CHUNK + 17
    got = schedule.values(count)
    assert got.shape == (count,) and got.dtype == mx.float32
    np.testing.assert_array_equal(bits(got), bits(schedule(mx.arange(count, dtype=mx.uint64))))


def test_values_of_mlxlr_schedules_go_chunk_by_chunk(monkeypatch):
    with testing.spans(mlxlr.CosineDecay) as seen:
        mlxlr.CosineDecay(1.0, 10**6).values(2 * CHUNK + 5)
    assert seen == [(0, CHUNK), (CHUNK, CHUNK), (2 * CHUNK, 5)]


@pytest.mark.parametrize(
    "outside",
    [mlxlr.Lambda(lambda t: mx.ones(t.shape)), mlxlr.ReduceOnPlateau(), Ramp()],
    ids=lambda s: type(s).__name__,
)
def test_values_with_a_part_from_outside_the_step_go_in_one_piece(monkeypatch, outside):
    """A callable, a metric-driven scale or a user schedule may read a traced array: no chunk is evaluated early."""
    schedule = mlxlr.CosineDecay(1.0, 10**6) * outside
    with testing.spans(type(schedule)) as seen:
        got = schedule.values(2 * CHUNK + 5)
    assert seen == [(0, 2 * CHUNK + 5)]
    np.testing.assert_array_equal(bits(got), bits(schedule(mx.arange(2 * CHUNK + 5, dtype=mx.uint64))))


def test_chunked_values_work_inside_a_compiled_function():
    schedule = linear_join(100, length=2000) >> mlxlr.CosineDecay(1.0, 10**5)
    expected = schedule(mx.arange(3 * CHUNK, dtype=mx.uint64))

    @mx.compile
    def shifted(x):
        return schedule.values(3 * CHUNK) + x

    np.testing.assert_array_equal(bits(shifted(mx.array(0.0))), bits(expected))


def test_values_of_a_metric_driven_scale_work_inside_a_compiled_step():
    """Its state is a traced input there: evaluating a chunk early would raise."""
    plateau = mlxlr.ReduceOnPlateau(factor=0.5, patience=0)
    schedule = mlxlr.CosineDecay(1.0, 10**6) * plateau
    state = [plateau.state]

    @partial(mx.compile, inputs=state, outputs=state)
    def total():
        return schedule.values(2 * CHUNK + 5).sum()

    for metric in (1.0, 2.0):
        plateau.observe(metric)
    expected = mx.sum(schedule(mx.arange(2 * CHUNK + 5, dtype=mx.uint64)))
    assert total().item() == expected.item()


# Chains built one piece at a time. -------------------------------------------------------------------------

CHAIN_PIECES = [mlxlr.Linear(1.0, 1.001, 10 + i % 7) for i in range(5_000)]
CHAIN_OPS = {">>": operator.rshift, "+": operator.add, "*": operator.mul}


def python_calls(run) -> int:
    """The Python function calls ``run()`` makes (sys.setprofile): work that does not depend on the machine."""
    calls = 0

    def profile(frame, event, arg):
        nonlocal calls
        calls += event == "call"

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return calls


def build_chain(op, n):
    s = CHAIN_PIECES[0]
    for piece in CHAIN_PIECES[1:n]:
        s = op(s, piece)
    return s


@pytest.mark.parametrize("op", CHAIN_OPS, ids=str)
def test_a_chain_built_one_piece_at_a_time_costs_the_same_per_piece(op):
    """``s = s >> piece`` (and ``+``, ``*``) does a fixed amount of Python work per piece, whatever the length.

    Before, each ``>>`` copied the join and checked all its boundaries again, and ``repr`` rebuilt the chain
    with ``reduce(join, pieces)``: 5000 pieces made 100 times the calls of 500, not 10.
    """

    def run(n):
        return lambda: repr(build_chain(CHAIN_OPS[op], n))

    small, large = python_calls(run(500)), python_calls(run(5_000))
    assert large / small < 10.5, (small, large)


def test_a_join_built_by_shift_refers_to_its_prefix_until_read():
    s = build_chain(operator.rshift, 300)
    prefix = CHAIN_PIECES[0] >> CHAIN_PIECES[1]
    longer = prefix >> CHAIN_PIECES[2]
    assert longer.duration == sum(p.duration for p in CHAIN_PIECES[:3])  # known without gathering the pieces
    assert longer.schedules == tuple(CHAIN_PIECES[:3]) and prefix.schedules == tuple(CHAIN_PIECES[:2])
    assert len(s.schedules) == 300 and s.boundaries == tuple(
        itertools.accumulate(p.duration for p in CHAIN_PIECES[:299])
    )
    assert s == mlxlr.Join(CHAIN_PIECES[:300], list(s.boundaries)) and s.params["schedules"] == CHAIN_PIECES[:300]
    branch_a, branch_b = prefix >> CHAIN_PIECES[5], prefix >> CHAIN_PIECES[6]  # a shared prefix
    assert branch_a.schedules[-1] is CHAIN_PIECES[5] and branch_b.schedules[-1] is CHAIN_PIECES[6]
    assert copy.deepcopy(build_chain(operator.rshift, 3_000)) == build_chain(operator.rshift, 3_000)
    assert pickle.loads(pickle.dumps(build_chain(operator.rshift, 3_000))) == build_chain(operator.rshift, 3_000)
