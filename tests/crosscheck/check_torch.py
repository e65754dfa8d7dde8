"""mlxlr against PyTorch's LR schedulers: ``pytest tests/crosscheck/check_torch.py``.

Not collected by default. Each scheduler is stepped as in training (``optimizer.step()``
then ``scheduler.step()``) and the learning rate (or momentum) read before each update,
which is what mlxlr's value at step k is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import mlxlr


def _record(make: Callable[[Any], Any], steps: int, key: str = "lr") -> np.ndarray:
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    scheduler = make(optimizer)
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0][key])
        optimizer.step()
        scheduler.step()
    return np.array(out, dtype=np.float64)


def _compare(ours: mlxlr.Schedule, theirs: np.ndarray) -> None:
    np.testing.assert_allclose(np.array(ours.values(len(theirs)).tolist()), theirs, rtol=1e-5, atol=1e-9)


def _lr() -> Any:
    return pytest.importorskip("torch").optim.lr_scheduler


def test_multistep() -> None:
    theirs = _record(lambda o: _lr().MultiStepLR(o, [30, 80], gamma=0.1), 120)
    _compare(mlxlr.MultiStepDecay(0.1, [30, 80], 0.1), theirs)


def test_polynomial() -> None:
    theirs = _record(lambda o: _lr().PolynomialLR(o, total_iters=50, power=2.0), 80)
    _compare(mlxlr.PolynomialDecay(0.1, 50, 0.0, 2.0), theirs)


@pytest.mark.parametrize("t_mult", [1, 2, 3])
def test_cosine_warm_restarts(t_mult: int) -> None:
    theirs = _record(lambda o: _lr().CosineAnnealingWarmRestarts(o, T_0=10, T_mult=t_mult, eta_min=0.001), 300)
    _compare(mlxlr.CosineRestarts(0.1, 10, float(t_mult), 0.001), theirs)


ONE_CYCLE = [
    dict(total_steps=100),
    dict(total_steps=77, pct_start=0.25, anneal_strategy="linear"),
    dict(total_steps=99, three_phase=True),
    dict(
        total_steps=50,
        pct_start=0.45,
        div_factor=10.0,
        final_div_factor=100.0,
        anneal_strategy="linear",
        three_phase=True,
    ),
]


@pytest.mark.parametrize("kwargs", ONE_CYCLE)
def test_one_cycle(kwargs: dict[str, Any]) -> None:
    args = dict(kwargs)
    total = args["total_steps"]
    make = lambda o: _lr().OneCycleLR(o, max_lr=1.0, base_momentum=0.8, max_momentum=0.9, **args)  # noqa: E731
    ours = mlxlr.OneCycle(
        1.0,
        total,
        args.get("pct_start", 0.3),
        args.get("div_factor", 25.0),
        args.get("final_div_factor", 1e4),
        "linear" if args.get("anneal_strategy") == "linear" else "cos",
        args.get("three_phase", False),
    )
    _compare(ours, _record(make, total))
    _compare(ours.momentum(0.8, 0.9), _record(make, total, key="momentum"))


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic(mode: str) -> None:
    def make(o: Any) -> Any:
        return _lr().CyclicLR(
            o, 0.01, 0.1, step_size_up=5, step_size_down=3, mode=mode, gamma=0.99, base_momentum=0.8, max_momentum=0.9
        )

    gamma = 0.99 if mode == "exp_range" else 1.0
    _compare(mlxlr.Cyclic(0.01, 0.1, 5, 3, mode, gamma), _record(make, 60))
    _compare(mlxlr.Cyclic(0.9, 0.8, 5, 3, mode, gamma), _record(make, 60, key="momentum"))
