"""A run's schedules at fit time: bound to the run's numbers and linted, once (``ScheduledOptimizer``)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from ._lint import LintWarning, lint, warning_text
from ._schedule import Schedule
from ._units import Binding, UnboundError


def prepare(
    schedules: Mapping[str, Any],
    total_steps: int | None = None,
    steps_per_epoch: int | None = None,
    tokens_per_step: float | None = None,
    *,
    stacklevel: int = 3,
) -> dict[str, Any]:
    """The schedules of an optimizer bound to the run's numbers, and the learning rate's lint warned once.

    What ``ScheduledOptimizer(optimizer, total_steps=..., steps_per_epoch=...,
    tokens_per_step=..., **schedules)`` does with its schedules before anything
    else: every :class:`~mlxlr.Schedule` among the values (alone, or in a
    tuple or list for a tuple hyperparameter) is bound
    (:meth:`~mlxlr.Schedule.bind`; a schedule in steps stays as it is);
    numbers and anything else pass through unchanged, for the optimizer to
    check. With ``total_steps``, the findings of :func:`mlxlr.lint` on
    ``learning_rate`` are issued as one :class:`LintWarning` (other
    hyperparameters are not linted: a weight decay of 0 is no mistake).

    Args:
        schedules: Hyperparameter name to its schedule, number or tuple.
        total_steps: Optimizer updates in the run.
        steps_per_epoch: Optimizer updates per epoch.
        tokens_per_step: Tokens per optimizer update.
        stacklevel: Passed to ``warnings.warn``: 3 points at the line that
            constructs the optimizer when the optimizer's ``__init__`` calls this.

    Returns:
        A new dict with the same keys, schedules bound.

    Raises:
        UnboundError: a schedule holds a unit whose number is not given; the
            message starts with the hyperparameter's name.
        ValueError: bad numbers, or a schedule bound before with other numbers.
    """
    Binding.of(total_steps, steps_per_epoch, tokens_per_step)  # bad numbers are refused even without units
    out: dict[str, Any] = {}
    for name, spec in schedules.items():
        try:
            out[name] = _bound(spec, total_steps, steps_per_epoch, tokens_per_step)
        except UnboundError as error:
            raise UnboundError(f"{name}: {error} (to ScheduledOptimizer)") from None
        except ValueError as error:
            raise type(error)(f"{name}: {error}") from None
    lr = out.get("learning_rate")
    if total_steps is not None and isinstance(lr, Schedule):
        findings = lint(lr, total_steps, steps_per_epoch, tokens_per_step)
        if findings:
            warnings.warn(warning_text("learning_rate", findings), LintWarning, stacklevel=stacklevel)
    return out


def _bound(spec: Any, total_steps: int | None, steps_per_epoch: int | None, tokens_per_step: float | None) -> Any:
    if isinstance(spec, Schedule):
        return spec.bind(total_steps, steps_per_epoch, tokens_per_step)
    if isinstance(spec, (tuple, list)):
        return type(spec)(_bound(p, total_steps, steps_per_epoch, tokens_per_step) for p in spec)
    return spec


__all__ = ["prepare"]
