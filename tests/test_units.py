"""Units of a run (frac, epochs, tokens, REST): unbound schedules, binding, and what binding gives."""

from __future__ import annotations

import copy
import json
import math
import pickle

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlxlr
from examples import trees
from mlxlr import REST, epochs, frac, tokens
from mlxlr import testing as mt
from test_kernels import compiled_training_step, kernels


def nearest(x: float) -> int:
    """The nearest whole step, halves up, at least 1: written independently of the library."""
    return max(1, math.floor(x + 0.5))


# Units. ------------------------------------------------------------------------------------------------------


def test_units_are_frozen_values_written_as_calls():
    assert repr(frac(0.05)) == "frac(0.05)"
    assert repr(epochs(3)) == "epochs(3)"
    assert repr(epochs(0.5)) == "epochs(0.5)"
    assert repr(tokens(375e6)) == "tokens(375_000_000)"
    assert repr(tokens(1234)) == "tokens(1234)"
    assert repr(REST) == "REST"
    assert frac(0.05) == frac(0.05) and hash(frac(0.05)) == hash(frac(0.05))
    assert epochs(3) == epochs(3.0) and tokens(375e6) == tokens(375_000_000)
    assert frac(0.5) != epochs(0.5) and frac(0.5) != 0.5
    assert copy.deepcopy(REST) == REST and pickle.loads(pickle.dumps(frac(0.1))) == frac(0.1)
    with pytest.raises(AttributeError):
        frac(0.1).value = 0.2  # type: ignore[misc]
    assert frac(1) == frac(1.0) and frac(np.float64(0.25)) == frac(0.25)


def test_a_schedule_with_units_is_unbound_until_bound():
    s = mlxlr.Linear(0.0, 1.0, steps=frac(0.1)) >> mlxlr.CosineDecay(1.0, decay_steps=REST)
    assert not s.bound and isinstance(s, mlxlr.Schedule)
    message = r"is unbound: frac\(0\.1\), REST need total_steps; call \.bind\(total_steps=\.\.\.\) first"
    for use in (lambda: s(3), lambda: s.at(3), lambda: s.values(10), lambda: s.values(), lambda: s.duration):
        with pytest.raises(mlxlr.UnboundError, match=message):
            use()
    assert issubclass(mlxlr.UnboundError, ValueError)
    bound = s.bind(total_steps=1000)
    assert bound.bound and bound == mlxlr.Linear(0.0, 1.0, 100) >> mlxlr.CosineDecay(1.0, 900)


def test_the_message_names_every_binding_needed():
    s = mlxlr.Linear(0.0, 1.0, epochs(2)) >> mlxlr.Constant(1.0).for_steps(tokens(10**6)) >> mlxlr.Linear(1, 0, REST)
    with pytest.raises(mlxlr.UnboundError) as info:
        s(0)
    text = str(info.value)
    assert "REST needs total_steps; epochs(2) needs steps_per_epoch; tokens(1_000_000) needs tokens_per_step" in text
    assert ".bind(total_steps=..., steps_per_epoch=..., tokens_per_step=...)" in text
    with pytest.raises(mlxlr.UnboundError, match=r"epochs\(2\) needs steps_per_epoch; .*pass steps_per_epoch=\.\.\."):
        s.bind(total_steps=10**4, tokens_per_step=1000)


# Conversion and rounding. ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "binding", "steps"),
    [
        (frac(0.05), {"total_steps": 1000}, 50),
        (frac(0.05), {"total_steps": 1010}, 51),  # 50.5: halves up
        (frac(0.05), {"total_steps": 1009}, 50),  # 50.45
        (frac(0.05), {"total_steps": 10}, 1),  # 0.5 -> 1
        (frac(0.01), {"total_steps": 10}, 1),  # 0.1 -> at least 1
        (frac(0.1), {"total_steps": 5}, 1),  # 0.5 exactly (0.1 as written, not the float nearest it)
        (frac(0.3), {"total_steps": 5}, 2),  # 1.5 -> 2
        (frac(1.0), {"total_steps": 12345}, 12345),
        (epochs(3), {"steps_per_epoch": 390}, 1170),
        (epochs(0.5), {"steps_per_epoch": 391}, 196),  # 195.5
        (tokens(375e6), {"tokens_per_step": 3.2e6}, 117),  # 117.1875
        (tokens(10**6), {"tokens_per_step": 2048 * 512}, 1),  # 0.95
        (tokens(2**40), {"tokens_per_step": 2**20}, 2**20),
    ],
    ids=str,
)
def test_a_unit_is_the_nearest_whole_step(unit, binding, steps):
    assert mlxlr.Linear(0.0, 1.0, steps=unit).bind(**binding) == mlxlr.Linear(0.0, 1.0, steps=steps)


def test_gpt3_token_recipe_gives_the_steps_the_paper_implies():
    """GPT-3 (Brown et al. 2020, appendix B): warmup over 375M tokens, cosine decay to 10% over 260B tokens,
    then 10%; the 175B model took 3.2M tokens per batch (its learning rate 0.6e-4)."""
    peak, batch = 0.6e-4, 3.2e6
    recipe = (
        mlxlr.Linear(0.0, peak, steps=tokens(375e6))
        >> mlxlr.CosineDecay(peak, decay_steps=tokens(260e9), end=0.1 * peak)
        >> mlxlr.Constant(0.1 * peak)
    )
    assert repr(recipe).startswith("Linear(init=0.0, end=6e-05, steps=tokens(375_000_000)) >> CosineDecay(")
    warmup, decay = round(375e6 / batch), round(260e9 / batch)
    assert (warmup, decay) == (117, 81_250)
    bound = recipe.bind(tokens_per_step=batch)
    assert bound == (
        mlxlr.Linear(0.0, peak, steps=warmup)
        >> mlxlr.CosineDecay(peak, decay_steps=decay, end=0.1 * peak)
        >> mlxlr.Constant(0.1 * peak)
    )
    assert bound.boundaries == (117, 117 + 81_250)
    # The 125M model: 0.5M tokens per batch, learning rate 6e-4.
    small = mlxlr.parse(repr(recipe).replace("6e-05", "0.0006").replace("6e-06", "6e-05"))
    assert small.bind(tokens_per_step=0.5e6).boundaries == (750, 750 + 520_000)


# REST and the recipes. -------------------------------------------------------------------------------------

TOTALS = [1, 7, 997, 1000, 1001, 12_345, 10**6 + 3, 3 * 10**9 + 7]


def recipes(total: int) -> list[tuple[mlxlr.Schedule, mlxlr.Schedule]]:
    """(the recipe in units, the same recipe in steps for ``total``), the steps computed here."""
    w, d = nearest(0.05 * total), nearest(0.2 * total)
    half, three_q = nearest(0.5 * total), nearest(0.75 * total)
    return [
        (
            mlxlr.Linear(0.0, 3e-4, steps=frac(0.05)) >> mlxlr.CosineDecay(3e-4, decay_steps=REST, end=3e-5),
            mlxlr.Linear(0.0, 3e-4, steps=w) >> mlxlr.CosineDecay(3e-4, decay_steps=total - w, end=3e-5),
        ),
        (
            mlxlr.CosineDecay(1e-3, REST).with_warmup(frac(0.05)),
            mlxlr.CosineDecay(1e-3, total - w).with_warmup(w),
        ),
        (
            mlxlr.Linear(0.0, 1e-3, frac(0.05))
            >> mlxlr.Constant(1e-3).for_steps(REST)
            >> mlxlr.Linear(1e-3, 0, frac(0.2)),
            mlxlr.Linear(0.0, 1e-3, w) >> mlxlr.Constant(1e-3).for_steps(total - w - d) >> mlxlr.Linear(1e-3, 0, d),
        ),
        (
            mlxlr.WarmupStableDecay(1e-3, frac(0.05), REST, frac(0.2), decay_shape="1-sqrt"),
            mlxlr.WarmupStableDecay(1e-3, w, total - w - d, d, decay_shape="1-sqrt"),
        ),
        (
            mlxlr.Constant(1e-3).cooldown(REST, frac(0.2), shape="1-sqrt"),
            mlxlr.Constant(1e-3).cooldown(total - d, d, shape="1-sqrt"),
        ),
        (
            mlxlr.MultiStepDecay(0.1, [frac(0.5), frac(0.75)]).for_steps(frac(1.0)),
            mlxlr.MultiStepDecay(0.1, [half, three_q]).for_steps(total),
        ),
        (
            mlxlr.OneCycle(1e-3, total_steps=REST, pct_start=0.25),
            mlxlr.OneCycle(1e-3, total_steps=total, pct_start=0.25),
        ),
        (
            0.1 * mlxlr.Linear(1.0, 0.0, frac(1.0)),
            0.1 * mlxlr.Linear(1.0, 0.0, total),
        ),
    ]


@pytest.mark.parametrize("total", [t for t in TOTALS if t >= 20])
@pytest.mark.parametrize("index", range(8))
def test_recipes_in_fractions_equal_the_same_recipes_in_steps(total, index):
    units, steps = recipes(total)[index]
    bound = units.bind(total_steps=total)
    assert bound == steps and hash(bound) == hash(steps) and repr(bound) == repr(steps)
    if index not in (5,):  # the others are written to last the whole run
        assert bound.duration == total
    probe = np.unique(np.clip(np.r_[0:20, total // 2 - 3 : total // 2 + 3, total - 20 : total + 3], 0, None))
    t = mx.array(probe, dtype=mx.int64)
    np.testing.assert_array_equal(np.array(bound(t)), np.array(steps(t)))


def test_rest_makes_a_join_of_fractions_last_exactly_the_run():
    third = frac(1 / 3)
    thirds = mlxlr.Linear(0, 1, third) >> mlxlr.Constant(1.0).for_steps(third) >> mlxlr.Linear(1, 0, REST)
    naive = mlxlr.Linear(0, 1, third) >> mlxlr.Constant(1.0).for_steps(third) >> mlxlr.Linear(1, 0, third)
    for total in range(3, 200):
        assert thirds.bind(total_steps=total).duration == total
    assert {naive.bind(total_steps=t).duration - t for t in range(3, 200)} == {-1, 0, 1}  # rounding adds up


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(10, 10**12),
    parts=st.lists(st.floats(0.001, 0.3), min_size=1, max_size=3),
)
def test_rest_absorbs_the_rounding_of_any_fractions(total, parts):
    pieces = [mlxlr.Linear(0.0, 1.0, frac(p)) for p in parts]
    s = pieces[0]
    for piece in pieces[1:]:
        s = s >> piece
    s = s >> mlxlr.CosineDecay(1.0, REST)
    bound = s.bind(total_steps=total)
    steps = [nearest(float(repr(p)) * total) for p in parts]  # as written: repr(p) reads back as p
    assert bound.duration == total
    assert list(bound.boundaries) == list(np.cumsum(steps))
    assert bound.schedules[-1] == mlxlr.CosineDecay(1.0, total - sum(steps))


def test_rest_where_the_other_pieces_leave_no_room():
    s = mlxlr.Linear(0, 1, frac(0.5)) >> mlxlr.Linear(1, 0, 600) >> mlxlr.CosineDecay(1.0, REST)
    assert s.bind(total_steps=2000).schedules[-1] == mlxlr.CosineDecay(1.0, 400)
    with pytest.raises(ValueError, match=r"REST would be -100 steps: the other pieces of .* take 1100 of total_steps="):
        s.bind(total_steps=1000)


def test_rest_inside_a_product_spans_the_run():
    s = mlxlr.CosineDecay(1.0, REST) * (mlxlr.Linear(0.0, 1.0, frac(0.1)) >> mlxlr.Constant(1.0))
    bound = s.bind(total_steps=500)
    assert bound == mlxlr.CosineDecay(1.0, 500) * (mlxlr.Linear(0.0, 1.0, 50) >> mlxlr.Constant(1.0))


def test_rest_before_a_constant_tail_ends_with_the_run():
    s = mlxlr.Linear(0, 1, frac(0.1)) >> mlxlr.CosineDecay(1.0, REST, end=0.1) >> mlxlr.Constant(0.1)
    assert s.bind(total_steps=1000).boundaries == (100, 1000)


# What binding gives: the same ordinary tree. ----------------------------------------------------------------


def test_a_bound_schedule_is_the_tree_written_in_steps():
    units = mlxlr.Linear(0.0, 1.0, frac(0.01)) >> mlxlr.Join(
        [mlxlr.Linear(1.0, 0.5, frac(0.01)) for _ in range(30)], [frac((i + 1) / 100) for i in range(29)]
    )
    bound = units.bind(total_steps=10_000)
    steps = mlxlr.Linear(0.0, 1.0, 100) >> mlxlr.Join(
        [mlxlr.Linear(1.0, 0.5, 100) for _ in range(30)], [100 * (i + 1) for i in range(29)]
    )
    assert bound == steps and type(bound) is type(steps)
    assert [(g.family, g.pieces) for g in mt.stacks(bound)] == [(g.family, g.pieces) for g in mt.stacks(steps)]
    assert mt.singles(bound) == mt.singles(steps)
    assert vars(bound).keys() == vars(steps).keys()
    np.testing.assert_array_equal(np.array(bound.values(4000)), np.array(steps.values(4000)))


def test_operators_fold_after_binding_as_they_fold_in_steps():
    w = mlxlr.Linear(0.0, 1.0, frac(0.1))
    bound = (2 * (3 * w) + 1 - 1).bind(total_steps=100)
    steps = 2 * (3 * mlxlr.Linear(0.0, 1.0, 10)) + 1 - 1
    assert bound == steps and isinstance(bound, mlxlr.Scaled) and bound.factor == 6.0
    ten = mlxlr.Linear(0.0, 1.0, 10)
    assert (-w).bind(total_steps=100) == -ten and (-(w * 1)).bind(total_steps=100) == -ten
    assert (w / 4).bind(total_steps=100) == ten / 4
    assert (w >> (w >> w)).bind(total_steps=100) == ten >> ten >> ten


def test_binding_adds_no_kernel_to_a_compiled_step(tmp_path):
    units = mlxlr.Linear(0.0, 1e-3, steps=frac(0.1)) >> mlxlr.CosineDecay(1e-3, decay_steps=REST, end=1e-4)
    bound = units.bind(total_steps=1000)
    steps = mlxlr.Linear(0.0, 1e-3, steps=100) >> mlxlr.CosineDecay(1e-3, decay_steps=900, end=1e-4)
    graphs = []
    for schedule in (bound, steps):
        fn = mx.compile(lambda t, s=schedule: s(t))
        step = mx.array(5, dtype=mx.uint64)
        mx.eval(fn(step))
        graphs.append(kernels(tmp_path, fn(step)))
    assert graphs[0] == graphs[1] and len(graphs[0]) == 1
    trained = []
    for schedule in (bound, steps):
        step_fn, state = compiled_training_step(
            lambda s=schedule: mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0), learning_rate=s)
        )
        trained.append(kernels(tmp_path, step_fn(), state))
    assert trained[0] == trained[1]


# Binding: arguments, repeats, the function. ----------------------------------------------------------------


def test_bind_on_a_schedule_in_steps_returns_it():
    s = mlxlr.CosineDecay(1.0, 100)
    assert s.bound and s.bind() is s and s.bind(total_steps=5, steps_per_epoch=2, tokens_per_step=8) is s
    assert mlxlr.bind(s, total_steps=100) is s


def test_binding_twice_with_other_numbers_is_refused():
    units = mlxlr.Linear(0.0, 1.0, frac(0.5))
    bound = units.bind(total_steps=100)
    assert bound.bind(total_steps=100) is bound and bound.bind(steps_per_epoch=7) is bound
    with pytest.raises(ValueError, match=r"was bound with total_steps=100; binding it again with total_steps=200"):
        bound.bind(total_steps=200)
    with pytest.raises(ValueError, match=r"was bound with total_steps=100; binding it again with total_steps=200"):
        (bound >> mlxlr.Linear(1.0, 0.0, frac(0.5))).bind(total_steps=200)
    assert units.bind(total_steps=200) == mlxlr.Linear(0.0, 1.0, 100)  # the unbound one binds anew
    equal = mlxlr.Linear(0.0, 1.0, 50)  # equal to a bound one, but written in steps: nothing to refuse
    assert equal.bind(total_steps=200) is equal


def test_extra_numbers_are_fine():
    s = mlxlr.Linear(0.0, 1.0, epochs(2))
    assert s.bind(total_steps=10, steps_per_epoch=3, tokens_per_step=4) == mlxlr.Linear(0.0, 1.0, 6)


def test_units_in_every_duration_argument():
    cases = [
        (mlxlr.CosineDecay(1.0, epochs(2)), mlxlr.CosineDecay(1.0, 20)),
        (mlxlr.PolynomialDecay(1.0, epochs(2), power=2.0), mlxlr.PolynomialDecay(1.0, 20, power=2.0)),
        (mlxlr.InverseTimeDecay(1.0, epochs(1), 0.5), mlxlr.InverseTimeDecay(1.0, 10, 0.5)),
        (mlxlr.InverseSqrt(1.0, epochs(1), timescale=epochs(3)), mlxlr.InverseSqrt(1.0, 10, 30)),
        (mlxlr.ExponentialDecay(1.0, 0.5, decay_steps=epochs(1)), mlxlr.ExponentialDecay(1.0, 0.5, 10)),
        (mlxlr.StepDecay(1.0, 0.1, step_size=epochs(30)), mlxlr.StepDecay(1.0, 0.1, 300)),
        (mlxlr.step_decay(1.0, 0.1, epochs(30)), mlxlr.StepDecay(1.0, 0.1, 300)),
        (mlxlr.MultiStepDecay(1.0, [epochs(30), 500]), mlxlr.MultiStepDecay(1.0, [300, 500])),
        (
            mlxlr.PiecewiseConstant([epochs(1), epochs(2)], [1.0, 0.5, 0.1]),
            mlxlr.PiecewiseConstant([10, 20], [1.0, 0.5, 0.1]),
        ),
        (mlxlr.CosineRestarts(1.0, first_period=epochs(1), period_mult=2.0), mlxlr.CosineRestarts(1.0, 10, 2.0)),
        (mlxlr.Cyclic(0.1, 1.0, epochs(2), epochs(3)), mlxlr.Cyclic(0.1, 1.0, 20, 30)),
        (mlxlr.OneCycle(1.0, total_steps=epochs(10)), mlxlr.OneCycle(1.0, 100)),
        (mlxlr.WarmupStableDecay(1.0, epochs(1), epochs(5), epochs(4)), mlxlr.WarmupStableDecay(1.0, 10, 50, 40)),
        (mlxlr.Join([mlxlr.Constant(1.0), mlxlr.Constant(2.0)], [epochs(1)]), mlxlr.Join([1.0, 2.0], [10])),
        (mlxlr.join_schedules([mlxlr.Constant(1.0), mlxlr.Constant(2.0)], [epochs(1)]), mlxlr.Join([1.0, 2.0], [10])),
        (mlxlr.Constant(1.0).with_warmup(epochs(1)), mlxlr.Constant(1.0).with_warmup(10)),
        (mlxlr.Constant(1.0).for_steps(epochs(1)), mlxlr.Constant(1.0).for_steps(10)),
        (mlxlr.Constant(1.0).cooldown(epochs(1), epochs(2)), mlxlr.Constant(1.0).cooldown(10, 20)),
        (mlxlr.Linear(0, 1, epochs(1)).repeat(3).stretch(2), mlxlr.Linear(0, 1, 10).repeat(3).stretch(2)),
        (mlxlr.Linear(0, 1, epochs(1)).clip(hi=0.5), mlxlr.Linear(0, 1, 10).clip(hi=0.5)),
        (mlxlr.OneCycle(1.0, epochs(10)).momentum(), mlxlr.OneCycle(1.0, 100).momentum()),
    ]
    for units, steps in cases:
        assert not units.bound, units
        assert units.bind(steps_per_epoch=10) == steps, units


def test_a_user_class_declares_its_durations():
    class Halving(mlxlr.Schedule):
        _durations = ("every",)

        def __init__(self, init: float, every: int) -> None:
            if init <= 0:
                raise ValueError(f"init must be > 0, got {init!r}")
            self.init, self.every = init, every

        def __call__(self, step):
            return self.init * 0.5 ** (mlxlr.as_step(step) // self.every).astype(mx.float32)

    s = Halving(1.0, every=epochs(2))
    assert repr(s) == "Halving(init=1.0, every=epochs(2))"
    bound = s.bind(steps_per_epoch=5)
    assert isinstance(bound, Halving) and bound.every == 10 and bound.at(25) == 0.25
    with pytest.raises(ValueError, match=r"init must be > 0, got -1"):
        Halving(-1, every=epochs(2))

    class Plain(mlxlr.Schedule):
        def __init__(self, every: int) -> None:
            self.every = every

        def __call__(self, step):
            return mx.zeros(mlxlr.as_step(step).shape)

    with pytest.raises(TypeError, match=r"every of Plain is not a duration, got frac\(0\.5\); it declares no duration"):
        Plain(frac(0.5))


# Round trips of unbound schedules. -----------------------------------------------------------------------

_w = mlxlr.Linear(0.0, 3e-4, steps=frac(0.05))
UNBOUND = [
    _w,
    _w >> mlxlr.CosineDecay(3e-4, decay_steps=REST),
    _w >> mlxlr.CosineDecay(3e-4, REST, end=3e-5) >> mlxlr.Constant(3e-5),
    mlxlr.Linear(0.0, 6e-5, tokens(375e6)) >> mlxlr.CosineDecay(6e-5, tokens(260e9), end=6e-6),
    mlxlr.MultiStepDecay(0.1, [epochs(30), epochs(60), 10_000]),
    mlxlr.PiecewiseConstant([frac(0.5)], [1.0, 0.1]),
    mlxlr.Join([mlxlr.Constant(1.0), _w], boundaries=[frac(0.25)]),
    mlxlr.CosineDecay(1e-3, REST).with_warmup(frac(0.1), init=1e-5),
    mlxlr.Constant(1e-3).cooldown(REST, frac(0.2), shape="1-sqrt", end=1e-5),
    mlxlr.WarmupStableDecay(1e-3, frac(0.01), REST, frac(0.1)),
    2 * _w + 1,
    1 - _w,
    _w - 1e-5,
    -_w,
    _w / 4,
    _w * mlxlr.Linear(1.0, 0.5, 100),
    mlxlr.Linear(1.0, 0.5, 100) / (1 + _w),
    (_w >> mlxlr.Constant(3e-4)).clip(hi=2e-4),
    _w.repeat(3).stretch(0.5),
    mlxlr.Sum(_w, mlxlr.Constant(1.0)),
    mlxlr.Scaled(_w, 3.0),
    mlxlr.Linear(0.0, 1.0, 10) >> _w,
    (mlxlr.Linear(0.0, 1.0, 10) >> mlxlr.Linear(1.0, 0.0, 10)) >> _w,
    mlxlr.OneCycle(1e-3, REST).momentum(),
]


@pytest.mark.parametrize("schedule", UNBOUND, ids=lambda s: repr(s)[:70])
def test_unbound_schedules_read_back_from_repr_and_configs(schedule):
    assert not schedule.bound
    assert mlxlr.parse(repr(schedule)) == schedule
    assert repr(mlxlr.parse(repr(schedule))) == repr(schedule)
    config = json.loads(json.dumps(schedule.to_config()))
    rebuilt = mlxlr.from_config(config)
    assert rebuilt == schedule and hash(rebuilt) == hash(schedule)
    bindings = {"total_steps": 100_000, "steps_per_epoch": 100, "tokens_per_step": 10**6}
    assert mlxlr.parse(repr(schedule)).bind(**bindings) == schedule.bind(**bindings)


def test_the_config_of_units():
    s = _w >> mlxlr.CosineDecay(3e-4, decay_steps=REST)
    assert s.to_config() == {
        "operator": ">>",
        "operands": [
            {"type": "Linear", "init": 0.0, "end": 3e-4, "steps": {"unit": "frac", "value": 0.05}},
            {"type": "CosineDecay", "init": 3e-4, "decay_steps": {"unit": "rest"}, "end": 0.0},
        ],
    }
    assert mlxlr.MultiStepDecay(1.0, [epochs(2), tokens(10**9)]).to_config()["milestones"] == [
        {"unit": "epochs", "value": 2},
        {"unit": "tokens", "value": 10**9},
    ]


def _linear(steps: object) -> dict[str, object]:
    return {"type": "Linear", "init": 0, "end": 1, "steps": steps}


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [
        (
            _linear({"unit": "hours", "value": 2}),
            ValueError,
            r"config\.steps\.unit must be one of 'frac', 'epochs', 'tokens', 'rest', got 'hours'",
        ),
        (
            _linear({"unit": "frac", "value": 2}),
            ValueError,
            r"config\.steps: frac\(p\) takes a fraction of the run in \(0, 1\], got 2",
        ),
        (
            _linear({"unit": "frac"}),
            TypeError,
            r"config\.steps: a frac unit has the keys \['unit', 'value'\], got \['unit'\]",
        ),
        (_linear({"unit": "rest", "value": 1}), TypeError, r"a rest unit has the keys \['unit'\]"),
        (
            {"operator": "**", "operands": []},
            ValueError,
            r"config\.operator must be one of '\+', '-', '\*', '/', 'neg', '>>', got '\*\*'",
        ),
        ({"operator": "+", "operands": [1, 2, 3]}, TypeError, r"config\.operands must be a list of 2 operands"),
        (
            {"operator": "+", "operands": [{"type": "Constant", "value": 1.0}, 2]},
            ValueError,
            r"config: an operation holds a schedule written in units",
        ),
    ],
)
def test_bad_unit_configs_give_their_path(config, error, message):
    with pytest.raises(error, match=message):
        mlxlr.from_config(config)


# Checks at construction. ------------------------------------------------------------------------------


def test_plain_arguments_are_checked_at_construction():
    with pytest.raises(TypeError, match=r"init must be a real number, got 'a' \(str\)"):
        mlxlr.Linear("a", 1.0, frac(0.1))
    with pytest.raises(ValueError, match=r"pct_start must be in \[0, 1\], got 2\.0"):
        mlxlr.OneCycle(1.0, REST, pct_start=2.0)
    with pytest.raises(ValueError, match=r"decay_shape must be one of"):
        mlxlr.WarmupStableDecay(1.0, frac(0.1), REST, frac(0.1), decay_shape="exp")
    with pytest.raises(ValueError, match=r"shape must be one of 'linear', 'cosine', '1-sqrt', got 'cos'"):
        mlxlr.Constant(1.0).cooldown(REST, frac(0.1), shape="cos")
    with pytest.raises(ValueError, match=r"lo must not exceed hi"):
        _w.clip(lo=1.0, hi=0.5)
    with pytest.raises(ValueError, match=r"the left side of >> must have a duration, got the unbounded Constant"):
        mlxlr.Constant(1.0) >> _w
    with pytest.raises(ValueError, match=r"unbounded ExponentialDecay\(init=1, decay_rate=0\.5, decay_steps=epochs"):
        mlxlr.ExponentialDecay(1, 0.5, decay_steps=epochs(1)) >> _w
    with pytest.raises(ValueError, match=r"cannot divide a schedule by 0, got Linear\(.*steps=frac\(0\.05\)\) / 0"):
        _w / 0
    # Arguments whose check depends on the steps are checked when bound.
    s = mlxlr.MultiStepDecay(1.0, [frac(0.5), 300])
    assert s.bind(total_steps=400) == mlxlr.MultiStepDecay(1.0, [200, 300])
    with pytest.raises(ValueError, match=r"milestones must increase strictly, got \[500, 300\]"):
        s.bind(total_steps=1000)


def test_the_fraction_as_written_even_near_a_half():
    # 0.35 * 10 is 3.4999999999999996 in floats; as written it is 3.5, which rounds up.
    assert mlxlr.Linear(0, 1, frac(0.35)).bind(total_steps=10).steps == 4


# Random trees with units spliced in. -------------------------------------------------------------------

SPLICES = [
    ("warmup", lambda s, d: s.with_warmup(d)),
    ("for_steps", lambda s, d: s.for_steps(d)),
    ("cooldown", lambda s, d: s.cooldown(d, d, shape="cosine")),
    ("after", lambda s, d: mlxlr.Linear(0.0, 1.0, d) >> s),
    ("before", lambda s, d: s.for_steps(17) >> mlxlr.Linear(1.0, 0.0, d)),
    ("times", lambda s, d: s * mlxlr.Linear(1.0, 0.5, d)),
    ("plus", lambda s, d: 1 - (s + mlxlr.Linear(0.0, 1.0, d) / 4)),
    ("join", lambda s, d: mlxlr.Join([s, mlxlr.Constant(0.5)], [d])),
]


@settings(max_examples=40, deadline=None)
@given(
    tree=trees(max_leaves=4),
    splice=st.sampled_from(SPLICES),
    p=st.floats(0.001, 1.0),
    total=st.integers(1, 10**7),
)
def test_units_spliced_into_random_trees_bind_to_the_tree_in_steps(tree, splice, p, total):
    _, build = splice
    units = build(tree, frac(p))
    steps = build(tree, nearest(float(repr(p)) * total))
    assert not units.bound
    assert mlxlr.parse(repr(units)) == units
    assert mlxlr.from_config(json.loads(json.dumps(units.to_config()))) == units
    bound = units.bind(total_steps=total)
    assert bound == steps and repr(bound) == repr(steps)
    t = mx.array([0, 1, 16, 17, total // 2, total, 2 * total + 5], dtype=mx.int64)
    np.testing.assert_array_equal(np.array(bound(t)), np.array(steps(t)))


def test_unbound_schedules_copy_and_pickle():
    s = mlxlr.Linear(0.0, 1.0, frac(0.1)) >> mlxlr.CosineDecay(1.0, REST)
    for other in (copy.copy(s), copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert other == s and not other.bound
        assert other.bind(total_steps=100) == s.bind(total_steps=100)
