"""What a schedule adds to a compiled step, counted in kernels (structural facts, no timings).

A compiled function's outputs, before they are evaluated, hold the graph MLX
will run: fused elementwise kernels (``Compiled...`` primitives) and the
operations it could not fuse. ``mx.export_to_dot`` writes that graph; the
operations that launch work are counted here (views are not).
"""

from __future__ import annotations

import math
import re
from functools import partial

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
import pytest
from mlx.utils import tree_flatten

import mlxlr
from conftest import assert_same_values, stable_id

VIEWS = {"Broadcast", "ExpandDims", "Reshape", "Squeeze", "Transpose"}


def kernels(tmp_path, *outputs) -> list[str]:
    """The operations that launch work in the graph of ``outputs`` (unevaluated), by primitive name."""
    arrays = [a for _, a in tree_flatten(list(outputs)) if isinstance(a, mx.array)]
    path = tmp_path / "graph.dot"
    mx.export_to_dot(str(path), *arrays)
    names = re.findall(r'label ="?([A-Za-z_]+)', path.read_text())
    return [name for name in names if name not in VIEWS]


def compiled_training_step(make_optimizer):
    """A compiled AdamW step of a two-layer MLP, after ``init``; returns the step and its state."""
    mx.random.seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    x, y = mx.random.normal((8, 16)), mx.random.normal((8, 4))
    opt = make_optimizer()
    opt.init(model.trainable_parameters())
    mx.eval(model.parameters(), opt.state)
    loss_and_grad = nn.value_and_grad(model, lambda m: nn.losses.mse_loss(m(x), y))
    state = [model.state, opt.state]

    @partial(mx.compile, inputs=state, outputs=state)
    def step():
        loss, grads = loss_and_grad(model)
        opt.update(model, grads)
        return loss

    mx.eval(step(), state)  # traced and compiled
    return step, state


def warmup_cosine():
    return mlxlr.Linear(0.0, 1e-3, steps=100) >> mlxlr.CosineDecay(1e-3, decay_steps=900, end=1e-4)


def test_a_scheduled_learning_rate_adds_no_kernel_to_the_compiled_step(tmp_path):
    constant, state = compiled_training_step(lambda: optim.AdamW(learning_rate=1e-3))
    baseline = kernels(tmp_path, constant(), state)
    scheduled, state = compiled_training_step(
        lambda: mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0), learning_rate=warmup_cosine())
    )
    ours = kernels(tmp_path, scheduled(), state)
    # The step's increment, the schedule and its int64 conversion fuse into one kernel, which
    # replaces the constant step's lone increment.
    assert len(ours) == len(baseline), (ours, baseline)
    assert "Add" in baseline and "Add" not in ours
    fused = [k for k in ours if k.startswith("CompiledAdd") and "Sin" in k]
    assert len(fused) == 1, ours


@pytest.mark.parametrize(
    "hypers",
    [
        pytest.param({"weight_decay": 0.01 * (mlxlr.Linear(1.0, 0.5, steps=100) >> mlxlr.Constant(0.5))}, id="wd"),
        pytest.param({"betas": (mlxlr.Linear(0.85, 0.95, steps=100) >> mlxlr.Constant(0.95), 0.999)}, id="beta1"),
        pytest.param(
            {
                "weight_decay": 0.01 * (mlxlr.Linear(1.0, 0.5, steps=100) >> mlxlr.Constant(0.5)),
                "betas": (mlxlr.Linear(0.85, 0.95, steps=100) >> mlxlr.Constant(0.95), 0.999),
            },
            id="wd and beta1",
        ),
    ],
)
def test_each_further_schedule_adds_one_kernel(tmp_path, hypers):
    """Schedules that compute alike (here: ramps as long as the warmup) share no node that splits their kernels."""

    def constant():
        betas = tuple(mx.array(b) for b in (0.9, 0.999)) if "betas" in hypers else (0.9, 0.999)
        return optim.AdamW(learning_rate=1e-3, weight_decay=0.01 if "weight_decay" in hypers else 0.0, betas=betas)

    step, state = compiled_training_step(constant)  # scheduled betas are arrays in the update: so are these
    baseline = kernels(tmp_path, step(), state)
    step, state = compiled_training_step(
        lambda: mlxlr.ScheduledOptimizer(
            optim.AdamW(learning_rate=0.0, weight_decay=0.0), learning_rate=warmup_cosine(), **hypers
        )
    )
    ours = kernels(tmp_path, step(), state)
    assert len(ours) <= len(baseline) + len(hypers), (ours, baseline)


@pytest.mark.parametrize(
    "schedule",
    [
        pytest.param(warmup_cosine, id="Linear >> CosineDecay"),
        pytest.param(lambda: mlxlr.CosineDecay(1.0, 1000, 0.1), id="CosineDecay"),
        pytest.param(lambda: mlxlr.Linear(0.85, 0.95, 100) >> mlxlr.Constant(0.95), id="Linear >> Constant"),
        pytest.param(
            lambda: mlxlr.Linear(0, 1, 10) >> mlxlr.Constant(1.0).for_steps(80) >> mlxlr.CosineDecay(1, 10),
            id="warmup-stable-decay",
        ),
    ],
)
def test_a_compiled_schedule_is_one_kernel(tmp_path, schedule):
    s = schedule()
    fn = mx.compile(lambda step: s(step))
    step = mx.array(5, dtype=mx.uint64)
    mx.eval(fn(step))
    assert len(kernels(tmp_path, fn(step))) == 1, kernels(tmp_path, fn(step))


def test_the_wrapped_optimizer_follows_the_wrappers_step():
    inner = optim.Adam(learning_rate=0.0)
    params = {"w": mx.ones((3,))}
    inner.init(params)
    inner.state["step"] = mx.array(500, dtype=mx.uint64)  # a step of its own, ahead of the wrapper's
    opt = mlxlr.ScheduledOptimizer(inner, learning_rate=warmup_cosine())
    for k in range(1, 4):
        opt.update(params, {"w": mx.ones((3,))})
        assert opt.state["optimizer"]["step"] is opt.state["step"]
        assert opt.step.item() == inner.step.item() == k


def test_the_wrapped_optimizer_uses_the_same_step_in_its_update():
    # Adam's bias correction reads the wrapped optimizer's step: it must be the wrapper's.
    params = {"w": mx.array([1.0, -2.0, 3.0])}
    grads = {"w": mx.array([0.5, 0.25, -1.0])}
    native = optim.Adam(learning_rate=1e-2, bias_correction=True)
    wrapped = mlxlr.ScheduledOptimizer(optim.Adam(learning_rate=0.0, bias_correction=True), learning_rate=1e-2)
    a, b = dict(params), dict(params)
    for _ in range(5):
        a = native.apply_gradients(grads, a)
        b = wrapped.apply_gradients(grads, b)
    np.testing.assert_array_equal(np.array(a["w"]), np.array(b["w"]))


@pytest.mark.parametrize("step", [2**60 + 1, 2**63])
def test_loading_a_step_beyond_the_largest_raises(step):
    opt = mlxlr.ScheduledOptimizer(optim.SGD(learning_rate=0.0), learning_rate=warmup_cosine())
    state = dict(opt.state)
    state["step"] = mx.array(np.array(step, dtype=np.uint64))  # MLX cannot build 2**63 from a Python int
    with pytest.raises(ValueError, match=rf"state\['step'\] must be an integer in \[0, 2\*\*60\], got {step}"):
        opt.state = state
    assert opt.step.item() == 0


@pytest.mark.parametrize(
    "schedule",
    [
        mlxlr.Linear(0.0, 1.0, 7),
        mlxlr.Linear(1.0, -1.0, 10**9),
        mlxlr.CosineDecay(1.0, 9, 0.1),
        mlxlr.CosineDecay(0.0, 10**9, 1.0),
        mlxlr.Constant(0.5),
        mlxlr.ExponentialDecay(1.0, 0.9),
        mlxlr.Linear(0.0, 1.0, 5) >> mlxlr.CosineDecay(1.0, 7) >> mlxlr.Constant(0.5),
    ],
    ids=stable_id,
)
@pytest.mark.parametrize("start", [0, 1, 13, 2**40])
def test_evaluating_from_a_start_equals_evaluating_the_local_step(schedule, start):
    local = np.unique(np.r_[0:20, 2**24 - 3 : 2**24 + 3, 10**9 - 3 : 10**9 + 3, 2**53])
    t = mx.array(local + start, dtype=mx.int64)
    got = schedule.formula(t, start)
    np.testing.assert_array_equal(np.array(got), np.array(schedule.formula(mx.array(local, dtype=mx.int64))))
    below = schedule.formula(mx.array(np.arange(start), dtype=mx.int64), start) if start < 100 else None
    if below is not None:  # a join's unused branch: any value, but finite
        assert all(math.isfinite(v) for v in np.array(below).tolist())


def test_several_schedules_give_their_values_at_every_step_compiled():
    """The first schedule runs from the incremented step, each further one from a step of its own: same values."""
    lr, wd = warmup_cosine(), 0.01 * (mlxlr.Linear(1.0, 0.5, steps=100) >> mlxlr.Constant(0.5))
    beta1 = mlxlr.Linear(0.85, 0.95, steps=100) >> mlxlr.Constant(0.95)
    opt = mlxlr.ScheduledOptimizer(
        optim.AdamW(learning_rate=0.0, weight_decay=0.0), learning_rate=lr, weight_decay=wd, betas=(beta1, 0.999)
    )
    params = {"w": mx.ones((3,))}
    opt.init(params)
    step = mx.compile(lambda g, p: opt.apply_gradients({"w": g}, p), inputs=opt.state, outputs=opt.state)
    for k in [*range(105), *range(105, 1000, 97)]:
        if k > 105:  # jump: resume at step k
            opt.state = {**opt.state, "step": mx.array(k, dtype=mx.uint64)}
        params = step(mx.full((3,), 0.5), params)
        got = [opt.state[name] for name in ("learning_rate", "weight_decay")] + [opt.state["betas"][0]]
        want = [s(k) for s in (lr, wd, beta1)]
        for g, w, s in zip(got, want, (lr, wd, beta1)):
            assert_same_values(g, w, peak=float(np.max(np.abs(np.array(s(mx.arange(1000)))))), err_msg=str(k))
