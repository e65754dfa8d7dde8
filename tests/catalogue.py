"""The catalogue's table: every family's examples, each beside a float64 formula written from its reference.

Adding a family to mlxlr takes one row here, ``(name, schedule, reference,
period)``: ``tests/test_catalogue.py`` compares the family with the reference
at every step of three periods and far beyond (rtol 1e-5), and the example
joins ``tests/examples.py`` (repr, parse, configs, compiled optimizer steps
and the property tests). The references are float64 and written from the
formulas the reference libraries document, never from mlxlr's code.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from fractions import Fraction

import mlxlr

# References: float64, from the formulas the references document. -------------


def multistep(init: float, milestones: list[int], gamma: float) -> Callable[[int], float]:
    return lambda t: init * gamma ** bisect.bisect_right(milestones, t)


def piecewise(boundaries: list[int], vals: list[float]) -> Callable[[int], float]:
    # Optax/PyTorch: the value switches at step >= boundary.
    return lambda t: vals[sum(1 for b in boundaries if t >= b)]


def keras_piecewise(boundaries: list[int], vals: list[float]) -> Callable[[int], float]:
    # Keras: values[0] for t <= b[0], values[i] for b[i-1] < t <= b[i], values[-1] for t > b[-1].
    def f(t: int) -> float:
        for b, v in zip(boundaries, vals):
            if t <= b:
                return v
        return vals[-1]

    return f


def keras_polynomial(init: float, decay_steps: int, end: float, power: float, cycle: bool) -> Callable[[int], float]:
    def f(t: int) -> float:
        steps = float(decay_steps)
        step = float(t)
        if cycle:
            steps *= 1.0 if t == 0 else math.ceil(t / decay_steps)
        else:
            step = min(step, steps)
        # (1 - step / steps) with the integer difference formed first (a float64 1 - p cancels at 1e9).
        left = (steps - step) / steps
        return (init - end) * left**power + end

    return f


def keras_inverse_time(init: float, decay_steps: int, rate: float, staircase: bool) -> Callable[[int], float]:
    def f(t: int) -> float:
        p = t / decay_steps
        if staircase:
            p = math.floor(p)
        return init / (1 + rate * p)

    return f


def hf_inverse_sqrt(init: float, warmup: int, timescale: int | None) -> Callable[[int], float]:
    tau = timescale if timescale is not None else (warmup or 10_000)

    def f(t: int) -> float:
        if t < warmup:
            return init * t / max(1, warmup)
        shift = tau - warmup
        return init / math.sqrt((t + shift) / tau)

    return f


def sgdr(init: float, period: int, mult: float, end: float, decay: float) -> Callable[[int], float]:
    """PyTorch's closed form (T_cur, T_i) / Keras's geometric sum, with the period found exactly."""
    m = Fraction(mult)

    def start(i: int) -> Fraction:
        return period * Fraction(i) if m == 1 else period * (m**i - 1) / (m - 1)

    def f(t: int) -> float:
        if m == 1:
            i = t // period
        else:
            i = int(math.log(t / period * (mult - 1) + 1) / math.log(mult))
            while start(i + 1) <= t:
                i += 1
            while start(i) > t:
                i -= 1
        t_cur, t_i = t - start(i), period * m**i
        # 0.5 (1 + cos(pi x)) written as cos(pi x / 2) ** 2 (no float64 cancellation near x = 1).
        return end + (init - end) * decay**i * math.cos(math.pi * float(t_cur / t_i) / 2) ** 2

    return f


def torch_one_cycle(
    max_lr: float,
    total: int,
    pct: float = 0.3,
    div: float = 25.0,
    final_div: float = 1e4,
    anneal: str = "cos",
    three: bool = False,
    momentum: tuple[float, float] | None = None,
) -> Callable[[int], float]:
    initial = max_lr / div
    low = initial / final_div
    base_m, max_m = momentum or (0.0, 0.0)
    if three:
        phases = [
            (float(pct * total) - 1, initial, max_lr, max_m, base_m),
            (float(2 * pct * total) - 2, max_lr, initial, base_m, max_m),
            (total - 1, initial, low, max_m, max_m),
        ]
    else:
        phases = [(float(pct * total) - 1, initial, max_lr, max_m, base_m), (total - 1, max_lr, low, base_m, max_m)]

    def ann(a: float, b: float, p: float) -> float:
        if anneal == "cos":
            return b + (a - b) / 2.0 * (math.cos(math.pi * p) + 1)
        return (b - a) * p + a

    def f(t: int) -> float:
        t = min(t, total - 1)  # mlxlr holds the final value; PyTorch raises past total_steps
        start = 0.0
        for i, (end, a, b, ma, mb) in enumerate(phases):
            if t <= end or i == len(phases) - 1:
                p = (t - start) / (end - start)
                return ann(ma, mb, p) if momentum else ann(a, b, p)
            start = end
        raise AssertionError

    return f


def torch_cyclic(
    base: float, max_lr: float, up: int, down: int | None, mode: str, gamma: float
) -> Callable[[int], float]:
    down_ = float(down if down is not None else up)
    total = up + down_
    ratio = up / total

    def f(t: int) -> float:
        cycle = math.floor(1 + t / total)
        x = 1.0 + t / total - cycle
        factor = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
        height = (max_lr - base) * factor
        if mode == "triangular":
            scale = 1.0
        elif mode == "triangular2":
            scale = 0.5 ** (cycle - 1)  # = 1 / 2 ** (cycle - 1), without the overflow
        else:
            scale = gamma**t
        return base + height * scale

    return f


def hf_wsd(
    peak: float, warmup: int, stable: int, decay: int, ratio: float, decay_type: str, warm_from_ratio: bool = True
) -> Callable[[int], float]:
    def lam(t: int) -> float:
        if t < warmup:
            progress = t / max(1, warmup)
            return progress * (1 - ratio) + ratio if warm_from_ratio else progress
        if t < warmup + stable:
            return 1.0
        if t < warmup + stable + decay:
            progress = (t - warmup - stable) / max(1, decay)
            if decay_type == "linear":
                factor = 1.0 - progress
            elif decay_type == "cosine":
                factor = math.cos(math.pi * progress / 2) ** 2  # = 0.5 (1 + cos(pi * 2 * 0.5 * progress))
            else:
                factor = 1.0 - math.sqrt(progress)
            return max(0.0, factor * (1.0 - ratio) + ratio)
        return ratio

    return lambda t: peak * lam(t)


# Table: (schedule, reference, steps to compare beyond 0 .. 3 * period, period). ---

CASES: list[tuple[str, mlxlr.Schedule, Callable[[int], float], int]] = [
    ("multistep", mlxlr.MultiStepDecay(0.1, [30, 80, 200], 0.1), multistep(0.1, [30, 80, 200], 0.1), 100),
    ("multistep-grow", mlxlr.MultiStepDecay(1.0, [3, 5], 2.0), multistep(1.0, [3, 5], 2.0), 4),
    ("piecewise", mlxlr.PiecewiseConstant([10, 25], [1.0, 0.5, 0.01]), piecewise([10, 25], [1.0, 0.5, 0.01]), 15),
    (
        "piecewise-keras",
        mlxlr.PiecewiseConstant([11, 26], [1.0, -0.5, 0.01]),
        keras_piecewise([10, 25], [1.0, -0.5, 0.01]),
        15,
    ),
    ("poly", mlxlr.PolynomialDecay(1.0, 50, 0.01, 2.0), keras_polynomial(1.0, 50, 0.01, 2.0, False), 50),
    ("poly-sqrt", mlxlr.PolynomialDecay(0.3, 40, 0.0, 0.5), keras_polynomial(0.3, 40, 0.0, 0.5, False), 40),
    ("poly-cycle", mlxlr.PolynomialDecay(1.0, 7, 0.1, 1.5, cycle=True), keras_polynomial(1.0, 7, 0.1, 1.5, True), 7),
    ("poly-long", mlxlr.PolynomialDecay(1.0, 2 * 10**9, 0.0), keras_polynomial(1.0, 2 * 10**9, 0.0, 1.0, False), 9),
    ("invtime", mlxlr.InverseTimeDecay(0.1, 10, 0.5), keras_inverse_time(0.1, 10, 0.5, False), 10),
    ("invtime-stairs", mlxlr.InverseTimeDecay(0.1, 7, 2.0, True), keras_inverse_time(0.1, 7, 2.0, True), 7),
    ("invsqrt", mlxlr.InverseSqrt(1e-3, 20), hf_inverse_sqrt(1e-3, 20, None), 20),
    ("invsqrt-tau", mlxlr.InverseSqrt(1.0, 10, timescale=3), hf_inverse_sqrt(1.0, 10, 3), 10),
    ("invsqrt-nowarm", mlxlr.InverseSqrt(1.0, 0), hf_inverse_sqrt(1.0, 0, None), 10),
    ("sgdr", mlxlr.CosineRestarts(1.0, 10, end=0.05), sgdr(1.0, 10, 1.0, 0.05, 1.0), 10),
    ("sgdr-decay", mlxlr.CosineRestarts(1.0, 7, 1.0, 0.0, 0.9), sgdr(1.0, 7, 1.0, 0.0, 0.9), 7),
    ("sgdr-x2", mlxlr.CosineRestarts(0.1, 10, 2.0, 0.001), sgdr(0.1, 10, 2.0, 0.001, 1.0), 30),
    ("sgdr-x3", mlxlr.CosineRestarts(1.0, 5, 3.0, 0.0, 0.5), sgdr(1.0, 5, 3.0, 0.0, 0.5), 20),
    ("sgdr-x1.5", mlxlr.CosineRestarts(1.0, 10, 1.5, 0.1, 0.8), sgdr(1.0, 10, 1.5, 0.1, 0.8), 30),
    ("sgdr-x1.01", mlxlr.CosineRestarts(1.0, 3, 1.01, 0.01), sgdr(1.0, 3, 1.01, 0.01, 1.0), 30),
    ("onecycle", mlxlr.OneCycle(1.0, 100), torch_one_cycle(1.0, 100), 34),
    (
        "onecycle-lin",
        mlxlr.OneCycle(0.5, 77, 0.25, anneal="linear"),
        torch_one_cycle(0.5, 77, 0.25, anneal="linear"),
        26,
    ),
    ("onecycle-3", mlxlr.OneCycle(1.0, 99, 0.3, three_phase=True), torch_one_cycle(1.0, 99, 0.3, three=True), 33),
    (
        "onecycle-3lin",
        mlxlr.OneCycle(2.0, 50, 0.45, 10.0, 100.0, "linear", True),
        torch_one_cycle(2.0, 50, 0.45, 10.0, 100.0, "linear", True),
        17,
    ),
    ("onecycle-pct0", mlxlr.OneCycle(1.0, 40, 0.0), torch_one_cycle(1.0, 40, 0.0), 14),
    (
        "onecycle-pct1",
        mlxlr.OneCycle(1.0, 40, 1.0, anneal="linear"),
        torch_one_cycle(1.0, 40, 1.0, anneal="linear"),
        14,
    ),
    ("onecycle-short", mlxlr.OneCycle(1.0, 3, 0.1), torch_one_cycle(1.0, 3, 0.1), 1),
    ("onecycle-big", mlxlr.OneCycle(1.0, 3 * 10**9), torch_one_cycle(1.0, 3 * 10**9), 10),
    (
        "onecycle-momentum",
        mlxlr.OneCycle(1.0, 100).momentum(),
        torch_one_cycle(1.0, 100, momentum=(0.85, 0.95)),
        34,
    ),
    (
        "onecycle-momentum-3",
        mlxlr.OneCycle(1.0, 60, 0.2, anneal="linear", three_phase=True).momentum(0.8, 0.9),
        torch_one_cycle(1.0, 60, 0.2, anneal="linear", three=True, momentum=(0.8, 0.9)),
        20,
    ),
    ("cyclic", mlxlr.Cyclic(0.1, 1.0, 5), torch_cyclic(0.1, 1.0, 5, None, "triangular", 1.0), 10),
    ("cyclic-asym", mlxlr.Cyclic(0.0, 1.0, 3, 7), torch_cyclic(0.0, 1.0, 3, 7, "triangular", 1.0), 10),
    ("cyclic-2", mlxlr.Cyclic(0.01, 0.1, 4, 2, "triangular2"), torch_cyclic(0.01, 0.1, 4, 2, "triangular2", 1.0), 6),
    (
        "cyclic-exp",
        mlxlr.Cyclic(0.01, 0.1, 4, mode="exp_range", gamma=0.999),
        torch_cyclic(0.01, 0.1, 4, None, "exp_range", 0.999),
        8,
    ),
    ("cyclic-saw", mlxlr.Cyclic(0.5, 1.0, 4, 0), torch_cyclic(0.5, 1.0, 4, 0, "triangular", 1.0), 4),
    (
        "cyclic-momentum",
        mlxlr.Cyclic(0.95, 0.85, 6),  # PyTorch's momentum: max_momentum - (max - base) * factor
        lambda t: 0.95 - (0.95 - 0.85) * (torch_cyclic(0.0, 1.0, 6, None, "triangular", 1.0)(t)),
        12,
    ),
    ("wsd", mlxlr.WarmupStableDecay(1.0, 10, 20, 15), hf_wsd(1.0, 10, 20, 15, 0.0, "linear"), 15),
    (
        "wsd-cos",
        mlxlr.WarmupStableDecay(2.0, 5, 5, 20, init=0.2, end=0.2, decay_shape="cosine"),
        hf_wsd(2.0, 5, 5, 20, 0.1, "cosine"),
        10,
    ),
    (
        "wsd-sqrt",
        mlxlr.WarmupStableDecay(1.0, 4, 0, 16, end=0.1, decay_shape="1-sqrt"),
        hf_wsd(1.0, 4, 0, 16, 0.1, "1-sqrt", warm_from_ratio=False),
        7,
    ),
    ("wsd-nowarm", mlxlr.WarmupStableDecay(1.0, 0, 3, 9, decay_shape="cosine"), hf_wsd(1.0, 0, 3, 9, 0, "cosine"), 4),
    (
        "wsd-long",
        mlxlr.WarmupStableDecay(1.0, 1000, 5 * 10**8, 10**9, end=0.01),
        hf_wsd(1.0, 1000, 5 * 10**8, 10**9, 0.01, "linear", warm_from_ratio=False),
        1000,
    ),
]
