"""mlxlr against Hugging Face's schedules: ``pytest tests/crosscheck/check_transformers.py``.

Not collected by default. Needs torch and transformers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import mlxlr


def _record(make: Callable[[Any], Any], steps: int, lr: float = 1e-3) -> np.ndarray:
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = make(optimizer)
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.array(out, dtype=np.float64)


def _hf() -> Any:
    return pytest.importorskip("transformers")


def _compare(ours: mlxlr.Schedule, theirs: np.ndarray) -> None:
    np.testing.assert_allclose(np.array(ours.values(len(theirs)).tolist()), theirs, rtol=1e-5, atol=1e-12)


def test_linear() -> None:
    _compare(
        mlxlr.warmup_linear(1e-3, 10, 110), _record(lambda o: _hf().get_linear_schedule_with_warmup(o, 10, 110), 130)
    )


@pytest.mark.parametrize("cycles", [0.5, 1.0, 1.5])
def test_cosine(cycles: float) -> None:
    make = lambda o: _hf().get_cosine_schedule_with_warmup(o, 10, 110, num_cycles=cycles)  # noqa: E731
    _compare(mlxlr.warmup_cosine(1e-3, 10, 110, cycles=cycles), _record(make, 111))  # HF oscillates on after 110


def test_constant() -> None:
    _compare(mlxlr.warmup_constant(1e-3, 10), _record(lambda o: _hf().get_constant_schedule_with_warmup(o, 10), 30))


def test_polynomial() -> None:
    make = lambda o: _hf().get_polynomial_decay_schedule_with_warmup(o, 10, 110, lr_end=1e-5, power=2.0)  # noqa: E731
    _compare(mlxlr.warmup_polynomial(1e-3, 10, 110, end=1e-5, power=2.0), _record(make, 130))


@pytest.mark.parametrize("cycles", [1, 2, 4])
def test_hard_restarts(cycles: int) -> None:
    make = lambda o: _hf().get_cosine_with_hard_restarts_schedule_with_warmup(o, 10, 110, num_cycles=cycles)  # noqa: E731
    _compare(mlxlr.warmup_cosine_restarts(1e-3, 10, 110, cycles=cycles), _record(make, 130))


def test_inverse_sqrt() -> None:
    make = lambda o: _hf().get_inverse_sqrt_schedule(o, num_warmup_steps=20)  # noqa: E731
    _compare(mlxlr.InverseSqrt(1e-3, 20), _record(make, 200))


@pytest.mark.parametrize("decay_type", ["linear", "cosine", "1-sqrt"])
def test_wsd(decay_type: str) -> None:
    def make(o: Any) -> Any:
        return _hf().get_wsd_schedule(
            o, num_warmup_steps=10, num_decay_steps=20, num_stable_steps=30, decay_type=decay_type, min_lr_ratio=0.1
        )

    # Current transformers warm up from min_lr_ratio * peak: init = end.
    ours = mlxlr.WarmupStableDecay(1e-3, 10, 30, 20, init=1e-4, end=1e-4, decay_shape=decay_type)
    _compare(ours, _record(make, 80))
