"""One traversal of expression trees, and the operator tables the back-ends fill in.

Model trees share nodes heavily: zk-cluster's update expressions have a few thousand distinct
nodes but astronomically many as plain trees, so a walk that visits a node once per path
would never end. ``post_order`` visits each distinct node (by identity) once, children
first, without recursion (the trees are deep); ``fold`` computes one value per distinct node
from its children's values with a back-end's operator table.

Each back-end declares its table with ``operator_table``: a rule for every operator of the
language (``expr.OPS``), or an explicit ``Unsupported(reason)``. The check runs when the
back-end's module loads, so an operator added to the language and forgotten by a back-end
fails at import, naming the back-end and the operators it misses, rather than deep inside
some search.

>>> from kafkacheck.checker.lang.expr import Var
>>> from kafkacheck.checker.lang.types import Int
>>> x = Var(0, Int(0, 9))
>>> y = x + x
>>> [n.op for n in post_order([y + y])]
['var', 'add', 'add']
"""

from __future__ import annotations

from typing import Iterable

from .expr import OPS, Expr


class IncompleteTable(Exception):
    """A back-end's operator table misses operators of the language (or names unknown ones)."""


class Unsupported:
    """A table entry saying a back-end does not handle an operator, and why."""

    def __init__(self, reason: str):
        self.reason = reason

    def __repr__(self):
        return f"Unsupported({self.reason!r})"


def operator_table(backend: str, rules: dict) -> dict:
    """``rules`` checked against the language: every operator has an entry (a rule or an
    ``Unsupported``), and every entry is an operator. Raises ``IncompleteTable``."""
    missing = [op for op in OPS if op not in rules]
    unknown = sorted(op for op in rules if op not in OPS)
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"no rule for {', '.join(missing)}")
        if unknown:
            parts.append(f"rules for {', '.join(unknown)}, which the language does not have")
        raise IncompleteTable(
            f"the {backend} back-end's operator table is incomplete: {'; '.join(parts)}. "
            "Give each operator of checker.lang.expr.OPS a rule, or Unsupported(reason)")
    return dict(rules)


def post_order(roots: Iterable[Expr], skip=()) -> list[Expr]:
    """Every distinct node reachable from ``roots``, each once, children before parents (in
    the order a left-to-right recursive walk first finishes them). Nodes whose id is in
    ``skip`` (a memo of earlier results) are neither listed nor entered."""
    done: set[int] = set()
    out: list[Expr] = []
    for root in roots:
        if id(root) in done or id(root) in skip:
            continue
        stack = [(root, iter(root.args))]  # a node and its children not yet entered
        while stack:
            node, rest = stack[-1]
            for child in rest:
                if id(child) in done or id(child) in skip:
                    continue
                if child.args:
                    stack.append((child, iter(child.args)))
                    break
                done.add(id(child))  # a leaf (most nodes): finished at once
                out.append(child)
            else:
                stack.pop()
                if id(node) not in done:
                    done.add(id(node))
                    out.append(node)
    return out


def fold(roots: Iterable[Expr], rules: dict, ctx=None, memo: dict | None = None) -> dict:
    """The value of every distinct node under ``roots``, by ``rules[op](ctx, node,
    *child values)``, keyed by ``id(node)``. ``memo`` (a dict of values by node id) is read
    and extended: nodes already in it are not computed again."""
    memo = {} if memo is None else memo
    for node in post_order(roots, skip=memo):
        rule = rules[node.op]
        if isinstance(rule, Unsupported):
            raise NotImplementedError(f"operator {node.op!r}: {rule.reason}")
        memo[id(node)] = rule(ctx, node, *[memo[id(a)] for a in node.args])
    return memo


def fold_one(root: Expr, rules: dict, ctx=None, memo: dict | None = None):
    """The value of ``root`` by ``fold``."""
    memo = fold((root,), rules, ctx, memo)
    return memo[id(root)]


def unsupported_ops(roots: Iterable[Expr], rules: dict) -> str | None:
    """The reason of the first ``Unsupported`` operator under ``roots``, or None."""
    for node in post_order(roots):
        rule = rules[node.op]
        if isinstance(rule, Unsupported):
            return f"operator {node.op!r}: {rule.reason}"
    return None

