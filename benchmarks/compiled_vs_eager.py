"""Compiled against eager on the current backend: the hyperparameters each step used, and the parameters after.

Usage::

    python benchmarks/compiled_vs_eager.py [--steps 50] [--json PATH]

For each case a small MLP trains ``--steps`` steps twice, compiled and eager,
recording at every step the scheduled hyperparameters the update used (from
``opt.state``). Printed per case: the largest difference between the two
runs' per-step hyperparameters in float32 ulps, and the parameters' largest
absolute and relative difference after the last step. A control runs MLX's own
optimizer with the same hyperparameters held constant, compiled against eager:
what the optimizer's arithmetic alone does to two runs whose inputs agree.

On the CPU backend compiled and eager agree bit for bit. On a GPU, compiled
kernels may contract a multiply and an add into one rounding; whatever a
schedule's value differs by (an ulp or so), the optimizer then carries,
and a few steps of Adam's ``m / (sqrt(v) + eps)`` turn ulps of its inputs
into larger relative differences of parameters near 0. The control shows
how much of that belongs to the optimizer.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from functools import partial
from typing import Any

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
from mlx.utils import tree_flatten

import mlxlr

CYCLE = mlxlr.Linear(0.95, 0.85, 25) >> mlxlr.Linear(0.85, 0.95, 25)

# name: (optimizer, scheduled hyperparameters, the control: MLX's own optimizer with constants)
CASES: dict[str, tuple[Callable[[], optim.Optimizer], dict[str, Any], Callable[[], optim.Optimizer]]] = {
    "adamw weight_decay rising": (
        lambda: optim.AdamW(learning_rate=1e-2, weight_decay=0.01),
        {"weight_decay": mlxlr.Linear(0.0, 0.5, 50)},
        lambda: optim.AdamW(learning_rate=1e-2, weight_decay=0.25),
    ),
    "sgd momentum cycling": (
        lambda: optim.SGD(learning_rate=1e-2, momentum=0.9),
        {"momentum": CYCLE},
        lambda: optim.SGD(learning_rate=1e-2, momentum=0.9),
    ),
    "adam beta1 cycling": (
        lambda: optim.Adam(learning_rate=1e-2),
        {"betas": (CYCLE, 0.999)},
        lambda: optim.Adam(learning_rate=1e-2, betas=[0.9, 0.999]),
    ),
    "adam learning rate": (
        lambda: optim.Adam(learning_rate=0.0),
        {"learning_rate": mlxlr.Linear(0.0, 1e-2, 10) >> mlxlr.CosineDecay(1e-2, 40)},
        lambda: optim.Adam(learning_rate=5e-3),
    ),
}


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = [nn.Linear(6, 16), nn.Linear(16, 16), nn.Linear(16, 2)]

    def __call__(self, x: mx.array) -> mx.array:
        for layer in self.layers[:-1]:
            x = nn.relu(layer(x))
        out: mx.array = self.layers[-1](x)
        return out


def batch(i: int) -> tuple[mx.array, mx.array]:
    x = mx.random.normal((16, 6), key=mx.random.key(1000 + i))
    return x, mx.stack([x.sum(axis=1), (x * x).mean(axis=1)], axis=1)


def train(opt: optim.Optimizer, steps: int, compiled: bool, names: list[str]) -> tuple[dict[str, np.ndarray], list]:
    """The parameters after ``steps`` steps, and the scheduled values every step used."""
    mx.random.seed(0)
    model = MLP()
    mx.eval(model.parameters())
    opt.init(model.trainable_parameters())
    loss_and_grad = nn.value_and_grad(model, lambda m, x, y: nn.losses.mse_loss(m(x), y))
    state = [model.state, opt.state]

    def step(x: mx.array, y: mx.array) -> mx.array:
        loss, grads = loss_and_grad(model, x, y)
        opt.update(model, grads)
        return loss

    if compiled:
        step = partial(mx.compile, inputs=state, outputs=state)(step)
    used = []
    for i in range(steps):
        step(*batch(i))
        mx.eval(state)
        used.append([np.array(opt.state[n][0] if isinstance(opt.state[n], list) else opt.state[n]) for n in names])
    return {k: np.array(v) for k, v in tree_flatten(model.parameters())}, used


def _held(spec: Any) -> Any:
    """A schedule's value at step 0 held for good (a tuple's parts each)."""
    if isinstance(spec, tuple):
        return tuple(_held(p) for p in spec)
    return mlxlr.Constant(spec.at(0)) if isinstance(spec, mlxlr.Schedule) else spec


def ulps(a: np.ndarray, b: np.ndarray) -> int:
    """The distance of two float32 values in units in the last place."""
    ia, ib = (np.asarray(x, dtype=np.float32).view(np.int32).astype(np.int64) for x in (a, b))
    ia = np.where(ia < 0, -(ia & 0x7FFFFFFF), ia)
    ib = np.where(ib < 0, -(ib & 0x7FFFFFFF), ib)
    return int(np.max(np.abs(ia - ib)))


def differences(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, float]:
    """The largest absolute difference, and the largest relative one where the value is not tiny."""
    absolute = max(float(np.max(np.abs(a[k] - b[k]))) for k in a)
    relative = max(float(np.max(np.abs(a[k] - b[k]) / np.maximum(np.abs(b[k]), 1e-3))) for k in a)
    return {"max_abs": absolute, "max_rel_over_1e-3": relative}


SCHEDULES = [
    mlxlr.Linear(0.0, 1e-3, 100),
    mlxlr.CosineDecay(1e-3, 1000, 1e-5),
    mlxlr.Linear(0.0, 1e-3, 100) >> mlxlr.CosineDecay(1e-3, 900, 1e-5),
    mlxlr.ExponentialDecay(1e-3, 0.99),
    mlxlr.StepDecay(1e-3, 0.5, 30),
    mlxlr.MultiStepDecay(1e-3, [300, 800]),
    mlxlr.PiecewiseConstant([200, 700], [1e-3, 5e-4, 1e-4]),
    mlxlr.PolynomialDecay(1e-3, 1000, 1e-5, power=2.0),
    mlxlr.PolynomialDecay(1.0, 7, 0.1, 1.5, cycle=True),
    mlxlr.InverseTimeDecay(1e-3, 10, 0.5),
    mlxlr.InverseSqrt(1e-3, 100),
    mlxlr.CosineRestarts(1e-3, 100, 2.0, 1e-5, 0.5),
    mlxlr.CosineRestarts(1.0, 3, 1.01),
    mlxlr.Cyclic(1e-4, 1e-3, 50, mode="exp_range", gamma=0.999),
    mlxlr.OneCycle(1e-3, 1000),
    mlxlr.OneCycle(1.0, 99, three_phase=True),
    mlxlr.OneCycle(1e-3, 1000).momentum(),
    mlxlr.WarmupStableDecay(1e-3, 100, 600, 300, decay_shape="1-sqrt"),
    mlxlr.CosineDecay(1e-3, 900).with_warmup(100).clip(lo=1e-5),
    mlxlr.CosineDecay(1e-3, 900).repeat(2).stretch(0.5),
    mlxlr.Join([mlxlr.Linear(1e-3 / (i + 1), 1e-3 / (i + 2), 20) for i in range(100)], list(range(20, 2000, 20))),
]
"""Every family and the combinators, for the survey of values: compiled against eager."""


def survey(steps: int) -> list[dict[str, Any]]:
    """For each schedule: compiled against eager, in ulps of each value and in ulps of the schedule's peak."""
    out = []
    t = mx.arange(steps, dtype=mx.uint64)
    for schedule in SCHEDULES:
        eager = np.array(schedule(t))
        compiled = np.array(mx.compile(lambda s, f=schedule: f(s))(t))
        one = np.array(
            [mx.compile(lambda s, f=schedule: f(s))(mx.array(k, dtype=mx.uint64)) for k in range(0, steps, 7)]
        )
        peak = float(np.max(np.abs(eager)))
        unit = float(np.spacing(np.float32(peak))) if peak else 1.0
        worst = max(float(np.max(np.abs(compiled - eager))), float(np.max(np.abs(one - eager[::7]))))
        out.append(
            {
                "schedule": repr(schedule)[:90],
                "ulps_of_value": max(ulps(compiled, eager), ulps(one, eager[::7])),
                "ulps_of_peak": worst / unit,
            }
        )
    return out


def optimizer_rates(steps: int) -> list[dict[str, Any]]:
    """The learning rates a compiled ScheduledOptimizer step used against the schedule evaluated eagerly."""
    out = []
    for schedule in SCHEDULES:
        opt = mlxlr.ScheduledOptimizer(optim.SGD(learning_rate=0.0), learning_rate=schedule)
        params = {"w": mx.ones((3,))}
        opt.init(params)
        step = mx.compile(lambda g, p, o=opt: o.apply_gradients({"w": g}, p), inputs=opt.state, outputs=opt.state)
        used = []
        for _ in range(steps):
            params = step(mx.zeros((3,)), params)
            mx.eval(params, opt.state)
            used.append(np.array(opt.learning_rate))
        eager = np.array(schedule(mx.arange(steps, dtype=mx.uint64)))
        got = np.array(used, dtype=np.float32)
        peak = float(np.max(np.abs(eager)))
        unit = float(np.spacing(np.float32(peak))) if peak else 1.0
        out.append(
            {
                "schedule": repr(schedule)[:90],
                "ulps_of_value": ulps(got, eager),
                "ulps_of_peak": float(np.max(np.abs(got - eager))) / unit,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    mx.eval(mx.array(0.0) + 1)
    results: dict[str, Any] = {"device": str(mx.default_device()), "steps": args.steps, "cases": {}}
    for label, rows in (("values", survey(2000)), ("optimizer learning rates", optimizer_rates(300))):
        results[label] = rows
        worst = max(rows, key=lambda r: r["ulps_of_peak"])
        print(
            f"{label}: compiled vs eager, at most {max(r['ulps_of_value'] for r in rows)} ulps of the value, "
            f"{worst['ulps_of_peak']:.2f} ulps of the schedule's peak ({worst['schedule']})"
        )
        for row in rows:
            print(f"    {row['ulps_of_value']:4d} ulps of value  {row['ulps_of_peak']:6.2f} of peak  {row['schedule']}")
    print(f"device {mx.default_device()}, {args.steps} steps per run")
    for name, (make, schedules, control) in CASES.items():
        names = list(schedules)
        runs = {c: train(mlxlr.ScheduledOptimizer(make(), **schedules), args.steps, c, names) for c in (False, True)}
        per_step = [
            max(ulps(x, y) for x, y in zip(eager, compiled)) for eager, compiled in zip(runs[False][1], runs[True][1])
        ]
        ours = differences(runs[True][0], runs[False][0])
        controls = {c: train(control(), args.steps, c, [])[0] for c in (False, True)}
        mlx_own = differences(controls[True], controls[False])
        held = {n: _held(spec) for n, spec in schedules.items()}  # the same wrapper, every value held constant
        constant = {c: train(mlxlr.ScheduledOptimizer(make(), **held), args.steps, c, [])[0] for c in (False, True)}
        wrapped_constant = differences(constant[True], constant[False])
        first = {c: train(mlxlr.ScheduledOptimizer(make(), **schedules), 1, c, names)[0] for c in (False, True)}
        one_step = differences(first[True], first[False])
        results["cases"][name] = {
            "hyperparameter_ulps_max": max(per_step),
            "steps_with_hyperparameter_ulps": sum(u > 0 for u in per_step),
            "parameters": ours,
            "parameters_after_one_step": one_step,
            "same_wrapper_constant_values": wrapped_constant,
            "mlx_own_constant_control": mlx_own,
        }
        print(
            f"{name:28s} hyper ulps max {max(per_step)} (steps differing {sum(u > 0 for u in per_step)}/{args.steps})"
            f"  params after 1 step: abs {one_step['max_abs']:.1e}; after {args.steps}: abs {ours['max_abs']:.2e}"
            f" rel {ours['max_rel_over_1e-3']:.2e} | held constant: abs {wrapped_constant['max_abs']:.2e}"
            f" rel {wrapped_constant['max_rel_over_1e-3']:.2e} | MLX's own, constants: abs {mlx_own['max_abs']:.2e}"
            f" rel {mlx_own['max_rel_over_1e-3']:.2e}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
