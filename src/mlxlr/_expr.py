"""The expression language: what ``repr`` writes and :func:`parse` reads, without ``eval``.

The text is parsed by Python's :mod:`ast` and walked node by node; only a
whitelist of nodes is evaluated: numbers, strings, ``None``, ``True``,
``False``, lists and tuples, ``+ - * /`` and ``>>``, unary ``-`` and ``+``,
calls of the names in the table of :mod:`mlxlr._config` (schedule classes
and functions) and, on a schedule, calls of its public methods that return
schedules (the combinators). Everything else is refused with a
:class:`ParseError` that points at the offending column.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import operator
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._bind import Call
from ._config import is_schedule_method, names, schedule_methods
from ._schedule import Schedule, signature
from ._units import REST, Unit, epochs, frac, tokens

_BINARY: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.RShift: (">>", operator.rshift),
}

_UNARY: dict[type[ast.unaryop], tuple[str, Callable[[Any], Any]]] = {
    ast.USub: ("-", operator.neg),
    ast.UAdd: ("+", operator.pos),
}

_NUMBERS = {"inf": float("inf")}
"""Names that read as numbers: ``repr(float("inf"))`` is ``inf``."""

_UNITS: dict[str, Callable[[Any], Unit]] = {"frac": frac, "epochs": epochs, "tokens": tokens}
"""The units of a run (``frac(0.05)``, ``epochs(3)``, ``tokens(375_000_000)``), and ``REST`` as a name."""

_REFUSED: dict[type[ast.AST], str] = {
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripting",
    ast.Compare: "a comparison",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "'if'/'else'",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "':='",
    ast.Starred: "'*' unpacking",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield'",
}

Value = Any
"""What a node evaluates to: a schedule, a number, a string, a bool, None or a list of these."""


class ParseError(ValueError):
    """An expression that :func:`parse` cannot read: bad syntax, unknown names, wrong arguments.

    The message names the problem, its column (1-based, with the line for a
    text of several lines) and the text: ``unknown name 'Cosine' at column 1:
    Cosine(1, 10)``.

    Attributes:
        reason: The problem, without its place.
        text: The whole expression.
        line: The line of the problem, 1-based.
        column: The column of the problem in its line, 1-based.
    """

    def __init__(self, reason: str, text: str, line: int, column: int) -> None:
        self.reason = reason
        self.text = text
        self.line = line
        self.column = column
        lines = _lines(text)
        if len(lines) > 1:
            where = f"line {line}, column {column}: {lines[line - 1].rstrip()}"
        else:
            where = f"column {column}: {text}"
        super().__init__(f"{reason} at {where}")


def parse(text: str) -> Schedule:
    """Reads a schedule from the expression that its ``repr`` writes (safely: no ``eval``).

    The language is a small part of Python: calls of mlxlr's schedule classes
    and functions (``CosineDecay(3e-4, decay_steps=1000)``, MLX's
    ``cosine_decay(3e-4, 1000)``, snake-case aliases such as ``linear(0, 1, 10)``)
    and of registered user classes, with positional and keyword arguments;
    numbers, strings, ``None``, ``True``, ``False`` and lists; ``+ - * /``
    and unary ``-`` between schedules and numbers; ``>>`` to join schedules;
    parentheses; and combinator methods of a schedule (those that return a
    schedule, such as ``.for_steps(n)``); durations in units of a run,
    ``frac(0.05)``, ``epochs(3)``, ``tokens(375_000_000)`` and ``REST``
    (an unbound schedule, as ``repr`` writes it). A number alone is a
    :class:`~mlxlr.Constant`. ``parse(repr(s)) == s`` for every built-in
    schedule and combination.

    Args:
        text: The expression.

    Returns:
        The schedule.

    Raises:
        ParseError: a ``ValueError`` naming the problem and its column: bad
            syntax, an unknown name, a construct outside the language (lambda,
            comprehensions, attributes other than combinator calls, ...) or
            arguments the constructor refuses.
        TypeError: ``text`` is not a string.

    Example:
        >>> import mlxlr
        >>> s = mlxlr.parse("Linear(0, 3e-4, steps=100) >> cosine_decay(3e-4, 900, 3e-5)")
        >>> s
        Linear(init=0, end=0.0003, steps=100) >> CosineDecay(init=0.0003, decay_steps=900, end=3e-05)
        >>> mlxlr.parse(repr(s)) == s
        True
        >>> mlxlr.parse("Cosine(1, 10)")
        Traceback (most recent call last):
        ...
        mlxlr._expr.ParseError: unknown name 'Cosine' at column 1: Cosine(1, 10)
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {text!r} ({type(text).__name__})")
    return _Reader(text).read()


def _lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


class _Reader:
    """Parses and evaluates one expression, turning every failure into a :class:`ParseError`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.body = text.lstrip()
        self.skipped = len(text) - len(self.body)  # leading whitespace, which ast refuses
        # A text of several lines is read in parentheses, as Python reads a call's arguments.
        self.wrapped = "\n" in self.body or "\r" in self.body
        # The lines of body (with their breaks), where each starts, and which are ASCII (columns in bytes = in chars):
        # split once, for every node's place (a chain of thousands of operands has thousands of places).
        self.lines = re.split(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)", self.body)
        self.starts = list(itertools.accumulate((len(line) for line in self.lines), initial=0))
        self.ascii = [line.isascii() for line in self.lines]
        self.names = names()

    def read(self) -> Schedule:
        if not self.body.strip():
            raise self.error("empty expression", len(self.text) + 1)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarnings (odd escapes) would print to stderr
                tree = ast.parse(f"({self.body}\n)" if self.wrapped else self.body, mode="eval")
        except SyntaxError as e:
            raise self.syntax_error(e) from None
        except (ValueError, MemoryError, RecursionError) as e:
            raise self.error(f"cannot parse: {e}", 0) from None
        try:
            value = self.eval(tree.body)
        except RecursionError:
            raise self.error("the expression is nested too deeply", 0) from None
        if isinstance(value, bool) or not isinstance(value, (Schedule, int, float)):
            raise self.error(f"expected a schedule, got {_kind(value)}", self._start(tree.body))
        if not isinstance(value, Schedule):
            constant: Schedule = self.call(tree.body, self.names["Constant"], "Constant", [value], {})
            return constant
        return value

    # Places. ----------------------------------------------------------------

    def syntax_error(self, e: SyntaxError) -> ParseError:
        if self.wrapped and (e.lineno, e.offset) == (1, 1):  # blames the added parenthesis
            self.wrapped = False
            try:
                ast.parse(self.body, mode="eval")
            except SyntaxError as plain:
                e = plain
            else:
                self.wrapped = True
        index = self._index(e.lineno or 1, e.offset - 1) if e.offset else len(self.body)
        return self.error(_syntax_reason(e), self.skipped + index)

    def error(self, reason: str, index: int) -> ParseError:
        """A :class:`ParseError` at character ``index`` of the original text."""
        index = max(0, min(index, len(self.text)))
        before = _lines(self.text[:index])
        return ParseError(reason, self.text, len(before), len(before[-1]) + 1)

    def _index(self, lineno: int, col: int, *, utf8: bool = False) -> int:
        """The character index in ``body`` of a line (1-based) and column (0-based) of the parsed source.

        A wrapped source is ``body`` in parentheses: one character more on the
        first line, one line more at the end.
        """
        if lineno > len(self.lines):
            return len(self.body)
        lineno = max(1, lineno)
        col -= self.wrapped and lineno == 1
        if utf8 and not self.ascii[lineno - 1]:
            col = len(self.lines[lineno - 1].encode()[: max(0, col)].decode(errors="ignore"))
        return self.starts[lineno - 1] + max(0, col)

    def _start(self, node: ast.expr | ast.keyword) -> int:
        return self.skipped + self._index(node.lineno, node.col_offset, utf8=True)

    def _end(self, node: ast.expr) -> int:
        lineno = node.end_lineno if node.end_lineno is not None else node.lineno
        col = node.end_col_offset if node.end_col_offset is not None else node.col_offset
        return self.skipped + self._index(lineno, col, utf8=True)

    def _operator_at(self, node: ast.BinOp, symbol: str) -> int:
        """The index of ``symbol`` between the operands of ``node`` (past any closing parentheses)."""
        start, stop = self._end(node.left), self._start(node.right)
        found = self.text.find(symbol, start, stop)
        return found if found >= 0 else self._start(node)

    # Evaluation. ------------------------------------------------------------

    def eval(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Constant):
            value = node.value
            if value is None or isinstance(value, (bool, int, float, str)):
                return value
            raise self.error(f"the constant {value!r} is not allowed", self._start(node))
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.eval(item) for item in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call_node(node)
        if isinstance(node, ast.Name):
            if node.id in _NUMBERS:
                return _NUMBERS[node.id]
            if node.id == "REST":
                return REST
            if node.id in _UNITS:
                raise self.error(f"{node.id!r} must be called: {node.id}(...)", self._start(node))
            if node.id in self.names:
                raise self.error(f"{node.id!r} must be called: {node.id}(...)", self._start(node))
            raise self.error(f"unknown name {node.id!r}", self._start(node))
        what = next((v for k, v in _REFUSED.items() if isinstance(node, k)), type(node).__name__)
        raise self.error(f"{what} is not allowed in a schedule expression", self._start(node))

    def unary(self, node: ast.UnaryOp) -> Value:
        entry = _UNARY.get(type(node.op))
        if entry is None:
            symbol = {ast.Not: "not", ast.Invert: "~"}.get(type(node.op), type(node.op).__name__)
            raise self.error(f"unary {symbol!r} is not allowed", self._start(node))
        symbol, fn = entry
        operand = self.eval(node.operand)
        if not _arithmetic(operand):
            raise self.error(f"unary {symbol!r} needs a schedule or a number, got {_kind(operand)}", self._start(node))
        return self.apply(fn, (operand,), self._start(node))

    def binary(self, node: ast.BinOp) -> Value:
        """A chain ``a op b op c ...``, which Python nests to the left, evaluated in a loop (chains may be long)."""
        nodes = [node]  # the chain's operators, outermost first
        while isinstance(nodes[-1].left, ast.BinOp):
            nodes.append(nodes[-1].left)
        for op_node in nodes:
            if type(op_node.op) not in _BINARY:
                raise self.error(f"the operator {type(op_node.op).__name__} is not allowed", self._start(op_node))
        left = self.eval(nodes[-1].left)
        for op_node in reversed(nodes):
            symbol, fn = _BINARY[type(op_node.op)]
            right = self.eval(op_node.right)
            at = self._operator_at(op_node, symbol)
            if symbol == ">>":
                if not isinstance(left, Schedule) or not isinstance(right, Schedule):
                    raise self.error(f"'>>' joins two schedules, got {_kind(left)} >> {_kind(right)}", at)
            elif not _arithmetic(left) or not _arithmetic(right):
                raise self.error(
                    f"{symbol!r} needs schedules or numbers, got {_kind(left)} {symbol} {_kind(right)}", at
                )
            left = self.apply(fn, (left, right), at)
        return left

    def apply(self, fn: Callable[..., Any], args: tuple[Value, ...], at: int) -> Value:
        try:
            return fn(*args)
        except (ValueError, TypeError, ArithmeticError) as e:
            raise self.error(_reason(e), at) from None

    def call_node(self, node: ast.Call) -> Value:
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error("'*' unpacking is not allowed in a schedule expression", self._start(arg))
        given: set[str] = set()
        for kw in node.keywords:
            if kw.arg is None:
                raise self.error("'**' unpacking is not allowed in a schedule expression", self._start(kw))
            if kw.arg in given:  # ast takes it; Python's compiler refuses it, and so do we
                raise self.error(f"keyword argument repeated: {kw.arg!r}", self._start(kw))
            given.add(kw.arg)
        func = node.func
        if isinstance(func, ast.Name) and func.id in _UNITS and func.id not in self.names:
            args = [self.eval(a) for a in node.args]
            kwargs = {kw.arg: self.eval(kw.value) for kw in node.keywords if kw.arg is not None}
            unit: Unit = self.call(node, _UNITS[func.id], func.id, args, kwargs)
            return unit
        if isinstance(func, ast.Name):
            target = self.names.get(func.id)
            if target is None:
                raise self.error(f"unknown name {func.id!r}", self._start(func))
            label = func.id
        elif isinstance(func, ast.Attribute):
            owner = self.eval(func.value)
            at = self._end(func.value)
            if not isinstance(owner, Schedule):
                raise self.error(f"methods can only be called on a schedule, got {_kind(owner)}", at)
            kind = owner.cls if isinstance(owner, Call) else type(owner)  # a class called with units: its methods
            if not is_schedule_method(kind, func.attr):
                allowed = ", ".join(schedule_methods(kind))
                raise self.error(f"the method {func.attr!r} is not allowed (allowed: {allowed})", at)
            target = getattr(owner, func.attr)
            label = f".{func.attr}"
        else:
            raise self.error("only names and schedule methods can be called", self._start(func))
        args = [self.eval(a) for a in node.args]
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg is not None}
        kwargs = {name: self.eval(value) for name, value in keywords.items()}
        result = self.call(node, target, label, args, kwargs, node.args, keywords)
        if not isinstance(result, Schedule):
            raise self.error(f"{label}(...) gave {_kind(result)}, not a schedule", self._start(node))
        return result

    def call(
        self,
        node: ast.expr,
        target: Callable[..., Any],
        label: str,
        args: list[Value],
        kwargs: dict[str, Value],
        arg_nodes: Sequence[ast.expr] = (),
        keyword_nodes: Mapping[str, ast.expr] | None = None,
    ) -> Value:
        """Calls ``target``; a refused argument is reported at the argument, if the message names it."""
        where = self._start(node)
        places = dict(keyword_nodes or {})
        sig = _call_signature(target)
        if sig is not None:
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as e:
                raise self.error(f"{label}(): {e}", where) from None
            places.update(zip(bound.arguments, arg_nodes))  # positional arguments come first
        try:
            return target(*args, **kwargs)
        except (ValueError, TypeError, ArithmeticError) as e:
            reason = _reason(e)
            for name, arg_node in places.items():
                if re.match(rf"{re.escape(name)}\b", reason):
                    where = self._start(arg_node)
                    break
            raise self.error(f"{label}: {reason}", where) from None


def _call_signature(target: Callable[..., Any]) -> inspect.Signature | None:
    """What ``target`` accepts: a schedule class's ``__init__`` less ``self``, else its own signature."""
    if isinstance(target, type) and issubclass(target, Schedule):
        sig = signature(target)
        return sig.replace(parameters=list(sig.parameters.values())[1:])
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):
        return None


def _arithmetic(value: Value) -> bool:
    return isinstance(value, Schedule) or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _kind(value: Value) -> str:
    if isinstance(value, Schedule):
        return "a schedule"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return f"the bool {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Unit):
        return f"the duration {value!r}"
    return f"a value of type {type(value).__name__}"


def _reason(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text.splitlines()[0] if text.strip() else type(e).__name__


def _syntax_reason(e: SyntaxError) -> str:
    reason = (e.msg or "invalid syntax").split(" - ")[0]
    if reason.startswith("invalid syntax"):
        reason = "invalid syntax"
    return reason
