"""mlxlr against Keras 3's schedules (numpy backend): ``pytest tests/crosscheck/check_keras.py``.

Not collected by default. Keras computes in float32, so the tolerance is float32's, and
the steps stay small: past ~10**5 Keras's own float32 phase drifts (at step 10**6 + 3 its
``CosineDecayRestarts`` is 0.5% off the float64 value, which mlxlr matches; see test_catalogue.py).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

import mlxlr

STEPS = [*range(300), 1_000, 4_321]


def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    return pytest.importorskip("keras").optimizers.schedules


def _compare(ours: mlxlr.Schedule, theirs: Any) -> None:
    want = np.array([float(theirs(t)) for t in STEPS])
    got = np.array(ours.values(max(STEPS) + 1).tolist())[STEPS]
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-7)


@pytest.mark.parametrize(("power", "cycle"), [(1.0, False), (2.0, False), (0.5, True), (1.5, True)])
def test_polynomial_decay(power: float, cycle: bool) -> None:
    k = _keras()
    _compare(mlxlr.PolynomialDecay(0.1, 17, 0.001, power, cycle), k.PolynomialDecay(0.1, 17, 0.001, power, cycle))


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay(staircase: bool) -> None:
    k = _keras()
    _compare(mlxlr.InverseTimeDecay(0.1, 7, 0.5, staircase), k.InverseTimeDecay(0.1, 7, 0.5, staircase))


@pytest.mark.parametrize(("t_mul", "m_mul", "alpha"), [(1.0, 1.0, 0.0), (2.0, 0.9, 0.1), (1.5, 0.8, 0.05)])
def test_cosine_decay_restarts(t_mul: float, m_mul: float, alpha: float) -> None:
    k = _keras()
    ours = mlxlr.CosineRestarts(0.1, 10, period_mult=t_mul, end=alpha * 0.1, decay=m_mul)
    _compare(ours, k.CosineDecayRestarts(0.1, 10, t_mul=t_mul, m_mul=m_mul, alpha=alpha))


def test_piecewise_constant_is_one_step_later() -> None:
    k = _keras()
    boundaries, values = [10, 50, 120], [1.0, 0.5, 0.1, 0.01]
    _compare(mlxlr.PiecewiseConstant([b + 1 for b in boundaries], values), k.PiecewiseConstantDecay(boundaries, values))
