"""Training process for ``test_resume.py``: a small MLP under ``mx.compile`` with three schedules.

Run as ``python tests/resume_worker.py MODE OUT_DIR`` with ``PYTHONPATH=src``:

- ``full``: trains steps 0..99 and writes ``OUT_DIR/full.safetensors``
  (final parameters and the learning rate each update used).
- ``first``: trains steps 0..36, writes the checkpoint
  ``OUT_DIR/model.safetensors`` and ``OUT_DIR/opt.safetensors`` (and the
  learning rates so far in ``OUT_DIR/lr_log.safetensors``), then kills
  itself with SIGKILL: nothing after the checkpoint runs, no interpreter
  shutdown, no flush of anything else.
- ``second``: a fresh model (other initial weights) and a fresh wrapper load
  the checkpoint, train to step 100 and write ``OUT_DIR/second.safetensors``.
- ``second-prebuilt``: as ``second``, but the compiled step is built (traced
  and run once) before the checkpoint is loaded into the captured state.

Every mode also records how many times the training step was traced.
"""

from __future__ import annotations

import os
import signal
import sys
from functools import partial
from pathlib import Path

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
from mlx.utils import tree_flatten, tree_unflatten

import mlxlr

TOTAL = 100
CHECKPOINT = 37


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(8, 32)
        self.out = nn.Linear(32, 1)

    def __call__(self, x: mx.array) -> mx.array:
        return self.out(nn.gelu(self.hidden(x)))


def make_optimizer() -> mlxlr.ScheduledOptimizer:
    return mlxlr.ScheduledOptimizer(
        optim.AdamW(learning_rate=0.0, weight_decay=0.0),
        learning_rate=mlxlr.Linear(0.0, 1e-2, steps=10) >> mlxlr.CosineDecay(1e-2, decay_steps=90, end=1e-4),
        weight_decay=mlxlr.Linear(0.1, 0.01, steps=TOTAL),
        betas=(mlxlr.Linear(0.85, 0.95, steps=TOTAL), 0.999),
    )


def batch(step: int) -> tuple[mx.array, mx.array]:
    """The batch of step ``step``: a pure function of the step, the same in every process."""
    key = mx.random.key(1000 + step)
    x = mx.random.normal((16, 8), key=key)
    y = mx.sin(x.sum(axis=1, keepdims=True))
    return x, y


def loss_fn(model: MLP, x: mx.array, y: mx.array) -> mx.array:
    return nn.losses.mse_loss(model(x), y)


class Trainer:
    def __init__(self, seed: int) -> None:
        mx.random.seed(seed)
        self.model = MLP()
        mx.eval(self.model.parameters())
        self.opt = make_optimizer()
        self.opt.init(self.model.trainable_parameters())
        self.traces = 0
        self.lrs: list[mx.array] = []
        state = [self.model.state, self.opt.state]
        loss_and_grad = nn.value_and_grad(self.model, loss_fn)

        @partial(mx.compile, inputs=state, outputs=state)
        def train_step(x: mx.array, y: mx.array) -> mx.array:
            self.traces += 1  # Python runs only while MLX traces
            loss, grads = loss_and_grad(self.model, x, y)
            self.opt.update(self.model, grads)
            return loss

        self.train_step = train_step
        self.state = state

    def run(self, stop: int) -> None:
        """Trains from the optimizer's step up to ``stop``, feeding each step its own batch."""
        start = int(self.opt.step.item())
        for step in range(start, stop):
            self.train_step(*batch(step))
            mx.eval(self.state)
            self.lrs.append(mx.array(self.opt.learning_rate))
        if self.opt.step.item() != max(start, stop):
            raise RuntimeError(f"the optimizer's step is {self.opt.step.item()} after training to {stop}")

    def load(self, out: Path) -> None:
        self.model.update(tree_unflatten(list(mx.load(str(out / "model.safetensors")).items())))
        self.opt.state = tree_unflatten(list(mx.load(str(out / "opt.safetensors")).items()))
        self.lrs = list(mx.load(str(out / "lr_log.safetensors"))["lr_log"])
        mx.eval(self.state)

    def results(self) -> dict[str, mx.array]:
        out = {f"param.{k}": v for k, v in tree_flatten(self.model.parameters())}
        out["lr_log"] = mx.stack(self.lrs)
        out["traces"] = mx.array(self.traces)
        out["step"] = self.opt.step
        return out


def main(mode: str, out: Path) -> None:
    if mode == "full":
        trainer = Trainer(seed=0)
        trainer.run(TOTAL)
        mx.save_safetensors(str(out / "full.safetensors"), trainer.results())
    elif mode == "first":
        trainer = Trainer(seed=0)
        trainer.run(CHECKPOINT)
        mx.save_safetensors(str(out / "model.safetensors"), dict(tree_flatten(trainer.model.parameters())))
        mx.save_safetensors(str(out / "opt.safetensors"), dict(tree_flatten(trainer.opt.state)))
        mx.save_safetensors(str(out / "lr_log.safetensors"), {"lr_log": mx.stack(trainer.lrs)})
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    elif mode in ("second", "second-prebuilt"):
        trainer = Trainer(seed=1)  # other initial weights: only the checkpoint can make the runs agree
        if mode == "second-prebuilt":
            trainer.train_step(*batch(0))  # traces and runs the compiled step before loading
            mx.eval(trainer.state)
        trainer.load(out)
        trainer.run(TOTAL)
        mx.save_safetensors(str(out / f"{mode}.safetensors"), trainer.results())
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
