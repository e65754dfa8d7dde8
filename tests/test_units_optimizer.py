"""ScheduledOptimizer(..., total_steps=, steps_per_epoch=, tokens_per_step=): binding at fit time, and the lint.

The optimizer calls ``mlxlr._run.prepare`` on its schedules (and its groups')
first thing in ``__init__`` (``tests/test_lint.py`` tests the hook itself).
"""

from __future__ import annotations

import warnings
from functools import partial

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import pytest
from mlx.utils import tree_flatten, tree_unflatten

import mlxlr
from mlxlr import REST, epochs, frac, tokens
from test_kernels import compiled_training_step, kernels

LR = mlxlr.Linear(0.0, 1e-3, steps=frac(0.1)) >> mlxlr.CosineDecay(1e-3, decay_steps=REST, end=1e-4)


def test_total_steps_binds_the_schedules_at_construction():
    opt = mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0), learning_rate=LR, total_steps=1000)
    bound = LR.bind(total_steps=1000)
    assert opt.schedules["learning_rate"] == bound
    assert bound == mlxlr.Linear(0.0, 1e-3, 100) >> mlxlr.CosineDecay(1e-3, 900, end=1e-4)
    params = {"w": mx.ones((3,))}
    opt.init(params)
    for k in range(120):
        params = opt.apply_gradients({"w": mx.full((3,), 0.5)}, params)
        assert opt.learning_rate.item() == bound(k).item(), k


def test_epochs_and_tokens_bind_every_hyperparameter():
    beta1 = mlxlr.Linear(0.85, 0.95, epochs(2)) >> mlxlr.Constant(0.95)
    wd = 0.1 * mlxlr.Linear(1.0, 0.0, tokens(10**9))
    opt = mlxlr.ScheduledOptimizer(
        optim.AdamW(learning_rate=0.0, weight_decay=0.0),
        learning_rate=LR,
        betas=(beta1, 0.999),
        weight_decay=wd,
        total_steps=5000,
        steps_per_epoch=250,
        tokens_per_step=2**20,
    )
    assert opt.schedules["betas"][0] == mlxlr.Linear(0.85, 0.95, 500) >> mlxlr.Constant(0.95)
    assert opt.schedules["weight_decay"] == 0.1 * mlxlr.Linear(1.0, 0.0, 954)  # 10**9 / 2**20 = 953.7


def test_a_schedule_in_units_without_its_numbers_is_named():
    with pytest.raises(mlxlr.UnboundError, match=r"learning_rate: .*REST need total_steps; pass total_steps"):
        mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0), learning_rate=LR)
    with pytest.raises(mlxlr.UnboundError, match=r"betas: .*epochs\(2\) needs steps_per_epoch"):
        mlxlr.ScheduledOptimizer(
            optim.Adam(learning_rate=0.0), betas=(mlxlr.Linear(0.85, 0.95, epochs(2)), 0.999), total_steps=10
        )


def test_a_schedule_bound_with_other_numbers_is_refused():
    with pytest.raises(ValueError, match=r"was bound with total_steps=1000; binding it again with total_steps=2000"):
        mlxlr.ScheduledOptimizer(
            optim.AdamW(learning_rate=0.0), learning_rate=LR.bind(total_steps=1000), total_steps=2000
        )


def test_the_lint_warns_once_with_total_steps():
    steps = mlxlr.Linear(0.0, 1e-3, 100) >> mlxlr.CosineDecay(1e-3, 900)
    with pytest.warns(mlxlr.LintWarning, match=r"the schedule ends at step 1,000, before the run does") as record:
        mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0), learning_rate=steps, total_steps=2000)
    assert len(record) == 1 and record[0].filename == __file__  # points at the line that built the optimizer
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0), learning_rate=steps, total_steps=1000)
        mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0), learning_rate=steps)  # no run, no lint


def test_binding_adds_no_kernel_to_the_compiled_step(tmp_path):
    graphs = []
    for make in (
        lambda: mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0), learning_rate=LR, total_steps=1000),
        lambda: mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0), learning_rate=LR.bind(total_steps=1000)),
    ):
        step, state = compiled_training_step(make)
        graphs.append(kernels(tmp_path, step(), state))
    assert graphs[0] == graphs[1]


def test_a_checkpoint_resumes_into_a_wrapper_built_with_the_same_numbers(tmp_path):
    model = nn.Linear(4, 1)
    mx.eval(model.parameters())
    opt = mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0), learning_rate=LR, total_steps=200)
    opt.init(model.trainable_parameters())
    state = [model.state, opt.state]
    loss_and_grad = nn.value_and_grad(model, lambda m, x: (m(x) ** 2).mean())

    @partial(mx.compile, inputs=state, outputs=state)
    def step(x):
        loss, grads = loss_and_grad(model, x)
        opt.update(model, grads)
        return loss

    for _ in range(30):
        step(mx.ones((2, 4)))
        mx.eval(state)
    mx.save_safetensors(str(tmp_path / "opt.safetensors"), dict(tree_flatten(opt.state)))
    fresh = mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0), learning_rate=LR, total_steps=200)
    fresh.init(model.trainable_parameters())
    fresh.state = tree_unflatten(list(mx.load(str(tmp_path / "opt.safetensors")).items()))
    assert fresh.step.item() == 30
    fresh.update(model, {"weight": mx.zeros((1, 4)), "bias": mx.zeros((1,))})
    assert fresh.learning_rate.item() == LR.bind(total_steps=200)(30).item()


def test_group_schedules_bind_too():
    opt = mlxlr.ScheduledOptimizer(
        optim.AdamW(learning_rate=0.0),
        learning_rate=LR,
        groups={"*.bias": {"learning_rate": 0.1 * LR}},
        total_steps=1000,
    )
    bound = LR.bind(1000)
    assert opt.schedules["learning_rate"] == bound
    assert opt.groups["*.bias"]["learning_rate"] == 0.1 * bound
