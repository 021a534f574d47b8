"""The value lists of pymeasure's sequencer syntax, read as data (issue 13 item 8).

pymeasure evaluates each sequencer expression with ``eval`` and ``__builtins__`` removed,
which ``().__class__.__base__.__subclasses__()`` escapes. Here the text is parsed with
:mod:`ast` and only a whitelist is accepted: numbers (with unary ±, and + − × ÷ between
numbers), lists and tuples of them, and ``arange``, ``linspace``, ``logspace``, ``range``
called with such literal arguments. Nothing is ever evaluated by Python.
"""
from __future__ import annotations

import ast
import operator

import numpy as np

MAX_POINTS = 1_000_000
"""The most values one expression may give (a typo such as arange(0, 1, 1e-12) is refused)."""

FUNCTIONS = {"arange": np.arange, "linspace": np.linspace, "logspace": np.logspace,
             "range": range}
"""The calls allowed, by name."""

_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv}


class SequenceValueError(ValueError):
    """A sequencer expression uses something outside the whitelist, or gives no values."""


def _number(node: ast.AST, text: str):
    """Get the number a literal node stands for (int, float or bool)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, complex):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_number(node.operand, text))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        try:
            return _BINARY[type(node.op)](_number(node.left, text), _number(node.right, text))
        except ZeroDivisionError:
            raise SequenceValueError(f"{text!r}: division by zero") from None
    raise SequenceValueError(f"{text!r}: {ast.unparse(node)!r} is not a number; allowed: "
                             f"numbers, lists of numbers, {', '.join(FUNCTIONS)}(...) with "
                             f"literal arguments")


def _values(node: ast.AST, text: str) -> list:
    """Get the values an expression node stands for, as a flat list."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_number(e, text) for e in node.elts]
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        if name not in FUNCTIONS:
            raise SequenceValueError(f"{text!r}: {name}() is not allowed; allowed: "
                                     f"{', '.join(FUNCTIONS)}")
        args = [_number(a, text) for a in node.args]
        kwargs = {k.arg: _number(k.value, text) for k in node.keywords if k.arg}
        if len(kwargs) != len(node.keywords):
            raise SequenceValueError(f"{text!r}: ** arguments are not allowed")
        size = _size(name, args, kwargs, text)
        if size > MAX_POINTS:
            raise SequenceValueError(f"{text!r} gives {size:.3g} values; at most {MAX_POINTS}")
        try:
            return list(np.asarray(FUNCTIONS[name](*args, **kwargs)).ravel())
        except (TypeError, ValueError) as exc:
            raise SequenceValueError(f"{text!r}: {exc}") from None
    return [_number(node, text)]


def _size(name: str, args: list, kwargs: dict, text: str) -> float:
    """Get how many values a call would give, before making them."""
    if name in ("linspace", "logspace"):
        num = kwargs.get("num", args[2] if len(args) > 2 else 50)
        return float(num)
    if len(args) == 1:
        start, stop, step = 0, args[0], 1
    elif len(args) in (2, 3):
        start, stop, step = args[0], args[1], args[2] if len(args) == 3 else 1
    else:
        raise SequenceValueError(f"{text!r}: {name}() takes 1 to 3 arguments")
    if step == 0:
        raise SequenceValueError(f"{text!r}: {name}() step must not be 0")
    return max(0.0, (stop - start) / step)


def sequence_values(text: str) -> np.ndarray:
    """Get the values of one sequencer expression, e.g. ``"linspace(0, 1e-3, 11)"``.

    Raises SequenceValueError naming the expression and what is allowed.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise SequenceValueError(f"{text!r}: not an expression ({exc.msg})") from None
    values = _values(tree.body, text)
    if not values:
        raise SequenceValueError(f"{text!r} gives no values")
    return np.array(values)
