"""Half precision: a scheduled hyperparameter never changes a dtype, for every MLX optimizer and hyperparameter.

Each case runs an update loop twice on a mixed tree (bfloat16 or float16
weights beside a float32 norm): once with MLX's own optimizer built with the
hyperparameter as a Python float, once with the same optimizer wrapped in a
``ScheduledOptimizer`` that schedules the hyperparameter as a ``Constant`` of
that value. Parameters and every state array keep MLX's dtypes, and the
parameters are equal up to half-precision rounding. Every optimizer x
hyperparameter x dtype runs eagerly; one hyperparameter of each optimizer
runs compiled too (``mx.compile`` traces the same graph; each compiled case
builds its kernels, about 10 s on a cold CPU kernel cache).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest
from mlx.utils import tree_flatten

import mlxlr

STEPS = 6

# (optimizer, constructor keywords, the hyperparameters to schedule one at a time)
OPTIMIZERS: list[tuple[str, Any, dict[str, Any]]] = [
    ("SGD", optim.SGD, {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.01, "dampening": 0.1}),
    ("SGD nesterov", partial(optim.SGD, nesterov=True), {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ("RMSprop", optim.RMSprop, {"learning_rate": 0.01, "alpha": 0.95, "eps": 1e-6}),
    ("Adagrad", optim.Adagrad, {"learning_rate": 0.1, "eps": 1e-6}),
    ("AdaDelta", optim.AdaDelta, {"learning_rate": 0.5, "rho": 0.9, "eps": 1e-5}),
    ("Adam", optim.Adam, {"learning_rate": 0.01, "betas": (0.9, 0.999), "eps": 1e-6}),
    ("AdamW", optim.AdamW, {"learning_rate": 0.01, "betas": (0.9, 0.999), "eps": 1e-6, "weight_decay": 0.05}),
    ("Adamax", optim.Adamax, {"learning_rate": 0.01, "betas": (0.9, 0.999), "eps": 1e-6}),
    ("Lion", optim.Lion, {"learning_rate": 0.01, "betas": (0.9, 0.99), "weight_decay": 0.05}),
    (
        "Adafactor",
        partial(optim.Adafactor, relative_step=False, scale_parameter=True),
        {
            "learning_rate": 0.01,
            "eps": (1e-30, 1e-3),
            "clip_threshold": 1.0,
            "decay_rate": -0.8,
            "beta_1": 0.9,
            "weight_decay": 0.05,
        },
    ),
    ("Muon", optim.Muon, {"learning_rate": 0.01, "momentum": 0.9, "weight_decay": 0.05}),
]

CASES = [
    pytest.param(make, settings, name, dtype, False, id=f"{label}-{name}-{dtype}")
    for label, make, settings in OPTIMIZERS
    for name in settings
    for dtype in ("bfloat16", "float16")
] + [
    pytest.param(make, settings, name, "bfloat16", True, id=f"{label}-{name}-bfloat16-compiled")
    for label, make, settings in OPTIMIZERS
    for name in list(settings)[1:2]
]

TOLERANCE = {"bfloat16": 2**-7, "float16": 2**-10}
"""Relative rounding of one half-precision operation, the tolerance of a few of them after STEPS updates."""


def tree(dtype: mx.Dtype) -> dict[str, Any]:
    """A mixed tree: half-precision weights and bias beside a float32 norm scale."""
    key = mx.random.key(3)
    k1, k2, k3 = mx.random.split(key, 3)
    return {
        "layer": {"weight": mx.random.normal((8, 6), key=k1).astype(dtype), "bias": mx.zeros((8,), dtype=dtype)},
        "norm": {"weight": (1 + 0.1 * mx.random.normal((8,), key=k2)).astype(mx.float32)},
        "head": mx.random.normal((4, 8), key=k3).astype(dtype),
    }


def gradients(params: dict[str, Any], step: int) -> dict[str, Any]:
    leaves = tree_flatten(params)
    keys = mx.random.split(mx.random.key(100 + step), len(leaves))
    flat = {path: (0.1 * mx.random.normal(p.shape, key=k)).astype(p.dtype) for (path, p), k in zip(leaves, keys)}
    return {
        "layer": {"weight": flat["layer.weight"], "bias": flat["layer.bias"]},
        "norm": {"weight": flat["norm.weight"]},
        "head": flat["head"],
    }


def run(opt: optim.Optimizer, dtype: mx.Dtype, compiled: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """``STEPS`` updates of ``tree(dtype)`` (compiled, or eager); the final parameters and state."""
    params = tree(dtype)
    opt.init(params)
    box = {"params": params}
    state = [box, opt.state]

    def update(grads: dict[str, Any]) -> None:
        box["params"] = opt.apply_gradients(grads, box["params"])

    if compiled:
        update = partial(mx.compile, inputs=state, outputs=state)(update)

    for k in range(STEPS):
        update(gradients(params, k))
        mx.eval(state)
    return box["params"], opt.state


def scheduled(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(mlxlr.Constant(v) if v is not None else v for v in value)
    return mlxlr.Constant(value)


@pytest.mark.parametrize(("make", "settings", "name", "dtype", "compiled"), CASES)
def test_a_scheduled_hyperparameter_keeps_every_dtype(
    make: Any, settings: dict[str, Any], name: str, dtype: str, compiled: bool
) -> None:
    half = getattr(mx, dtype)
    native_params, native_state = run(make(**settings), half)
    ours = mlxlr.ScheduledOptimizer(make(**settings), **{name: scheduled(settings[name])})
    our_params, our_state = run(ours, half, compiled)

    native_flat, our_flat = dict(tree_flatten(native_params)), dict(tree_flatten(our_params))
    assert {k: v.dtype for k, v in our_flat.items()} == {k: v.dtype for k, v in native_flat.items()}
    assert our_flat["layer.weight"].dtype == half and our_flat["norm.weight"].dtype == mx.float32
    native_leaves = dict(tree_flatten(native_state))
    our_leaves = {k.removeprefix("optimizer."): v for k, v in tree_flatten(our_state) if k.startswith("optimizer.")}
    for key, value in native_leaves.items():
        if key in ("step", "learning_rate") or key.startswith("learning_rate"):
            continue
        assert our_leaves[key].dtype == value.dtype, key

    moved = 0.0
    for key, want in native_flat.items():
        got = np.array(our_flat[key].astype(mx.float32))
        want32 = np.array(want.astype(mx.float32))
        scale = np.maximum(np.abs(want32), 1e-3)
        np.testing.assert_array_less(np.abs(got - want32) / scale, 8 * TOLERANCE[dtype], err_msg=key)
        initial = np.array(dict(tree_flatten(tree(half)))[key].astype(mx.float32))
        moved = max(moved, float(np.max(np.abs(want32 - initial))))
    assert moved > 1e-3, "the parameters barely moved: the comparison would prove nothing"
