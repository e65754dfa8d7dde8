"""A real trainer: mlx-lm's ``mlx_lm.tuner.trainer.train`` with a ``ScheduledOptimizer``.

A tiny Llama built from mlx-lm's own model classes (random weights, no
download) trains a few iterations on random tokens. The learning rate the
trainer reports after every iteration must be the schedule's value for the
update just made, and the run must equal the same run with MLX's own
scheduled AdamW. Skipped without mlx-lm; ``nox -s trainer`` installs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mlx_lm")

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
from mlx.utils import tree_flatten
from mlx_lm.models import llama
from mlx_lm.tuner.callbacks import TrainingCallback
from mlx_lm.tuner.trainer import TrainingArgs, train

import mlxlr

VOCAB = 64


class Recorder(TrainingCallback):
    """Keeps what the trainer reports: the iteration and the learning rate, after every iteration."""

    def __init__(self) -> None:
        self.reports: list[tuple[int, float]] = []

    def on_train_loss_report(self, train_info: dict[str, Any]) -> None:
        self.reports.append((train_info["iteration"], train_info["learning_rate"]))


def tiny_llama() -> llama.Model:
    mx.random.seed(0)
    args = llama.ModelArgs(
        model_type="llama",
        hidden_size=32,
        num_hidden_layers=2,
        intermediate_size=64,
        num_attention_heads=4,
        num_key_value_heads=2,
        rms_norm_eps=1e-5,
        vocab_size=VOCAB,
    )
    model = llama.Model(args)
    mx.eval(model.parameters())
    return model


def dataset(count: int) -> list[tuple[list[int], int]]:
    """Random token sequences as mlx-lm's datasets give them: (tokens, prompt offset)."""
    rng = np.random.default_rng(0)
    return [(rng.integers(1, VOCAB, size=int(rng.integers(9, 17))).tolist(), 0) for _ in range(count)]


def run(optimizer: optim.Optimizer, tmp_path: Path, iters: int, accumulation: int = 1) -> tuple[Any, Recorder]:
    model = tiny_llama()
    recorder = Recorder()
    np.random.seed(0)  # mlx-lm shuffles batches with NumPy's global generator
    args = TrainingArgs(
        batch_size=2,
        iters=iters,
        steps_per_report=1,
        steps_per_eval=10**6,
        steps_per_save=10**6,
        max_seq_length=32,
        adapter_file=str(tmp_path / "adapters.safetensors"),
        grad_accumulation_steps=accumulation,
    )
    train(model, optimizer, dataset(8), args=args, training_callback=recorder)
    return model, recorder


def schedule() -> mlxlr.Schedule:
    return mlxlr.Linear(0.0, 1e-2, steps=3) >> mlxlr.CosineDecay(1e-2, decay_steps=5, end=1e-3)


ITERS = 8


def test_trainer_uses_the_schedules_learning_rate_at_every_update(tmp_path: Path) -> None:
    lr = schedule()
    opt = mlxlr.ScheduledOptimizer(
        optim.AdamW(learning_rate=0.0, weight_decay=0.0),
        learning_rate=lr,
        weight_decay=mlxlr.Linear(0.05, 0.0, steps=ITERS),
    )
    before = dict(tree_flatten(tiny_llama().parameters()))
    model, recorder = run(opt, tmp_path, ITERS)
    assert [it for it, _ in recorder.reports] == list(range(1, ITERS + 1))
    # After iteration ``it`` the trainer reads the rate update ``it - 1`` used.
    assert [rate for _, rate in recorder.reports] == [lr.at(k) for k in range(ITERS)]
    assert opt.step.item() == ITERS and opt.optimizer.step.item() == ITERS
    after = dict(tree_flatten(model.parameters()))
    assert any(not np.array_equal(np.array(before[k]), np.array(after[k])) for k in before)


def test_trainer_with_gradient_accumulation_reports_the_last_update(tmp_path: Path) -> None:
    lr = schedule()
    opt = mlxlr.ScheduledOptimizer(optim.Adam(learning_rate=0.0), learning_rate=lr)
    _, recorder = run(opt, tmp_path, ITERS, accumulation=2)
    # Updates happen at iterations 2, 4, ...; before the first one the rate is schedule(0).
    expected = [lr.at(max(it // 2 - 1, 0)) for it in range(1, ITERS + 1)]
    assert [rate for _, rate in recorder.reports] == expected
    assert opt.step.item() == ITERS // 2


def test_trainer_run_equals_mlxs_own_scheduled_optimizer(tmp_path: Path) -> None:
    """The seed functions take MLX's arguments: swapping MLX's schedule for mlxlr's changes nothing."""
    native = optim.AdamW(
        learning_rate=optim.join_schedules(
            [optim.linear_schedule(0.0, 1e-2, 3), optim.cosine_decay(1e-2, 5, 1e-3)], [3]
        ),
        weight_decay=0.01,
    )
    wrapped = mlxlr.ScheduledOptimizer(
        optim.AdamW(learning_rate=0.0, weight_decay=0.01),
        learning_rate=mlxlr.join_schedules(
            [mlxlr.linear_schedule(0.0, 1e-2, 3), mlxlr.cosine_decay(1e-2, 5, 1e-3)], [3]
        ),
    )
    native_model, native_log = run(native, tmp_path, ITERS)
    wrapped_model, wrapped_log = run(wrapped, tmp_path, ITERS)
    np.testing.assert_allclose(
        [r for _, r in wrapped_log.reports], [r for _, r in native_log.reports], rtol=1e-6, atol=0
    )
    native_params = dict(tree_flatten(native_model.parameters()))
    for key, value in tree_flatten(wrapped_model.parameters()):
        np.testing.assert_allclose(np.array(value), np.array(native_params[key]), rtol=1e-5, atol=1e-6, err_msg=key)
