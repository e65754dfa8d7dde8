"""Resuming training from a checkpoint, across processes, bit for bit.

The training itself lives in ``resume_worker.py`` (a small MLP, AdamW with a
scheduled learning rate, weight decay and first beta, under ``mx.compile``).
One process trains 100 steps uninterrupted; another checkpoints at step 37
and is killed with SIGKILL; fresh processes load the checkpoint (one of them
into a compiled step already built) and train to 100. Parameters and the
learning rate of every update must equal the uninterrupted run exactly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_unflatten

import mlxlr
import resume_worker as worker

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("resume_worker.py")
TIMEOUT = 60


def _env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(ROOT / "src"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def _start(mode: str, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, str(out)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        output, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        pytest.fail(f"{proc.args} ran over {TIMEOUT} s:\n{output}")
    return proc.returncode, output


def _bits(value: mx.array) -> np.ndarray:
    """The raw bytes of an array, so that equality is bitwise (and -0.0 != 0.0)."""
    array = np.array(value)
    return array.view(np.uint8).reshape(-1)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Runs the four processes once for the module and returns their output folder."""
    out = tmp_path_factory.mktemp("resume")
    full, first = _start("full", out), _start("first", out)
    code, output = _finish(full)
    assert code == 0, output
    code, output = _finish(first)
    assert code == -signal.SIGKILL, f"the first run should die by SIGKILL after its checkpoint:\n{output}"
    assert (out / "model.safetensors").exists() and (out / "opt.safetensors").exists()
    for proc in [_start("second", out), _start("second-prebuilt", out)]:
        code, output = _finish(proc)
        assert code == 0, output
    return out


@pytest.mark.parametrize("mode", ["second", "second-prebuilt"])
def test_resumed_run_equals_uninterrupted_run_bitwise(runs: Path, mode: str) -> None:
    full = mx.load(str(runs / "full.safetensors"))
    resumed = mx.load(str(runs / f"{mode}.safetensors"))
    assert set(resumed) == set(full)
    params = sorted(k for k in full if k.startswith("param."))
    assert len(params) == 4
    for key in [*params, "lr_log"]:
        assert full[key].dtype == resumed[key].dtype, key
        assert np.array_equal(_bits(full[key]), _bits(resumed[key])), f"{key} differs after resuming ({mode})"
    assert full["lr_log"].shape == (worker.TOTAL,)
    assert resumed["step"].dtype == mx.uint64 and resumed["step"].item() == worker.TOTAL
    assert resumed["traces"].item() == 1, "the compiled step was traced again after loading"


def test_checkpoint_holds_the_step_every_schedule_and_the_wrapped_state(runs: Path) -> None:
    saved = mx.load(str(runs / "opt.safetensors"))
    assert saved["step"].dtype == mx.uint64 and saved["step"].item() == worker.CHECKPOINT
    assert saved["optimizer.step"].item() == worker.CHECKPOINT
    assert {"learning_rate", "weight_decay", "betas.0", "betas.1"} <= set(saved)
    assert any(k.endswith(".m") for k in saved) and any(k.endswith(".v") for k in saved)
    # The values saved are those the 37th update (step 36) used.
    opt = worker.make_optimizer()
    step = worker.CHECKPOINT - 1
    assert saved["learning_rate"].item() == opt.schedules["learning_rate"].at(step)
    assert saved["betas.0"].item() == opt.schedules["betas"][0].at(step)
    assert mx.load(str(runs / "lr_log.safetensors"))["lr_log"].shape == (worker.CHECKPOINT,)


def test_resuming_without_the_optimizer_state_differs(runs: Path) -> None:
    """The control: the model's weights alone (step, moments and schedules back at 0) do not resume the run."""
    trainer = worker.Trainer(seed=1)
    trainer.model.update(tree_unflatten(list(mx.load(str(runs / "model.safetensors")).items())))
    trainer.run(worker.TOTAL - worker.CHECKPOINT)
    full = mx.load(str(runs / "full.safetensors"))
    assert not np.array_equal(np.array(trainer.model.hidden.weight), np.array(full["param.hidden.weight"]))


def test_loading_into_another_schedule_set_names_both_sets(runs: Path) -> None:
    loaded = tree_unflatten(list(mx.load(str(runs / "opt.safetensors")).items()))
    other = mlxlr.ScheduledOptimizer(
        optim.AdamW(learning_rate=0.0, weight_decay=0.0),
        learning_rate=mlxlr.CosineDecay(1e-2, decay_steps=100),
    )
    before = dict(tree_flatten(other.state))
    with pytest.raises(
        ValueError,
        match=r"schedules \['betas', 'learning_rate', 'weight_decay'\], but this one schedules \['learning_rate'\]",
    ):
        other.state = loaded
    after = dict(tree_flatten(other.state))
    assert before.keys() == after.keys() and all(before[k] is after[k] for k in before), "a refused load changed state"

    more = mlxlr.ScheduledOptimizer(
        optim.AdamW(learning_rate=0.0, weight_decay=0.0, eps=1e-8),
        learning_rate=mlxlr.CosineDecay(1e-2, decay_steps=100),
        weight_decay=0.1,
        betas=(0.9, 0.999),
        eps=mlxlr.Constant(1e-8),
    )
    with pytest.raises(ValueError, match=r"\['betas', 'learning_rate', 'weight_decay'\].*\['betas', 'eps', 'learning"):
        more.state = loaded


def _checkpoint(trainer: worker.Trainer) -> dict[str, mx.array]:
    return dict(tree_flatten(trainer.opt.state))


@pytest.mark.parametrize("prebuilt", [False, True])
def test_int32_step_is_coerced_to_uint64_without_retrace(prebuilt: bool) -> None:
    source = worker.Trainer(seed=0)
    source.run(5)
    flat = _checkpoint(source)
    flat["step"] = mx.array(5)  # what mx.array(25)-style hand-written checkpoints hold
    flat["optimizer.step"] = mx.array(5)
    assert flat["step"].dtype == mx.int32

    target = worker.Trainer(seed=1)
    if prebuilt:
        target.run(2)
    target.model.update(source.model.parameters())
    target.opt.state = tree_unflatten(list(flat.items()))
    assert target.opt.state["step"].dtype == mx.uint64
    assert target.opt.state["optimizer"]["step"].dtype == mx.uint64
    assert target.opt.step.item() == 5

    target.run(9)
    source.run(9)
    assert target.traces == 1, "a coerced step must not retrace the compiled step"
    assert np.array_equal(np.array(target.model.out.weight), np.array(source.model.out.weight))
    assert target.opt.state["step"].dtype == mx.uint64 and target.opt.step.item() == 9


def test_int32_step_written_around_the_setter_does_retrace() -> None:
    """The control for the test above: MLX itself retraces on a dtype change."""
    trainer = worker.Trainer(seed=0)
    trainer.run(3)
    trainer.opt.state["step"] = mx.array(3)
    trainer.run(5)
    assert trainer.traces == 2
