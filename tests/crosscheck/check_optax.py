"""mlxlr against Optax's schedules: ``pytest tests/crosscheck/check_optax.py``.

Not collected by default. JAX computes in float32 here, so the tolerance is float32's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import mlxlr

STEPS = [*range(300), 1_000, 4_321]


def _compare(ours: mlxlr.Schedule, theirs: Any) -> None:
    want = np.array([float(theirs(t)) for t in STEPS])
    got = np.array(ours.values(max(STEPS) + 1).tolist())[STEPS]
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-8)


@pytest.mark.parametrize("power", [1.0, 2.0, 0.5])
def test_polynomial_schedule(power: float) -> None:
    optax = pytest.importorskip("optax")
    _compare(mlxlr.PolynomialDecay(0.1, 37, 0.002, power), optax.polynomial_schedule(0.1, 0.002, power, 37))


def test_piecewise_constant_schedule() -> None:
    optax = pytest.importorskip("optax")
    scales = {10: 0.5, 50: 0.1, 120: 2.0}
    values = [0.1, 0.05, 0.005, 0.01]
    _compare(mlxlr.PiecewiseConstant(list(scales), values), optax.piecewise_constant_schedule(0.1, scales))


def test_warmup_cosine_decay_schedule() -> None:
    optax = pytest.importorskip("optax")
    # Optax's decay_steps counts the warmup.
    ours = mlxlr.CosineDecay(0.1, 150 - 20, end=0.001).with_warmup(20, init=0.01)
    _compare(ours, optax.warmup_cosine_decay_schedule(0.01, 0.1, 20, 150, 0.001))


def test_linear_warmup_then_constant() -> None:
    optax = pytest.importorskip("optax")
    theirs = optax.join_schedules([optax.linear_schedule(0.0, 0.1, 25), optax.constant_schedule(0.1)], [25])
    _compare(mlxlr.warmup_constant(0.1, 25), theirs)
