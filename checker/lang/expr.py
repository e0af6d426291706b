"""Typed expression trees: what guards, updates and properties are made of.

A node is an ``Expr``: an operator name, its arguments and its type. The set of operators is
small and closed, so every back-end (per-state Python, NumPy, Z3) handles all of them:

==========================  ==============================================================
op                          meaning
==========================  ==============================================================
const, var                  a constant code; the pre-state value of one slot
not, and, or                boolean connectives (``~``, ``&``, ``|``)
eq ne lt le gt ge           comparisons
add sub min max             bounded integer arithmetic
ite                         if-then-else
select                      ``args[1:-1][key]``, or ``args[-1]`` when key is out of range
contains insert remove      set membership, insertion, removal (bit operations)
union inter diff            set algebra
size least                  cardinality; least element in the domain's order (or none)
count                       how many of the boolean arguments are true
setof                       the set of the domain's elements whose argument is true
==========================  ==============================================================

Operators on constants fold at once, so static Python logic over domain elements
(``if r != leader_id``) works while tracing, and a Python ``if`` on a traced value raises a
``TracingError`` that names the construct to use instead.
"""

from __future__ import annotations

from .errors import TracingError
from .types import Bool, Domain, Enum, Int, Maybe, Set, Type

#: every operator of the language, in the order of the table above; each back-end's operator
#: table (``walk.operator_table``) is checked against it when the back-end loads
OPS = ("const", "var", "not", "and", "or", "eq", "ne", "lt", "le", "gt", "ge", "add", "sub",
       "min", "max", "ite", "select", "contains", "insert", "remove", "union", "inter", "diff",
       "size", "least", "count", "setof")

_CMP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_FOLD = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b,
    "min": min, "max": max,
}


class Expr:
    """One node of an expression tree. Build them with operators, not by hand."""

    __slots__ = ("op", "args", "type", "value")

    def __init__(self, op: str, args: tuple, typ: Type, value=None):
        self.op = op
        self.args = args
        self.type = typ
        self.value = value

    # -- static information ------------------------------------------------------------
    @property
    def is_const(self) -> bool:
        return self.op == "const"

    def bounds(self) -> tuple[int, int]:
        """The least and greatest code this expression can take."""
        t = self.type
        return (t.lo(), t.hi())

    def __repr__(self):
        if self.op == "const":
            return f"Const({self.type.decode(self.value)!r})"
        if self.op == "var":
            return f"Var({self.value})"
        return f"{self.op}({', '.join(map(repr, self.args))})"

    def __hash__(self):
        if self.op == "const":
            return hash((self.value, id(self.type) if not isinstance(self.type, Int) else 0))
        return id(self)

    # -- Python truthiness is only defined for constants ----------------------------------
    def __bool__(self):
        if self.op == "const":
            return bool(self.value)
        raise TracingError(
            "a Python `if`, `and`, `or`, `not` or `while` cannot branch on a traced value: "
            "use when(cond) for a conditional update, ite(cond, a, b) for a conditional "
            "value, and & | ~ (parenthesized) or And/Or/Not for boolean logic")

    def __iter__(self):
        raise TracingError("a traced value cannot be iterated; iterate over a Domain instead")

    def __contains__(self, item):
        raise TracingError("`x in S` cannot be traced (Python forces a bool): "
                           "write S.contains(x)")

    def __index__(self):
        if self.op == "const":
            return self.value
        raise TracingError("a traced value cannot be used as a Python index or range bound")

    # -- comparisons ---------------------------------------------------------------------
    def __eq__(self, other):
        return compare("eq", self, other)

    def __ne__(self, other):
        return compare("ne", self, other)

    def __lt__(self, other):
        return compare("lt", self, other)

    def __le__(self, other):
        return compare("le", self, other)

    def __gt__(self, other):
        return compare("gt", self, other)

    def __ge__(self, other):
        return compare("ge", self, other)

    # -- boolean connectives and set algebra share & | ~ - -------------------------------
    def __and__(self, other):
        if isinstance(self.type, Set):
            return set_op("inter", self, other)
        return And(self, other)

    def __rand__(self, other):
        return And(other, self)

    def __or__(self, other):
        if isinstance(self.type, Set):
            return set_op("union", self, other)
        return Or(self, other)

    def __ror__(self, other):
        return Or(other, self)

    def __invert__(self):
        return Not(self)

    def __add__(self, other):
        return arith("add", self, other)

    def __radd__(self, other):
        return arith("add", other, self)

    def __sub__(self, other):
        if isinstance(self.type, Set):
            return set_op("diff", self, other)
        return arith("sub", self, other)

    def __rsub__(self, other):
        return arith("sub", other, self)

    # -- sets ----------------------------------------------------------------------------
    def contains(self, x) -> Expr:
        """Set membership: ``x`` is in this set."""
        _need_set(self, "contains")
        x = lift(x, self.type.domain)
        return _mk("contains", (self, x), Bool)

    def size(self) -> Expr:
        """The number of elements of this set."""
        _need_set(self, "size")
        from .ranges import may_hold_none  # ranges walks trees: it imports this module
        n = len(self.type.domain)
        # A set with none inserted (``S | leader`` when there is no leader) carries none's
        # bit, which a stored set rejects (type_ok) but ``size`` counts: bound it soundly.
        return _mk("size", (self,), Int(0, n + 1 if may_hold_none(self) else n))

    def is_empty(self) -> Expr:
        _need_set(self, "is_empty")
        return compare("eq", self, Const(0, self.type))

    def least(self) -> Expr:
        """The first element of this set in its domain's order, or none if it is empty."""
        _need_set(self, "least")
        return _mk("least", (self,), Maybe(self.type.domain))

    # -- maybe ---------------------------------------------------------------------------
    def is_none(self) -> Expr:
        _need_maybe(self, "is_none")
        return compare("eq", self, None)

    def is_some(self) -> Expr:
        _need_maybe(self, "is_some")
        return compare("ne", self, None)


def _mk(op, args, typ, value=None) -> Expr:
    """Build a node, folding it when every argument is a constant."""
    node = Expr(op, tuple(args), typ, value)
    if op not in ("const", "var") and all(a.op == "const" for a in node.args):
        from .evaluate import RULES  # every argument is a constant: one rule, no walk
        code = RULES[op](None, node, *[a.value for a in node.args])
        if isinstance(typ, Int):
            typ = Int(code, code)
        return Const(code, typ)
    return node


def Const(code, typ: Type) -> Expr:
    """A constant, given by its code (use ``lift`` to convert Python values)."""
    return Expr("const", (), typ, int(code))


TRUE = Const(1, Bool)
FALSE = Const(0, Bool)


def Var(slot: int, typ: Type) -> Expr:
    """The pre-state value of one slot."""
    return Expr("var", (), typ, slot)


def lift(value, like: Type | None = None) -> Expr:
    """Turn a Python value into an expression, using ``like`` to interpret it.

    ``True``/``False`` become booleans; an ``int`` an integer constant; ``None`` the empty
    value of a ``Maybe``; a string an ``Enum`` value; a Python set of elements a ``Set``.
    """
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, int):
        if isinstance(like, (Domain, Maybe)):
            raise TracingError(f"the integer {value} is not an element of "
                               f"{_domain_of(like).name}: use {_domain_of(like).name}.of({value})")
        return Const(value, Int(value, value))
    if value is None:
        if isinstance(like, (Domain, Maybe)):
            d = _domain_of(like)
            return Const(len(d), Maybe(d))
        raise TracingError(f"None is only a value of a Maybe(...) type, not of {_describe(like)}")
    if isinstance(value, str):
        if isinstance(like, Enum):
            return Const(like.code(value), like)
        raise TracingError(f"the string {value!r} is not a value of {_describe(like)}")
    if isinstance(value, (set, frozenset, list, tuple)):
        if isinstance(like, Set):
            mask = 0
            for e in value:
                e = lift(e, like.domain)
                if e.op != "const" or _domain_of(e.type) is not like.domain or \
                        e.value >= len(like.domain):
                    raise TracingError(f"a set literal of {like.domain.name} must hold its "
                                       f"constant elements, not {e!r}")
                mask |= 1 << e.value
            return Const(mask, like)
        raise TracingError(f"a Python collection is not a value of {_describe(like)}")
    raise TracingError(f"{value!r} ({type(value).__name__}) is not a value of the modeling "
                       "language")


def _describe(t):
    return t.describe() if t is not None else "this expression"


def _domain_of(t):
    return t.domain if isinstance(t, (Maybe, Set)) else t


def _kind(t: Type):
    """Types that compare with each other share a kind."""
    if isinstance(t, (Domain, Maybe)):
        return ("elem", _domain_of(t))
    if isinstance(t, Int):
        return ("int",)
    if isinstance(t, (Set, Enum)):
        return (type(t).__name__, _domain_of(t) if isinstance(t, Set) else t)
    return ("bool",)


def compare(op: str, a, b) -> Expr:
    if not isinstance(a, Expr):
        a, b = b, a
        op = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}.get(op, op)
    b = lift(b, a.type)
    if _kind(a.type) != _kind(b.type):
        raise TracingError(f"cannot compare {a.type.describe()} with {b.type.describe()}")
    if op not in ("eq", "ne") and _kind(a.type)[0] not in ("int", "elem"):
        raise TracingError(f"{_CMP[op]} orders integers or domain elements, "
                           f"not {a.type.describe()}")
    return _mk(op, (a, b), Bool)


def _bool_arg(x) -> Expr:
    x = lift(x, Bool)
    if x.type is not Bool:
        raise TracingError(f"a boolean connective needs booleans, got {x.type.describe()}")
    return x


def And(*xs) -> Expr:
    """Conjunction; ``And()`` is true."""
    args = []
    for x in map(_bool_arg, xs):
        if x.op == "const":
            if not x.value:
                return FALSE
            continue
        args.extend(x.args if x.op == "and" else (x,))
    if not args:
        return TRUE
    return args[0] if len(args) == 1 else Expr("and", tuple(args), Bool)


def Or(*xs) -> Expr:
    """Disjunction; ``Or()`` is false."""
    args = []
    for x in map(_bool_arg, xs):
        if x.op == "const":
            if x.value:
                return TRUE
            continue
        args.extend(x.args if x.op == "or" else (x,))
    if not args:
        return FALSE
    return args[0] if len(args) == 1 else Expr("or", tuple(args), Bool)


def Not(x) -> Expr:
    x = _bool_arg(x)
    if x.op == "not":
        return x.args[0]
    return _mk("not", (x,), Bool)


def implies(a, b) -> Expr:
    return Or(Not(a), b)


def arith(op: str, a, b) -> Expr:
    a, b = lift(a), lift(b)
    for x in (a, b):
        if not isinstance(x.type, Int):
            raise TracingError(f"arithmetic needs integers, got {x.type.describe()}")
    (alo, ahi), (blo, bhi) = a.bounds(), b.bounds()
    if op == "add":
        lo, hi = alo + blo, ahi + bhi
    elif op == "sub":
        lo, hi = alo - bhi, ahi - blo
    else:
        lo, hi = _FOLD[op](alo, blo), _FOLD[op](ahi, bhi)
    return _mk(op, (a, b), Int(lo, hi))


def minimum(a, b) -> Expr:
    return arith("min", a, b)


def maximum(a, b) -> Expr:
    return arith("max", a, b)


def ite(cond, then, other) -> Expr:
    """If-then-else as a value: ``then`` when ``cond`` holds, else ``other``."""
    cond = _bool_arg(cond)
    then, other = _unify(then, other)
    if cond.op == "const":
        return then if cond.value else other
    typ = then.type
    if isinstance(typ, Int):
        typ = Int(min(then.bounds()[0], other.bounds()[0]), max(then.bounds()[1], other.bounds()[1]))
    elif isinstance(typ, Domain) and isinstance(other.type, Maybe):
        typ = other.type
    return Expr("ite", (cond, then, other), typ)


def _unify(a, b):
    if isinstance(a, Expr):
        b = lift(b, a.type)
    elif isinstance(b, Expr):
        a = lift(a, b.type)
    else:
        if isinstance(a, str) or isinstance(b, str):
            raise TracingError(f"ite({a!r}, {b!r}): a string is an enum value only beside "
                               "a value of that enum; write one branch as the constant, "
                               "e.g. MyEnum.A")
        a, b = lift(a), lift(b)
        if a.type is not b.type and not (isinstance(a.type, Int) and isinstance(b.type, Int)):
            raise TracingError(f"ite branches differ in type: {a!r} and {b!r}")
    if _kind(a.type) != _kind(b.type):
        raise TracingError(f"ite branches differ in type: {a.type.describe()} "
                           f"and {b.type.describe()}")
    return a, b


def select(key: Expr, options: list[Expr], default: Expr, typ: Type) -> Expr:
    """``options[key]`` for a dynamic key, ``default`` when the key is out of range."""
    if key.op == "const":
        return options[key.value] if 0 <= key.value < len(options) else default
    if isinstance(typ, Int):
        los, his = zip(*(o.bounds() for o in (*options, default)))
        typ = Int(min(los), max(his))
    return Expr("select", (key, *options, default), typ)


def set_op(op: str, a: Expr, b) -> Expr:
    """Union, intersection or difference; ``b`` may be a set or a single element."""
    dom = a.type.domain
    if isinstance(b, Expr) and isinstance(b.type, (Domain, Maybe)):
        if op == "union":
            return insert(a, b)
        if op == "diff":
            return remove(a, b)
        b = insert(Const(0, a.type), b)
    b = lift(b, a.type)
    if not (isinstance(b.type, Set) and b.type.domain is dom):
        raise TracingError(f"set {op} needs two sets of {dom.name}, got {b.type.describe()}")
    return _mk(op, (a, b), a.type)


def insert(s: Expr, x) -> Expr:
    _need_set(s, "insert")
    return _mk("insert", (s, lift(x, s.type.domain)), s.type)


def remove(s: Expr, x) -> Expr:
    _need_set(s, "remove")
    return _mk("remove", (s, lift(x, s.type.domain)), s.type)


def count(xs) -> Expr:
    """How many of the given booleans are true."""
    xs = [_bool_arg(x) for x in xs]
    return _mk("count", xs, Int(0, len(xs)))


def set_of(domain: Domain, pred) -> Expr:
    """The subset of ``domain`` whose elements satisfy ``pred`` (set-builder notation)."""
    bits = [_bool_arg(pred(x)) for x in domain]
    return _mk("setof", bits, Set(domain))


def _need_set(e: Expr, what: str):
    if not isinstance(e.type, Set):
        raise TracingError(f".{what}() is a set operation; this value is {e.type.describe()}")


def _need_maybe(e: Expr, what: str):
    if not isinstance(e.type, (Maybe, Domain)):
        raise TracingError(f".{what}() needs a Maybe value; this value is {e.type.describe()}")
