"""ReduceOnPlateau: PyTorch's decisions, graph-only observation, checkpoints."""

import math
from functools import partial

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_unflatten

import mlxlr


def torch_is_better(a, best, mode, threshold_mode, threshold):
    """ReduceLROnPlateau.is_better, as PyTorch documents it."""
    if mode == "min" and threshold_mode == "rel":
        return a < best * (1.0 - threshold)
    if mode == "min" and threshold_mode == "abs":
        return a < best - threshold
    if mode == "max" and threshold_mode == "rel":
        return a > best * (threshold + 1.0)
    return a > best + threshold  # mode "max", threshold_mode "abs"


def torch_rule(metrics, factor, patience, threshold, mode, cooldown, min_scale, threshold_mode="rel"):
    """PyTorch's ReduceLROnPlateau.step on a base of 1, rewritten in float64 from its docs."""
    best = math.inf if mode == "min" else -math.inf
    bad = cooling = 0
    scale = 1.0
    scales = []
    for m in metrics:
        if torch_is_better(m, best, mode, threshold_mode, threshold):
            best, bad = m, 0
        else:
            bad += 1
        if cooling > 0:
            cooling -= 1
            bad = 0
        if bad > patience:
            scale = max(scale * factor, min_scale)
            cooling, bad = cooldown, 0
        scales.append(scale)
    return scales


def metric_sequence(seed, n=200):
    rng = np.random.default_rng(seed)
    # A noisy loss that plateaus: improvements get rarer as it goes.
    return (1.0 / np.sqrt(1 + np.arange(n)) + 0.05 * rng.standard_normal(n)).astype(np.float32)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"factor": 0.1, "patience": 10, "threshold": 1e-4, "mode": "min", "cooldown": 0, "min_scale": 0.0},
        {"factor": 0.5, "patience": 2, "threshold": 1e-2, "mode": "min", "cooldown": 3, "min_scale": 0.01},
        {"factor": 0.7, "patience": 0, "threshold": 0.0, "mode": "max", "cooldown": 1, "min_scale": 0.0},
        {
            "factor": 0.5,
            "patience": 2,
            "threshold": 0.01,
            "mode": "min",
            "cooldown": 0,
            "min_scale": 0.0,
            "threshold_mode": "abs",
        },
        {
            "factor": 0.3,
            "patience": 1,
            "threshold": 0.03,
            "mode": "min",
            "cooldown": 2,
            "min_scale": 0.05,
            "threshold_mode": "abs",
        },
        {
            "factor": 0.5,
            "patience": 3,
            "threshold": 0.02,
            "mode": "max",
            "cooldown": 1,
            "min_scale": 0.0,
            "threshold_mode": "abs",
        },
        {
            "factor": 0.5,
            "patience": 2,
            "threshold": 0.0,
            "mode": "max",
            "cooldown": 0,
            "min_scale": 0.0,
            "threshold_mode": "abs",
        },
    ],
    ids=lambda kw: f"{kw['mode']}-{kw.get('threshold_mode', 'rel')}-{kw['threshold']}",
)
def test_same_scales_as_pytorch_rule(kwargs):
    metrics = metric_sequence(1)
    if kwargs["mode"] == "max":
        metrics = -metrics
    expected = torch_rule([float(m) for m in metrics], **kwargs)
    plateau = mlxlr.ReduceOnPlateau(**kwargs)
    got = []
    for m in metrics:
        plateau.observe(mx.array(m))
        got.append(plateau.at(0))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert min(expected) < 1.0  # the sequence does trigger reductions


def make_model():
    mx.random.seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    mx.eval(model.parameters())
    return model


def run(model, opt, start, stop, log):
    loss_and_grad = nn.value_and_grad(model, lambda m, x, y: nn.losses.mse_loss(m(x), y))
    state = [model.state, opt.state]

    @partial(mx.compile, inputs=state, outputs=state)
    def step(x, y, metric):
        loss, grads = loss_and_grad(model, x, y)
        opt.update(model, grads)
        opt.observe(metric)
        return loss

    for i in range(start, stop):
        x = mx.random.normal((8, 4), key=mx.random.key(i))
        step(x, x.sum(axis=1, keepdims=True), mx.array(METRICS[i]))
        mx.eval(state)
        log.append(opt.learning_rate.item())


METRICS = metric_sequence(2, 80)


def make_opt():
    return mlxlr.ScheduledOptimizer(
        optim.SGD(learning_rate=0.0),
        learning_rate=mlxlr.CosineDecay(0.1, 80) * mlxlr.ReduceOnPlateau(factor=0.5, patience=3),
    )


def test_compiled_observe_and_resume_mid_plateau(tmp_path):
    model, opt = make_model(), make_opt()
    opt.init(model.trainable_parameters())
    full = []
    run(model, opt, 0, 80, full)
    scales = torch_rule([float(m) for m in METRICS], 0.5, 3, 1e-4, "min", 0, 0.0)
    cosine = np.array(mlxlr.CosineDecay(0.1, 80)(mx.arange(80)))
    # The k-th update uses the scale after k observations.
    np.testing.assert_allclose(full, cosine * np.array([1.0, *scales[:-1]]), rtol=1e-6)

    probe = mlxlr.ReduceOnPlateau(factor=0.5, patience=3)
    split = None
    for k, m in enumerate(METRICS[:60], start=1):
        probe.observe(m)
        if k >= 30 and probe.state["bad"].item() > 0:
            split = k
            break
    assert split is not None

    model, opt = make_model(), make_opt()
    opt.init(model.trainable_parameters())
    log = []
    run(model, opt, 0, split, log)
    assert opt.state["plateaus"][0]["bad"].item() > 0  # mid-plateau
    mx.save_safetensors(str(tmp_path / "opt.safetensors"), dict(tree_flatten(opt.state)))
    model_params = dict(tree_flatten(model.parameters()))

    model, opt = make_model(), make_opt()
    model.update(tree_unflatten(list(model_params.items())))
    opt.state = tree_unflatten(list(mx.load(str(tmp_path / "opt.safetensors")).items()))
    run(model, opt, split, 80, log)
    assert log == full


def test_observe_needs_a_plateau_and_errors_are_named():
    opt = mlxlr.ScheduledOptimizer(optim.SGD(0.1), learning_rate=mlxlr.Constant(0.1))
    with pytest.raises(ValueError, match="observe needs a ReduceOnPlateau"):
        opt.observe(1.0)
    with pytest.raises(ValueError, match="factor must be in"):
        mlxlr.ReduceOnPlateau(factor=1.5)
    with pytest.raises(ValueError, match="mode must be one of 'min', 'max', got 'up'"):
        mlxlr.ReduceOnPlateau(mode="up")
    with pytest.raises(TypeError, match="patience must be an int, got True"):
        mlxlr.ReduceOnPlateau(patience=True)
    with pytest.raises(ValueError, match="min_scale must be in"):
        mlxlr.ReduceOnPlateau(min_scale=-1.0)


def test_two_plateaus_are_distinct_objects():
    a, b = mlxlr.ReduceOnPlateau(), mlxlr.ReduceOnPlateau()
    assert a != b and a == a
    assert repr(a) == "ReduceOnPlateau()"


def test_abs_and_rel_thresholds_decide_differently():
    """The same losses far from 0: a relative 1e-2 is 0.1 here, an absolute 1e-2 is 0.01."""
    losses = [10.0, 9.95, 9.9, 9.85, 9.8, 9.75]  # improvements of 0.05: enough in "abs", not in "rel"
    for mode, expected in [("rel", [1.0, 1.0, 0.5, 0.5, 0.5, 0.5]), ("abs", [1.0] * 6)]:
        assert torch_rule(losses, 0.5, 1, 1e-2, "min", 0, 0.0, mode) == expected
        plateau = mlxlr.ReduceOnPlateau(factor=0.5, patience=1, threshold=1e-2, threshold_mode=mode)
        got = []
        for loss in losses:
            plateau.observe(loss)
            got.append(plateau.at(0))
        assert got == expected, mode
    assert repr(mlxlr.ReduceOnPlateau(threshold_mode="abs")) == "ReduceOnPlateau(threshold_mode='abs')"
    with pytest.raises(ValueError, match=r"threshold_mode must be one of 'rel', 'abs', got 'absolute'"):
        mlxlr.ReduceOnPlateau(threshold_mode="absolute")
