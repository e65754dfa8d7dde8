"""Bad inputs, one table: every one raises ValueError or TypeError naming the parameter and the value.

Each row is (what to run, the error type, a regex the message must match).
The regex always holds the parameter's name and the value received, so a
row fails if the library raises for the wrong reason or says too little.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_unflatten

import mlxlr

L = mlxlr.Linear(0.0, 1.0, steps=10)
C = mlxlr.Constant(1.0)
NAN = float("nan")
INF = float("inf")


def _state(make: Callable[[], optim.Optimizer], model: nn.Module, **schedules: Any) -> dict[str, Any]:
    """A state as a checkpoint holds it: saved by another wrapper, flattened and unflattened."""
    opt = mlxlr.ScheduledOptimizer(make(), **({"learning_rate": L} | schedules))
    opt.init(model.trainable_parameters())
    return tree_unflatten(tree_flatten(opt.state))


def _load(make: Callable[[], optim.Optimizer], source: dict[str, Any], model: nn.Module | None = None) -> None:
    opt = mlxlr.ScheduledOptimizer(make(), learning_rate=L)
    opt.init((model or nn.Linear(2, 2)).trainable_parameters())
    opt.state = source


def _with(tree: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    tree[key] = value
    return tree


def _multi() -> optim.Optimizer:
    return optim.MultiOptimizer([optim.Adam(0.0), optim.SGD(0.0)], [lambda name, _: "bias" in name])


def _sgd() -> optim.Optimizer:
    return optim.SGD(0.0, momentum=0.9)


def _adam() -> optim.Optimizer:
    return optim.Adam(0.0)


def _bad_lambda_call() -> object:
    return mlxlr.Lambda(lambda t: "fast").at(3)


def _warmups(n: int) -> mlxlr.Schedule:
    s: mlxlr.Schedule = L
    for _ in range(n):
        s = s.with_warmup(2)
    return s


def _deep_config(n: int) -> dict[str, Any]:
    config: dict[str, Any] = {"type": "Constant", "value": 1.0}
    for _ in range(n):
        config = {"type": "Clip", "schedule": config, "hi": 2.0}
    return config


class _Float(mlxlr.Schedule):
    """A user's schedule that returns a Python float."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, step: Any) -> Any:
        return self.value


class _Scalar(_Float):
    """A user's schedule that returns one value whatever the step's shape."""

    def __call__(self, step: Any) -> Any:
        return mx.array(self.value)


class _Steps(_Float):
    """A user's schedule that returns the step itself: an integer array."""

    def __call__(self, step: Any) -> Any:
        return mlxlr.as_step(step)


class _If(_Float):
    """A user's schedule that branches in Python on the step."""

    def __call__(self, step: Any) -> Any:
        return mx.array(self.value) if mlxlr.as_step(step) < 3 else mx.array(0.0)


def _load_from_sgd() -> None:
    _load(_adam, _state(_sgd, nn.Linear(2, 2)))


def _load_from_adam() -> None:
    _load(_sgd, _state(_adam, nn.Linear(2, 2)))


def _load_from_multi() -> None:
    _load(_adam, _state(_multi, nn.Linear(2, 2)))


def _load_from_other_model() -> None:
    _load(_adam, _state(_adam, nn.Linear(3, 2)))


def _load_other_schedules() -> None:
    _load(_adam, _state(_adam, nn.Linear(2, 2), eps=C * 1e-8))


def _load_float_step() -> None:
    _load(_adam, _with(_state(_adam, nn.Linear(2, 2)), "step", mx.array(36.6)))


def _load_flat() -> None:
    _load(_adam, dict(tree_flatten(_state(_adam, nn.Linear(2, 2)))))


S = mlxlr.ScheduledOptimizer
P = pytest.param

CASES = [
    # Constructors. ---------------------------------------------------------------------------------------
    P(lambda: mlxlr.Linear(0.0, 1.0, steps=0), ValueError, r"steps must be a positive int, got 0", id="Linear-steps-0"),
    P(
        lambda: mlxlr.Linear(0.0, 1.0, steps=10.0),
        TypeError,
        r"steps must be an int, got 10\.0 \(float\)",
        id="Linear-steps-float",
    ),
    P(
        lambda: mlxlr.Linear(0.0, 1.0, steps=True),
        TypeError,
        r"steps must be an int, got True \(bool\)",
        id="Linear-steps-bool",
    ),
    P(
        lambda: mlxlr.Linear(0.0, 1.0, steps=np.float64(10.0)),
        TypeError,
        r"steps must be an int, got np\.float64\(10\.0\) \(float64\)",
        id="Linear-steps-numpy-float",
    ),
    P(
        lambda: mlxlr.Linear(0.0, 1.0, steps=mx.array(10.0)),
        TypeError,
        r"steps must be an int, got array\(10, dtype=float32\) \(array\)",
        id="Linear-steps-mlx-float",
    ),
    P(
        lambda: mlxlr.ExponentialDecay(1.0, 0.5, staircase=np.int64(1)),
        TypeError,
        r"staircase must be a bool, got np\.int64\(1\) \(int64\)",
        id="ExponentialDecay-staircase-numpy-int",
    ),
    P(
        lambda: mlxlr.MultiStepDecay(1.0, np.array([[10, 20]])),
        TypeError,
        r"milestones must be a list of ints, got array\(\[\[10, 20\]\]\) \(ndarray\)",
        id="MultiStepDecay-milestones-2d",
    ),
    P(
        lambda: mlxlr.Join([C, C], mx.array([2.5])),
        TypeError,
        r"boundaries\[0\] must be an int, got 2\.5 \(float\)",
        id="Join-boundaries-float-array",
    ),
    P(lambda: mlxlr.Linear(NAN, 1.0, steps=5), ValueError, r"init must be finite, got nan", id="Linear-init-nan"),
    P(
        lambda: mlxlr.Linear(0.0, "1e-3", steps=5),
        TypeError,
        r"end must be a real number, got '1e-3' \(str\)",
        id="Linear-end-str",
    ),
    P(
        lambda: mlxlr.Linear(0.0, 1e39, steps=5),
        ValueError,
        r"end must be finite in float32 .*got 1e\+39",
        id="Linear-end-overflows-float32",
    ),
    P(
        lambda: mlxlr.CosineDecay(1.0, decay_steps=-10),
        ValueError,
        r"decay_steps must be a positive int, got -10",
        id="CosineDecay-steps-negative",
    ),
    P(
        lambda: mlxlr.CosineDecay(INF, decay_steps=10),
        ValueError,
        r"init must be finite, got inf",
        id="CosineDecay-init-inf",
    ),
    P(
        lambda: mlxlr.CosineDecay(1.0, 10, end=None),
        TypeError,
        r"end must be a real number, got None \(NoneType\)",
        id="CosineDecay-end-None",
    ),
    P(
        lambda: mlxlr.ExponentialDecay(1.0, 0.0),
        ValueError,
        r"decay_rate must be > 0, got 0\.0",
        id="ExponentialDecay-rate-0",
    ),
    P(
        lambda: mlxlr.ExponentialDecay(1.0, 1.5),
        ValueError,
        r"decay_rate above 1 .* give end as its cap, got decay_rate=1\.5",
        id="ExponentialDecay-growth-without-cap",
    ),
    P(
        lambda: mlxlr.ExponentialDecay(1.0, 0.5, end=2.0),
        ValueError,
        r"end must not exceed init for a decay, got init=1\.0, end=2\.0",
        id="ExponentialDecay-end-above-init",
    ),
    P(
        lambda: mlxlr.ExponentialDecay(1.0, 0.5, decay_steps=0),
        ValueError,
        r"decay_steps must be a positive int, got 0",
        id="ExponentialDecay-steps-0",
    ),
    P(
        lambda: mlxlr.ExponentialDecay(1.0, 0.5, staircase=1),
        TypeError,
        r"staircase must be a bool, got 1 \(int\)",
        id="ExponentialDecay-staircase-int",
    ),
    P(
        lambda: mlxlr.StepDecay(1.0, 0.5, step_size=0),
        ValueError,
        r"step_size must be a positive int, got 0",
        id="StepDecay-size-0",
    ),
    P(
        lambda: mlxlr.StepDecay(1.0, 0.5, step_size=2.5),
        TypeError,
        r"step_size must be an int, got 2\.5 \(float\)",
        id="StepDecay-size-float",
    ),
    P(
        lambda: mlxlr.StepDecay(1.0, -0.5, step_size=2),
        ValueError,
        r"decay_rate must be > 0, got -0\.5",
        id="StepDecay-rate-negative",
    ),
    P(lambda: mlxlr.Constant(NAN), ValueError, r"value must be finite, got nan", id="Constant-nan"),
    P(lambda: mlxlr.Constant("0.1"), TypeError, r"value must be a real number, got '0\.1' \(str\)", id="Constant-str"),
    P(lambda: mlxlr.Constant(False), TypeError, r"value must be a real number, got False \(bool\)", id="Constant-bool"),
    P(
        lambda: mlxlr.Constant(mx.array([0.1, 0.2])),
        TypeError,
        r"value must be a real number, got array\(\[0\.1, 0\.2\].*\(array\)",
        id="Constant-array",
    ),
    P(
        lambda: mlxlr.Constant(1e300),
        ValueError,
        r"value must be finite in float32 .*got 1e\+300",
        id="Constant-overflows-float32",
    ),
    P(
        lambda: mlxlr.Join([C, C, C], [5, 3]),
        ValueError,
        r"boundaries must increase strictly, got \[5, 3\]",
        id="Join-boundaries-decrease",
    ),
    P(
        lambda: mlxlr.Join([C, C], []),
        ValueError,
        r"boundaries must hold len\(schedules\) - 1 = 1 steps, got 0: \[\]",
        id="Join-boundaries-count",
    ),
    P(
        lambda: mlxlr.Join([C, C], [0]),
        ValueError,
        r"boundaries\[0\] must be a positive int, got 0",
        id="Join-boundary-0",
    ),
    P(
        lambda: mlxlr.Join([C, C], [2.5]),
        TypeError,
        r"boundaries\[0\] must be an int, got 2\.5 \(float\)",
        id="Join-boundary-float",
    ),
    P(
        lambda: mlxlr.Join([C, "x"], [3]),
        TypeError,
        r"schedules\[1\] must be a Schedule, a number or a callable, got 'x' \(str\)",
        id="Join-piece-str",
    ),
    P(
        lambda: mlxlr.Join(C, []),
        TypeError,
        r"schedules must be a list, got Constant\(value=1\.0\)",
        id="Join-schedules-not-list",
    ),
    P(lambda: mlxlr.Join([], []), ValueError, r"schedules must hold at least one schedule, got \[\]", id="Join-empty"),
    P(lambda: mlxlr.Lambda(3), TypeError, r"fn must be a callable step -> array, got 3", id="Lambda-not-callable"),
    P(
        lambda: mlxlr.Lambda(lambda t: t, duration=0),
        ValueError,
        r"duration must be a positive int, got 0",
        id="Lambda-duration-0",
    ),
    P(
        _bad_lambda_call,
        TypeError,
        r"fn must return an mx\.array or a number, got 'fast' \(str\)",
        id="Lambda-returns-str",
    ),
    P(
        lambda: mlxlr.Linear(0, 1, 2**64),
        ValueError,
        r"^steps must be at most 2\*\*60, got 18446744073709551616$",
        id="Linear-steps-2**64",
    ),
    P(
        lambda: mlxlr.CosineDecay(1.0, decay_steps=2**60 + 1),
        ValueError,
        r"^decay_steps must be at most 2\*\*60, got 1152921504606846977$",
        id="CosineDecay-steps-past-2**60",
    ),
    P(
        lambda: mlxlr.Join([C, C], [2**63]),
        ValueError,
        r"^boundaries\[0\] must be at most 2\*\*60, got 9223372036854775808$",
        id="Join-boundary-2**63",
    ),
    P(
        lambda: mlxlr.MultiStepDecay(1.0, [10, 2**61]),
        ValueError,
        r"^milestones\[1\] must be at most 2\*\*60, got 2305843009213693952$",
        id="MultiStepDecay-milestone-2**61",
    ),
    P(
        lambda: L.for_steps(2**64),
        ValueError,
        r"^n must be at most 2\*\*60, got 18446744073709551616$",
        id="for_steps-2**64",
    ),
    P(
        lambda: L.repeat(2**59),
        ValueError,
        r"^times \* the schedule's duration must be at most 2\*\*60, got 576460752303423488 \* 10; repeat forever",
        id="repeat-times-duration-past-2**60",
    ),
    P(
        lambda: mlxlr.ReduceOnPlateau(patience=2**40),
        ValueError,
        r"^patience must be at most 2\*\*30, got 1099511627776$",
        id="ReduceOnPlateau-patience-2**40",
    ),
    P(
        lambda: _warmups(1_500),
        ValueError,
        r"^the expression nests deeper than 100 levels: this WithWarmup would be level 101; build it flatter",
        id="with_warmup-1500-deep",
    ),
    P(
        lambda: mlxlr.from_config(_deep_config(5_000)),
        ValueError,
        r"^config\.schedule\.schedule.*: the config nests schedules deeper than 100 levels$",
        id="from_config-5000-deep",
    ),
    P(
        lambda: mlxlr.warmup_cosine(1.0, 10, 110, cycles=-0.3),
        ValueError,
        r"^cycles must be > 0, got -0\.3$",
        id="warmup_cosine-cycles-negative",
    ),
    P(
        lambda: mlxlr.warmup_cosine(1.0, 0, 2**40, cycles=2.0**31),
        ValueError,
        r"^cycles=2147483648\.0 over 1099511627776 steps after the warmup is out of range",
        id="warmup_cosine-cycles-too-many",
    ),
    P(
        lambda: mlxlr.ReduceOnPlateau(threshold_mode="absolute"),
        ValueError,
        r"^threshold_mode must be one of 'rel', 'abs', got 'absolute'$",
        id="ReduceOnPlateau-threshold-mode",
    ),
    # Operators. ------------------------------------------------------------------------------------------
    P(
        lambda: L >> 3,
        TypeError,
        r"the right side of >> must be a Schedule, got 3 \(int\); a number is mlxlr\.Constant",
        id="rshift-right-int",
    ),
    P(
        lambda: L >> "cosine",
        TypeError,
        r"the right side of >> must be a Schedule, got 'cosine' \(str\)",
        id="rshift-right-str",
    ),
    P(
        lambda: 0.5 >> L,
        TypeError,
        r"the left side of >> must be a Schedule, got 0\.5 \(float\)",
        id="rshift-left-float",
    ),
    P(
        lambda: None >> L,
        TypeError,
        r"the left side of >> must be a Schedule, got None \(NoneType\)",
        id="rshift-left-None",
    ),
    P(
        lambda: C >> L,
        ValueError,
        r"the left side of >> must have a duration, got the unbounded Constant\(value=1\.0\)",
        id="rshift-unbounded-constant",
    ),
    P(
        lambda: mlxlr.ExponentialDecay(1.0, 0.5) >> L,
        ValueError,
        r"must have a duration, got the unbounded ExponentialDecay\(init=1\.0, decay_rate=0\.5\)",
        id="rshift-unbounded-exponential",
    ),
    P(
        lambda: L / 0,
        ValueError,
        r"cannot divide a schedule by 0, got Linear\(init=0\.0, end=1\.0, steps=10\) / 0",
        id="divide-by-0",
    ),
    P(
        lambda: L / 1e-300,
        ValueError,
        r"cannot divide a schedule by 1e-300: its inverse overflows float32",
        id="divide-by-tiny",
    ),
    P(
        lambda: C / mlxlr.Linear(1.0, 0.0, steps=10),
        ValueError,
        r"denominator must not reach 0, got Linear\(init=1\.0, end=0\.0, steps=10\) with values from 0 to 1",
        id="denominator-reaches-0",
    ),
    P(
        lambda: 1.0 / mlxlr.Linear(-1.0, 1.0, steps=10),
        ValueError,
        r"denominator must not reach 0, got Linear\(init=-1\.0, end=1\.0, steps=10\) with values from -1 to 1",
        id="denominator-crosses-0",
    ),
    P(
        lambda: L * np.bool_(True),
        TypeError,
        r"a schedule combines with schedules and numbers, got np\.True_ \(bool\)",
        id="multiply-numpy-bool",
    ),
    P(
        lambda: np.array([1.0, 2.0]) * L,
        TypeError,
        r"combines with schedules and numbers, got an array array\(\[1\., 2\.\]\) \(ndarray\)",
        id="numpy-array-times-schedule",
    ),
    P(
        lambda: L + np.float32(INF),
        ValueError,
        r"a number combined with a schedule must be finite, got np\.float32\(inf\)",
        id="add-numpy-inf",
    ),
    P(
        lambda: mlxlr.Scaled(L, "2"),
        TypeError,
        r"factor must be a real number, got '2' \(str\)",
        id="Scaled-factor-str",
    ),
    P(lambda: mlxlr.Scaled(L, NAN), ValueError, r"factor must be finite, got nan", id="Scaled-factor-nan"),
    P(lambda: L + NAN, ValueError, r"a number combined with a schedule must be finite, got nan", id="add-nan"),
    P(
        lambda: L * 1e39,
        ValueError,
        r"a number combined with a schedule must be finite in float32 .*got 1e\+39",
        id="multiply-overflows-float32",
    ),
    P(
        lambda: L * mx.array(2.0),
        TypeError,
        r"combines with schedules and Python numbers, got an mx\.array array\(2",
        id="multiply-array",
    ),
    # Units of a run, binding, cooldown, lint. -------------------------------------------------------------
    P(lambda: mlxlr.frac(0), ValueError, r"frac\(p\) takes a fraction of the run in \(0, 1\], got 0", id="frac-0"),
    P(lambda: mlxlr.frac(-0.1), ValueError, r"frac\(p\) takes a fraction .* got -0\.1", id="frac-negative"),
    P(lambda: mlxlr.frac(1.5), ValueError, r"frac\(p\) takes a fraction .*\(0, 1\], got 1\.5", id="frac-above-1"),
    P(lambda: mlxlr.frac(NAN), ValueError, r"frac\(p\) takes a fraction .* got nan", id="frac-nan"),
    P(lambda: mlxlr.frac("5%"), TypeError, r"frac\(p\) takes a fraction of the run, got '5%' \(str\)", id="frac-str"),
    P(lambda: mlxlr.epochs(0), ValueError, r"epochs\(n\): n must be > 0 and finite, got 0", id="epochs-0"),
    P(lambda: mlxlr.epochs(-2), ValueError, r"epochs\(n\): n must be > 0 and finite, got -2", id="epochs-negative"),
    P(lambda: mlxlr.epochs(True), TypeError, r"epochs\(n\): n must be a real number, got True", id="epochs-bool"),
    P(lambda: mlxlr.tokens(INF), ValueError, r"tokens\(n\): n must be > 0 and finite, got inf", id="tokens-inf"),
    P(lambda: mlxlr.tokens(0), ValueError, r"tokens\(n\): n must be > 0 and finite, got 0", id="tokens-0"),
    P(
        lambda: mlxlr.CosineDecay(1.0, mlxlr.REST) >> mlxlr.Linear(1.0, 0.0, mlxlr.REST),
        ValueError,
        r"REST: a schedule holds at most one, got 2 in CosineDecay\(init=1\.0, decay_steps=REST\) >> Linear",
        id="REST-twice",
    ),
    P(
        lambda: mlxlr.CosineDecay(1.0, mlxlr.REST).repeat(2),
        ValueError,
        r"REST has no meaning in CosineDecay\(init=1\.0, decay_steps=REST\)\.repeat\(2\): .* does not grow with it",
        id="REST-without-meaning",
    ),
    P(
        lambda: mlxlr.ExponentialDecay(1.0, 0.5, decay_steps=mlxlr.REST),
        ValueError,
        r"REST has no meaning in ExponentialDecay\(init=1\.0, decay_rate=0\.5, decay_steps=REST\)",
        id="REST-in-an-unbounded-schedule",
    ),
    P(
        lambda: mlxlr.MultiStepDecay(1.0, [mlxlr.frac(0.5), mlxlr.REST]),
        ValueError,
        r"milestones cannot hold REST: it lists steps, and REST is a length, got \[frac\(0\.5\), REST\]",
        id="REST-in-milestones",
    ),
    P(
        lambda: mlxlr.Linear(mlxlr.frac(0.1), 1.0, 10),
        TypeError,
        r"init of Linear is not a duration, got frac\(0\.1\); its durations are steps",
        id="unit-in-init",
    ),
    P(
        lambda: mlxlr.Linear(0.0, "1", mlxlr.frac(0.1)),
        TypeError,
        r"end must be a real number, got '1' \(str\)",
        id="unbound-plain-argument-checked-at-construction",
    ),
    P(
        lambda: mlxlr.Linear(0.0, 1.0, mlxlr.frac(0.1)).at(3),
        mlxlr.UnboundError,
        r"Linear\(init=0\.0, end=1\.0, steps=frac\(0\.1\)\) is unbound: frac\(0\.1\) needs total_steps",
        id="unbound-called",
    ),
    P(
        lambda: mlxlr.Linear(0.0, 1.0, mlxlr.epochs(3)).bind(total_steps=100),
        mlxlr.UnboundError,
        r"cannot bind Linear\(.*steps=epochs\(3\)\): epochs\(3\) needs steps_per_epoch; pass steps_per_epoch",
        id="unit-without-binding",
    ),
    P(
        lambda: mlxlr.Linear(0.0, 1.0, mlxlr.frac(0.5)).bind(total_steps=100).bind(total_steps=200),
        ValueError,
        r"Linear\(init=0\.0, end=1\.0, steps=50\) was bound with total_steps=100; binding it again with "
        r"total_steps=200",
        id="bind-twice",
    ),
    P(
        lambda: mlxlr.Linear(0.0, 1.0, mlxlr.frac(0.5)).bind(total_steps=0),
        ValueError,
        r"total_steps must be a positive int, got 0",
        id="bind-total-steps-0",
    ),
    P(
        lambda: mlxlr.Linear(0.0, 1.0, mlxlr.epochs(1)).bind(steps_per_epoch=2.5),
        TypeError,
        r"steps_per_epoch must be an int, got 2\.5 \(float\)",
        id="bind-steps-per-epoch-float",
    ),
    P(
        lambda: mlxlr.Linear(0.0, 1.0, mlxlr.tokens(10**6)).bind(tokens_per_step=-4096),
        ValueError,
        r"tokens_per_step must be > 0, got -4096",
        id="bind-tokens-per-step-negative",
    ),
    P(
        lambda: (mlxlr.Linear(0.0, 1.0, 900) >> mlxlr.CosineDecay(1.0, mlxlr.REST)).bind(total_steps=900),
        ValueError,
        r"REST would be 0 steps: the other pieces of .* take 900 of total_steps=900",
        id="REST-without-room",
    ),
    P(lambda: C.cooldown(-1, 10), ValueError, r"at must be an int >= 0, got -1", id="cooldown-at-negative"),
    P(lambda: C.cooldown(10, 0), ValueError, r"steps must be a positive int, got 0", id="cooldown-steps-0"),
    P(
        lambda: C.cooldown(10, 5, shape="exp"),
        ValueError,
        r"shape must be one of 'linear', 'cosine', '1-sqrt', got 'exp'",
        id="cooldown-shape",
    ),
    P(lambda: mlxlr.lint(L, jump=0.5), ValueError, r"jump must be a factor > 1, got 0\.5", id="lint-jump"),
    # ScheduledOptimizer. ---------------------------------------------------------------------------------
    P(
        lambda: S(optim.SGD(0.1), lr=L),
        ValueError,
        r"'lr' is not a schedulable hyperparameter of SGD; "
        r"schedulable: dampening, learning_rate, momentum, weight_decay$",
        id="opt-unknown-name-SGD",
    ),
    P(
        lambda: S(optim.Adam(0.1), beta1=L),
        ValueError,
        r"'beta1' is not a schedulable hyperparameter of Adam; schedulable: betas, eps, learning_rate$",
        id="opt-unknown-name-Adam",
    ),
    P(
        lambda: S(optim.AdamW(optim.cosine_decay(0.1, 10)), learning_rate=L),
        ValueError,
        r"learning_rate is already scheduled by AdamW itself",
        id="opt-already-scheduled",
    ),
    P(
        lambda: S(optim.Adam(0.1), betas=(L, 0.9, 0.999)),
        TypeError,
        r"betas must be a tuple of 2 schedules or numbers, got \(Linear\(.*\), 0\.9, 0\.999\)",
        id="opt-tuple-too-long",
    ),
    P(
        lambda: S(optim.Adam(0.1), betas=(L,)),
        TypeError,
        r"betas must be a tuple of 2 schedules or numbers, got \(Linear\(init=0\.0, end=1\.0, steps=10\),\)",
        id="opt-tuple-too-short",
    ),
    P(
        lambda: S(optim.Adam(0.1), betas=0.9),
        TypeError,
        r"betas must be a tuple of 2 schedules or numbers, got 0\.9",
        id="opt-number-for-tuple",
    ),
    P(
        lambda: S(optim.SGD(0.1), momentum=(L, L)),
        TypeError,
        r"momentum must be a Schedule or a number, got \(Linear.*\) \(tuple\)",
        id="opt-tuple-for-number",
    ),
    P(
        lambda: S(optim.SGD(0.1), learning_rate="0.1"),
        TypeError,
        r"learning_rate must be a Schedule or a number, got '0\.1' \(str\)",
        id="opt-str",
    ),
    P(
        lambda: S(optim.SGD(0.1), learning_rate=mx.array([0.1, 0.2])),
        TypeError,
        r"learning_rate must be a Schedule or a number, got array\(\[0\.1, 0\.2\].*\(array\)",
        id="opt-array",
    ),
    P(
        lambda: S(optim.SGD(0.1, momentum=0.5), momentum=np.float32(NAN)),
        ValueError,
        r"momentum must be finite, got np\.float32\(nan\)",
        id="opt-numpy-nan",
    ),
    P(
        lambda: S(optim.SGD(0.1, momentum=0.5), momentum=np.bool_(True)),
        TypeError,
        r"momentum must be a Schedule or a number, got np\.True_ \(bool\)",
        id="opt-numpy-bool",
    ),
    P(
        lambda: S(optim.SGD(0.1), momentum=lambda step: step),
        TypeError,
        r"momentum must be a Schedule or a number, got <function .*wrap a callable in mlxlr\.Lambda",
        id="opt-callable",
    ),
    P(
        lambda: S(optim.Adam(0.1), betas=(L, NAN)),
        ValueError,
        r"betas\[1\] must be finite, got nan",
        id="opt-tuple-part-nan",
    ),
    P(
        lambda: S(optim.Adafactor(), learning_rate=L),
        ValueError,
        r"learning_rate cannot be scheduled for Adafactor with relative_step=True",
        id="opt-Adafactor-relative-step",
    ),
    P(
        lambda: S(optim.AdamW(0.1), groups=[("*.bias", {"weight_decay": 0.0})]),
        TypeError,
        r"groups must map glob patterns to \{name: value\}, got \[\('\*\.bias'",
        id="opt-groups-list",
    ),
    P(
        lambda: S(optim.AdamW(0.1), groups={3: {"weight_decay": 0.0}}),
        TypeError,
        r"groups keys must be glob patterns over parameter paths, got 3",
        id="opt-groups-pattern-int",
    ),
    P(
        lambda: S(optim.AdamW(0.1), groups={"*.bias": {}}),
        TypeError,
        r"groups\['\*\.bias'\] must map hyperparameter names to values, got \{\}",
        id="opt-groups-empty",
    ),
    P(
        lambda: S(optim.AdamW(0.1), groups={"*.bias": {"wd": 0.0}}),
        ValueError,
        r"'wd' is not a schedulable hyperparameter of AdamW; schedulable: betas, eps, learning_rate, weight_decay",
        id="opt-groups-unknown-name",
    ),
    P(
        lambda: S(optim.AdamW(0.1), groups={"*.bias": {"betas": 0.9}}),
        TypeError,
        r"betas must be a tuple of 2 schedules or numbers, got 0\.9",
        id="opt-groups-tuple",
    ),
    P(
        lambda: S(optim.AdamW(0.1), groups={"*.bias": {"weight_decay": float("nan")}}),
        ValueError,
        r"weight_decay must be finite, got nan",
        id="opt-groups-nan",
    ),
    P(
        lambda: S(optim.SGD, learning_rate=L),
        TypeError,
        r"optimizer must be an mlx\.optimizers\.Optimizer, got <class 'mlx\.optimizers\.optimizers\.SGD'>",
        id="opt-class-not-instance",
    ),
    P(
        _load_from_sgd,
        ValueError,
        r"state entry optimizer\.weight holds keys \['m', 'v'\] here, got \['v'\]: a state saved by another optimizer",
        id="load-SGD-state-into-Adam",
    ),
    P(
        _load_from_adam,
        ValueError,
        r"state entry optimizer\.weight holds keys \['v'\] here, got \['m', 'v'\]",
        id="load-Adam-state-into-SGD",
    ),
    P(
        _load_from_multi,
        ValueError,
        r"state entry optimizer holds keys \['bias', 'learning_rate', 'step', 'weight'\] here, got \['states'\]",
        id="load-MultiOptimizer-state",
    ),
    P(
        _load_from_other_model,
        ValueError,
        r"state entry optimizer\.weight\.m is an array of shape \(2, 2\) here, got an array of shape \(2, 3\)",
        id="load-other-model",
    ),
    P(
        _load_other_schedules,
        ValueError,
        r"schedules \['eps', 'learning_rate'\], but this one schedules \['learning_rate'\]",
        id="load-other-schedules",
    ),
    P(
        _load_float_step,
        ValueError,
        r"state entry step holds integers \(mlx\.core\.uint64\) here, got array\(36\.6",
        id="load-float-step",
    ),
    P(
        _load_flat,
        ValueError,
        r"state must be a tree with 'step' and 'optimizer'.*got keys \['learning_rate', 'optimizer\.bias\.m'.*"
        r"unflatten a loaded file first: tree_unflatten",
        id="load-flat-dict",
    ),
    # mlx-lm's configs. ----------------------------------------------------------------------------------
    P(
        lambda: mlxlr.from_mlx_lm(["cosine_decay", 1e-5]),
        TypeError,
        r"^config must be a mapping \(mlx-lm's lr_schedule or training config\) or the path of mlx-lm's YAML config, "
        r"got \['cosine_decay', 1e-05\] \(list\)$",
        id="from_mlx_lm-list",
    ),
    P(
        lambda: mlxlr.from_mlx_lm("no/such/lora.yaml"),
        FileNotFoundError,
        r"^config: no mlx-lm config file at 'no/such/lora\.yaml'$",
        id="from_mlx_lm-missing-file",
    ),
    P(
        lambda: mlxlr.from_mlx_lm({"name": "cosine_decay", "arguments": ["1e-5", "1e3"]}),
        TypeError,
        r"decay_steps must be an int, got 1000\.0 \(float\)",
        id="from_mlx_lm-steps-as-float-string",
    ),
    # Expressions. ---------------------------------------------------------------------------------------
    P(
        lambda: mlxlr.parse("Linear(init=0, init=1, steps=3)"),
        mlxlr.ParseError,
        r"^keyword argument repeated: 'init' at column 16: Linear\(init=0, init=1, steps=3\)$",
        id="parse-keyword-repeated",
    ),
    # A user's schedule that breaks the contract of __call__. -----------------------------------------------
    P(
        lambda: _Float(0.5).at(3),
        TypeError,
        r"^_Float\.__call__ returned 0\.5 \(float\), not an mx\.array: a schedule returns a float32 mx\.array",
        id="user-returns-float",
    ),
    P(
        lambda: _Scalar(0.5).values(4),
        TypeError,
        r"^_Scalar\.__call__ returned an array of shape \(\) for a step of shape \(4,\): .*mx\.broadcast_to",
        id="user-returns-scalar-for-steps",
    ),
    P(
        lambda: (L + _Steps(0.0)).values(4),
        TypeError,
        r"^_Steps\.__call__ returned an array of dtype mlx\.core\.int64: .*convert it with \.astype\(mx\.float32\)",
        id="user-returns-int-array",
    ),
    P(
        lambda: S(optim.SGD(0.1, momentum=0.5), momentum=_Steps(0.0)),
        TypeError,
        r"^_Steps\.__call__ returned an array of dtype mlx\.core\.int64",
        id="opt-user-returns-int-array",
    ),
    P(
        lambda: (L >> _If(1.0)).values(20),
        TypeError,
        r"^_If\.__call__ runs Python code on the step's value \(MLX: .*\): .*mx\.where\(condition, a, b\)",
        id="user-branches-in-python",
    ),
    # Steps. ----------------------------------------------------------------------------------------------
    P(
        lambda: L(mx.array(1.5)),
        TypeError,
        r"step must be an integer array or an int, got an array of dtype mlx\.core\.float32",
        id="step-float-array",
    ),
    P(
        lambda: L(mx.array([0.0, 1.0], dtype=mx.float16)),
        TypeError,
        r"step must be an integer array .* dtype mlx\.core\.float16",
        id="step-half-array",
    ),
    P(
        lambda: L(mx.array([True, False])),
        TypeError,
        r"step must be an integer array or an int, got an array of dtype mlx\.core\.bool",
        id="step-bool-array",
    ),
    P(lambda: L(-1), ValueError, r"step must be >= 0, got -1", id="step-negative-int"),
    P(lambda: L(True), TypeError, r"step must be an int or an integer mx\.array, got True \(bool\)", id="step-bool"),
    P(lambda: L(2.0), TypeError, r"step must be an int or an integer mx\.array, got 2\.0 \(float\)", id="step-float"),
    P(lambda: L.at(-3), ValueError, r"step must be an int >= 0, got -3", id="at-negative"),
    P(lambda: L.values(0), ValueError, r"steps must be a positive int, got 0", id="values-0"),
    P(
        lambda: L.values(2**61),
        ValueError,
        r"^steps must be at most 2\*\*60, got 2305843009213693952$",
        id="values-2**61",
    ),
    P(
        lambda: C.values(),
        ValueError,
        r"steps is required for an unbounded schedule, got None for Constant\(value=1\.0\)",
        id="values-unbounded",
    ),
]


@pytest.mark.parametrize(("run", "error", "message"), CASES)
def test_bad_input_raises_a_message_naming_it(run: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        run()


def test_the_table_is_large_and_every_row_is_distinct() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


def test_a_refused_load_changes_nothing() -> None:
    """The layout is checked before anything is written: a mismatch deep in the tree leaves the state as it was."""
    model = nn.Linear(2, 2)
    target = mlxlr.ScheduledOptimizer(optim.Adam(0.0), learning_rate=L)
    target.init(model.trainable_parameters())
    before = dict(tree_flatten(target.state))
    source = _state(_adam, nn.Linear(3, 2))  # step, learning_rate match; the moments have other shapes
    source["step"] = mx.array(7, mx.uint64)
    with pytest.raises(ValueError, match=r"optimizer\.weight\.m is an array of shape"):
        target.state = source
    after = dict(tree_flatten(target.state))
    assert after.keys() == before.keys() and all(after[k] is before[k] for k in before)
    assert target.step.item() == 0


def test_a_fresh_wrapper_adopts_the_loaded_per_parameter_state() -> None:
    """Before ``init`` the wrapped optimizer has no per-parameter state to check against: a load brings it."""
    model = nn.Linear(2, 2)
    saved = _state(_adam, model)
    fresh = mlxlr.ScheduledOptimizer(optim.Adam(0.0), learning_rate=L)
    fresh.state = saved
    assert {k for k, _ in tree_flatten(fresh.state)} == {k for k, _ in tree_flatten(saved)}


def test_a_number_on_the_left_of_an_array_product_is_mlxs_error_not_ours() -> None:
    """Documented limit (DESIGN §1): ``mx.array(2.0) * schedule`` raises inside MLX before Python asks the schedule."""
    with pytest.raises(ValueError, match="Cannot perform multiplication"):
        mx.array(2.0) * L
