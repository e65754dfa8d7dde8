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
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Protocol, TypeVar

T = TypeVar("T")

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

    def _written(self) -> str:
        """The schedule's own text, in which ``repr`` of each schedule among its arguments is already known."""
        ...


_PASS = threading.local()
"""The texts of the schedules of the tree being printed, by ``id``, while :func:`printed` is at work (per thread)."""


def printed(schedule: Printable) -> str:
    """``repr(schedule)``: the texts of its schedules are written first, children before parents, in a loop.

    Each node's text (``_written``) calls ``repr`` of its children, which
    finds their texts written already: printing a tree of any depth takes
    one level of Python frames, not one per level of the tree. Inside a
    pass, ``repr`` of a schedule not in the tree (one built while printing)
    is written directly.
    """
    texts: dict[int, str] | None = getattr(_PASS, "texts", None)
    if texts is not None:
        known = texts.get(id(schedule))
        return known if known is not None else schedule._written()
    texts = _PASS.texts = {}
    try:
        for node in _children_first(schedule):
            texts[id(node)] = repr(node)  # a class of the user's may write its own
        return texts[id(schedule)]
    finally:
        _PASS.texts = None


def _children_first(root: Printable) -> list[Printable]:
    """``root`` and the schedules among its arguments (and list arguments), recursively: each once, after its children.

    Found with a stack, not by recursion.
    """
    order: list[Printable] = []
    seen: set[int] = set()
    stack: list[tuple[Printable, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for value in node._params.values():
            for item in value if isinstance(value, (list, tuple)) else (value,):
                if hasattr(item, "_written") and hasattr(item, "_params") and id(item) not in seen:
                    stack.append((item, False))
    return order


GROUP = 100
"""Operands of a chain (``a >> b >> ...``, ``a + b + ...``) written in one run; longer chains come in groups.

Python parses a chain of N operators as N nested nodes, and its parser stops
at a few thousand levels. A longer chain is written as its first ``GROUP``
operands and then parenthesized groups of ``GROUP`` (``a >> b >> (c >> d)``),
which the operators flatten back into the same chain, so that ``parse``
reads chains of any practical length.
"""


def chain(items: Sequence[T], joiner: str, text: Callable[[Sequence[T]], str]) -> str:
    """``text(items)``, or for more than :data:`GROUP` items ``text`` of each group, joined by ``joiner``.

    Groups after the first are put in parentheses; a last group of one item
    joins the group before it.
    """
    if len(items) <= GROUP:
        return text(items)
    groups = [items[i : i + GROUP] for i in range(0, len(items), GROUP)]
    if len(groups[-1]) == 1:
        groups[-2:] = [items[(len(groups) - 2) * GROUP :]]
    return text(groups[0]) + "".join(f"{joiner}({text(group)})" for group in groups[1:])


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
