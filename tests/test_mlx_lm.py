"""from_mlx_lm: the same values as mlx-lm's build_schedule, its warmup + 1 join included.

mlx-lm itself imports transformers and huggingface_hub (``mlx_lm.tuner.utils``
pulls in ``mlx_lm.utils``), so the default suite compares against
``build_schedule`` as mlx-lm 0.32.2 writes it, copied below on top of
``mlx.optimizers``; where mlx-lm imports, the real one is compared too.
"""

import math

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest

import mlxlr

STEPS = mx.arange(2_000, dtype=mx.uint64)


def build_schedule(schedule_config):
    """mlx_lm.tuner.utils.build_schedule of mlx-lm 0.32.2, verbatim but for the module name."""
    schedule_fn = getattr(optim.schedulers, schedule_config["name"])
    arguments = schedule_config["arguments"]
    initial_lr = arguments[0]
    bound_schedule_fn = schedule_fn(*arguments)
    if warmup_steps := schedule_config.get("warmup", 0):
        warmup_init = schedule_config.get("warmup_init", 0.0)
        warmup_fn = optim.schedulers.linear_schedule(warmup_init, initial_lr, warmup_steps)
        return optim.schedulers.join_schedules([warmup_fn, bound_schedule_fn], [warmup_steps + 1])
    else:
        return bound_schedule_fn


CONFIGS = [
    {"name": "cosine_decay", "warmup": 100, "warmup_init": 1e-7, "arguments": [1e-5, 1000, 1e-7]},
    {"name": "cosine_decay", "arguments": [1e-5, 1500]},
    {"name": "cosine_decay", "warmup": 0, "arguments": [2e-4, 1500, 2e-5]},
    {"name": "linear_schedule", "warmup": 50, "arguments": [1e-4, 1e-6, 1000]},
    {"name": "linear_schedule", "arguments": [0.0, 1e-4, 700]},
    # A rate that float32 holds exactly: MLX's float32 power then stays within a few ulps.
    {"name": "exponential_decay", "warmup": 10, "arguments": [1e-4, 0.998046875]},
    {"name": "step_decay", "warmup": 200, "warmup_init": 1e-6, "arguments": [3e-4, 0.5, 300]},
    {"name": "step_decay", "arguments": [3e-4, 0.9, 100]},
]


def compare(ours, theirs, peak):
    np.testing.assert_allclose(np.array(ours(STEPS)), np.array(theirs(STEPS)), rtol=1e-5, atol=1e-6 * peak)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['name']}-warmup{c.get('warmup', 0)}")
def test_same_values_as_mlx_lm(config):
    compare(mlxlr.from_mlx_lm(config), build_schedule(config), config["arguments"][0])


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['name']}-warmup{c.get('warmup', 0)}")
def test_same_values_as_the_installed_mlx_lm(config):
    utils = pytest.importorskip("mlx_lm.tuner.utils")
    compare(mlxlr.from_mlx_lm(config), utils.build_schedule(config), config["arguments"][0])


def test_the_warmup_plus_one_quirk_is_reproduced():
    s = mlxlr.from_mlx_lm({"name": "cosine_decay", "warmup": 100, "arguments": [1e-3, 1000]})
    assert s == mlxlr.Join([mlxlr.Linear(0.0, 1e-3, 100), mlxlr.CosineDecay(1e-3, 1000)], [101])
    # The peak is held at steps 100 and 101; the decay starts a step late.
    assert s.at(100) == s.at(101) == pytest.approx(1e-3)
    assert s.at(102) == pytest.approx(1e-3 * 0.5 * (1 + math.cos(math.pi / 1000)), rel=1e-6)
    # mlxlr's own >> has no shift.
    own = mlxlr.Linear(0.0, 1e-3, 100) >> mlxlr.CosineDecay(1e-3, 1000)
    assert own.at(101) == s.at(102)


def test_a_whole_training_config():
    lr_schedule = {"name": "cosine_decay", "arguments": [1e-5, 1000]}
    assert mlxlr.from_mlx_lm({"model": "m", "lr_schedule": lr_schedule}) == mlxlr.CosineDecay(1e-5, 1000)
    assert mlxlr.from_mlx_lm({"learning_rate": 2e-5, "lr_schedule": None}) == mlxlr.Constant(2e-5)
    assert mlxlr.from_mlx_lm({"lr_schedule": None}) == mlxlr.Constant(1e-5)  # mlx-lm's default


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [
        ({"name": "cosine", "arguments": [1]}, ValueError, r"name must be one of 'cosine_decay', .* got 'cosine'"),
        ({"name": "join_schedules", "arguments": [[], []]}, ValueError, r"'join_schedules' needs schedule objects"),
        ({"name": "cosine_decay", "arguments": [1e-5, 10], "warmup_steps": 5}, ValueError, r"no key 'warmup_steps'"),
        ({"name": "cosine_decay"}, TypeError, r"arguments must be a non-empty list, got None"),
        ({"name": "cosine_decay", "arguments": [1e-5]}, TypeError, r"arguments \[1e-05\] do not fit cosine_decay"),
        ({"name": "cosine_decay", "arguments": [1e-5, 0]}, ValueError, r"decay_steps must be a positive int, got 0"),
        ({"name": "cosine_decay", "arguments": [1e-5, 9], "warmup": 2.5}, TypeError, r"warmup must be an int"),
        ("cosine_decay", TypeError, r"config must be a mapping"),
    ],
)
def test_errors(config, error, message):
    with pytest.raises(error, match=message):
        mlxlr.from_mlx_lm(config)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['name']}-warmup{c.get('warmup', 0)}")
def test_grad_accumulation_converts_iterations_to_updates(config):
    """With k iterations an update, each duration is the nearest whole number of updates (halves up, at least 1)."""
    k = 8
    durations = {"cosine_decay": (1,), "exponential_decay": (), "linear_schedule": (2,), "step_decay": (2,)}
    converted = dict(config)
    converted["arguments"] = [
        max(1, math.floor(a / k + 0.5)) if i in durations[config["name"]] else a
        for i, a in enumerate(config["arguments"])
    ]
    if config.get("warmup"):
        converted["warmup"] = max(1, math.floor(config["warmup"] / k + 0.5))
    assert mlxlr.from_mlx_lm(config, grad_accumulation_steps=k) == mlxlr.from_mlx_lm(converted)
    assert mlxlr.from_mlx_lm(config, grad_accumulation_steps=1) == mlxlr.from_mlx_lm(config)
    assert mlxlr.from_mlx_lm(config, grad_accumulation_steps=None) == mlxlr.from_mlx_lm(config)


def test_grad_accumulation_in_a_whole_training_config():
    training = {"learning_rate": 1e-4, "grad_accumulation_steps": 4, "lr_schedule": CONFIGS[0]}
    assert mlxlr.from_mlx_lm(training, grad_accumulation_steps=training["grad_accumulation_steps"]).boundaries == (26,)
    assert mlxlr.from_mlx_lm(training).boundaries == (101,)  # mlx-lm's own values by default
    with pytest.raises(ValueError, match=r"grad_accumulation_steps must be a positive int, got 0"):
        mlxlr.from_mlx_lm(training, grad_accumulation_steps=0)
