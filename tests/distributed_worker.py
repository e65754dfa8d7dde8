"""Data-parallel training for ``test_distributed.py``: one rank of ``mlx.launch --backend ring -n 2``.

Run by the launcher as ``python tests/distributed_worker.py OUT_DIR``: each rank
trains the same model on its half of every batch, averages gradients with
``mlx.nn.average_gradients`` inside the compiled step, and writes its final
parameters and the learning rate of every update to ``OUT_DIR/rank{r}.safetensors``
(and ``OUT_DIR/ring{r}.ok`` once the ring backend is up, so that the test
can tell a machine without a working ring from a failure of the training).

:func:`train` with no group is the single-process reference on the whole
batch: the mean loss over each half, averaged over the two ranks, is the
mean loss over the whole batch, so the averaged gradient is the full-batch one.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
from mlx.utils import tree_flatten

import mlxlr

STEPS = 20
BATCH = 16  # split evenly over the ranks


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(6, 16)
        self.out = nn.Linear(16, 1)

    def __call__(self, x: mx.array) -> mx.array:
        return self.out(nn.tanh(self.hidden(x)))


def batch(step: int) -> tuple[mx.array, mx.array]:
    """The whole batch of ``step``, the same in every process."""
    x = mx.random.normal((BATCH, 6), key=mx.random.key(step))
    y = mx.cos(x[:, :1] * 2.0) + 0.5 * x[:, 1:2]
    return x, y


def loss_fn(model: MLP, x: mx.array, y: mx.array) -> mx.array:
    return nn.losses.mse_loss(model(x), y, reduction="mean")


def make_schedule() -> mlxlr.Schedule:
    return mlxlr.Linear(0.0, 0.2, steps=5) >> mlxlr.CosineDecay(0.2, decay_steps=15, end=1e-2)


def make_model() -> MLP:
    mx.random.seed(7)  # the same initial weights on every rank
    model = MLP()
    mx.eval(model.parameters())
    return model


def initial_parameters() -> dict[str, mx.array]:
    return dict(tree_flatten(make_model().parameters()))


def train(group: mx.distributed.Group | None) -> dict[str, mx.array]:
    """Trains ``STEPS`` steps on this rank's share of each batch (all of it without a group)."""
    model = make_model()
    opt = mlxlr.ScheduledOptimizer(optim.SGD(learning_rate=0.0, momentum=0.9), learning_rate=make_schedule())
    opt.init(model.trainable_parameters())
    state = [model.state, opt.state]
    loss_and_grad = nn.value_and_grad(model, loss_fn)

    @partial(mx.compile, inputs=state, outputs=state)
    def step(x: mx.array, y: mx.array) -> mx.array:
        loss, grads = loss_and_grad(model, x, y)
        if group is not None:
            grads = nn.average_gradients(grads, group=group)
        opt.update(model, grads)
        return loss

    rank, size = (group.rank(), group.size()) if group is not None else (0, 1)
    share = BATCH // size
    lrs = []
    for k in range(STEPS):
        x, y = batch(k)
        step(x[rank * share : (rank + 1) * share], y[rank * share : (rank + 1) * share])
        mx.eval(state)
        lrs.append(mx.array(opt.learning_rate))
    out = {f"param.{k}": v for k, v in tree_flatten(model.parameters())}
    out["lr_log"] = mx.stack(lrs)
    out["step"] = opt.step
    return out


# Local metrics of each rank for the plateau check: alone, rank 0 reduces at its 4th observation, rank 1 at its 7th.
METRICS = ([1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9], [1.0, 0.8, 0.6, 0.4, 0.2, 0.45, 0.5])


def plateau_scales(rank: int, average: bool) -> mx.array:
    """The learning rate's plateau scale after each observation of this rank's local metrics."""
    plateau = mlxlr.ReduceOnPlateau(factor=0.5, patience=1)
    opt = mlxlr.ScheduledOptimizer(optim.SGD(learning_rate=0.0), learning_rate=0.1 * plateau)
    scales = []
    for metric in METRICS[rank]:
        opt.observe(mx.array(metric), average=average)
        scales.append(plateau.state["scale"])
    return mx.stack(scales)


def main(out: Path) -> None:
    group = mx.distributed.init(strict=True, backend="ring")
    if group.size() != 2:
        raise SystemExit(f"expected 2 ranks, got {group.size()}")
    mx.eval(mx.distributed.all_sum(mx.array(1.0), group=group))
    (out / f"ring{group.rank()}.ok").touch()  # the ring backend works here: any later failure is ours
    result = train(group)
    result["plateau_average"] = plateau_scales(group.rank(), average=True)
    result["plateau_local"] = plateau_scales(group.rank(), average=False)
    mx.save_safetensors(str(out / f"rank{group.rank()}.safetensors"), result)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
