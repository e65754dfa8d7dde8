"""ScheduledOptimizer: compile, hyperparameters, swap with MLX's own scheduling, checkpoints, errors."""

from functools import partial

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_unflatten

import mlxlr
from conftest import assert_same_values, assert_trained_close

CYCLE = mlxlr.Linear(0.95, 0.85, 25) >> mlxlr.Linear(0.85, 0.95, 25)  # one-cycle style momentum


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = [nn.Linear(6, 16), nn.Linear(16, 16), nn.Linear(16, 2)]

    def __call__(self, x):
        for layer in self.layers[:-1]:
            x = nn.relu(layer(x))
        return self.layers[-1](x)


def batch(i):
    x = mx.random.normal((16, 6), key=mx.random.key(1000 + i))
    return x, mx.stack([x.sum(axis=1), (x * x).mean(axis=1)], axis=1)


def make_model(seed=0):
    mx.random.seed(seed)
    model = MLP()
    mx.eval(model.parameters())
    return model


def loss_fn(model, x, y):
    return nn.losses.mse_loss(model(x), y)


def train(model, opt, steps, compiled, start=0, log=None, traces=None, used=None):
    """The DESIGN.md training pattern; returns the model.

    ``log`` collects the learning rate of every update, ``used`` (a dict of lists) the scheduled values.
    """
    loss_and_grad = nn.value_and_grad(model, loss_fn)
    state = [model.state, opt.state]

    def step(x, y):
        if traces is not None:
            traces.append(1)
        loss, grads = loss_and_grad(model, x, y)
        opt.update(model, grads)
        return loss

    if compiled:
        step = partial(mx.compile, inputs=state, outputs=state)(step)
    for i in range(start, start + steps):
        step(*batch(i))
        mx.eval(state)
        if log is not None:
            log.append(opt.learning_rate.item())
        if used is not None:
            for name in opt.schedules:
                value = opt.state[name]
                used.setdefault(name, []).append(np.array(value[0] if isinstance(value, list) else value))
    return model


def params(model):
    return {k: np.array(v) for k, v in tree_flatten(model.parameters())}


def assert_same(a, b, **tol):
    assert a.keys() == b.keys()
    for k in a:
        if tol:
            np.testing.assert_allclose(a[k], b[k], err_msg=k, **tol)
        else:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_compiled_step_traced_once_and_follows_the_schedule():
    schedule = mlxlr.Linear(0.0, 1e-2, 100) >> mlxlr.CosineDecay(1e-2, 150, end=1e-3) >> mlxlr.Constant(1e-3)
    opt, log, traces = compiled_rates(schedule, optim.AdamW(learning_rate=0.0), 300)
    assert traces == 1
    expected = np.array(schedule(mx.arange(300)))
    assert_same_values(log, expected)
    assert opt.step.item() == 300
    assert opt.step.dtype == mx.uint64


def compiled_rates(schedule, optimizer, steps):
    """Trains ``steps`` compiled steps with ``schedule`` as the learning rate: (opt, rates used, traces)."""
    model = make_model()
    opt = mlxlr.ScheduledOptimizer(optimizer, learning_rate=schedule)
    opt.init(model.trainable_parameters())
    log, traces = [], []
    train(model, opt, steps, compiled=True, log=log, traces=traces)
    return opt, log, len(traces)


def test_learning_rate_before_the_first_update_is_schedule_at_0():
    opt = mlxlr.ScheduledOptimizer(optim.SGD(learning_rate=0.5), learning_rate=mlxlr.Linear(0.1, 0.2, 10))
    assert opt.learning_rate.item() == pytest.approx(0.1)
    assert opt.step.item() == 0
    opt.update({}, {})
    assert opt.learning_rate.item() == pytest.approx(0.1)  # the value the update used
    opt.update({}, {})
    assert opt.learning_rate.item() == pytest.approx(0.11)


HYPER_CASES = {
    "adamw weight_decay rising": (
        lambda: optim.AdamW(learning_rate=1e-2, weight_decay=0.01),
        {"weight_decay": mlxlr.Linear(0.0, 0.5, 50)},
        lambda: optim.AdamW(learning_rate=1e-2, weight_decay=0.01),
    ),
    "sgd momentum cycling": (
        lambda: optim.SGD(learning_rate=1e-2, momentum=0.9),
        {"momentum": CYCLE},
        lambda: optim.SGD(learning_rate=1e-2, momentum=0.9),
    ),
    "adam beta1 cycling": (
        lambda: optim.Adam(learning_rate=1e-2),
        {"betas": (CYCLE, 0.999)},
        lambda: optim.Adam(learning_rate=1e-2),
    ),
    "lion weight_decay and lr": (
        lambda: optim.Lion(learning_rate=1e-3, weight_decay=0.1),
        {"weight_decay": mlxlr.Linear(0.1, 1.0, 50), "learning_rate": mlxlr.CosineDecay(1e-3, 50)},
        lambda: optim.Lion(learning_rate=1e-3, weight_decay=0.1),
    ),
}


@pytest.mark.parametrize("case", HYPER_CASES)
def test_scheduled_hyperparameters_under_compile(case):
    make, schedules, plain = HYPER_CASES[case]
    runs, used = {}, {}
    for compiled in (False, True):
        model = make_model()
        opt = mlxlr.ScheduledOptimizer(make(), **schedules)
        opt.init(model.trainable_parameters())
        used[compiled] = {}
        runs[compiled] = params(train(model, opt, 50, compiled, used=used[compiled]))
    model = make_model()
    unscheduled = params(train(model, plain(), 50, compiled=True))
    for name in schedules:  # what the claim is about: the values every update used
        assert_same_values(used[True][name], used[False][name], err_msg=name)
    assert_trained_close(runs[True], runs[False], rtol=1e-5, atol=1e-7)
    assert any(not np.allclose(runs[True][k], unscheduled[k], rtol=1e-4) for k in unscheduled)


def test_scheduled_momentum_follows_a_manual_reference():
    """SGD with momentum: the update rule written out in the test, with the schedule's momentum per step."""
    w = mx.array([1.0, -2.0])
    grads = [mx.array([0.5, 0.25]) * (k + 1) for k in range(30)]
    opt = mlxlr.ScheduledOptimizer(optim.SGD(learning_rate=0.1, momentum=0.9), momentum=CYCLE)
    state = {"w": w}
    opt.init(state)
    step = mx.compile(lambda g, p: opt.apply_gradients({"w": g}, p), inputs=opt.state, outputs=opt.state)
    ref_w, v = np.array([1.0, -2.0]), np.zeros(2)
    mu = np.array(CYCLE(mx.arange(30)), dtype=np.float64)
    for k in range(30):
        state = step(grads[k], state)
        g = np.array(grads[k], dtype=np.float64)
        v = mu[k] * v + g
        ref_w = ref_w - 0.1 * v
    np.testing.assert_allclose(np.array(state["w"]), ref_w, rtol=1e-5)


def test_schedule_driving_two_names_is_evaluated_once_per_step():
    calls = []

    class Counting(mlxlr.Schedule):
        def __call__(self, step):
            calls.append(1)
            return mlxlr.as_step(step).astype(mx.float32) * 0 + 0.01

    shared = Counting()
    opt = mlxlr.ScheduledOptimizer(optim.AdamW(learning_rate=0.1), learning_rate=shared, weight_decay=shared)
    calls.clear()
    opt.update({}, {})
    assert len(calls) == 1


SWAP = {
    "SGD": lambda lr: optim.SGD(learning_rate=lr, momentum=0.9),
    "Adam": lambda lr: optim.Adam(learning_rate=lr),
    "AdamW": lambda lr: optim.AdamW(learning_rate=lr),
    "Lion": lambda lr: optim.Lion(learning_rate=lr),
    "Adafactor": lambda lr: optim.Adafactor(learning_rate=lr, relative_step=False),
    "Muon": lambda lr: optim.Muon(learning_rate=lr),
    "RMSprop": lambda lr: optim.RMSprop(learning_rate=lr),
    "Adagrad": lambda lr: optim.Adagrad(learning_rate=lr),
    "AdaDelta": lambda lr: optim.AdaDelta(learning_rate=lr),
    "Adamax": lambda lr: optim.Adamax(learning_rate=lr),
}


@pytest.mark.parametrize("name", SWAP)
def test_swap_with_mlx_native_scheduling(name):
    make = SWAP[name]
    runs = {}
    for label, build in {
        "native": lambda: make(optim.cosine_decay(1e-2, 100)),
        # The wrapper alone: MLX's own closure as the schedule gives bitwise the native run.
        "closure": lambda: mlxlr.ScheduledOptimizer(
            make(0.0), learning_rate=mlxlr.Lambda(optim.cosine_decay(1e-2, 100))
        ),
        "mlxlr": lambda: mlxlr.ScheduledOptimizer(make(0.0), learning_rate=mlxlr.cosine_decay(1e-2, 100)),
    }.items():
        model, opt = make_model(), build()
        opt.init(model.trainable_parameters())
        train(model, opt, 100, compiled=True)
        runs[label] = params(model)
        assert opt.step.item() == 100
    assert_same(runs["closure"], runs["native"])
    # mlxlr's cosine differs from MLX's in the last float32 bit at some steps (it follows float64 where
    # MLX's 1 + cos(x) cancels); after 100 updates the parameters stay within rtol 1e-4 (+ atol 1e-6) on the
    # CPU; on a GPU the two compiled graphs round differently too, and the training carries it (TRAINED).
    assert_trained_close(runs["mlxlr"], runs["native"], rtol=1e-4, atol=1e-6)


RUN_COMPILED = {
    "MultiOptimizer": lambda: optim.MultiOptimizer(
        [optim.Adam(1e-2), optim.SGD(1e-2, momentum=0.5)], [lambda k, v: "bias" in k]
    ),
    **{name: (lambda m=m: m(0.1)) for name, m in SWAP.items()},
}


@pytest.mark.parametrize("name", RUN_COMPILED)  # one case each: on a GPU each compiles kernels of its own
def test_every_optimizer_and_multioptimizer_run_compiled(name):
    model = make_model()
    opt = mlxlr.ScheduledOptimizer(RUN_COMPILED[name](), learning_rate=mlxlr.Linear(1e-2, 1e-3, 10))
    opt.init(model.trainable_parameters())
    log = []
    train(model, opt, 12, compiled=True, log=log)
    np.testing.assert_allclose(log, np.array(mlxlr.Linear(1e-2, 1e-3, 10)(mx.arange(12))), rtol=1e-6)


def test_multioptimizer_hyperparameters_reach_every_sub_optimizer():
    inner = optim.MultiOptimizer(
        [optim.SGD(0.1, momentum=0.9), optim.SGD(0.1, momentum=0.5)], [lambda k, v: "bias" in k]
    )
    opt = mlxlr.ScheduledOptimizer(inner, learning_rate=mlxlr.Linear(0.1, 0.0, 10), momentum=CYCLE)
    model = make_model()
    opt.init(model.trainable_parameters())
    train(model, opt, 3, compiled=True)
    for sub in inner.optimizers:
        assert sub.learning_rate.item() == pytest.approx(0.08)
        assert sub.momentum == 0.9 or sub.momentum == 0.5  # restored after each update


def test_user_subclass_of_optimizer_in_mlx_style():
    class SignSGD(optim.Optimizer):
        def __init__(self, learning_rate, damping=0.0):
            super().__init__()
            self._maybe_schedule("learning_rate", learning_rate)
            self.damping = damping

        def init_single(self, parameter, state):
            pass

        def apply_single(self, gradient, parameter, state):
            if self.damping > 0:  # a Python branch, as MLX's optimizers write them
                gradient = gradient * (1 - self.damping)
            return parameter - self.learning_rate.astype(gradient.dtype) * mx.sign(gradient)

    runs = []
    for compiled in (False, True):
        model = make_model()
        opt = mlxlr.ScheduledOptimizer(
            SignSGD(0.01, damping=0.1), learning_rate=mlxlr.Linear(0.01, 0.001, 20), damping=mlxlr.Linear(0.1, 0.5, 20)
        )
        opt.init(model.trainable_parameters())
        runs.append(params(train(model, opt, 20, compiled)))
    assert_trained_close(runs[0], runs[1], rtol=1e-6)


def test_checkpoint_resume_is_bitwise(tmp_path):
    def make():
        return mlxlr.ScheduledOptimizer(
            optim.AdamW(learning_rate=0.0, weight_decay=0.0),
            learning_rate=mlxlr.Linear(0.0, 1e-2, 20) >> mlxlr.CosineDecay(1e-2, 80),
            weight_decay=mlxlr.Constant(0.1) * mlxlr.Linear(1.0, 0.0, 100),
            betas=(CYCLE, 0.999),
        )

    model = make_model()
    opt = make()
    opt.init(model.trainable_parameters())
    full_log = []
    train(model, opt, 100, compiled=True, log=full_log)
    full = params(model)

    model = make_model()
    opt = make()
    opt.init(model.trainable_parameters())
    log = []
    train(model, opt, 37, compiled=True, log=log)
    mx.save_safetensors(str(tmp_path / "model.safetensors"), dict(tree_flatten(model.parameters())))
    mx.save_safetensors(str(tmp_path / "opt.safetensors"), dict(tree_flatten(opt.state)))

    model = make_model(seed=123)  # different weights: the checkpoint must overwrite them
    model.update(tree_unflatten(list(mx.load(str(tmp_path / "model.safetensors")).items())))
    opt = make()
    opt.state = tree_unflatten(list(mx.load(str(tmp_path / "opt.safetensors")).items()))
    assert opt.step.item() == 37 and opt.step.dtype == mx.uint64
    traces = []
    train(model, opt, 63, compiled=True, start=37, log=log, traces=traces)
    assert len(traces) == 1
    assert log == full_log
    assert_same(params(model), full)


def test_state_setter_updates_the_captured_tree_in_place():
    model = make_model()
    opt = mlxlr.ScheduledOptimizer(optim.SGD(0.1), learning_rate=mlxlr.Linear(0.1, 0.0, 100))
    opt.init(model.trainable_parameters())
    tree = opt.state
    opt.state = {**tree_unflatten(tree_flatten(tree)), "step": mx.array(25)}  # int32, as a hand-made step would be
    assert opt.state is tree
    assert opt.step.dtype == mx.uint64 and opt.step.item() == 25


@pytest.mark.parametrize(
    ("make", "schedules", "error", "message"),
    [
        (
            lambda: optim.SGD(0.1),
            {"momentom": CYCLE},
            ValueError,
            r"'momentom' is not a schedulable .* schedulable: .*momentum",
        ),
        (
            lambda: optim.SGD(optim.cosine_decay(0.1, 10)),
            {"learning_rate": CYCLE},
            ValueError,
            "already scheduled by SGD",
        ),
        (lambda: optim.Adam(0.1), {"betas": CYCLE}, TypeError, "betas must be a tuple of 2 schedules or numbers"),
        (lambda: optim.Adam(0.1), {"betas": (CYCLE,)}, TypeError, "betas must be a tuple of 2"),
        (
            lambda: optim.SGD(0.1),
            {"momentum": "fast"},
            TypeError,
            r"momentum must be a Schedule or a number, got 'fast'",
        ),
        (lambda: optim.SGD(0.1), {"momentum": lambda s: s}, TypeError, r"wrap a callable in mlxlr.Lambda"),
        (lambda: optim.SGD(0.1), {"momentum": float("nan")}, ValueError, "momentum must be finite, got nan"),
        (lambda: optim.Adafactor(), {"learning_rate": CYCLE}, ValueError, "relative_step=True, which ignores it"),
        (lambda: optim.Adafactor(), {"beta_1": CYCLE}, ValueError, "beta_1 is None in Adafactor"),
        (lambda: optim.SGD(0.1), {"step": CYCLE}, ValueError, "'step' cannot be scheduled"),
        (lambda: optim.SGD(0.1), {}, ValueError, "give at least one hyperparameter"),
        (lambda: "SGD", {"momentum": CYCLE}, TypeError, "optimizer must be an mlx.optimizers.Optimizer, got 'SGD'"),
    ],
)
def test_errors(make, schedules, error, message):
    with pytest.raises(error, match=message):
        mlxlr.ScheduledOptimizer(make(), **schedules)


def test_loading_a_state_with_other_schedules_fails_clearly():
    a = mlxlr.ScheduledOptimizer(optim.AdamW(0.1), learning_rate=CYCLE, weight_decay=CYCLE)
    b = mlxlr.ScheduledOptimizer(optim.AdamW(0.1), learning_rate=CYCLE)
    with pytest.raises(
        ValueError, match=r"schedules \['learning_rate', 'weight_decay'\], but this one schedules \['learning_rate'\]"
    ):
        b.state = tree_unflatten(tree_flatten(a.state))


def test_branch_that_the_schedule_crosses_is_an_error():
    class Picky(optim.SGD):
        def apply_single(self, gradient, parameter, state):
            if self.momentum > 0.9:
                raise AssertionError("never reached")
            return super().apply_single(gradient, parameter, state)

    opt = mlxlr.ScheduledOptimizer(Picky(0.1, momentum=0.9), momentum=CYCLE)
    with pytest.raises(ValueError, match=r"branches in Python on 'momentum > 0.9', but the schedule for momentum"):
        opt.apply_gradients({"w": mx.array([1.0])}, {"w": mx.array([1.0])})


def test_scheduled_attribute_cannot_become_a_python_number():
    class Freezer(optim.SGD):
        def apply_single(self, gradient, parameter, state):
            return parameter - float(self.momentum) * gradient

    opt = mlxlr.ScheduledOptimizer(Freezer(0.1, momentum=0.9), momentum=CYCLE)
    with pytest.raises(TypeError, match="converts the scheduled momentum to a Python number"):
        opt.apply_gradients({"w": mx.array([1.0])}, {"w": mx.array([1.0])})


def test_attribute_reads_and_repr_of_schedules():
    opt = mlxlr.ScheduledOptimizer(optim.Adam(0.1), betas=(CYCLE, 0.999))
    b1, b2 = opt.betas
    assert b1.item() == pytest.approx(0.95) and b2.item() == pytest.approx(0.999)
    assert opt.eps == 1e-8  # not scheduled: read through to the wrapped optimizer
    assert opt.schedules == {"betas": (CYCLE, 0.999)}
    assert isinstance(opt.optimizer, optim.Adam)


def _example_id(schedule) -> str:
    text = repr(schedule)
    return text if len(text) < 60 else text[:57] + "..."


def _every_example():
    from examples import EXAMPLES

    return [s for s in EXAMPLES if not isinstance(s, mlxlr.ReduceOnPlateau)]


@pytest.mark.parametrize("schedule", _every_example(), ids=_example_id)
def test_every_schedule_drives_a_compiled_step(schedule):
    """Each class of the catalogue (tests/examples.py) as a learning rate: 30 compiled steps equal eager values."""
    _, log, traces = compiled_rates(schedule, optim.SGD(learning_rate=0.0), 30)
    assert traces == 1
    eager = np.array([schedule.at(k) for k in range(200)], dtype=np.float32)
    assert_same_values(log, eager[:30], peak=float(np.max(np.abs(eager))))


# Pickling, copying and printing. -------------------------------------------------------------------------


def _pickle_cases():
    from test_half_precision import OPTIMIZERS

    for label, make, settings in OPTIMIZERS:
        schedules = {
            name: tuple(mlxlr.Linear(v, v / 2, 5) for v in value)
            if isinstance(value, tuple)
            else mlxlr.Linear(value, value / 2, 5)
            for name, value in settings.items()
        }
        yield pytest.param(make, settings, schedules, id=label)


@pytest.mark.parametrize(("make", "settings", "schedules"), list(_pickle_cases()))
def test_the_wrapper_pickles_and_copies_with_every_attribute_scheduled(make, settings, schedules):
    import copy
    import pickle

    params = {"w": mx.ones((4, 3)), "b": mx.zeros((3,))}
    grads = {"w": mx.full((4, 3), 0.5), "b": mx.full((3,), -0.25)}
    opt = mlxlr.ScheduledOptimizer(make(**settings), **schedules)
    params = opt.apply_gradients(grads, params)
    clones = [pickle.loads(pickle.dumps(opt)), copy.deepcopy(opt)]
    want = opt.apply_gradients(grads, params)
    for clone in clones:
        assert repr(clone) == repr(opt)
        got = clone.apply_gradients(grads, params)
        for key in want:
            np.testing.assert_array_equal(np.array(got[key]), np.array(want[key]), err_msg=key)
        assert clone.step.item() == opt.step.item() == 2


def test_numpy_and_mlx_scalars_are_numbers_for_every_hyperparameter():
    """``np.float32(0.9)``, ``np.float64``, a 0-d ``mx.array``: the Python number they hold, as a Constant."""
    opt = mlxlr.ScheduledOptimizer(
        optim.SGD(0.0, momentum=0.5), learning_rate=np.float64(0.1), momentum=np.float32(0.9), dampening=mx.array(0.25)
    )
    assert opt.schedules == {
        "learning_rate": mlxlr.Constant(0.1),
        "momentum": mlxlr.Constant(float(np.float32(0.9))),
        "dampening": mlxlr.Constant(0.25),
    }
    adam = mlxlr.ScheduledOptimizer(optim.Adam(0.1), betas=(np.float32(0.5), mx.array(0.75)))
    assert adam.schedules == {"betas": (0.5, 0.75)} and all(type(b) is float for b in adam.schedules["betas"])
    assert [b.item() for b in adam.betas] == [0.5, 0.75]
    for bad, error, message in [
        (np.float32("nan"), ValueError, r"momentum must be finite, got np\.float32\(nan\)"),
        (np.bool_(True), TypeError, r"momentum must be a Schedule or a number, got np\.True_ \(bool\)"),
        (mx.array([0.9]), TypeError, r"momentum must be a Schedule or a number, got array\(\[0\.9\]"),
        (np.float64(1e39), ValueError, r"momentum must be finite in float32 .*got 1e\+39"),
    ]:
        with pytest.raises(error, match=message):
            mlxlr.ScheduledOptimizer(optim.SGD(0.0, momentum=0.5), momentum=bad)
