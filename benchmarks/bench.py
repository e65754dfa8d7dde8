"""What a schedule costs: mlxlr beside a constant learning rate and beside MLX's own schedules.

Usage::

    python benchmarks/bench.py [--quick] [--json PATH] [--cap SECONDS] [--only SECTION ...]

Every ratio is measured inside one process with its two sides interleaved
(each repeat cut in ten slices, the sides taking turns slice by slice, the
order rotating), and reported as the minimum, median and maximum of the
per-repeat ratios (at least 5 repeats). With ``--instances K`` the training
ratios take the instance as their unit instead (``instance_row``): on a GPU
two instances of one compiled step can differ by more than their repeats.
First compiled calls are measured in a fresh subprocess each, with an empty
kernel cache (``TMPDIR`` and ``MLX_PTX_CACHE_DIR`` point to a new folder):
MLX caches compiled kernels in memory and on disk, so a second compile in the
same process or with the same cache would measure a lookup. MLX's long joins
can take minutes to compile: each such measurement is capped at ``--cap``
seconds and reported as skipped beyond it.

Sections (``--only``): ``train`` (compiled training steps), ``traces`` (how
often the compiled step is traced over 1000 steps), ``scalar`` (one schedule
value, eager and compiled), ``first`` (first compiled call), ``values``
(``values(10**6)`` beside NumPy), ``units`` (a recipe written in fractions
of the run and bound, beside the same recipe written in steps) and ``build``
(a chain built one piece at a time with ``>>``, ``+`` or ``*``: 5000 pieces
beside 500, 10 for a linear cost).

"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

import mlx.core as mx  # noqa: E402
import mlx.nn as nn  # noqa: E402
import mlx.optimizers as optim  # noqa: E402
import numpy as np  # noqa: E402
from mlx.utils import tree_flatten  # noqa: E402

import mlxlr  # noqa: E402

SECTIONS = ("train", "traces", "scalar", "first", "values", "units", "build")

TOTAL, WARMUP, PEAK, FLOOR = 10_000, 1_000, 3e-4, 3e-5
PIECE = 100  # steps per piece of the joins of the scalar benchmark
SIZES = (10, 100, 1000)
"""Pieces of the joins of the scalar and first-call sections (``--sizes``)."""


# Timing. ---------------------------------------------------------------------


def _per_call(fn: Callable[[], object], inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def _calibrate(fn: Callable[[], object], target: float) -> int:
    """Calls per measurement so that one measurement lasts about ``target`` seconds."""
    fn()
    once = _per_call(fn, 3)
    return max(1, min(20_000, round(target / max(once, 1e-7))))


def interleave(
    items: dict[str, Callable[[], object]], reps: int, target: float, slices: int = 10
) -> dict[str, list[float]]:
    """Seconds per call of each item, ``reps`` measurements each, taken side by side.

    Each measurement (about ``target`` seconds) is cut into ``slices`` slices,
    and the items take turns slice by slice: a change of the machine's speed
    during a repeat (a shared machine's neighbours, clocks) falls on every
    item alike instead of on whichever item ran then.
    """
    inner = {name: _calibrate(fn, target) for name, fn in items.items()}
    chunk = {name: max(1, calls // slices) for name, calls in inner.items()}
    names = list(items)
    for name in names:  # one unrecorded round: caches, allocators and clocks settle
        _per_call(items[name], inner[name])
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(reps):
        shift = r % len(names)
        order = names[shift:] + names[:shift]
        spent, calls = dict.fromkeys(names, 0.0), dict.fromkeys(names, 0)
        for k in range(slices):
            for name in order if k % 2 == 0 else order[::-1]:
                if calls[name] < inner[name]:  # an item of few calls takes fewer slices
                    spent[name] += _per_call(items[name], chunk[name]) * chunk[name]
                    calls[name] += chunk[name]
        for name in names:
            times[name].append(spent[name] / calls[name])
    return times


def ratio_row(label: str, times: dict[str, list[float]], a: str, b: str, **extra: Any) -> dict[str, Any]:
    """The ratio ``a / b`` of two interleaved items: min, median and max over the repeats."""
    ratios = [x / y for x, y in zip(times[a], times[b])]
    return {
        "label": label,
        "a": a,
        "b": b,
        "a_seconds": statistics.median(times[a]),
        "b_seconds": statistics.median(times[b]),
        "ratio": [min(ratios), statistics.median(ratios), max(ratios)],
        "median_95": median_interval(ratios),
        "repeats": len(ratios),
        "ratios": ratios,
        **extra,
    }


def median_interval(values: list[float]) -> list[float] | None:
    """A 95% confidence interval of the median (order statistics, normal approximation); None below 10 values.

    Whether a median ratio is resolved from 1: it is when the interval excludes 1.
    """
    n = len(values)
    if n < 10:
        return None
    ordered = sorted(values)
    half = 1.96 * math.sqrt(n) / 2
    lo, hi = max(0, math.floor(n / 2 - half)), min(n - 1, math.ceil(n / 2 + half))
    return [ordered[lo], ordered[hi]]


# Training steps. ----------------------------------------------------------------


class MLP(nn.Module):
    def __init__(self, width: int = 256) -> None:
        super().__init__()
        self.layers = [nn.Linear(width, width) for _ in range(3)]

    def __call__(self, x: mx.array) -> mx.array:
        for layer in self.layers[:-1]:
            x = nn.relu(layer(x))
        return self.layers[-1](x)


class Block(nn.Module):
    def __init__(self, dims: int = 128) -> None:
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(dims, num_heads=4, mlp_dims=4 * dims)

    def __call__(self, x: mx.array) -> mx.array:
        return self.layer(x, None)


MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "MLP 3x256, batch 64": (MLP, (64, 256)),
    "Transformer block d128, seq 64, batch 8": (Block, (8, 64, 128)),
}


def ours_lr() -> mlxlr.Schedule:
    return mlxlr.Linear(0.0, PEAK, WARMUP) >> mlxlr.CosineDecay(PEAK, TOTAL - WARMUP, FLOOR)


def mlx_lr() -> Callable[[mx.array], mx.array]:
    pieces = [optim.linear_schedule(0.0, PEAK, WARMUP), optim.cosine_decay(PEAK, TOTAL - WARMUP, FLOOR)]
    return optim.join_schedules(pieces, [WARMUP])


OPTIMIZERS: dict[str, Callable[[], optim.Optimizer]] = {
    "constant": lambda: optim.AdamW(learning_rate=PEAK, weight_decay=0.01),
    "mlx": lambda: optim.AdamW(learning_rate=mlx_lr(), weight_decay=0.01),
    "mlxlr": lambda: mlxlr.ScheduledOptimizer(
        optim.AdamW(learning_rate=0.0, weight_decay=0.01), learning_rate=ours_lr()
    ),
    "mlxlr3": lambda: mlxlr.ScheduledOptimizer(
        optim.AdamW(learning_rate=0.0, weight_decay=0.0),
        learning_rate=ours_lr(),
        weight_decay=0.1 * mlxlr.Linear(1.0, 0.1, TOTAL),
        betas=(mlxlr.Linear(0.85, 0.95, WARMUP) >> mlxlr.Constant(0.95), 0.999),
    ),
}
LABELS = {
    "constant": "AdamW, constant learning rate",
    "mlx": "AdamW(learning_rate=optim.join_schedules([linear, cosine]))",
    "mlxlr": "ScheduledOptimizer(AdamW, Linear >> CosineDecay)",
    "mlxlr3": "ScheduledOptimizer, 3 schedules (lr, weight_decay, beta1)",
}


def train_step(
    model_name: str, opt_name: str, make: Callable[[], optim.Optimizer] | None = None
) -> tuple[Callable[[], object], list[int]]:
    """A compiled AdamW step on fresh (but always the same) weights and data; and its trace counter."""
    build, shape = MODELS[model_name]
    mx.random.seed(0)
    model = build()
    x = mx.random.normal(shape)
    y = mx.random.normal(shape)
    opt = (make or OPTIMIZERS[opt_name])()
    opt.init(model.trainable_parameters())
    mx.eval(model.parameters(), opt.state, x, y)  # evaluated before compiling: traced once, not twice
    loss_and_grad = nn.value_and_grad(model, lambda m, x, y: nn.losses.mse_loss(m(x), y))
    state = [model.state, opt.state]
    traces = [0]

    @partial(mx.compile, inputs=state, outputs=state)
    def step(x: mx.array, y: mx.array) -> mx.array:
        traces[0] += 1
        loss, grads = loss_and_grad(model, x, y)
        opt.update(model, grads)
        return loss

    def run() -> None:
        mx.eval(step(x, y), state)

    def graph() -> int:
        """Operations that launch work in one compiled step (views not counted), read before evaluating it."""
        loss = step(x, y)
        arrays = [a for _, a in tree_flatten([loss, state]) if isinstance(a, mx.array)]
        with tempfile.TemporaryDirectory() as folder:
            dot = Path(folder) / "step.dot"
            mx.export_to_dot(str(dot), *arrays)
            names = re.findall(r'label ="?([A-Za-z_]+)', dot.read_text())
        mx.eval(loss, state)
        return sum(name not in VIEWS for name in names)

    run.kernels = graph  # type: ignore[attr-defined]
    return run, traces


VIEWS = {"Broadcast", "ExpandDims", "Reshape", "Squeeze", "Transpose"}


def bench_train(cfg: argparse.Namespace) -> list[dict[str, Any]]:
    """Each optimizer's compiled step, ``cfg.instances`` instances of each (``instance_row``), interleaved."""
    rows = []
    k = cfg.instances
    for model_name in MODELS:
        items = {f"{name}#{i}": train_step(model_name, name)[0] for i in range(k) for name in OPTIMIZERS}
        times = interleave(items, cfg.train_reps, cfg.train_target)
        row = ratio_row if k == 1 else instance_row
        names = {name: f"{name}#0" for name in OPTIMIZERS} if k == 1 else {name: name for name in OPTIMIZERS}
        for name in ("mlxlr", "mlx", "mlxlr3"):
            label = f"{model_name}: {LABELS[name]} / constant"
            rows.append(row(label, times, names[name], names["constant"], model=model_name))
        label = f"{model_name}: mlxlr / MLX's join_schedules"
        rows.append(row(label, times, names["mlxlr"], names["mlx"], model=model_name))
    return rows


def instance_row(label: str, times: dict[str, list[float]], a: str, b: str, **extra: Any) -> dict[str, Any]:
    """The ratio ``a / b`` over several instances of each (``a#0``, ``a#1``...): what one instance cannot say.

    On a GPU two instances of one compiled step (the same model, optimizer and
    schedule, built again) can differ by a few per cent, resolved by their
    repeats: allocations and the kernel graph's dependencies differ from one
    instance to the next. So the instance is the unit of the ratio: each
    instance's time is the median of its repeats; the ratio is the median of
    ``a``'s instances over the median of ``b``'s; min and max are over every
    pair of instances; its 95% interval resamples the instances (bootstrap).
    """
    per = {name: [statistics.median(ts) for key, ts in times.items() if key.split("#")[0] == name] for name in (a, b)}
    pairs = [x / y for x in per[a] for y in per[b]]
    rng = random.Random(0)
    boot = sorted(
        statistics.median(rng.choices(per[a], k=len(per[a]))) / statistics.median(rng.choices(per[b], k=len(per[b])))
        for _ in range(2000)
    )
    return {
        "label": label,
        "a": a,
        "b": b,
        "a_seconds": statistics.median(per[a]),
        "b_seconds": statistics.median(per[b]),
        "ratio": [min(pairs), statistics.median(per[a]) / statistics.median(per[b]), max(pairs)],
        "median_95": [boot[49], boot[1949]],
        "repeats": len(next(iter(times.values()))),
        "instances": len(per[a]),
        "instance_seconds": per,
        **extra,
    }


def bench_traces(cfg: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    model_name = next(iter(MODELS))
    for name in OPTIMIZERS:
        run, traces = train_step(model_name, name)
        for _ in range(1000):
            run()
        kernels = run.kernels()  # type: ignore[attr-defined]
        rows.append(
            {
                "label": f"{model_name}: {LABELS[name]}",
                "optimizer": name,
                "steps": 1000,
                "traces": traces[0],
                "kernels": kernels,
            }
        )
    return rows


# One schedule value. ----------------------------------------------------------------


def _piece(i: int) -> tuple[float, float]:
    return 1e-3 / (i + 1), 1e-3 / (i + 2)  # distinct numbers: MLX bakes each one into its kernels


def schedule(kind: str, n: int, offset: int = 0) -> Callable[[mx.array], mx.array]:
    """``n`` linear pieces of 100 steps (a bare piece for ``n == 1``), mlxlr's or MLX's; ``offset``: other numbers."""
    if kind == "mlxlr":
        ours = [mlxlr.Linear(*_piece(i + offset), PIECE) for i in range(n)]
        return ours[0] if n == 1 else mlxlr.Join(ours, [PIECE * (i + 1) for i in range(n - 1)])
    theirs = [optim.linear_schedule(*_piece(i + offset), PIECE) for i in range(n)]
    return theirs[0] if n == 1 else optim.join_schedules(theirs, [PIECE * (i + 1) for i in range(n - 1)])


def probe(n: int) -> mx.array:
    return mx.array(PIECE * (n // 2) + 37, dtype=mx.uint64)


def _eager(kind: str, n: int) -> Callable[[], object]:
    s, t = schedule(kind, n), probe(n)
    return lambda: mx.eval(s(t))


def _compiled(kind: str, n: int) -> Callable[[], object]:
    s, t = schedule(kind, n), probe(n)
    fn = mx.compile(lambda step: s(step))
    return lambda: mx.eval(fn(t))


def bench_scalar(cfg: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    eager = {f"mlxlr {n}": _eager("mlxlr", n) for n in (1, *cfg.sizes)}
    eager.update({f"mlx {n}": _eager("mlx", n) for n in (1, *cfg.sizes)})
    times = interleave(eager, cfg.reps, cfg.target)
    for n in cfg.sizes:
        for kind in ("mlxlr", "mlx"):
            label = f"eager, {kind} join of {n} / one piece"
            rows.append(ratio_row(label, times, f"{kind} {n}", f"{kind} 1", mode="eager", kind=kind, pieces=n))
    for n in (1, *cfg.sizes):
        label = f"eager, {n} piece(s): mlxlr / mlx"
        rows.append(ratio_row(label, times, f"mlxlr {n}", f"mlx {n}", mode="eager", kind="both", pieces=n))
    compiled = {f"mlxlr {n}": _compiled("mlxlr", n) for n in (1, *cfg.sizes)}
    compiled["mlx 1"] = _compiled("mlx", 1)
    times = interleave(compiled, cfg.reps, cfg.target)
    for n in cfg.sizes:
        label = f"compiled, mlxlr join of {n} / one piece"
        rows.append(ratio_row(label, times, f"mlxlr {n}", "mlxlr 1", mode="compiled", kind="mlxlr", pieces=n))
    label = "compiled, one piece: mlxlr / mlx"
    rows.append(ratio_row(label, times, "mlxlr 1", "mlx 1", mode="compiled", kind="both", pieces=1))
    for n in cfg.sizes:  # MLX's compiles can take minutes: each size in a subprocess, capped
        label = f"compiled, mlx join of {n} / one piece"
        base = {"mode": "compiled", "kind": "mlx", "pieces": n}
        out = child(["steady", str(n), str(cfg.reps), str(cfg.target)], cfg.cap, cold=False)
        if "times" in out:
            rows.append(ratio_row(label, out["times"], f"mlx {n}", "mlx 1", **base))
        else:
            rows.append({"label": label, **base, "skipped": out["skipped"]})
    return rows


def steady_child(n: int, reps: int, target: float) -> dict[str, Any]:
    items = {"mlx 1": _compiled("mlx", 1), f"mlx {n}": _compiled("mlx", n)}
    return {"times": interleave(items, reps, target)}


# First compiled call. -------------------------------------------------------------


def first_call_child(kind: str, n: int, offset: int = 0, eager: bool = False) -> dict[str, Any]:
    mx.eval(mx.array(0.0) + 1)  # the device is up, and the compile below is traced once
    s, t = schedule(kind, n, offset), probe(n)
    fn = s if eager else mx.compile(lambda step: s(step))
    start = time.perf_counter()
    mx.eval(fn(t))
    return {"seconds": time.perf_counter() - start}


def child(
    args: list[str], cap: float | None, cold: bool, options: Sequence[str] = (), cache_dir: str | None = None
) -> dict[str, Any]:
    """Runs this script as ``OPTIONS --child ARGS``; its JSON, or ``{"skipped": why}`` past ``cap`` seconds.

    ``cold``: with an empty kernel cache of its own; ``cache_dir``: with this kernel cache (kept).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    cache = tempfile.mkdtemp(prefix="mlxlr-bench-") if cold else None
    for folder in (cache, cache_dir):
        if folder is None:
            continue
        # MLX keeps compiled kernels under the temp folder (the CPU's) and MLX_PTX_CACHE_DIR (CUDA's)
        env["TMPDIR"] = folder
        env["MLX_PTX_CACHE_DIR"] = os.path.join(folder, "ptx")
    # A session of its own: on a timeout the compilers MLX's CPU backend started go down with the child,
    # instead of running on and slowing the measurements that follow.
    proc = subprocess.Popen(
        [sys.executable, __file__, *options, "--child", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=None if cap is None else cap + 10.0)  # + start and imports
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"skipped": f"> {cap:g} s"}  # (no cap, no timeout)
    finally:
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
    if proc.returncode != 0:
        return {"skipped": f"failed: {stderr.strip().splitlines()[-1:]}"}
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return result


def bench_first(cfg: argparse.Namespace) -> list[dict[str, Any]]:
    items = [(kind, n) for kind in ("mlxlr", "mlx") for n in (1, *cfg.sizes)]
    seconds: dict[tuple[str, int], list[float]] = {item: [] for item in items}
    skipped: dict[tuple[str, int], str] = {}
    for _ in range(cfg.first_reps):
        for item in items:
            if item in skipped:
                continue
            out = child(["first", item[0], str(item[1])], cfg.cap, cold=True)
            if "seconds" in out and out["seconds"] <= cfg.cap:
                seconds[item].append(out["seconds"])
            else:
                skipped[item] = out.get("skipped") or f"> {cfg.cap:g} s (one run: {out['seconds']:.1f} s)"
    # The first eager value of one piece: mlxlr's is one kernel compiled once per family (the numbers are its
    # inputs), MLX's a few precompiled operations. With an empty kernel cache, and with the cache of an earlier
    # run whose numbers differ (a user's next run with another learning rate).
    eager: dict[str, list[float]] = {"mlxlr cold": [], "mlx cold": [], "mlxlr warm": [], "mlx warm": []}
    for rep in range(cfg.first_reps):
        for kind in ("mlxlr", "mlx"):
            out = child(["first", kind, "1", "0", "eager"], cfg.cap, cold=True)
            eager[f"{kind} cold"].append(out.get("seconds", math.nan))
            folder = tempfile.mkdtemp(prefix="mlxlr-bench-")
            try:
                child(["first", kind, "1", "0", "eager"], cfg.cap, cold=False, cache_dir=folder)
                out = child(["first", kind, "1", str(1 + rep), "eager"], cfg.cap, cold=False, cache_dir=folder)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            eager[f"{kind} warm"].append(out.get("seconds", math.nan))
    rows = []
    if seconds[("mlxlr", 1)] and seconds[("mlx", 1)]:
        times = {"mlxlr": seconds[("mlxlr", 1)], "mlx": seconds[("mlx", 1)]}
        rows.append(ratio_row("first call, one piece: mlxlr / mlx", times, "mlxlr", "mlx", pieces=1))
    for cache in ("cold", "warm"):
        label = "first eager value, one piece, " + (
            "empty kernel cache" if cache == "cold" else "other numbers than the cached run's"
        )
        rows.append(ratio_row(f"{label}: mlxlr / mlx", eager, f"mlxlr {cache}", f"mlx {cache}", pieces=1, eager=True))
    for kind in ("mlxlr", "mlx"):
        one = seconds[(kind, 1)]
        rows.append({"label": f"first call, {kind} one piece", "kind": kind, "pieces": 1, "seconds": one})
        for n in cfg.sizes:
            label = f"first call, {kind} join of {n} / one piece"
            if (kind, n) in skipped or (kind, 1) in skipped:
                why = skipped.get((kind, n)) or skipped[(kind, 1)]
                rows.append({"label": label, "kind": kind, "pieces": n, "skipped": why, "seconds": seconds[(kind, n)]})
                continue
            times = {"n": seconds[(kind, n)], "1": one}
            rows.append(ratio_row(label, times, "n", "1", kind=kind, pieces=n))
    return rows


# Values over many steps. --------------------------------------------------------------


def numpy_two_pieces(count: int) -> np.ndarray:
    """``Linear(0, PEAK, WARMUP) >> CosineDecay(PEAK, TOTAL - WARMUP, FLOOR)``: the same formula in NumPy."""
    f32 = np.float32
    t = np.arange(count, dtype=np.int64)
    done = np.minimum(t, WARMUP)
    warm = f32(0.0) * ((WARMUP - done).astype(f32) / f32(WARMUP)) + f32(PEAK) * (done.astype(f32) / f32(WARMUP))
    span = TOTAL - WARMUP
    left = (span - np.minimum(np.maximum(t - WARMUP, 0), span)).astype(f32) / f32(span)
    cos = f32(FLOOR) + f32(PEAK - FLOOR) * np.square(np.sin(f32(0.5 * np.pi) * left))
    return np.where(t < WARMUP, warm, cos)


def numpy_linear_pieces(count: int, n: int) -> np.ndarray:
    """``n`` linear pieces as :func:`schedule` builds them: ``searchsorted``, gathers, the formula."""
    f32 = np.float32
    bounds = np.array([PIECE * (i + 1) for i in range(n - 1)], dtype=np.int64)
    starts = np.concatenate([[0], bounds])
    init = np.array([_piece(i)[0] for i in range(n)], dtype=f32)
    end = np.array([_piece(i)[1] for i in range(n)], dtype=f32)
    t = np.arange(count, dtype=np.int64)
    idx = np.searchsorted(bounds, t, side="right")
    done = np.minimum(t - starts[idx], PIECE)
    return init[idx] * ((PIECE - done).astype(f32) / f32(PIECE)) + end[idx] * (done.astype(f32) / f32(PIECE))


def bench_values(cfg: argparse.Namespace) -> list[dict[str, Any]]:
    count = 10**6
    two, joined = ours_lr(), schedule("mlxlr", 1000)
    assert isinstance(joined, mlxlr.Schedule)
    np.testing.assert_allclose(np.array(two.values(count)), numpy_two_pieces(count), rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(np.array(joined.values(count)), numpy_linear_pieces(count, 1000), rtol=1e-5)
    phases = mx.arange(count, dtype=mx.float32) / count
    mx.eval(phases)
    items = {
        "mlxlr 2": lambda: mx.eval(two.values(count)),
        "numpy 2": lambda: numpy_two_pieces(count),
        "mlxlr 1000": lambda: mx.eval(joined.values(count)),
        "numpy 1000": lambda: numpy_linear_pieces(count, 1000),
        "mx.sin": lambda: mx.eval(mx.sin(phases)),
    }
    times = interleave(items, max(cfg.reps, 21), cfg.target)  # 21 repeats: the CPU machine's speed drifts
    return [
        ratio_row("values(10**6), Linear >> CosineDecay: mlxlr / NumPy", times, "mlxlr 2", "numpy 2", pieces=2),
        ratio_row("values(10**6), join of 1000 Linear: mlxlr / NumPy", times, "mlxlr 1000", "numpy 1000", pieces=1000),
        ratio_row("floor: one mx.sin over 10**6 float32 / NumPy's whole cosine formula", times, "mx.sin", "numpy 2"),
    ]


# Units of a run. ----------------------------------------------------------------------------


def units_lr() -> mlxlr.Schedule:
    """:func:`ours_lr` written in fractions of the run (warmup ``frac(0.1)``, then ``REST``), bound."""
    recipe = mlxlr.Linear(0.0, PEAK, mlxlr.frac(WARMUP / TOTAL)) >> mlxlr.CosineDecay(PEAK, mlxlr.REST, FLOOR)
    bound = recipe.bind(total_steps=TOTAL)
    assert bound == ours_lr(), (bound, ours_lr())  # the same tree: the ratios below should be 1
    return bound


def bench_units(cfg: argparse.Namespace) -> list[dict[str, Any]]:
    sides = {"steps": ours_lr(), "bound": units_lr()}
    t = mx.array(TOTAL // 2 + 37, dtype=mx.uint64)
    items: dict[str, Callable[[], object]] = {}
    for name, s in sides.items():
        fn = mx.compile(lambda step, s=s: s(step))
        items[f"eager {name}"] = lambda s=s: mx.eval(s(t))
        items[f"compiled {name}"] = lambda fn=fn: mx.eval(fn(t))
        items[f"values {name}"] = lambda s=s: mx.eval(s.values(10**6))
    times = interleave(items, max(cfg.reps, 21), cfg.target)
    model_name = next(iter(MODELS))
    steps = {
        name: train_step(
            model_name,
            "mlxlr",
            lambda s=s: mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0, weight_decay=0.01), learning_rate=s),
        )[0]
        for name, s in sides.items()
    }
    train_times = interleave({f"train {n}": fn for n, fn in steps.items()}, cfg.train_reps, cfg.train_target)
    label = "Linear(frac(0.1)) >> CosineDecay(REST) bound / the same in steps"
    return [
        ratio_row(f"{label}: one value, eager", times, "eager bound", "eager steps"),
        ratio_row(f"{label}: one value, compiled", times, "compiled bound", "compiled steps"),
        ratio_row(f"{label}: values(10**6)", times, "values bound", "values steps"),
        ratio_row(f"{label}: compiled training step, {model_name}", train_times, "train bound", "train steps"),
    ]


# Building chains. -----------------------------------------------------------------------


def build_chain(op: Callable[[Any, Any], Any], pieces: list[mlxlr.Schedule]) -> str:
    """``s = op(s, piece)`` for each piece, then ``repr(s)``: what a loop that builds a schedule does."""
    s = pieces[0]
    for piece in pieces[1:]:
        s = op(s, piece)
    return repr(s)


def bench_build(cfg: argparse.Namespace) -> list[dict[str, Any]]:
    import operator

    pieces = [mlxlr.Linear(1.0, 1.001, 10 + i % 7) for i in range(5_000)]
    rows = []
    for symbol, op in ((">>", operator.rshift), ("+", operator.add), ("*", operator.mul)):
        items = {
            f"5000 {symbol}": partial(build_chain, op, pieces),
            f"500 {symbol}": partial(build_chain, op, pieces[:500]),
        }
        times = interleave(items, cfg.reps, cfg.target)
        label = f"a chain of 5000 pieces built one by one with {symbol}, and its repr / 500 pieces (linear: 10)"
        rows.append(ratio_row(label, times, f"5000 {symbol}", f"500 {symbol}"))
    return rows


# Report. -------------------------------------------------------------------------------


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:9.1f} us" if seconds < 0.1 else f"{seconds:9.3f} s "


def print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n== {title} ==")
    for row in rows:
        if "traces" in row:
            kernels = f", {row['kernels']} kernels a step" if "kernels" in row else ""
            print(f"  {row['label']:<88} {row['traces']} trace(s) in {row['steps']} steps{kernels}")
        elif "skipped" in row:
            print(f"  {row['label']:<88} skipped ({row['skipped']})")
        elif "ratio" in row:
            lo, med, hi = row["ratio"]
            sides = f"{_us(row['a_seconds'])} / {_us(row['b_seconds'])}"
            ci = row.get("median_95")
            within = f"   median 95%: {ci[0]:.3f}..{ci[1]:.3f}" if ci else ""
            within += f" ({row['instances']} instances each)" if "instances" in row else ""
            print(f"  {row['label']:<88} {lo:6.3f} {med:6.3f} {hi:6.3f}   {sides}{within}")
        elif row["seconds"]:
            print(f"  {row['label']:<88} {_us(statistics.median(row['seconds']))}")
        else:
            print(f"  {row['label']:<88} no run finished")
    sys.stdout.flush()


TITLES = {
    "train": "Compiled training step (ratio min median max; median step times a / b)",
    "traces": "Traces of the compiled step over 1000 steps (after opt.init); kernels launched by one step",
    "scalar": "One schedule value at a uint64 step (ratio min median max; median call times a / b)",
    "first": "First call in a fresh process, empty kernel cache unless said (ratio min median max; times a / b)",
    "values": "values(10**6) beside the same formula in NumPy (ratio min median max; times a / b)",
    "units": "A recipe in fractions of the run, bound, beside it in steps (ratio min median max; times a / b)",
    "build": "Building a chain one piece at a time (ratio min median max; times a / b)",
}
RUNNERS: dict[str, Callable[[argparse.Namespace], list[dict[str, Any]]]] = {
    "train": bench_train,
    "traces": bench_traces,
    "scalar": bench_scalar,
    "first": bench_first,
    "values": bench_values,
    "units": bench_units,
    "build": bench_build,
}


def markdown(report: dict[str, Any]) -> str:
    """The tables of docs/performance.md, from a JSON report."""
    versions, device = report["versions"], report["device"]
    name = device.get("device_name") or device.get("default_device")
    lines = [
        f"{name}, MLX {versions['mlx']}, Python {versions['python']}, {report['date'][:10]}"
        f" (repeats: {report['settings']['repeats']}, training steps {report['settings']['train_repeats']},"
        f" cap {report['settings']['cap_seconds']:g} s; load average at start"
        f" {report.get('load_average_at_start', '?')} on {report.get('cpu_count', '?')} cores)",
        "",
        "| measurement | ratio min | median | max | a | b |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for section, rows in report["results"].items():
        lines.append(f"| **{section}** | | | | | |")
        for row in rows:
            if "traces" in row:
                kernels = f", {row['kernels']} kernels a step" if "kernels" in row else ""
                lines.append(f"| {row['label']} | | {row['traces']} trace in {row['steps']} steps{kernels} | | | |")
            elif "skipped" in row:
                lines.append(f"| {row['label']} | | skipped ({row['skipped']}) | | | |")
            elif "ratio" in row:
                lo, med, hi = row["ratio"]
                a, b = _us(row["a_seconds"]).strip(), _us(row["b_seconds"]).strip()
                lines.append(f"| {row['label']} | {lo:.3f} | **{med:.3f}** | {hi:.3f} | {a} | {b} |")
            else:
                lines.append(f"| {row['label']} | | {_us(statistics.median(row['seconds'])).strip()} | | | |")
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    info: dict[str, Any] = {"default_device": str(mx.default_device())}
    try:
        info.update({k: str(v) for k, v in mx.device_info().items()})
    except Exception as error:  # older MLX, or a backend without device_info
        info["device_info_error"] = repr(error)
    gpu = shutil.which("nvidia-smi")
    if gpu:
        query = [gpu, "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]
        info["nvidia_smi"] = subprocess.run(query, capture_output=True, text=True, check=False).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": {
            "mlx": mx.__version__,
            "mlxlr": mlxlr.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "device": info,
        "cpu_count": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],  # other processes share the machine
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer and shorter repeats, a lower --cap")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--cap", type=float, help="seconds allowed to one of MLX's slow compiles (default 120, quick 20)"
    )
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="the sections to run")
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=list(SIZES), help="pieces of the joins compared (none: one piece only)"
    )
    parser.add_argument("--train-reps", type=int, help="repeats of the training-step ratios (default 21, quick 11)")
    parser.add_argument("--instances", type=int, default=1, help="instances of each compiled training step (default 1)")
    parser.add_argument("--train-target", type=float, default=0.1, help="seconds of steps per item a repeat")
    parser.add_argument("--first-reps", type=int, help="fresh processes per first call measured (default 5)")
    parser.add_argument("--markdown", type=Path, help="print a JSON report's tables in Markdown, run nothing")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    cfg = parser.parse_args()
    for name in ("instances", "train_reps", "first_reps"):
        value = getattr(cfg, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if cfg.markdown:
        print(markdown(json.loads(cfg.markdown.read_text())))
        return
    cfg.cap = cfg.cap if cfg.cap is not None else (20.0 if cfg.quick else 120.0)
    cfg.reps = 5 if cfg.quick else 9
    cfg.first_reps = cfg.first_reps or 5
    cfg.train_reps = cfg.train_reps or (11 if cfg.quick else 21)
    cfg.target = 0.02 if cfg.quick else 0.05
    if cfg.child:
        mode, *rest = cfg.child
        if mode == "section":
            mx.eval(mx.array(0.0) + 1)  # MLX traces the first compiled function twice if nothing was evaluated before
            out: dict[str, Any] = {"rows": RUNNERS[rest[0]](cfg)}
        elif mode == "first":
            offset, eager = (int(rest[2]), rest[3] == "eager") if len(rest) > 3 else (0, False)
            out = first_call_child(rest[0], int(rest[1]), offset, eager)
        else:
            out = steady_child(int(rest[0]), int(rest[1]), float(rest[2]))
        print(json.dumps(out))
        return
    report = environment()
    report["settings"] = {
        "quick": cfg.quick,
        "cap_seconds": cfg.cap,
        "repeats": cfg.reps,
        "first_call_repeats": cfg.first_reps,
        "train_repeats": cfg.train_reps,
        "train_instances": cfg.instances,
        "join_sizes": cfg.sizes,
    }
    report["results"] = {}
    print(f"mlxlr benchmark: {report['versions']} on {report['device']}")
    for section in cfg.only:
        started = time.perf_counter()
        # Each section in a fresh process: what one leaves behind (allocator caches, compiled graphs, a heap
        # shaped by other work) changes the next one's small calls: on one H100 a compiled scalar call took
        # 60 us after the training sections and 30 us in a fresh process.
        options = ["--quick"] if cfg.quick else []
        options += ["--cap", str(cfg.cap), "--train-reps", str(cfg.train_reps), "--sizes", *map(str, cfg.sizes)]
        options += ["--instances", str(cfg.instances), "--train-target", str(cfg.train_target)]
        options += ["--first-reps", str(cfg.first_reps)]
        out = child(["section", section], None, cold=False, options=options)
        if "rows" not in out:
            raise SystemExit(f"section {section}: {out.get('skipped')}")
        rows = out["rows"]
        report["results"][section] = rows
        report.setdefault("section_seconds", {})[section] = round(time.perf_counter() - started, 1)
        report.setdefault("load_average_after", {})[section] = [round(x, 2) for x in os.getloadavg()]
        print_rows(TITLES[section], rows)
        if cfg.json:  # written after every section: a run cut short keeps what it measured
            cfg.json.parent.mkdir(parents=True, exist_ok=True)
            cfg.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
