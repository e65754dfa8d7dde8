"""Every row of the migration guides (docs/migration/*.md) against its reference formula.

The guides' tables are read from the pages (tests/migration_pages.py): a row's
reference call is evaluated here against a small float64 NumPy implementation
of that library's documented formula, written from its documentation, with the
library's own argument names and defaults; its mlxlr expressions are read with
``mlxlr.parse``, from the page text itself. MLX's rows are also compared with
MLX's own closures. Nothing expected comes from mlxlr.

Conventions the guides state are asserted here too: where a reference is not
held after its end (PyTorch's ``CosineAnnealingLR``, Hugging Face's cosines) or
raises past it (``OneCycleLR``), a bounded mlxlr expression equals it up to
that step, holds its value after, and the reference is shown to differ.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest

import mlxlr
from migration_pages import LIBRARIES, Row, page_text, rows

STEPS = np.concatenate([np.arange(5_001), [9_999, 10_000, 123_457, 1_000_003]]).astype(np.int64)
RTOL = 1e-5
TINY = float(np.finfo(np.float32).tiny)  # below float32's smallest normal number, 1e-5 relative is out of reach
EPS32 = float(np.finfo(np.float32).eps)

# The metric fed to the plateau rows, one value an epoch: plateaus, a change within the threshold
# (0.79995 is not below 0.8 * (1 - 1e-4)), a reduction in cooldown, and a long run of improvements.
METRICS = [1.0, 1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 0.9, 0.85, 0.8, 0.8, 0.8, 0.8, 0.79995, 0.8, 0.8, 0.8]
METRICS += [0.7, 0.6, 0.5, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3, 0.31, 0.3, 0.3, 0.3, 0.2, 0.3, 0.3, 0.3, 0.3]

# Keras's LearningRateScheduler changes the rate once an epoch; its row assumes this many updates an epoch.
STEPS_PER_EPOCH = 100

# The optimizer's learning rate each guide's rows assume (the base the library's factors multiply).
BASE_LR = {"pytorch": 0.1, "huggingface": 1e-3, "keras": 0.1}


@dataclass
class Curve:
    """A reference that is a function of the step.

    ``lr`` (and ``momentum``, for schedulers that cycle it) map int64 steps to
    float64 values, NaN where the reference raises. With ``free_after``, the
    reference is not held after that step (mlxlr's bounded schedules are).
    ``mlx_slack`` is the relative error MLX's float32 closure may have at a step.
    """

    lr: Callable[[np.ndarray], np.ndarray]
    momentum: Callable[[np.ndarray], np.ndarray] | None = None
    free_after: int | None = None
    mlx_slack: Callable[[np.ndarray], np.ndarray] | None = None


@dataclass
class Observed:
    """A reference driven by a metric: ``values(metrics)[i]`` is the rate after ``i`` observations.

    With ``agree``, mlxlr can follow only the first ``agree`` values (then the reference does what mlxlr cannot).
    """

    values: Callable[[Sequence[float]], list[float]]
    agree: Callable[[list[float]], int] | None = None


@dataclass
class Claim:
    """A row without an mlxlr expression: ``check`` asserts what the row says instead."""

    check: Callable[[], None]


@dataclass(frozen=True)
class Opt:
    """What a reference call's ``opt`` stands for: an optimizer built with the guide's learning rate."""

    lr: float


def _elementwise(fn: Callable[[int], float]) -> Callable[[np.ndarray], np.ndarray]:
    return lambda t: np.array([float(fn(int(k))) for k in t], dtype=np.float64)


def _cos_bump(x: np.ndarray) -> np.ndarray:
    """``(1 + cos(pi x)) / 2``."""
    return 0.5 * (1.0 + np.cos(np.pi * x))


# --- PyTorch: torch.optim.lr_scheduler (and torch.optim.swa_utils.SWALR) ---------------------------------------
# scheduler.step() follows each update, so the rate of update t is the closed form at last_epoch = t.


def _torch_factor(curve: Curve, base: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda t: curve.lr(t) / base


def torch_lambda_lr(optimizer: Opt, lr_lambda: Callable[[int], float], last_epoch: int = -1) -> Curve:
    return Curve(lambda t: optimizer.lr * _elementwise(lr_lambda)(t))


def torch_multiplicative_lr(optimizer: Opt, lr_lambda: Callable[[int], float], last_epoch: int = -1) -> Curve:
    def lr(t: np.ndarray) -> np.ndarray:
        factors = np.array([1.0] + [float(lr_lambda(k)) for k in range(1, int(t.max()) + 1)])
        return optimizer.lr * np.cumprod(factors)[t]

    return Curve(lr)


def torch_step_lr(optimizer: Opt, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> Curve:
    return Curve(lambda t: optimizer.lr * gamma ** (t // step_size))


def torch_multi_step_lr(optimizer: Opt, milestones: list[int], gamma: float = 0.1, last_epoch: int = -1) -> Curve:
    return Curve(lambda t: optimizer.lr * gamma ** np.searchsorted(sorted(milestones), t, side="right"))


def torch_constant_lr(optimizer: Opt, factor: float = 1 / 3, total_iters: int = 5, last_epoch: int = -1) -> Curve:
    return Curve(lambda t: optimizer.lr * np.where(t >= total_iters, 1.0, factor))


def torch_linear_lr(
    optimizer: Opt, start_factor: float = 1 / 3, end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1
) -> Curve:
    def lr(t: np.ndarray) -> np.ndarray:
        return optimizer.lr * (start_factor + (end_factor - start_factor) * np.minimum(t, total_iters) / total_iters)

    return Curve(lr)


def torch_exponential_lr(optimizer: Opt, gamma: float, last_epoch: int = -1) -> Curve:
    return Curve(lambda t: optimizer.lr * gamma ** t.astype(np.float64))


def torch_polynomial_lr(optimizer: Opt, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> Curve:
    return Curve(lambda t: optimizer.lr * (1.0 - np.minimum(t, total_iters) / total_iters) ** power)


def torch_cosine_annealing_lr(optimizer: Opt, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> Curve:
    # The closed form PyTorch's recursion follows; it goes on after T_max (back up, period 2 T_max).
    return Curve(lambda t: eta_min + (optimizer.lr - eta_min) * _cos_bump(t / T_max), free_after=T_max)


def torch_chained_scheduler(schedulers: list[Curve], optimizer: Opt | None = None) -> Curve:
    # Each scheduler's step multiplies the rate by the ratio of its consecutive factors: the product of the factors.
    def lr(t: np.ndarray) -> np.ndarray:
        out = np.full(t.shape, _TORCH_OPT.lr)
        for s in schedulers:
            out = out * _torch_factor(s, _TORCH_OPT.lr)(t)
        return out

    return Curve(lr)


def torch_sequential_lr(optimizer: Opt, schedulers: list[Curve], milestones: list[int], last_epoch: int = -1) -> Curve:
    # Scheduler i runs from milestone i - 1 on, restarted at its epoch 0 there.
    starts = [0, *milestones]

    def lr(t: np.ndarray) -> np.ndarray:
        piece = np.searchsorted(milestones, t, side="right")
        out = np.empty(t.shape)
        for i, s in enumerate(schedulers):
            mask = piece == i
            out[mask] = s.lr(t[mask] - starts[i])
        return out

    last = schedulers[-1].free_after
    return Curve(lr, free_after=None if last is None else starts[-1] + last)


def _plateau_torch(
    base: float,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
) -> Observed:
    def better(a: float, best: float) -> bool:
        if mode == "min":
            return a < best * (1.0 - threshold) if threshold_mode == "rel" else a < best - threshold
        return a > best * (1.0 + threshold) if threshold_mode == "rel" else a > best + threshold

    def values(metrics: Sequence[float]) -> list[float]:
        lr, best, bad, cooling = base, math.inf if mode == "min" else -math.inf, 0, 0
        out = [lr]
        for m in metrics:
            if better(m, best):
                best, bad = m, 0
            else:
                bad += 1
            if cooling > 0:
                cooling, bad = cooling - 1, 0
            if bad > patience:
                new = max(lr * factor, min_lr)
                if lr - new > eps:
                    lr = new
                cooling, bad = cooldown, 0
            out.append(lr)
        return out

    return Observed(values)


def torch_reduce_lr_on_plateau(optimizer: Opt, **kwargs: Any) -> Observed:
    return _plateau_torch(optimizer.lr, **kwargs)


def _triangle(t: np.ndarray, up: float, down: float) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch CyclicLR's cycle number (from 1) and height in [0, 1] at step ``t``."""
    total = up + down
    cycle = np.floor(1 + t / total)
    x = 1.0 + t / total - cycle
    ratio = up / total
    return cycle, np.where(x <= ratio, x / ratio, (x - 1) / (ratio - 1))


def torch_cyclic_lr(
    optimizer: Opt,
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: Callable[[float], float] | None = None,
    scale_mode: str = "cycle",
    cycle_momentum: bool = True,
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
    last_epoch: int = -1,
) -> Curve:
    down = step_size_up if step_size_down is None else step_size_down

    def scaled(t: np.ndarray) -> np.ndarray:
        cycle, height = _triangle(t.astype(np.float64), float(step_size_up), float(down))
        if mode == "triangular":
            return height
        if mode == "triangular2":
            return height * 0.5 ** (cycle - 1)
        return height * gamma ** t.astype(np.float64)

    return Curve(
        lambda t: base_lr + (max_lr - base_lr) * scaled(t),
        momentum=lambda t: max_momentum - (max_momentum - base_momentum) * scaled(t),
    )


def _one_cycle_phases(
    total: int, pct_start: float, three_phase: bool, path: list[float]
) -> list[tuple[float, float, float, float]]:
    """(start step, end step, start value, end value) of each phase, as PyTorch lays them out."""
    rise = pct_start * total - 1
    ends = [rise, 2 * pct_start * total - 2, total - 1] if three_phase else [rise, total - 1]
    starts = [0.0, *ends[:-1]]
    return [(s, e, path[i], path[i + 1]) for i, (s, e) in enumerate(zip(starts, ends))]


def torch_one_cycle_lr(
    optimizer: Opt,
    max_lr: float,
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
    last_epoch: int = -1,
) -> Curve:
    total = total_steps if total_steps is not None else epochs * steps_per_epoch  # type: ignore[operator]
    initial = max_lr / div_factor
    low = initial / final_div_factor
    if three_phase:
        lrs, moms = [initial, max_lr, initial, low], [max_momentum, base_momentum, max_momentum, max_momentum]
    else:
        lrs, moms = [initial, max_lr, low], [max_momentum, base_momentum, max_momentum]

    def anneal(a: float, b: float, pct: float) -> float:
        if anneal_strategy == "cos":
            return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (b - a) * pct + a

    def along(path: list[float]) -> Callable[[np.ndarray], np.ndarray]:
        phases = _one_cycle_phases(total, pct_start, three_phase, path)

        def at(k: int) -> float:
            if k > total:
                return math.nan  # PyTorch raises "Tried to step ... times"
            for i, (s, e, a, b) in enumerate(phases):
                if k <= e or i == len(phases) - 1:
                    return anneal(a, b, (k - s) / (e - s))
            raise AssertionError

        return _elementwise(at)

    # At total_steps PyTorch extrapolates its last phase one step on; after, it raises.
    return Curve(along(lrs), momentum=along(moms), free_after=total - 1)


def torch_cosine_annealing_warm_restarts(
    optimizer: Opt,
    T_0: int,
    T_mult: int = 1,
    eta_min: float = 0.0,
    last_epoch: int = -1,
) -> Curve:
    def lr(t: np.ndarray) -> np.ndarray:
        starts, lengths, start, length = [], [], 0, T_0
        while start <= t.max():
            starts.append(start)
            lengths.append(length)
            start, length = start + length, length * T_mult
        i = np.searchsorted(starts, t, side="right") - 1
        t_cur = t - np.array(starts)[i]
        return eta_min + (optimizer.lr - eta_min) * _cos_bump(t_cur / np.array(lengths, dtype=np.float64)[i])

    return Curve(lr)


def torch_swalr(
    optimizer: Opt, swa_lr: float, anneal_epochs: int = 10, anneal_strategy: str = "cos", last_epoch: int = -1
) -> Curve:
    def lr(t: np.ndarray) -> np.ndarray:
        x = np.clip(t / max(1, anneal_epochs), 0.0, 1.0)
        alpha = (1 - np.cos(np.pi * x)) / 2 if anneal_strategy == "cos" else x
        return swa_lr * alpha + optimizer.lr * (1 - alpha)

    return Curve(lr)


_TORCH_OPT = Opt(BASE_LR["pytorch"])

PYTORCH = {
    "LambdaLR": torch_lambda_lr,
    "MultiplicativeLR": torch_multiplicative_lr,
    "StepLR": torch_step_lr,
    "MultiStepLR": torch_multi_step_lr,
    "ConstantLR": torch_constant_lr,
    "LinearLR": torch_linear_lr,
    "ExponentialLR": torch_exponential_lr,
    "PolynomialLR": torch_polynomial_lr,
    "CosineAnnealingLR": torch_cosine_annealing_lr,
    "ChainedScheduler": torch_chained_scheduler,
    "SequentialLR": torch_sequential_lr,
    "ReduceLROnPlateau": torch_reduce_lr_on_plateau,
    "CyclicLR": torch_cyclic_lr,
    "OneCycleLR": torch_one_cycle_lr,
    "CosineAnnealingWarmRestarts": torch_cosine_annealing_warm_restarts,
    "SWALR": torch_swalr,
}


# --- Hugging Face: transformers.optimization ------------------------------------------------------------------
# Each is a LambdaLR: the optimizer's lr times a factor of the step, stepped once per update.


def _hf(optimizer: Opt, factor: Callable[[int], float], free_after: int | None = None) -> Curve:
    return Curve(lambda t: optimizer.lr * _elementwise(factor)(t), free_after=free_after)


def _hf_warmup(k: int, warmup: int) -> float:
    return k / max(1, warmup)


def hf_constant(optimizer: Opt, last_epoch: int = -1) -> Curve:
    return _hf(optimizer, lambda k: 1.0)


def hf_constant_with_warmup(optimizer: Opt, num_warmup_steps: int, last_epoch: int = -1) -> Curve:
    return _hf(optimizer, lambda k: _hf_warmup(k, num_warmup_steps) if k < num_warmup_steps else 1.0)


def hf_linear_with_warmup(
    optimizer: Opt, num_warmup_steps: int, num_training_steps: int, last_epoch: int = -1
) -> Curve:
    w, n = num_warmup_steps, num_training_steps
    return _hf(optimizer, lambda k: _hf_warmup(k, w) if k < w else max(0.0, (n - k) / max(1, n - w)))


def _hf_cosine(k: int, w: int, n: int, cycles: float, floor: float) -> float:
    if k < w:
        return _hf_warmup(k, w)
    progress = (k - w) / max(1, n - w)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * cycles * 2.0 * progress)) * (1 - floor) + floor)


def hf_cosine_with_warmup(
    optimizer: Opt, num_warmup_steps: int, num_training_steps: int, num_cycles: float = 0.5, last_epoch: int = -1
) -> Curve:
    w, n = num_warmup_steps, num_training_steps
    return _hf(optimizer, lambda k: _hf_cosine(k, w, n, num_cycles, 0.0), free_after=n)


def hf_cosine_with_hard_restarts(
    optimizer: Opt, num_warmup_steps: int, num_training_steps: int, num_cycles: int = 1, last_epoch: int = -1
) -> Curve:
    w, n = num_warmup_steps, num_training_steps

    def factor(k: int) -> float:
        if k < w:
            return _hf_warmup(k, w)
        progress = (k - w) / max(1, n - w)
        return 0.0 if progress >= 1.0 else max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((num_cycles * progress) % 1.0))))

    return _hf(optimizer, factor)


def hf_polynomial_with_warmup(
    optimizer: Opt,
    num_warmup_steps: int,
    num_training_steps: int,
    lr_end: float = 1e-7,
    power: float = 1.0,
    last_epoch: int = -1,
) -> Curve:
    w, n, top = num_warmup_steps, num_training_steps, optimizer.lr

    def factor(k: int) -> float:
        if k < w:
            return _hf_warmup(k, w)
        if k > n:
            return lr_end / top
        return ((top - lr_end) * (1 - (k - w) / (n - w)) ** power + lr_end) / top

    return _hf(optimizer, factor)


def hf_inverse_sqrt(optimizer: Opt, num_warmup_steps: int, timescale: int | None = None, last_epoch: int = -1) -> Curve:
    w = num_warmup_steps
    tau = timescale if timescale is not None else (w or 10_000)
    return _hf(optimizer, lambda k: _hf_warmup(k, w) if k < w else 1.0 / math.sqrt((k + tau - w) / tau))


def _hf_min_rate(optimizer: Opt, min_lr: float | None, min_lr_rate: float | None) -> float:
    return min_lr / optimizer.lr if min_lr is not None else float(min_lr_rate)  # type: ignore[arg-type]


def hf_cosine_with_min_lr(
    optimizer: Opt,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
) -> Curve:
    w, n, floor = num_warmup_steps, num_training_steps, _hf_min_rate(optimizer, min_lr, min_lr_rate)
    return _hf(optimizer, lambda k: _hf_cosine(k, w, n, num_cycles, floor), free_after=n)


def hf_cosine_with_min_lr_rate(
    optimizer: Opt,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
    warmup_lr_rate: float | None = None,
) -> Curve:
    w, n, floor = num_warmup_steps, num_training_steps, _hf_min_rate(optimizer, min_lr, min_lr_rate)

    def factor(k: int) -> float:
        if k < w:
            if warmup_lr_rate is None:
                return (k + 1.0) / max(1.0, w)
            return warmup_lr_rate + (1.0 - warmup_lr_rate) * k / max(1, w - 1)
        progress = (k - w + 1.0) / max(1.0, n - w)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * progress)) * (1 - floor) + floor)

    # Its decay runs one step ahead: it reaches its floor at step n - 1 and turns back up after.
    return _hf(optimizer, factor, free_after=n - 1)


def hf_wsd(
    optimizer: Opt,
    num_warmup_steps: int,
    num_decay_steps: int,
    num_training_steps: int | None = None,
    num_stable_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: float = 0.0,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
) -> Curve:
    w, d = num_warmup_steps, num_decay_steps
    s = num_stable_steps if num_stable_steps is not None else num_training_steps - w - d  # type: ignore[operator]
    shapes = {
        "linear": lambda p: p,
        "cosine": lambda p: 0.5 * (1.0 - math.cos(math.pi * p)),
        "1-sqrt": lambda p: 1.0 - math.sqrt(1.0 - p),
    }
    decays = {
        "linear": lambda p: 1.0 - p,
        "cosine": lambda p: 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * p)),
        "1-sqrt": lambda p: 1.0 - math.sqrt(p),
    }

    def factor(k: int) -> float:
        if k < w:
            return max(0.0, shapes[warmup_type](k / max(1, w)) * (1.0 - min_lr_ratio) + min_lr_ratio)
        if k < w + s:
            return 1.0
        if k < w + s + d:
            return max(0.0, decays[decay_type]((k - w - s) / max(1, d)) * (1.0 - min_lr_ratio) + min_lr_ratio)
        return min_lr_ratio

    return _hf(optimizer, factor)


def hf_reduce_on_plateau(optimizer: Opt, **kwargs: Any) -> Observed:
    return _plateau_torch(optimizer.lr, **kwargs)


def hf_greedy(
    optimizer: Opt,
    mode: str = "min",
    factor: float = 0.95,
    patience: int = 10,
    threshold: float = 1e-6,
    threshold_mode: str = "abs",
    cooldown: int = 0,
    warmup: int = 0,
    min_lr: float = 1e-3,
    max_lr: float = 1.0,
    eps: float = 1e-8,
    verbose: bool = False,
    smooth: bool = False,
    window_size: int = 50,
    reset_start: int = 500,
) -> Observed:
    assert not smooth, "the row's reference is written without smoothing"

    def better(a: float, best: float) -> bool:
        if mode == "min":
            return a < best * (1.0 - threshold) if threshold_mode == "rel" else a < best - threshold
        return a > best * (1.0 + threshold) if threshold_mode == "rel" else a > best + threshold

    def values(metrics: Sequence[float]) -> list[float]:
        lr, best = optimizer.lr, math.inf if mode == "min" else -math.inf
        bad = good = cooling = warming = 0
        reset = reset_start
        out = [lr]
        for m in metrics:
            if cooling > 0:
                cooling, bad, good = cooling - 1, 0, 0
            elif warming > 0:
                warming, bad, good = warming - 1, 0, 0
            else:
                if better(m, best):
                    best, bad, good = m, 0, good + 1
                else:
                    bad, good = bad + 1, 0
                if good > patience:
                    new = min(lr / factor, max_lr)
                    if new - lr > eps:
                        lr = new
                    warming, good, reset = warmup, 0, reset_start
                elif bad > patience:
                    new = max(lr * factor, min_lr)
                    if lr - new > eps:
                        lr = new
                    if not lr > min_lr:
                        reset -= 1
                        assert reset > 0, "the row's metrics do not reach GreedyLR's reset"
                    cooling, bad = cooldown, 0
            out.append(lr)
        return out

    def agree(values: list[float]) -> int:
        """Up to GreedyLR's first increase, which ReduceOnPlateau has no counterpart for."""
        return next(i for i in range(1, len(values)) if values[i] > values[i - 1])

    return Observed(values, agree)


def _adafactor_claim() -> None:
    # MLX's Adafactor computes its own relative-step rate; scheduling the rate there is refused, with the way out.
    with pytest.raises(ValueError, match="relative_step"):
        mlxlr.ScheduledOptimizer(optim.Adafactor(), learning_rate=mlxlr.Constant(1e-3))
    opt = mlxlr.ScheduledOptimizer(
        optim.Adafactor(learning_rate=0.0, relative_step=False), learning_rate=mlxlr.Constant(1e-3)
    )
    opt.update({}, {})
    assert opt.learning_rate.item() == pytest.approx(1e-3)


def hf_adafactor(optimizer: Opt, initial_lr: float = 0.0) -> Claim:
    return Claim(_adafactor_claim)


HUGGINGFACE = {
    "get_constant_schedule": hf_constant,
    "get_constant_schedule_with_warmup": hf_constant_with_warmup,
    "get_linear_schedule_with_warmup": hf_linear_with_warmup,
    "get_cosine_schedule_with_warmup": hf_cosine_with_warmup,
    "get_cosine_with_hard_restarts_schedule_with_warmup": hf_cosine_with_hard_restarts,
    "get_polynomial_decay_schedule_with_warmup": hf_polynomial_with_warmup,
    "get_inverse_sqrt_schedule": hf_inverse_sqrt,
    "get_cosine_with_min_lr_schedule_with_warmup": hf_cosine_with_min_lr,
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate": hf_cosine_with_min_lr_rate,
    "get_wsd_schedule": hf_wsd,
    "get_reduce_on_plateau_schedule": hf_reduce_on_plateau,
    "get_greedy_schedule": hf_greedy,
    "get_adafactor_schedule": hf_adafactor,
}


# --- Optax: optax.schedules (and optax.contrib.reduce_on_plateau) ---------------------------------------------
# The k-th update uses schedule(k); schedules give values, not factors.


def optax_constant_schedule(value: float) -> Curve:
    return Curve(lambda t: np.full(t.shape, float(value)))


def optax_polynomial_schedule(
    init_value: float, end_value: float, power: float, transition_steps: int, transition_begin: int = 0
) -> Curve:
    def lr(t: np.ndarray) -> np.ndarray:
        count = np.clip(t - transition_begin, 0, transition_steps)
        return (init_value - end_value) * (1 - count / transition_steps) ** power + end_value

    return Curve(lr)


def optax_linear_schedule(
    init_value: float, end_value: float, transition_steps: int, transition_begin: int = 0
) -> Curve:
    return optax_polynomial_schedule(init_value, end_value, 1, transition_steps, transition_begin)


def optax_piecewise_constant_schedule(
    init_value: float, boundaries_and_scales: dict[int, float] | None = None
) -> Curve:
    def lr(t: np.ndarray) -> np.ndarray:
        out = np.full(t.shape, float(init_value))
        for boundary, scale in sorted((boundaries_and_scales or {}).items()):
            out = np.where(t >= boundary, out * scale, out)
        return out

    return Curve(lr)


def optax_exponential_decay(
    init_value: float,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> Curve:
    def lr(t: np.ndarray) -> np.ndarray:
        count = t - transition_begin
        p = count / transition_steps
        if staircase:
            p = np.floor(p)
        with np.errstate(over="ignore"):  # a growth (decay_rate > 1) overflows far past its end_value cap
            out = np.where(count <= 0, init_value, init_value * decay_rate ** np.maximum(p, 0.0))
        if end_value is not None:
            out = np.maximum(out, end_value) if decay_rate < 1.0 else np.minimum(out, end_value)
        return out

    return Curve(lr)


def optax_cosine_decay_schedule(
    init_value: float, decay_steps: int, alpha: float = 0.0, exponent: float = 1.0
) -> Curve:
    def lr(t: np.ndarray) -> np.ndarray:
        return init_value * ((1 - alpha) * _cos_bump(np.minimum(t, decay_steps) / decay_steps) ** exponent + alpha)

    return Curve(lr)


def optax_piecewise_interpolate_schedule(
    interpolate_type: str, init_value: float, boundaries_and_scales: dict[int, float] | None = None
) -> Curve:
    items = sorted((boundaries_and_scales or {}).items())
    bounds = [0] + [b for b, _ in items]
    levels = list(np.cumprod([init_value] + [s for _, s in items]))

    def lr(t: np.ndarray) -> np.ndarray:
        out = np.full(t.shape, levels[-1])
        for i in range(len(bounds) - 1):
            inside = (bounds[i] <= t) & (t < bounds[i + 1])
            pct = (t - bounds[i]) / max(bounds[i + 1] - bounds[i], 1)
            a, b = levels[i], levels[i + 1]
            value = (b - a) * pct + a if interpolate_type == "linear" else b + (a - b) * _cos_bump(pct)
            out = np.where(inside, value, out)
        return out

    return Curve(lr)


def optax_linear_onecycle_schedule(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Curve:
    scales = {
        int(pct_start * transition_steps): div_factor,
        int(pct_final * transition_steps): 1.0 / div_factor,
        transition_steps: 1.0 / final_div_factor,
    }
    return optax_piecewise_interpolate_schedule("linear", peak_value / div_factor, scales)


def optax_cosine_onecycle_schedule(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Curve:
    scales = {int(pct_start * transition_steps): div_factor, transition_steps: 1.0 / (div_factor * final_div_factor)}
    return optax_piecewise_interpolate_schedule("cosine", peak_value / div_factor, scales)


def optax_join_schedules(schedules: list[Curve], boundaries: list[int]) -> Curve:
    def lr(t: np.ndarray) -> np.ndarray:
        out = schedules[0].lr(t)
        for boundary, s in zip(boundaries, schedules[1:]):
            later = t >= boundary
            out = np.where(later, s.lr(np.where(later, t - boundary, 0)), out)
        return out

    return Curve(lr)


def optax_warmup_constant_schedule(init_value: float, peak_value: float, warmup_steps: int) -> Curve:
    return optax_linear_schedule(init_value, peak_value, warmup_steps)


def optax_warmup_cosine_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    decay_steps: int,
    end_value: float = 0.0,
    exponent: float = 1.0,
) -> Curve:
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    pieces = [
        optax_linear_schedule(init_value, peak_value, warmup_steps),
        optax_cosine_decay_schedule(peak_value, decay_steps - warmup_steps, alpha, exponent),
    ]
    return optax_join_schedules(pieces, [warmup_steps])


def optax_warmup_exponential_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> Curve:
    pieces = [
        optax_linear_schedule(init_value, peak_value, warmup_steps),
        optax_exponential_decay(peak_value, transition_steps, decay_rate, transition_begin, staircase, end_value),
    ]
    return optax_join_schedules(pieces, [warmup_steps])


def optax_sgdr_schedule(cosine_kwargs: list[dict[str, Any]]) -> Curve:
    pieces, boundaries, step = [], [], 0
    for kwargs in cosine_kwargs:
        pieces.append(optax_warmup_cosine_decay_schedule(**kwargs))
        step += kwargs["decay_steps"]
        boundaries.append(step)
    return optax_join_schedules(pieces, boundaries[:-1])


def optax_reduce_on_plateau(
    factor: float = 0.1,
    patience: int = 10,
    rtol: float = 1e-4,
    atol: float = 0.0,
    cooldown: int = 0,
    accumulation_size: int = 1,
    min_scale: float = 0.0,
) -> Observed:
    assert accumulation_size == 1, "the row's reference is written for one value an update"

    def values(metrics: Sequence[float]) -> list[float]:
        scale, best, plateau, cooling = 1.0, math.inf, 0, 0
        out = [scale]
        for m in metrics:
            improved = m < (1 - rtol) * best - atol
            best = m if improved else best
            count = 0 if improved else plateau + 1
            if cooling > 0:
                plateau, cooling = 0, cooling - 1
            else:
                reduce = count == patience
                plateau = 0 if reduce else count
                scale = max(scale * factor if reduce else scale, min_scale)
                cooling = cooldown if reduce else 0
            out.append(scale)
        return out

    return Observed(values)


OPTAX = {
    "constant_schedule": optax_constant_schedule,
    "polynomial_schedule": optax_polynomial_schedule,
    "linear_schedule": optax_linear_schedule,
    "piecewise_constant_schedule": optax_piecewise_constant_schedule,
    "exponential_decay": optax_exponential_decay,
    "cosine_decay_schedule": optax_cosine_decay_schedule,
    "piecewise_interpolate_schedule": optax_piecewise_interpolate_schedule,
    "linear_onecycle_schedule": optax_linear_onecycle_schedule,
    "cosine_onecycle_schedule": optax_cosine_onecycle_schedule,
    "warmup_constant_schedule": optax_warmup_constant_schedule,
    "warmup_cosine_decay_schedule": optax_warmup_cosine_decay_schedule,
    "warmup_exponential_decay_schedule": optax_warmup_exponential_decay_schedule,
    "sgdr_schedule": optax_sgdr_schedule,
    "join_schedules": optax_join_schedules,
    "reduce_on_plateau": optax_reduce_on_plateau,
}


# --- Keras 3: keras.optimizers.schedules, and the callbacks ReduceLROnPlateau and LearningRateScheduler -------
# The optimizer's iterations count updates from 0; the k-th update uses schedule(k).


def keras_exponential_decay(
    initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False, name: str = ""
) -> Curve:
    def lr(t: np.ndarray) -> np.ndarray:
        p = t / decay_steps
        return initial_learning_rate * decay_rate ** (np.floor(p) if staircase else p)

    return Curve(lr)


def keras_piecewise_constant_decay(boundaries: list[int], values: list[float], name: str = "") -> Curve:
    # values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i], ...
    return Curve(lambda t: np.array(values, dtype=np.float64)[np.searchsorted(boundaries, t, side="left")])


def keras_polynomial_decay(
    initial_learning_rate: float,
    decay_steps: int,
    end_learning_rate: float = 0.0001,
    power: float = 1.0,
    cycle: bool = False,
    name: str = "",
) -> Curve:
    def lr(t: np.ndarray) -> np.ndarray:
        if cycle:
            span = decay_steps * np.where(t == 0, 1.0, np.ceil(t / decay_steps))
            p = t / span
        else:
            p = np.minimum(t, decay_steps) / decay_steps
        return (initial_learning_rate - end_learning_rate) * (1 - p) ** power + end_learning_rate

    return Curve(lr)


def keras_inverse_time_decay(
    initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False, name: str = ""
) -> Curve:
    def lr(t: np.ndarray) -> np.ndarray:
        p = t / decay_steps
        return initial_learning_rate / (1 + decay_rate * (np.floor(p) if staircase else p))

    return Curve(lr)


def keras_cosine_decay(
    initial_learning_rate: float,
    decay_steps: int,
    alpha: float = 0.0,
    name: str = "",
    warmup_target: float | None = None,
    warmup_steps: int = 0,
) -> Curve:
    def decayed(t: np.ndarray, top: float) -> np.ndarray:
        return top * ((1 - alpha) * _cos_bump(np.minimum(t, decay_steps) / decay_steps) + alpha)

    def lr(t: np.ndarray) -> np.ndarray:
        if warmup_target is None:
            return decayed(t, initial_learning_rate)
        warm = (warmup_target - initial_learning_rate) * t / warmup_steps + initial_learning_rate
        return np.where(t < warmup_steps, warm, decayed(np.maximum(t - warmup_steps, 0), warmup_target))

    return Curve(lr)


def keras_cosine_decay_restarts(
    initial_learning_rate: float,
    first_decay_steps: int,
    t_mul: float = 2.0,
    m_mul: float = 1.0,
    alpha: float = 0.0,
    name: str = "",
) -> Curve:
    # Period i is first_decay_steps * t_mul**i long, at height m_mul**i; found here by summing the periods.
    def lr(t: np.ndarray) -> np.ndarray:
        starts, lengths, start, length = [], [], 0.0, float(first_decay_steps)
        while start <= t.max():
            starts.append(start)
            lengths.append(length)
            start, length = start + length, length * t_mul
        i = np.searchsorted(starts, t, side="right") - 1
        fraction = (t - np.array(starts)[i]) / np.array(lengths)[i]
        return initial_learning_rate * ((1 - alpha) * m_mul**i * _cos_bump(fraction) + alpha)

    return Curve(lr)


def keras_reduce_lr_on_plateau(
    monitor: str = "val_loss",
    factor: float = 0.1,
    patience: int = 10,
    verbose: int = 0,
    mode: str = "auto",
    min_delta: float = 1e-4,
    cooldown: int = 0,
    min_lr: float = 0.0,
) -> Observed:
    minimize = mode == "min" or (mode == "auto" and monitor.removeprefix("val_") == "loss")
    assert minimize, "the row's reference is written for a loss"

    def values(metrics: Sequence[float]) -> list[float]:
        lr, best, wait, cooling = BASE_LR["keras"], None, 0, 0
        out = [lr]
        for m in metrics:
            if cooling > 0:
                cooling, wait = cooling - 1, 0
            if best is None or m + abs(min_delta) < best:
                best, wait = m, 0
            elif cooling == 0:
                wait += 1
                if wait >= patience and lr > np.float32(min_lr):
                    lr = max(lr * factor, min_lr)
                    cooling, wait = cooldown, 0
            out.append(lr)
        return out

    return Observed(values)


def keras_learning_rate_scheduler(schedule: Callable[..., float], verbose: int = 0) -> Curve:
    # Called at the start of each epoch with (epoch, current rate), or (epoch) for a one-argument function.
    def lr(t: np.ndarray) -> np.ndarray:
        rates, current = [], BASE_LR["keras"]
        for epoch in range(int(t.max()) // STEPS_PER_EPOCH + 1):
            try:
                current = float(schedule(epoch, current))
            except TypeError:
                current = float(schedule(epoch))
            rates.append(current)
        return np.array(rates)[t // STEPS_PER_EPOCH]

    return Curve(lr)


KERAS = {
    "ExponentialDecay": keras_exponential_decay,
    "PiecewiseConstantDecay": keras_piecewise_constant_decay,
    "PolynomialDecay": keras_polynomial_decay,
    "InverseTimeDecay": keras_inverse_time_decay,
    "CosineDecay": keras_cosine_decay,
    "CosineDecayRestarts": keras_cosine_decay_restarts,
    "ReduceLROnPlateau": keras_reduce_lr_on_plateau,
    "LearningRateScheduler": keras_learning_rate_scheduler,
}


# --- MLX: mlx.optimizers' schedule closures ------------------------------------------------------------------
# Written out in float64 here; MLX's closures themselves are run in test_mlx_closure.


def mlx_cosine_decay(init: float, decay_steps: int, end: float = 0.0) -> Curve:
    return Curve(lambda t: end + (init - end) * _cos_bump(np.minimum(t, decay_steps) / decay_steps))


def mlx_exponential_decay(init: float, decay_rate: float) -> Curve:
    # MLX raises the float32-rounded rate to the step: its relative error grows with the exponent.
    return Curve(lambda t: init * decay_rate ** t.astype(np.float64), mlx_slack=lambda t: t * EPS32)


def mlx_join_schedules(schedules: list[Curve], boundaries: list[int]) -> Curve:
    joined = optax_join_schedules(schedules, boundaries)
    return Curve(joined.lr, mlx_slack=lambda t: np.zeros(t.shape))


def mlx_linear_schedule(init: float, end: float, steps: int) -> Curve:
    return Curve(lambda t: init + (end - init) * np.minimum(t, steps) / steps)


def mlx_step_decay(init: float, decay_rate: float, step_size: int) -> Curve:
    return Curve(lambda t: init * decay_rate ** (t // step_size), mlx_slack=lambda t: (t // step_size) * EPS32)


MLX = {
    "cosine_decay": mlx_cosine_decay,
    "exponential_decay": mlx_exponential_decay,
    "join_schedules": mlx_join_schedules,
    "linear_schedule": mlx_linear_schedule,
    "step_decay": mlx_step_decay,
}

REFERENCES: dict[str, dict[str, Callable[..., Any]]] = {
    "pytorch": PYTORCH,
    "huggingface": HUGGINGFACE,
    "optax": OPTAX,
    "keras": KERAS,
    "mlx": MLX,
}


# --- Reading a reference call ----------------------------------------------------------------------------------


def evaluate(source: str, page: str) -> Any:
    """The reference call of a row, evaluated with this file's reference implementations.

    Calls resolve by their last name (``optax.contrib.reduce_on_plateau`` is
    ``reduce_on_plateau``); ``opt`` is the guide's optimizer; a ``lambda``
    becomes a Python function of the step (with ``min``, ``max`` and ``math``);
    everything else is a literal.
    """
    return _evaluate(ast.parse(source, mode="eval").body, page)


def _evaluate(node: ast.expr, page: str) -> Any:
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id  # type: ignore[attr-defined]
        args = [_evaluate(a, page) for a in node.args]
        kwargs = {k.arg: _evaluate(k.value, page) for k in node.keywords}
        return REFERENCES[page][name](*args, **kwargs)
    if isinstance(node, ast.Name) and node.id == "opt":
        return Opt(BASE_LR[page])
    if isinstance(node, ast.Lambda):
        namespace = {"__builtins__": {}, "min": min, "max": max, "math": math}
        return eval(compile(ast.Expression(node), "<reference>", "eval"), namespace)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_evaluate(e, page) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_evaluate(k, page): _evaluate(v, page) for k, v in zip(node.keys, node.values)}  # type: ignore[arg-type]
    return ast.literal_eval(node)


def _values(schedule: mlxlr.Schedule, steps: np.ndarray) -> np.ndarray:
    return np.array(schedule(mx.array(steps)).tolist(), dtype=np.float64)


def _observed(schedule: mlxlr.Schedule, metrics: Sequence[float]) -> list[float]:
    """The rate of each epoch through a ScheduledOptimizer, ``opt.observe(metric)`` after each."""
    opt = mlxlr.ScheduledOptimizer(optim.SGD(learning_rate=0.0), learning_rate=schedule)
    out = []
    for metric in [*metrics, None]:
        opt.update({}, {})
        out.append(opt.learning_rate.item())
        if metric is not None:
            opt.observe(metric)
    return out


ROWS = [row for page in LIBRARIES for row in rows(page)]


# --- The tests -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", list(LIBRARIES))
def test_every_scheduler_has_a_row_and_every_row_a_reference(page: str) -> None:
    names = [row.name for row in ROWS if row.page == page]
    assert sorted(set(names)) == sorted(REFERENCES[page]), f"docs/migration/{page}.md and the references differ"


@pytest.mark.parametrize("page", list(LIBRARIES))
def test_page_states_the_base_learning_rate(page: str) -> None:
    # The optimizer line of the page's intro, e.g. `opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)`.
    stated = re.findall(r"^opt(?:imizer)? = .*?\b(?:lr|learning_rate)=([0-9.e+-]+)", page_text(page), re.M)
    if page in BASE_LR:
        assert stated, f"docs/migration/{page}.md does not state the optimizer's learning rate"
        assert float(stated[0]) == BASE_LR[page]


def test_row_ids_are_unique() -> None:
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_row(row: Row) -> None:
    reference = evaluate(row.reference, row.page)
    if isinstance(reference, Claim):
        assert not row.expressions, f"{row.id}: the reference has no mlxlr equivalent, but the page gives one"
        reference.check()
        return
    assert row.expressions, f"{row.id}: no mlxlr expression on the page"
    for text in row.expressions:
        schedule = mlxlr.parse(text)
        if isinstance(reference, Observed):
            _check_observed(row, text, schedule, reference)
        else:
            _check_curve(row, text, schedule, reference)


def _check_curve(row: Row, text: str, schedule: mlxlr.Schedule, reference: Curve) -> None:
    fn = reference.momentum if row.quantity == "momentum" else reference.lr
    assert fn is not None, f"{row.id}: the reference has no {row.quantity}"
    steps = STEPS
    want = fn(steps)
    got = _values(schedule, steps)
    end = reference.free_after
    if end is None or schedule.duration is None:
        # Equal at every step (an unbounded expression must follow the reference after its end too).
        assert not np.isnan(want).any()
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=TINY, err_msg=f"{row.id}: {text}")
        return
    # The reference goes on (or raises) after `end`; a bounded mlxlr schedule holds its value there.
    upto = steps <= end
    np.testing.assert_allclose(got[upto], want[upto], rtol=RTOL, atol=TINY, err_msg=f"{row.id}: {text}")
    assert (got[~upto] == got[steps == end][0]).all(), f"{row.id}: {text} does not hold its value after step {end}"
    after = want[~upto]
    differs = np.isnan(after) | ~np.isclose(after, got[~upto], rtol=1e-3, atol=0.0)
    assert differs.any(), f"{row.id}: the reference holds after step {end} too; the page's difference is not real"


def _check_observed(row: Row, text: str, schedule: mlxlr.Schedule, reference: Observed) -> None:
    want = reference.values(METRICS)
    got = _observed(schedule, METRICS)
    assert len(set(want)) > 2, f"{row.id}: the metrics reduce the reference's rate fewer than twice"
    n = len(want) if reference.agree is None else reference.agree(want)
    np.testing.assert_allclose(got[:n], want[:n], rtol=RTOL, err_msg=f"{row.id}: {text}")
    if n < len(want):
        assert got[n] != pytest.approx(want[n], rel=1e-3), f"{row.id}: the page's difference is not real"


MLX_ROWS = [row for row in ROWS if row.page == "mlx"]


@pytest.mark.parametrize("row", MLX_ROWS, ids=[row.id for row in MLX_ROWS])
def test_mlx_closure(row: Row) -> None:
    """MLX's own closure, run: mlxlr equals it within MLX's float32 rounding (which the float64 reference bounds)."""
    closure = eval(row.reference, {"__builtins__": {}, "optim": optim})  # the page's own call, with MLX itself
    reference = evaluate(row.reference, "mlx")
    small = STEPS[STEPS < 2**24]  # MLX converts the step to float32: exact below 2**24
    theirs = np.array(closure(mx.array(small, dtype=mx.uint64)).tolist(), dtype=np.float64)
    want = reference.lr(small)
    slack = np.zeros(small.shape) if reference.mlx_slack is None else reference.mlx_slack(small)
    # MLX's error: relative (its float32 power) plus a few float32 ulps of the schedule's scale (its cancellations).
    bound = (RTOL + slack) * np.abs(want) + 8 * EPS32 * np.abs(want).max()
    assert (np.abs(theirs - want) <= bound).all(), f"{row.id}: MLX's closure is off its own formula"
    ours = _values(mlxlr.parse(row.expressions[0]), small)
    assert (np.abs(ours - theirs) <= bound + RTOL * np.abs(want)).all()


@pytest.mark.parametrize("row", MLX_ROWS, ids=[row.id for row in MLX_ROWS])
def test_mlx_call_is_the_mlxlr_call(row: Row) -> None:
    """``mlxlr.<name>`` takes MLX's arguments: the reference call without ``optim.`` builds the row's schedule."""
    assert mlxlr.parse(row.reference.replace("optim.", "")) == mlxlr.parse(row.expressions[0])


def test_references_take_the_libraries_arguments() -> None:
    # Each reference is called with a row's keyword arguments, so its signature names the library's parameters;
    # a reference for a scheduler constructed with the optimizer takes it first, as the library does.
    for page, table in REFERENCES.items():
        for name, fn in table.items():
            params = list(inspect.signature(fn).parameters)
            takes_opt = params[:1] == ["optimizer"]
            assert takes_opt == (page in ("pytorch", "huggingface") and name != "ChainedScheduler"), (page, name)
