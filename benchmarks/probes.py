"""The probes behind "What is left" in docs/performance.md: where a scheduled step's time goes.

Usage::

    python benchmarks/probes.py [step] [place] [select] [--reps N]

``step``: a compiled AdamW step of the benchmark's MLP, one variant each
(a constant learning rate; extra state arrays; mlxlr's schedules one by one;
the next update's rate computed after this one; MLX's own scheduler path
with formulas of every kind, Linear's exact form on int64 and int32 steps
among them), each ratio to the constant learning rate.
``place``: where a scheduled step's extra time goes, one change at a time
(two instances of the constant step, and the join's ``chain`` called
directly, which for two pieces of two families builds the wrapper's own
graph: the spread between like variants; the wrapper's schedule evaluated
from the old step, in its own kernel instead of the increment's; on an
``int32`` step; MLX's join as a user schedule in the wrapper; mlxlr's
schedule as MLX's own scheduler; Linear's exact form through MLX's path).
``select``: ways to pick a 1000-piece join's active piece at one step,
compiled, against one piece. Measured like the benchmark (``bench.interleave``:
side by side, ten slices a repeat); the median, min and max of the ratios
are printed. Nothing is written.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from functools import partial

import bench
import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim

import mlxlr

LOWEST = -3.4028234663852886e38  # float32's lowest finite value

P, W, T, F = bench.PEAK, bench.WARMUP, bench.TOTAL, bench.FLOOR


def mlp_step(
    make_optimizer: Callable[[], optim.Optimizer],
    alias: bool = False,
    ahead: mlxlr.Schedule | None = None,
) -> Callable[[], object]:
    """The benchmark's compiled MLP step.

    ``alias``: two more state arrays, the step and the learning rate again
    (as the wrapper's state holds them). ``ahead``: the learning rate for the
    next update computed from the new step after this update, kept in the
    optimizer's state.
    """
    build, shape = bench.MODELS["MLP 3x256, batch 64"]
    mx.random.seed(0)
    model = build()
    x, y = mx.random.normal(shape), mx.random.normal(shape)
    opt = make_optimizer()
    opt.init(model.trainable_parameters())
    if ahead is not None:
        opt.state["learning_rate"] = ahead(0)
    extra = {"step": opt.state["step"], "learning_rate": opt.state["learning_rate"]} if alias else {}
    mx.eval(model.parameters(), opt.state, x, y, extra)
    loss_and_grad = nn.value_and_grad(model, lambda m, x, y: nn.losses.mse_loss(m(x), y))
    state = [model.state, opt.state, extra]

    @partial(mx.compile, inputs=state, outputs=state)
    def step(x: mx.array, y: mx.array) -> mx.array:
        loss, grads = loss_and_grad(model, x, y)
        opt.update(model, grads)
        if ahead is not None:
            opt.state["learning_rate"] = ahead(opt.state["step"])
        extra.update({key: opt.state[key] for key in extra})
        return loss

    return lambda: mx.eval(step(x, y), state)


def wrapped(schedule: mlxlr.Schedule) -> Callable[[], optim.Optimizer]:
    return lambda: mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0, weight_decay=0.01), learning_rate=schedule)


def native(fn: Callable[[mx.array], mx.array]) -> Callable[[], optim.Optimizer]:
    return lambda: optim.AdamW(learning_rate=fn, weight_decay=0.01)


def exact_linear(step: mx.array, dtype: mx.Dtype) -> mx.array:
    """``Linear(0, P, W)``'s exact form (both fractions from integers) on a step converted to ``dtype``.

    Beside MLX's float form (``step * c + lr``) it says what the integer operations cost a fused scalar
    kernel on a GPU, where 64-bit integer arithmetic is slower than 32-bit.
    """
    t = mx.minimum(step, 2**30).astype(dtype)
    done = mx.minimum(t, W)
    return 0.0 * ((W - done).astype(mx.float32) / W) + P * (done.astype(mx.float32) / W)


def step_variants() -> dict[str, Callable[[], object]]:
    constant = bench.OPTIMIZERS["constant"]
    return {
        "constant learning rate": mlp_step(constant),
        "constant, two more state arrays (aliased)": mlp_step(constant, alias=True),
        "ScheduledOptimizer, Constant": mlp_step(wrapped(mlxlr.Constant(P))),
        "ScheduledOptimizer, Linear": mlp_step(wrapped(mlxlr.Linear(0.0, P, W))),
        "ScheduledOptimizer, CosineDecay": mlp_step(wrapped(mlxlr.CosineDecay(P, T - W, F))),
        "ScheduledOptimizer, Linear >> Constant": mlp_step(wrapped(mlxlr.Linear(0.0, P, W) >> mlxlr.Constant(P))),
        "ScheduledOptimizer, Linear >> CosineDecay": mlp_step(wrapped(bench.ours_lr())),
        "next rate computed ahead, Linear >> CosineDecay": mlp_step(constant, ahead=bench.ours_lr()),
        "next rate computed ahead, Constant": mlp_step(constant, ahead=mlxlr.Constant(P)),
        "MLX scheduler: a constant array": mlp_step(native(lambda s: mx.array(P, dtype=mx.float32))),
        "MLX scheduler: step.astype(float32) * c + lr": mlp_step(native(lambda s: s.astype(mx.float32) * 1e-9 + P)),
        "MLX scheduler: integer operations first": mlp_step(
            native(lambda s: ((s.astype(mx.int64) * 3 + 1) // 7).astype(mx.float32) * 1e-9 + P)
        ),
        "MLX scheduler: a sine": mlp_step(native(lambda s: mx.sin(s.astype(mx.float32) * 1e-4) * 1e-5 + P)),
        "MLX scheduler: Linear's exact form, int64 step": mlp_step(native(lambda s: exact_linear(s, mx.int64))),
        "MLX scheduler: Linear's exact form, int32 step": mlp_step(native(lambda s: exact_linear(s, mx.int32))),
        "MLX scheduler: cosine_decay": mlp_step(native(optim.cosine_decay(P, T - W, F))),
        "MLX scheduler: join_schedules": mlp_step(bench.OPTIMIZERS["mlx"]),
    }


class Placed(mlxlr.ScheduledOptimizer):
    """The wrapper with its one schedule evaluated another way (``how``): the probe's variable."""

    def __init__(self, optimizer: optim.Optimizer, schedule: mlxlr.Schedule, how: str) -> None:
        self.how = how  # set first: the constructor evaluates the schedule
        super().__init__(optimizer, learning_rate=schedule)

    def _memo(self, step: mx.array, after: mx.array) -> dict[mlxlr.Schedule, mx.array]:
        (s,) = self._distinct
        if self.how == "old step":  # from the step before the increment: a kernel of its own
            return {s: s.formula(step.astype(mx.int64))}
        if self.how == "int32":
            return {s: s.formula(after.astype(mx.int32), 1)}
        if self.how == "chain":
            return {s: s.chain(after.astype(mx.int64), 1)}
        raise ValueError(f"how must be 'old step', 'int32' or 'chain', got {self.how!r}")


class Closure(mlxlr.Schedule):
    """An MLX schedule closure as a user's schedule (the wrapper's path for a schedule it cannot fuse)."""

    def __init__(self, fn: Callable[[mx.array], mx.array]) -> None:
        self.fn = fn

    def __call__(self, step: mlxlr.StepLike) -> mx.array:
        return self.fn(mx.array(step) if not isinstance(step, mx.array) else step)


def placed(schedule: mlxlr.Schedule, how: str) -> Callable[[], optim.Optimizer]:
    return lambda: Placed(optim.AdamW(learning_rate=0.0, weight_decay=0.01), schedule, how)


def place_variants() -> dict[str, Callable[[], object]]:
    constant = bench.OPTIMIZERS["constant"]
    linear = mlxlr.Linear(0.0, P, W)
    return {
        "constant learning rate": mlp_step(constant),
        "constant learning rate, another instance": mlp_step(constant),
        "MLX scheduler: join_schedules": mlp_step(bench.OPTIMIZERS["mlx"]),
        "ScheduledOptimizer, Constant": mlp_step(wrapped(mlxlr.Constant(P))),
        "ScheduledOptimizer, Linear >> CosineDecay": mlp_step(wrapped(bench.ours_lr())),
        "  ... from the old step (own kernel)": mlp_step(placed(bench.ours_lr(), "old step")),
        "  ... on an int32 step": mlp_step(placed(bench.ours_lr(), "int32")),
        "  ... its chain called directly (the same graph)": mlp_step(placed(bench.ours_lr(), "chain")),
        "ScheduledOptimizer, MLX's join as a user schedule": mlp_step(wrapped(Closure(bench.mlx_lr()))),
        "MLX scheduler: mlxlr's Linear >> CosineDecay": mlp_step(native(bench.ours_lr())),
        "ScheduledOptimizer, Linear": mlp_step(wrapped(linear)),
        "  ... Linear from the old step (own kernel)": mlp_step(placed(linear, "old step")),
        "  ... Linear on an int32 step": mlp_step(placed(linear, "int32")),
        "MLX scheduler: linear_schedule": mlp_step(native(optim.linear_schedule(0.0, P, W))),
        "MLX scheduler: Linear's exact form, int64 step": mlp_step(native(lambda s: exact_linear(s, mx.int64))),
        "MLX scheduler: Linear's exact form, int32 step": mlp_step(native(lambda s: exact_linear(s, mx.int32))),
    }


def select_variants() -> dict[str, Callable[[], object]]:
    n, length = 1000, bench.PIECE
    starts = mx.array([length * i for i in range(n)], dtype=mx.int64)
    stops = mx.array([length * (i + 1) for i in range(n - 1)] + [2**62], dtype=mx.int64)
    bounds = starts[1:]
    init = mx.array([bench._piece(i)[0] for i in range(n)], dtype=mx.float32)
    end = mx.array([bench._piece(i)[1] for i in range(n)], dtype=mx.float32)
    mx.eval(starts, stops, bounds, init, end)

    def linear(t: mx.array, start: mx.array, a: mx.array, b: mx.array) -> mx.array:
        done = mx.minimum(mx.maximum(t - start, 0), length).astype(mx.float32) / length
        return a + (b - a) * done

    def masked(t: mx.array, other: float) -> mx.array:
        t = t.astype(mx.int64)
        return mx.where((t >= starts) & (t < stops), linear(t, starts, init, end), other)

    def counted(t: mx.array) -> mx.array:
        t = t.astype(mx.int64)
        i = (t >= bounds).sum()
        return linear(t, mx.take(starts, i), mx.take(init, i), mx.take(end, i))

    def product(t: mx.array) -> mx.array:
        t = t.astype(mx.int64)
        active = ((t >= starts) & (t < stops)).astype(mx.float32).reshape(1, n)
        return (active @ linear(t, starts, init, end).reshape(n, 1)).reshape(())

    fns: dict[str, Callable[[mx.array], mx.array]] = {
        "one piece (mlxlr Linear)": mlxlr.Linear(*bench._piece(0), length),
        "mlxlr join of 1000": bench.schedule("mlxlr", n),
        "max over all axes": lambda t: masked(t, LOWEST).max(),
        "max over the last axis": lambda t: masked(t, LOWEST).max(axis=-1),
        "sum over all axes": lambda t: masked(t, 0.0).sum(),
        "count passed boundaries, then three takes": counted,
        "matrix product with the mask": product,
        "two trivial kernels": lambda t: (t.astype(mx.float32) * init).max(),
    }
    probe = bench.probe(n)
    out = {}
    for name, fn in fns.items():
        compiled = mx.compile(fn)
        mx.eval(compiled(probe))
        out[name] = partial(lambda f: mx.eval(f(probe)), compiled)
    return out


def report(title: str, items: dict[str, Callable[[], object]], reps: int, target: float) -> None:
    times = bench.interleave(items, reps, target)
    base = next(iter(items))
    print(f"== {title} (ratio to {base}: min median max; median time) ==")
    for name in items:
        ratios = [a / b for a, b in zip(times[name], times[base])]
        low, mid, high = min(ratios), statistics.median(ratios), max(ratios)
        ci = bench.median_interval(ratios)
        within = f"  median 95%: {ci[0]:.3f}..{ci[1]:.3f}" if ci else ""
        print(f"  {name:<50} {low:6.3f} {mid:6.3f} {high:6.3f}  {statistics.median(times[name]) * 1e6:9.1f} us{within}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("probes", nargs="*", help="step, place, select (default: step and select)")
    parser.add_argument("--reps", type=int, default=41, help="repeats of each ratio (default 41)")
    cfg = parser.parse_args()
    cfg.probes = cfg.probes or ["step", "select"]
    if not set(cfg.probes) <= {"step", "place", "select"}:
        parser.error(f"probes must be step, place or select, got {cfg.probes}")
    mx.eval(mx.array(0.0) + 1)
    print(f"mlxlr probes: {bench.environment()['versions']} on {mx.default_device()}")
    if "step" in cfg.probes:
        report("Compiled MLP step, AdamW", step_variants(), cfg.reps, 0.1)
    if "place" in cfg.probes:
        report("Compiled MLP step, AdamW: where a schedule's time goes", place_variants(), cfg.reps, 0.1)
    if "select" in cfg.probes:
        report("One value of a 1000-piece join, compiled", select_variants(), cfg.reps, 0.05)


if __name__ == "__main__":
    main()
