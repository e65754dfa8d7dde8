"""The contract of a schedule's ``__call__``, checked where mlxlr calls a schedule that is not its own.

A user's subclass returns a float32 ``mx.array`` of the step's shape, built
with graph operations. :func:`called` is the one place mlxlr calls such a
``__call__`` (``at``, ``values``, joins, sums, combinators, the optimizer, the
plots): a result that breaks the contract, or MLX's error for Python code on
the step, becomes a ``TypeError`` that names the class and the fix.
"""

from __future__ import annotations

from collections.abc import Callable

import mlx.core as mx

from ._steps import StepLike

_PYTHON_ON_ARRAYS = (
    "Attempting to eval an array during function transformations",  # if / int() / .item() inside mx.compile
    "Only length-1 arrays can be converted to Python scalars",  # the same on an array of steps
)


def called(schedule: Callable[[StepLike], object], step: StepLike) -> mx.array:
    """``schedule(step)``, checked against the contract of ``__call__``: a floating array of the step's shape.

    The one place where mlxlr calls a schedule's ``__call__`` (a user's
    subclass; mlxlr's own evaluate their formulas): ``at``, ``values``, and
    :func:`mlxlr._native.evaluate` for joins, sums, combinators and
    ``ScheduledOptimizer``. A floating result is cast to float32; a Python
    number, an integer or bool array, or an array of another shape (a scalar
    for an array of steps included) is a ``TypeError`` that names the class
    and the fix, and so is MLX's error for Python code that branches on the
    step (``if``, ``min``, ``int()``, ``.item()``).
    """
    try:
        out = schedule(step)
    except ValueError as error:
        raise graph_only(error, f"{_name(schedule)}.__call__") from None
    return conformed(schedule, out, step.shape if isinstance(step, mx.array) else ())


def graph_only(error: ValueError, who: str) -> Exception:
    """MLX's error for Python code on a step's value as a ``TypeError`` naming ``who`` and the fix; others as is."""
    if not any(text in str(error) for text in _PYTHON_ON_ARRAYS):
        return error
    return TypeError(
        f"{who} runs Python code on the step's value (MLX: {str(error).strip()}): a schedule is called inside "
        "mx.compile and with arrays of steps, so it must use graph operations only: mx.where(condition, a, b) "
        "instead of if/else, mx.minimum/mx.maximum instead of min/max, no int(), float() or .item() of the step"
    )


def conformed(schedule: object, out: object, shape: tuple[int, ...]) -> mx.array:
    """``out`` as the value of ``schedule`` at steps of ``shape``: a float32 array of that shape, or a TypeError."""
    contract = "a schedule returns a float32 mx.array of the step's shape, built from the step with graph operations"
    if not isinstance(out, mx.array):
        raise TypeError(
            f"{_name(schedule)}.__call__ returned {out!r} ({type(out).__name__}), not an mx.array: {contract} "
            "(a Python number would be a constant inside a compiled step); a constant is mlxlr.Constant(value)"
        )
    if not mx.issubdtype(out.dtype, mx.floating):
        raise TypeError(
            f"{_name(schedule)}.__call__ returned an array of dtype {out.dtype}: {contract} (an integer or bool "
            "array makes an integer learning rate); convert it with .astype(mx.float32)"
        )
    if out.shape != shape:
        raise TypeError(
            f"{_name(schedule)}.__call__ returned an array of shape {out.shape} for a step of shape {shape}: "
            f"{contract} (values(), joins and plots pass many steps at once); build it from the step, "
            "e.g. mx.broadcast_to(value, step.shape)"
        )
    return out if out.dtype == mx.float32 else out.astype(mx.float32)


def _name(schedule: object) -> str:
    return type(schedule).__qualname__
