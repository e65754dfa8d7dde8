"""Seed parity: mlxlr's five functions against MLX's closures and float64 formulas."""

import math

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest

import mlxlr

STEPS = np.concatenate([np.arange(10_001), [2**24 + 1, 10**7, 10**7 + 1, 123_456_789, 10**9]]).astype(np.uint64)


def _f64_linear(init, end, steps):
    def f(t):
        t = np.minimum(t.astype(np.float64), steps)
        return init + (end - init) * t / steps

    return f


def _f64_cosine(init, decay_steps, end=0.0):
    def f(t):
        t = np.minimum(t.astype(np.float64), decay_steps)
        return end + (init - end) * 0.5 * (1 + np.cos(np.pi * t / decay_steps))

    return f


def _f64_exponential(init, rate):
    return lambda t: init * np.exp(t.astype(np.float64) * math.log(rate))


def _f64_step(init, rate, size):
    return lambda t: init * np.exp((t // size).astype(np.float64) * math.log(rate))


CASES = [
    ("cosine_decay", (1e-1, 1000), _f64_cosine),
    ("cosine_decay", (3e-4, 99_000, 3e-5), _f64_cosine),
    ("cosine_decay", (1.0, 5 * 10**7), _f64_cosine),
    ("cosine_decay", (2.0, 7, -1.0), _f64_cosine),
    ("linear_schedule", (0.0, 1e-1, 100), _f64_linear),
    ("linear_schedule", (1.0, 0.0, 10_000), _f64_linear),
    ("linear_schedule", (5e-5, 3e-4, 3), _f64_linear),
    ("exponential_decay", (1e-1, 0.9), _f64_exponential),
    ("exponential_decay", (1.0, 0.99999), _f64_exponential),
    ("exponential_decay", (2.0, 1 - 1e-8), _f64_exponential),
    ("step_decay", (1e-1, 0.9, 10), _f64_step),
    ("step_decay", (1.0, 0.5, 1000), _f64_step),
    ("step_decay", (3e-4, 0.999, 1), _f64_step),
]

TINY = 1e-37  # below float32's smallest normal, values are compared absolutely


@pytest.mark.parametrize(("name", "args", "reference"), CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_seed_parity(name, args, reference):
    ours = np.array(getattr(mlxlr, name)(*args)(mx.array(STEPS)), dtype=np.float64)
    theirs = np.array(getattr(optim, name)(*args)(mx.array(STEPS)), dtype=np.float64)
    exact = reference(*args)(STEPS)
    scale = max(abs(a) for a in args[:1] + args[1:2] if isinstance(a, float))
    # Relative error is meaningless where a value crosses zero: there, compare to the scale.
    atol = 1e-6 * scale if exact.min() < 0 < exact.max() else TINY * scale

    # mlxlr equals the float64 value everywhere ...
    np.testing.assert_allclose(ours, exact, rtol=1e-6, atol=atol)
    # ... and MLX's value wherever MLX itself does not drift from it.
    mlx_exact = np.isclose(theirs, exact, rtol=1e-6, atol=atol)
    np.testing.assert_allclose(ours[mlx_exact], theirs[mlx_exact], rtol=2e-6, atol=atol)
    assert mlx_exact[:10].all(), "MLX agrees with float64 on the first steps"
    drift = np.abs(theirs - exact)[~mlx_exact] / np.maximum(np.abs(exact[~mlx_exact]), TINY)
    print(
        f"{name}{args}: MLX drifts at {int((~mlx_exact).sum())} of {len(STEPS)} steps, up to {drift.max(initial=0):.2e}"
    )


def test_mlx_drift_is_real_and_ours_is_not():
    """DESIGN.md's numbers: MLX's exponential_decay(1, 0.99999) is 1.35% off at 10**6; mlxlr is not."""
    step = mx.array(10**6, dtype=mx.uint64)
    exact = math.exp(10**6 * math.log(0.99999))
    theirs = optim.exponential_decay(1.0, 0.99999)(step).item()
    ours = mlxlr.exponential_decay(1.0, 0.99999)(step).item()
    assert abs(theirs - exact) / exact > 0.01
    assert abs(ours - exact) / exact < 1e-6


def test_cosine_distinguishes_steps_past_float32_integers():
    # MLX converts the uint64 step to float32; above 2**24 neighbouring steps collide.
    steps = mx.array([2 * 10**7, 2 * 10**7 + 1], dtype=mx.uint64)
    exact = _f64_cosine(1.0, 5 * 10**7)(np.array([2 * 10**7, 2 * 10**7 + 1], dtype=np.uint64))
    ours = np.array(mlxlr.cosine_decay(1.0, 5 * 10**7)(steps), dtype=np.float64)
    np.testing.assert_allclose(ours, exact, rtol=1e-6)


def test_join_schedules_parity_with_mlx_closures_and_ours():
    steps = mx.arange(0, 3_000, dtype=mx.uint64)
    theirs = optim.join_schedules(
        [optim.linear_schedule(0, 1e-1, 10), optim.cosine_decay(1e-1, 200), optim.step_decay(1e-2, 0.5, 100)],
        [10, 210],
    )(steps)
    ours = mlxlr.join_schedules(
        [mlxlr.linear_schedule(0, 1e-1, 10), mlxlr.cosine_decay(1e-1, 200), mlxlr.step_decay(1e-2, 0.5, 100)],
        [10, 210],
    )(steps)
    closures = mlxlr.join_schedules(
        [optim.linear_schedule(0, 1e-1, 10), optim.cosine_decay(1e-1, 200), optim.step_decay(1e-2, 0.5, 100)],
        [10, 210],
    )(steps)
    t = np.arange(3_000, dtype=np.uint64)
    exact = np.where(
        t < 10,
        _f64_linear(0, 1e-1, 10)(t),
        np.where(
            t < 210, _f64_cosine(1e-1, 200)(t - np.minimum(t, 10)), _f64_step(1e-2, 0.5, 100)(t - np.minimum(t, 210))
        ),
    )
    np.testing.assert_allclose(np.array(ours), exact, rtol=1e-6, atol=1e-30)
    agree = np.isclose(np.array(theirs), exact, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(np.array(ours)[agree], np.array(theirs)[agree], rtol=2e-6)
    # MLX's own closures joined by mlxlr give exactly MLX's join.
    np.testing.assert_array_equal(np.array(closures), np.array(theirs))


def _lr_after(schedule, optimizer, updates):
    opt = optimizer(learning_rate=schedule)
    for _ in range(updates):
        opt.update({}, {})
    return opt.learning_rate.item()


@pytest.mark.parametrize(
    ("name", "args", "optimizer", "updates", "printed"),
    [  # MLX's own docstring examples: the printed learning rate after N updates
        ("exponential_decay", (1e-1, 0.9), optim.SGD, 5, 0.06561),
        ("step_decay", (1e-1, 0.9, 10), optim.SGD, 21, 0.081),
        ("cosine_decay", (1e-1, 1000), optim.SGD, 5, 0.0999961),
        ("linear_schedule", (0, 1e-1, 100), optim.Adam, 101, 0.1),
    ],
)
def test_mlx_docstring_examples(name, args, optimizer, updates, printed):
    ours = _lr_after(getattr(mlxlr, name)(*args), optimizer, updates)
    theirs = _lr_after(getattr(optim, name)(*args), optimizer, updates)
    assert ours == pytest.approx(printed, rel=1e-5)
    assert ours == pytest.approx(theirs, rel=1e-6)


def test_mlx_join_docstring_example():
    schedule = mlxlr.join_schedules([mlxlr.linear_schedule(0, 1e-1, steps=10), mlxlr.cosine_decay(1e-1, 200)], [10])
    opt = optim.Adam(learning_rate=schedule)
    assert opt.learning_rate.item() == 0.0
    for _ in range(12):
        opt.update({}, {})
    assert opt.learning_rate.item() == pytest.approx(0.0999938, rel=1e-5)


def test_same_signatures_as_mlx():
    import inspect

    for name in ["cosine_decay", "exponential_decay", "join_schedules", "linear_schedule", "step_decay"]:
        ours = list(inspect.signature(getattr(mlxlr, name)).parameters)
        theirs = list(inspect.signature(getattr(optim, name)).parameters)
        assert ours == theirs, name
