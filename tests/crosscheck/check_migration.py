"""The migration guides' rows against the libraries themselves: ``pytest tests/crosscheck/check_migration.py``.

Not collected by default (``nox -s crosscheck`` runs it). Each row's reference call, as
the page writes it, is run with PyTorch, Transformers, Optax or Keras and stepped as in
training; the values are compared with the float64 reference of tests/test_migration.py
(so that those references are the libraries' formulas) and with the row's mlxlr
expressions. Each guide must also name every scheduler the installed library has.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import mlxlr

sys.path.insert(0, str(Path(__file__).parent.parent))

from migration_pages import Row, rows
from test_migration import BASE_LR, EPS32, METRICS, STEPS_PER_EPOCH, Curve, Observed, evaluate

STEPS = 3_001
# The libraries' own arithmetic: PyTorch and Transformers in float64 (recursive forms), Optax and Keras in float32.
RTOL = {"pytorch": 1e-7, "huggingface": 1e-7, "optax": 2e-5, "keras": 2e-4}


def _torch() -> Any:
    return pytest.importorskip("torch")


def _namespace(page: str, opt: Any) -> dict[str, Any]:
    if page == "pytorch":
        torch = _torch()
        names = dict(vars(torch.optim.lr_scheduler))
        names["SWALR"] = torch.optim.swa_utils.SWALR
    elif page == "huggingface":
        names = dict(vars(pytest.importorskip("transformers.optimization")))
    elif page == "optax":
        optax = pytest.importorskip("optax")
        names = {"optax": optax}
    else:
        os.environ.setdefault("KERAS_BACKEND", "numpy")
        keras = pytest.importorskip("keras")
        names = {**vars(keras.optimizers.schedules), **vars(keras.callbacks)}
    return {**names, "opt": opt}


def _run(row: Row, opt: Any = None) -> Any:
    return eval(row.reference, {"__builtins__": {}, **_namespace(row.page, opt)})  # the page's own call


def _torch_optimizer(page: str) -> Any:
    torch = _torch()
    param = torch.nn.Parameter(torch.zeros(1))
    if page == "pytorch":
        return torch.optim.SGD([param], lr=BASE_LR[page], momentum=0.9)
    return torch.optim.AdamW([param], lr=BASE_LR[page])


def _record(row: Row) -> np.ndarray:
    """The row's quantity before each of ``STEPS`` updates, as the library computes it (shorter if it raises)."""
    if row.page in ("pytorch", "huggingface"):
        opt = _torch_optimizer(row.page)
        scheduler = _run(row, opt)
        key = "momentum" if row.quantity == "momentum" else "lr"
        out = []
        for _ in range(STEPS):
            out.append(float(opt.param_groups[0][key]))
            opt.step()
            try:
                scheduler.step()
            except ValueError:  # OneCycleLR past total_steps
                break
        return np.array(out)
    if row.page == "optax":
        jax = pytest.importorskip("jax")
        return np.array(jax.vmap(_run(row))(jax.numpy.arange(STEPS)), dtype=np.float64)
    if row.name == "LearningRateScheduler":
        callback, optimizer = _keras_callback(row)
        out = []
        for epoch in range(STEPS // STEPS_PER_EPOCH + 1):
            callback.on_epoch_begin(epoch)
            out += [float(np.asarray(optimizer.learning_rate))] * STEPS_PER_EPOCH
        return np.array(out[:STEPS])
    schedule = _run(row)
    return np.array([float(schedule(t)) for t in range(STEPS)])


def _keras_callback(row: Row) -> tuple[Any, Any]:
    keras = pytest.importorskip("keras")
    optimizer = keras.optimizers.SGD(learning_rate=BASE_LR["keras"])
    callback = _run(row)
    callback.set_model(SimpleNamespace(optimizer=optimizer))
    callback.on_train_begin()
    return callback, optimizer


def _observe(row: Row) -> list[float]:
    """The rate (or scale) after each observation of ``METRICS``, as the library computes it."""
    if row.page in ("pytorch", "huggingface"):
        opt = _torch_optimizer(row.page)
        scheduler = _run(row, opt)
        out = [float(opt.param_groups[0]["lr"])]
        for metric in METRICS:
            scheduler.step(metric)
            out.append(float(opt.param_groups[0]["lr"]))
        return out
    if row.page == "optax":
        jnp = pytest.importorskip("jax.numpy")
        transform = _run(row)
        params = jnp.zeros(1)
        state = transform.init(params)
        out = [float(state.scale)]
        for metric in METRICS:
            _, state = transform.update(params, state, params, value=jnp.asarray(metric))
            out.append(float(state.scale))
        return out
    callback, optimizer = _keras_callback(row)
    out = [float(np.asarray(optimizer.learning_rate))]
    for epoch, metric in enumerate(METRICS):
        callback.on_epoch_end(epoch, {"val_loss": metric})
        out.append(float(np.asarray(optimizer.learning_rate)))
    return out


ROWS = [row for page in ("pytorch", "huggingface", "optax", "keras") for row in rows(page)]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_row(row: Row) -> None:
    reference = evaluate(row.reference, row.page)
    rtol = RTOL[row.page]
    if isinstance(reference, Observed):
        theirs = _observe(row)
        np.testing.assert_allclose(reference.values(METRICS), theirs, rtol=rtol, err_msg="the reference of the test")
        return
    if not isinstance(reference, Curve):
        pytest.skip("no mlxlr expression: tests/test_migration.py checks what the row says instead")
    theirs = _record(row)
    steps = np.arange(len(theirs))
    fn = reference.momentum if row.quantity == "momentum" else reference.lr
    assert fn is not None
    # Optax and Keras form 1 + cos(x) in float32, which cancels near the end of a decay to 0: a few float32
    # ulps of the schedule's scale, absolute.
    atol = 1e-12 if row.page in ("pytorch", "huggingface") else 8 * EPS32 * np.abs(theirs).max()
    np.testing.assert_allclose(fn(steps), theirs, rtol=rtol, atol=atol, err_msg="the reference of the test")
    end = reference.free_after
    for text in row.expressions:
        schedule = mlxlr.parse(text)
        upto = steps if end is None or schedule.duration is None else steps[: end + 1]
        ours = _values(schedule, upto)
        np.testing.assert_allclose(ours, theirs[: len(upto)], rtol=max(rtol, 1e-5), atol=atol, err_msg=text)


def _values(schedule: mlxlr.Schedule, steps: np.ndarray) -> np.ndarray:
    mx = pytest.importorskip("mlx.core")
    return np.array(schedule(mx.array(steps)).tolist(), dtype=np.float64)


def _named(page: str) -> set[str]:
    return {row.name for row in rows(page)}


def test_pytorch_page_names_every_scheduler() -> None:
    torch = _torch()
    lr_scheduler = torch.optim.lr_scheduler
    theirs = {
        name
        for name, cls in vars(lr_scheduler).items()
        if inspect.isclass(cls)
        and issubclass(cls, lr_scheduler.LRScheduler)
        and not name.startswith("_")
        and name != "LRScheduler"
    }
    assert theirs | {"SWALR"} <= _named("pytorch")


def test_huggingface_page_names_every_schedule() -> None:
    optimization = pytest.importorskip("transformers.optimization")
    theirs = {
        name
        for name, fn in vars(optimization).items()
        if name.startswith("get_") and "schedule" in name and name != "get_scheduler" and callable(fn)
    }
    assert theirs <= _named("huggingface")


def test_optax_page_names_every_schedule() -> None:
    schedules = pytest.importorskip("optax.schedules")
    theirs = {name for name, fn in vars(schedules).items() if inspect.isfunction(fn) and not name.startswith("inject")}
    assert theirs | {"reduce_on_plateau"} <= _named("optax")


def test_keras_page_names_every_schedule() -> None:
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    keras = pytest.importorskip("keras")
    base: Callable[..., Any] = keras.optimizers.schedules.LearningRateSchedule
    theirs = {
        name
        for name, cls in vars(keras.optimizers.schedules).items()
        if inspect.isclass(cls) and issubclass(cls, base) and cls is not base
    }
    assert theirs | {"ReduceLROnPlateau", "LearningRateScheduler"} <= _named("keras")
