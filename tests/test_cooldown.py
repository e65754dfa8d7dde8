"""A cooldown from any step, and the resume recipe of docs/units.md: a run continued with a changed schedule.

ScheduledOptimizer keeps only the step (and the values it used) in its state, so a
checkpoint loads into a wrapper built with another schedule, say the same one
with a cooldown from the step the run reached, or a longer one, and the run
continues on the new schedule from the resumed step.
"""

from __future__ import annotations

from functools import partial

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import pytest
from mlx.utils import tree_flatten, tree_unflatten

import mlxlr
from conftest import assert_same_values
from mlxlr import REST, frac


def train(model, opt, steps: int, seen: list[tuple[int, float]]) -> None:
    """``steps`` compiled AdamW updates; records (the step an update used, its learning rate)."""
    state = [model.state, opt.state]
    loss_and_grad = nn.value_and_grad(model, lambda m, x, y: nn.losses.mse_loss(m(x), y))

    @partial(mx.compile, inputs=state, outputs=state)
    def step(x, y):
        loss, grads = loss_and_grad(model, x, y)
        opt.update(model, grads)
        return loss

    for _ in range(steps):
        x = mx.random.normal((16, 8))
        step(x, x.sum(axis=1, keepdims=True))
        mx.eval(state)
        seen.append((opt.step.item() - 1, opt.learning_rate.item()))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # A constant run (warmup-stable), cooled down from a checkpoint: the WSD recipe decided late.
        pytest.param(
            mlxlr.Linear(0.0, 1e-2, 10) >> mlxlr.Constant(1e-2),
            lambda s: s.cooldown(at=40, steps=30, shape="1-sqrt"),
            id="cooldown-of-a-constant-run",
        ),
        # A cosine run made longer, then cooled down from where it is.
        pytest.param(
            mlxlr.Linear(0.0, 1e-2, 10) >> mlxlr.CosineDecay(1e-2, 90, end=1e-3),
            lambda s: (mlxlr.Linear(0.0, 1e-2, 10) >> mlxlr.CosineDecay(1e-2, 190, end=1e-3)).cooldown(45, 25),
            id="longer-then-cooldown",
        ),
    ],
)
def test_a_run_resumed_with_a_new_cooldown_follows_the_new_schedule(tmp_path, before, after):
    mx.random.seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    mx.eval(model.parameters())
    opt = mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0), learning_rate=before)
    opt.init(model.trainable_parameters())
    seen: list[tuple[int, float]] = []
    train(model, opt, 35, seen)
    model.save_weights(str(tmp_path / "model.safetensors"))
    mx.save_safetensors(str(tmp_path / "opt.safetensors"), dict(tree_flatten(opt.state)))
    assert [k for k, _ in seen] == list(range(35))
    # compiled against eager: bitwise on the CPU, within the GPU's bound there (conftest.PEAK_ULPS)
    assert_same_values([v for _, v in seen], [before(k).item() for k in range(35)], peak=1e-2)

    # A new process, in effect: new model, new wrapper with the changed schedule, the checkpoint loaded.
    new = after(before)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    model.load_weights(str(tmp_path / "model.safetensors"))
    resumed = mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0), learning_rate=new)
    resumed.init(model.trainable_parameters())
    resumed.state = tree_unflatten(list(mx.load(str(tmp_path / "opt.safetensors")).items()))
    assert resumed.step.item() == 35
    seen = []
    train(model, resumed, 40, seen)
    assert [k for k, _ in seen] == list(range(35, 75))
    assert_same_values([v for _, v in seen], [new(k).item() for k in range(35, 75)], peak=1e-2)
    assert seen[-1][1] == pytest.approx(new.end if hasattr(new, "end") else 0.0, abs=1e-9)


def test_the_cooldown_starts_from_the_value_at_its_step():
    run = mlxlr.Linear(0.0, 1.0, 10) >> mlxlr.CosineDecay(1.0, 990, end=0.1)
    cooled = run.cooldown(500, 100, shape="cosine", end=0.0)
    assert cooled.at(499) == run.at(499) and cooled.at(500) == run.at(500)
    assert cooled.at(550) == pytest.approx(run.at(500) / 2, rel=1e-6) and cooled.at(600) == 0.0
    assert cooled.duration == 600


def test_a_cooldown_in_units():
    lr = mlxlr.Constant(3e-4).with_warmup(frac(0.01)).cooldown(REST, frac(0.2), shape="1-sqrt")
    assert repr(lr) == "Constant(value=0.0003).with_warmup(frac(0.01)).cooldown(REST, frac(0.2), shape='1-sqrt')"
    assert lr.bind(total_steps=10_000) == mlxlr.Constant(3e-4).with_warmup(100).cooldown(8000, 2000, shape="1-sqrt")
    assert lr.bind(total_steps=10_000).duration == 10_000
