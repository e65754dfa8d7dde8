"""The schedule lint (mlxlr.lint), and what ScheduledOptimizer does with its schedules at construction."""

from __future__ import annotations

import time
import warnings

import mlx.core as mx
import mlx.optimizers as optim
import pytest

import mlxlr
from mlxlr import REST, epochs, frac

WARMUP_COSINE = mlxlr.Linear(0.0, 1e-3, steps=100) >> mlxlr.CosineDecay(1e-3, decay_steps=900)


@pytest.mark.parametrize(
    "schedule",
    [
        WARMUP_COSINE,
        mlxlr.CosineDecay(1e-3, 950).with_warmup(50),
        mlxlr.WarmupStableDecay(1e-3, 10, 790, 200, decay_shape="1-sqrt"),
        mlxlr.Constant(1e-3).cooldown(800, 200, end=1e-5),
        mlxlr.Linear(0.0, 1e-3, 100) >> mlxlr.Constant(1e-3),
        mlxlr.Linear(0.0, 1e-3, frac(0.1)) >> mlxlr.CosineDecay(1e-3, REST, end=1e-4) >> mlxlr.Constant(1e-4),
        mlxlr.Linear(1.0, 0.0, 100) >> mlxlr.Linear(0.0, 1.0, 900),  # meets at 0: no jump
    ],
    ids=lambda s: repr(s)[:60],
)
def test_a_sound_schedule_has_no_findings(schedule):
    assert mlxlr.lint(schedule, total_steps=1000) == []


def test_the_schedule_ends_before_the_run():
    assert mlxlr.lint(WARMUP_COSINE, total_steps=1500) == [
        "the schedule ends at step 1,000, before the run does (total_steps=1,500): it holds 0 for the last 500 steps",
        "the value is 0 for 500 steps, from step 1,000 to step 1,499",
    ]


def test_the_schedule_is_still_changing_when_the_run_ends():
    assert mlxlr.lint(WARMUP_COSINE, total_steps=800) == [
        "the schedule is still changing when the run ends: it ends at step 1,000, 200 steps after total_steps=800 "
        "(0.0001181 at the run's last step 799, 0 at its end)"
    ]
    assert mlxlr.lint(mlxlr.ExponentialDecay(1.0, 0.99), total_steps=100) == [
        "the schedule is still changing when the run ends (total_steps=100): 0.3697 at step 99, 0.134 at step 200"
    ]
    assert mlxlr.lint(mlxlr.Constant(1.0).for_steps(2000), total_steps=1000) == []  # longer, but settled


def test_a_warmup_as_long_as_the_run():
    (finding,) = [f for f in mlxlr.lint(mlxlr.CosineDecay(1.0, 100).with_warmup(500), 400) if "warmup" in f]
    assert finding == (
        "the warmup lasts as long as the run or longer (total_steps=400): the value rises from 0 at step 0 "
        "to 0.798 at the run's last step 399"
    )
    assert not [f for f in mlxlr.lint(mlxlr.CosineDecay(1.0, 100).with_warmup(399), 500) if "warmup" in f]


def test_negative_and_zero_values():
    assert mlxlr.lint(mlxlr.Linear(1.0, -1.0, 100), total_steps=100) == [
        "the value is negative from step 51 on (the lowest, -0.98, at step 99)"
    ]
    few = mlxlr.PiecewiseConstant([5], [0.0, 1e-3])
    more = mlxlr.PiecewiseConstant([6], [0.0, 1e-3])
    assert mlxlr.lint(few, total_steps=100) == []
    assert mlxlr.lint(more, total_steps=100) == ["the value is 0 for 6 steps, from step 0 to step 5"]


def test_jumps_at_joins():
    stairs = mlxlr.Constant(1e-3).for_steps(100) >> mlxlr.Constant(1e-4).for_steps(100) >> mlxlr.Constant(5e-5)
    assert mlxlr.lint(stairs, total_steps=300) == [
        "the value jumps by a factor of 10 at the join at step 100 (from 0.001 to 0.0001)"
    ]
    assert mlxlr.lint(stairs, total_steps=300, jump=20.0) == []
    restarts = mlxlr.Join([mlxlr.Linear(1.0, 0.0, 100)] * 10, [100 * (i + 1) for i in range(9)])
    assert mlxlr.lint(restarts, total_steps=1000) == [
        "the value jumps from 0 to 1 at the join at step 100",
        "the value jumps from 0 to 1 at the join at step 200",
        "the value jumps from 0 to 1 at the join at step 300",
        "the value jumps at 6 more joins after step 300",
    ]
    assert mlxlr.lint(2 * stairs, total_steps=300) == mlxlr.lint(stairs, total_steps=300)  # through a scale
    with pytest.raises(ValueError, match=r"jump must be a factor > 1, got 1\.0"):
        mlxlr.lint(stairs, jump=1.0)


def test_a_plateau_that_can_never_act():
    lr = mlxlr.CosineDecay(1e-3, 2000) * mlxlr.ReduceOnPlateau(patience=10)
    assert mlxlr.lint(lr, total_steps=2000, steps_per_epoch=200) == [
        "ReduceOnPlateau(patience=10) can never act: it needs 11 observations without improvement, and observed "
        "once an epoch, the run's 10 epochs are fewer"
    ]
    assert mlxlr.lint(lr, total_steps=2000, steps_per_epoch=100) == []
    assert mlxlr.lint(lr, total_steps=2000) == []
    short = mlxlr.Constant(1e-3).for_steps(8) * mlxlr.ReduceOnPlateau(patience=10)
    assert mlxlr.lint(short, total_steps=8) == [
        "ReduceOnPlateau(patience=10) can never act: it needs 11 observations without improvement, and observed "
        "at most once a step, the run's 8 steps are fewer"
    ]


def test_without_a_run_only_the_values():
    assert mlxlr.lint(WARMUP_COSINE) == []
    assert mlxlr.lint(mlxlr.Linear(1.0, -1.0, 100)) == [
        "the value is negative from step 51 on (the lowest, -1, at step 100)"
    ]


def test_units_are_bound_first():
    lr = mlxlr.Linear(0.0, 1e-3, epochs(1)) >> mlxlr.CosineDecay(1e-3, REST)
    assert mlxlr.lint(lr, total_steps=1000, steps_per_epoch=100) == []
    bound = lr.bind(total_steps=1000, steps_per_epoch=100)  # checked against another run: no rebinding
    assert mlxlr.lint(bound, total_steps=2000)[0].startswith("the schedule ends at step 1,000, before the run")
    with pytest.raises(mlxlr.UnboundError, match=r"REST needs total_steps; epochs\(1\) needs steps_per_epoch"):
        mlxlr.lint(lr)


def test_long_runs_are_sampled_and_fast():
    lr = mlxlr.Linear(0.0, 1.0, frac(0.01)) >> mlxlr.CosineDecay(1.0, frac(0.5)) >> mlxlr.Constant(0.0)
    start = time.perf_counter()
    findings = mlxlr.lint(lr, total_steps=10**9)
    assert time.perf_counter() - start < 10
    assert findings == ["the value is 0 for about 490,000,000 steps, from step 510,000,000 to step 999,999,999"]


def test_the_values_are_read_vectorized_never_step_by_step():
    calls: list[tuple[int, ...]] = []

    class Counted(mlxlr.Schedule):
        def __init__(self, steps: int) -> None:
            self.steps = steps

        @property
        def duration(self) -> int:
            return self.steps

        def __call__(self, step):
            t = mlxlr.as_step(step)
            calls.append(t.shape)
            return mx.maximum(1.0 - t.astype(mx.float32) / self.steps, 0.0)

    mlxlr.lint(mlxlr.Linear(0.0, 1.0, 10) >> Counted(10**6 - 10), total_steps=10**6 + 10)
    assert len(calls) < 20, len(calls)


# ScheduledOptimizer binds its schedules and warns the lint at construction. -------------------------------------


def wrapper(total_steps=None, steps_per_epoch=None, **schedules):
    opt = optim.AdamW(learning_rate=0.0, weight_decay=0.0)
    return mlxlr.ScheduledOptimizer(opt, total_steps=total_steps, steps_per_epoch=steps_per_epoch, **schedules)


def test_the_wrapper_binds_every_schedule_and_takes_the_rest_as_it_is():
    lr = mlxlr.Linear(0.0, 1e-3, frac(0.1)) >> mlxlr.CosineDecay(1e-3, REST)
    beta1 = mlxlr.Linear(0.85, 0.95, epochs(1)) >> mlxlr.Constant(0.95)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt = wrapper(1000, 100, learning_rate=lr, betas=(beta1, 0.999), weight_decay=0.1, eps=1e-8)
    assert opt.schedules["learning_rate"] == lr.bind(total_steps=1000)
    assert opt.schedules["betas"] == (beta1.bind(steps_per_epoch=100), 0.999)
    assert opt.schedules["weight_decay"] == mlxlr.Constant(0.1)
    steps = mlxlr.CosineDecay(1e-3, 10)
    assert wrapper(learning_rate=steps).schedules["learning_rate"] is steps


def test_the_wrapper_names_the_hyperparameter_and_what_to_pass():
    with pytest.raises(
        mlxlr.UnboundError,
        match=r"^learning_rate: cannot bind CosineDecay\(init=1\.0, decay_steps=REST\): REST needs total_steps; "
        r"pass total_steps=\.\.\. \(to ScheduledOptimizer\)$",
    ):
        wrapper(learning_rate=mlxlr.CosineDecay(1.0, REST))
    with pytest.raises(mlxlr.UnboundError, match=r"^betas: cannot bind .*epochs\(1\) needs steps_per_epoch; pass st"):
        wrapper(10, betas=(mlxlr.Linear(0.85, 0.95, epochs(1)), 0.999))
    with pytest.raises(ValueError, match=r"total_steps must be a positive int, got 0"):
        wrapper(0, learning_rate=1e-3)
    bound = mlxlr.CosineDecay(1.0, REST).bind(total_steps=100)
    with pytest.raises(ValueError, match=r"^learning_rate: .* was bound with total_steps=100; binding it again"):
        wrapper(200, learning_rate=bound)


def test_the_wrapper_warns_the_learning_rates_findings_once():
    with pytest.warns(mlxlr.LintWarning) as record:
        wrapper(1500, learning_rate=WARMUP_COSINE, weight_decay=mlxlr.Constant(0.0).for_steps(10**4))
    assert len(record) == 1
    assert record[0].filename == __file__  # it points at the line that builds the optimizer
    assert str(record[0].message) == (
        "mlxlr.lint on learning_rate:\n"
        "  - the schedule ends at step 1,000, before the run does (total_steps=1,500): it holds 0 for the last 500 "
        "steps\n"
        "  - the value is 0 for 500 steps, from step 1,000 to step 1,499"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wrapper(learning_rate=WARMUP_COSINE)  # no run, no lint
        wrapper(1000, learning_rate=WARMUP_COSINE)
