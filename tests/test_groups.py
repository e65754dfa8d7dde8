"""Parameter groups: per-path overrides of any hyperparameter, equal to separate optimizers over the split tree."""

from __future__ import annotations

import copy
import pickle
from functools import partial
from typing import Any

import mlx.core as mx
import mlx.optimizers as optim
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_unflatten

import mlxlr
from conftest import assert_trained_close

STEPS = 12
LR = mlxlr.Linear(0.0, 1e-2, steps=4) >> mlxlr.CosineDecay(1e-2, decay_steps=8, end=1e-3)
NO_DECAY = {"*.bias": {"weight_decay": 0.0}, "*norm*": {"weight_decay": 0.0}}


def params() -> dict[str, Any]:
    keys = mx.random.split(mx.random.key(0), 4)
    return {
        "embed": {"weight": mx.random.normal((10, 4), key=keys[0])},
        "layer": {"weight": mx.random.normal((4, 4), key=keys[1]), "bias": mx.random.normal((4,), key=keys[2])},
        "norm": {"weight": 1 + 0.1 * mx.random.normal((4,), key=keys[3])},
    }


def grads(step: int) -> dict[str, Any]:
    flat = tree_flatten(params())
    keys = mx.random.split(mx.random.key(10 + step), len(flat))
    return tree_unflatten([(k, mx.random.normal(v.shape, key=key)) for (k, v), key in zip(flat, keys)])


def split(tree: dict[str, Any], chosen: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    flat = tree_flatten(tree)
    inside = [(k, v) for k, v in flat if chosen(k)]
    outside = [(k, v) for k, v in flat if not chosen(k)]
    return tree_unflatten(inside), tree_unflatten(outside)


def merged(*trees: dict[str, Any]) -> dict[str, Any]:
    return tree_unflatten([item for tree in trees for item in tree_flatten(tree)])


def run_ours(opt: mlxlr.ScheduledOptimizer, compiled: bool = False, traces: list[int] | None = None) -> dict:
    box = {"params": params()}
    opt.init(box["params"])
    state = [box, opt.state]

    def update(g: dict[str, Any]) -> None:
        if traces is not None:
            traces.append(1)
        box["params"] = opt.apply_gradients(g, box["params"])

    if compiled:
        update = partial(mx.compile, inputs=state, outputs=state)(update)
    for k in range(STEPS):
        update(grads(k))
        mx.eval(state)
    return box["params"]


def run_split(chosen: Any, make_inside: Any, make_outside: Any) -> dict[str, Any]:
    """The reference: two MLX optimizers of their own over the two parts of the tree."""
    inside, outside = split(params(), chosen)
    opt_in, opt_out = make_inside(), make_outside()
    for k in range(STEPS):
        g_in, g_out = split(grads(k), chosen)
        inside = opt_in.apply_gradients(g_in, inside)
        outside = opt_out.apply_gradients(g_out, outside)
        mx.eval(inside, outside)
    return merged(inside, outside)


def assert_trees_equal(got: dict[str, Any], want: dict[str, Any]) -> None:
    got_flat, want_flat = dict(tree_flatten(got)), dict(tree_flatten(want))
    assert got_flat.keys() == want_flat.keys()
    for key in want_flat:
        np.testing.assert_array_equal(np.array(got_flat[key]), np.array(want_flat[key]), err_msg=key)


def no_decay_path(path: str) -> bool:
    return path.endswith(".bias") or "norm" in path


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_decay_and_no_decay_groups_equal_two_optimizers(compiled: bool) -> None:
    traces: list[int] = []
    ours = run_ours(
        mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.0, weight_decay=0.1), learning_rate=LR, groups=NO_DECAY),
        compiled,
        traces,
    )
    want = run_split(
        no_decay_path,
        lambda: optim.AdamW(learning_rate=LR, weight_decay=0.0),
        lambda: optim.AdamW(learning_rate=LR, weight_decay=0.1),
    )
    if compiled:  # compiled against eager: bitwise on the CPU, within the GPU's training tolerance there
        assert_trained_close(dict(tree_flatten(ours)), dict(tree_flatten(want)))
        assert len(traces) == 1
    else:
        assert_trees_equal(ours, want)


def test_a_group_learning_rate_is_a_schedule_of_its_own() -> None:
    embed = 0.1 * LR
    ours = run_ours(
        mlxlr.ScheduledOptimizer(
            optim.Adam(learning_rate=0.0), learning_rate=LR, groups={"embed.*": {"learning_rate": embed}}
        )
    )
    want = run_split(
        lambda path: path.startswith("embed."),
        lambda: optim.Adam(learning_rate=embed),
        lambda: optim.Adam(learning_rate=LR),
    )
    assert_trees_equal(ours, want)


def test_the_first_matching_pattern_wins() -> None:
    groups = {"layer.*": {"weight_decay": 0.5}, "*.bias": {"weight_decay": 0.0}}
    ours = run_ours(mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=1e-2, weight_decay=0.1), groups=groups))
    want = run_split(
        lambda path: path.startswith("layer."),
        lambda: optim.AdamW(learning_rate=1e-2, weight_decay=0.5),
        lambda: optim.AdamW(learning_rate=1e-2, weight_decay=0.1),
    )
    assert_trees_equal(ours, want)


def test_a_group_may_schedule_what_nothing_else_schedules() -> None:
    momentum = mlxlr.Linear(0.5, 0.9, steps=6)
    ours = run_ours(
        mlxlr.ScheduledOptimizer(optim.SGD(learning_rate=0.1, momentum=0.9), groups={"norm.*": {"momentum": momentum}})
    )
    want = run_split(
        lambda path: path.startswith("norm."),
        lambda: mlxlr.ScheduledOptimizer(optim.SGD(learning_rate=0.1, momentum=0.9), momentum=momentum),
        lambda: optim.SGD(learning_rate=0.1, momentum=0.9),
    )
    assert_trees_equal(ours, want)


def test_groups_work_inside_a_multi_optimizer() -> None:
    def make() -> optim.Optimizer:
        return optim.MultiOptimizer(
            [optim.AdamW(learning_rate=1e-2, weight_decay=0.1), optim.SGD(learning_rate=1e-2, weight_decay=0.1)],
            [lambda path, _: path.startswith("embed.")],
        )

    ours = run_ours(mlxlr.ScheduledOptimizer(make(), groups={"*.bias": {"weight_decay": 0.0}}))
    flat = dict(tree_flatten(ours))
    reference = run_ours(mlxlr.ScheduledOptimizer(make(), weight_decay=0.1))
    ref_flat = dict(tree_flatten(reference))
    # Only the bias differs from the run without the group: it alone is updated without weight decay.
    assert not np.array_equal(np.array(flat["layer.bias"]), np.array(ref_flat["layer.bias"]))
    for key in ("embed.weight", "layer.weight", "norm.weight"):
        np.testing.assert_array_equal(np.array(flat[key]), np.array(ref_flat[key]), err_msg=key)


def test_a_pattern_that_matches_no_parameter_is_named() -> None:
    opt = mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=1e-2), groups={"*.bais": {"weight_decay": 0.0}})
    with pytest.raises(ValueError, match=r"groups pattern '\*\.bais' matches no parameter; the parameters are embed"):
        opt.init(params())
    fresh = mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=1e-2), groups={"*.bais": {"weight_decay": 0.0}})
    with pytest.raises(ValueError, match=r"groups pattern '\*\.bais' matches no parameter"):
        fresh.apply_gradients(grads(0), params())  # without init: on the first update


def test_groups_survive_a_checkpoint(tmp_path: Any) -> None:
    def make() -> mlxlr.ScheduledOptimizer:
        return mlxlr.ScheduledOptimizer(
            optim.AdamW(learning_rate=0.0, weight_decay=0.1), learning_rate=LR, groups=NO_DECAY
        )

    straight = run_ours(make())
    opt = make()
    p = params()
    opt.init(p)
    for k in range(5):
        p = opt.apply_gradients(grads(k), p)
    mx.eval(p, opt.state)
    mx.save_safetensors(str(tmp_path / "opt.safetensors"), dict(tree_flatten(opt.state)))
    resumed = make()
    resumed.init(p)
    resumed.state = tree_unflatten(list(mx.load(str(tmp_path / "opt.safetensors")).items()))
    for k in range(5, STEPS):
        p = resumed.apply_gradients(grads(k), p)
    assert_trees_equal(p, straight)


def test_a_wrapper_with_groups_pickles_copies_and_prints() -> None:
    opt = mlxlr.ScheduledOptimizer(
        optim.AdamW(learning_rate=0.0, weight_decay=0.1),
        learning_rate=LR,
        betas=(mlxlr.Linear(0.85, 0.95, steps=4) >> mlxlr.Constant(0.95), 0.999),
        groups=NO_DECAY,
    )
    p = params()
    opt.init(p)
    for k in range(3):
        p = opt.apply_gradients(grads(k), p)
    mx.eval(p, opt.state)
    clones = [pickle.loads(pickle.dumps(opt)), copy.deepcopy(opt)]
    want = opt.apply_gradients(grads(3), dict(p))
    for clone in clones:
        assert clone.step.item() == 3 and clone.schedules == opt.schedules and clone.groups == opt.groups
        assert_trees_equal(clone.apply_gradients(grads(3), dict(p)), want)
    text = repr(opt)
    assert text.startswith(
        "ScheduledOptimizer(AdamW(betas=[0.9, 0.999], eps=1e-08, bias_correction=False, weight_decay=0.1), "
    )
    assert "learning_rate=Linear(init=0.0, end=0.01, steps=4) >> CosineDecay(" in text
    assert "betas=(Linear(init=0.85, end=0.95, steps=4) >> Constant(value=0.95), 0.999)" in text
    assert "groups={'*.bias': {'weight_decay': 0.0}, '*norm*': {'weight_decay': 0.0}}" in text


def test_a_group_learning_rate_may_be_a_number() -> None:
    ours = run_ours(
        mlxlr.ScheduledOptimizer(
            optim.Adam(learning_rate=0.0), learning_rate=LR, groups={"embed.*": {"learning_rate": 1e-3}}
        )
    )
    want = run_split(
        lambda path: path.startswith("embed."),
        lambda: optim.Adam(learning_rate=1e-3),
        lambda: optim.Adam(learning_rate=LR),
    )
    assert_trees_equal(ours, want)
