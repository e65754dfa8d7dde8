"""How schedules print: the expression language that ``repr`` writes and :func:`mlxlr.parse` reads.

Three notations, all Python:

- a call, ``Linear(init=0.0, end=1.0, steps=10)``: the default, written from
  the constructor's recorded arguments (defaults left out);
- a method call on a receiver, ``CosineDecay(...).with_warmup(10)``: for the
  classes that a combinator method builds (they set ``_method``);
- operators, ``a >> b``, ``2 * a + 1``: for the algebra's nodes, which write
  themselves with :func:`operand` and :func:`number`.

Operands are put in parentheses by precedence, as Python would need them.
This module knows no schedule class: it prints from what a schedule records.
"""

from __future__ import annotations

import inspect
import math
import struct
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

# Operator precedence of an expression, as Python parses it (higher binds tighter).
PREC_JOIN = 10
PREC_SUM = 20
PREC_PRODUCT = 30
PREC_UNARY = 40
PREC_ATOM = 50


class Printable(Protocol):
    """What printing reads of a schedule."""

    _params: dict[str, Any]
    _precedence: int
    _method: ClassVar[tuple[str, tuple[str, ...]] | None]


def number(value: float) -> str:
    """A number as the expression language writes it (``2`` for ``2.0``)."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def argument(value: Any) -> str:
    """An argument as the expression language writes it (lists for sequences)."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(argument(v) for v in value) + "]"
    return repr(value)


def operand(schedule: Printable, precedence: int) -> str:
    """``repr(schedule)``, in parentheses unless it binds at least as tightly as ``precedence``."""
    text = repr(schedule)
    return text if schedule._precedence >= precedence else f"({text})"


def expression(
    name: str,
    params: Mapping[str, Any],
    signature: inspect.Signature,
    method: tuple[str, tuple[str, ...]] | None = None,
) -> str:
    """The call (or method call) of class ``name`` with the recorded arguments ``params``.

    Arguments equal to their default are left out. A method call (``method``
    is the method's name and the parameters it takes positionally) puts the
    first argument (the receiver) before the dot and passes the parameters
    named there positionally, the others by keyword.
    """
    params = dict(params)
    if method is None:
        return f"{name}({', '.join(_arguments(params, signature, ()))})"
    method_name, positional = method
    receiver_name = next(iter(params))
    receiver = params.pop(receiver_name)
    return f"{operand(receiver, PREC_ATOM)}.{method_name}({', '.join(_arguments(params, signature, positional))})"


def _arguments(params: Mapping[str, Any], signature: inspect.Signature, positional: tuple[str, ...]) -> list[str]:
    parts: list[str] = []
    for name, value in params.items():
        param = signature.parameters[name]
        if param.kind is param.VAR_POSITIONAL:
            parts.extend(argument(v) for v in value)
        elif param.kind is param.VAR_KEYWORD:
            parts.extend(f"{k}={argument(v)}" for k, v in value.items())
        elif param.default is not param.empty and _is_default(value, param.default):
            continue
        elif name in positional:
            parts.append(argument(value))
        else:
            parts.append(f"{name}={argument(value)}")
    return parts


def _is_default(value: object, default: object) -> bool:
    """Whether an argument equals its default: numbers by value (``0`` is ``0.0``), others by type and value."""
    if _is_number(value) and _is_number(default):
        return value == default
    return value is default or (type(value) is type(default) and value == default)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def float32_text(value: float) -> str:
    """The shortest text that reads back as the same float32: ``0.0003``, not ``0.0003000000142``."""
    if not math.isfinite(value):
        return repr(value)
    for digits in range(6, 10):
        text = f"{value:.{digits}g}"
        if _float32(float(text)) == value:
            return text
    return repr(value)


def _float32(value: float) -> float:
    result: float = struct.unpack("f", struct.pack("f", value))[0]
    return result
