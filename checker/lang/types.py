"""The language's types: what a state variable can hold, and how it is laid out.

Every state is a fixed-length tuple of small integers. A scalar type occupies one slot and
encodes its values as integers in a known range; a composite type (``Map``, ``Seq``) is a
fixed group of slots. The encodings are:

============  =================================================  ==================
type          value                                              encoding
============  =================================================  ==================
``Bool``      False / True                                       0 / 1
``Int``       lo..hi                                             the integer itself
``Enum``      one of its names                                   0..n-1 (its index)
``Domain``    an element of a finite set of ids                  0..n-1 (its index)
``Maybe(D)``  an element of D, or none                           0..n-1, none = n
``Set(D)``    a subset of D                                      a bitmask
``Map(D,T)``  a value of T for every element of D                |D| groups of T
``Seq(T,k)``  a list of at most k values of T                    length, then k of T
============  =================================================  ==================

Unused entries of a ``Seq`` are kept at their default so that equal values have equal tuples.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ModelError


class Type:
    """Base of every type. ``slots`` is how many integers a value occupies."""

    slots = 1
    scalar = True

    def default(self) -> int:
        return 0

    def lo(self) -> int:
        return 0

    def hi(self) -> int:
        raise NotImplementedError

    def decode(self, code: int):
        """The Python value shown to a person for one slot's integer."""
        return code

    def describe(self) -> str:
        return type(self).__name__


class _BoolType(Type):
    def hi(self) -> int:
        return 1

    def decode(self, code):
        return bool(code)

    def describe(self):
        return "Bool"

    def __repr__(self):
        return "Bool"


Bool = _BoolType()
"""The boolean type (a singleton: write ``Bool``)."""


@dataclass(frozen=True, eq=False)
class Int(Type):
    """Integers from ``lo`` to ``hi`` inclusive."""

    lo_: int
    hi_: int

    def __init__(self, lo: int, hi: int):
        if not (isinstance(lo, int) and isinstance(hi, int)) or lo > hi:
            raise ModelError(f"Int({lo!r}, {hi!r}): bounds must be integers with lo <= hi")
        object.__setattr__(self, "lo_", lo)
        object.__setattr__(self, "hi_", hi)

    def lo(self):
        return self.lo_

    def hi(self):
        return self.hi_

    def default(self):
        return 0 if self.lo_ <= 0 <= self.hi_ else self.lo_

    def describe(self):
        return f"Int({self.lo_}, {self.hi_})"

    def __repr__(self):
        return self.describe()

    def __eq__(self, other):
        return isinstance(other, Int) and (self.lo_, self.hi_) == (other.lo_, other.hi_)

    def __hash__(self):
        return hash(("Int", self.lo_, self.hi_))


class Enum(Type):
    """A finite set of named values, such as Kafka's ``BrokerState``.

    ``Enum("BrokerState", "NOT_RUNNING", "STARTING", ...)``; each name is readable as an
    attribute (``BrokerState.RUNNING``) and used in models as a constant.
    """

    def __init__(self, name: str, *names: str):
        if not names:
            raise ModelError(f"Enum {name!r} needs at least one value")
        if len(set(names)) != len(names):
            raise ModelError(f"Enum {name!r} has a duplicate value: {names}")
        self.name = name
        self.names = tuple(names)

    def hi(self):
        return len(self.names) - 1

    def decode(self, code):
        return self.names[code]

    def code(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise ModelError(f"{name!r} is not a value of enum {self.name} "
                             f"(values: {', '.join(self.names)})") from None

    def __getattr__(self, attr):
        if attr.startswith("_") or attr not in self.__dict__.get("names", ()):
            raise AttributeError(attr)
        from .expr import Const
        return Const(self.code(attr), self)

    def describe(self):
        return f"Enum {self.name}"

    def __repr__(self):
        return f"Enum({self.name})"


class Domain(Type):
    """A finite, ordered set of ids: broker ids 101..103, partitions 0..P-1, server names.

    Elements are encoded by their position, so the domain's order is the order of ``ids``.
    ``symmetric=True`` says the model treats the ids alike: ``check --symmetry`` proves that
    (``symbolic/symmetry.py``) and then stores one state per permutation class.
    """

    def __init__(self, name: str, *, ids=None, size: int | None = None,
                 symmetric: bool = False):
        if (ids is None) == (size is None):
            raise ModelError(f"Domain {name!r}: give exactly one of ids=... or size=...")
        ids = tuple(range(size)) if ids is None else tuple(ids)
        if not ids:
            raise ModelError(f"Domain {name!r} is empty: a domain needs at least one id")
        if len(set(ids)) != len(ids):
            raise ModelError(f"Domain {name!r} has duplicate ids: {ids}")
        if len(ids) > 62:
            raise ModelError(f"Domain {name!r} has {len(ids)} ids; at most 62 are supported")
        self.name = name
        self.ids = ids
        self.symmetric = bool(symmetric)
        self._elems = None

    def __len__(self):
        return len(self.ids)

    def __iter__(self):
        return iter(self.elements())

    def elements(self):
        if self._elems is None:
            from .expr import Const
            self._elems = tuple(Const(i, self) for i in range(len(self.ids)))
        return self._elems

    def of(self, ident):
        """The element whose id is ``ident``."""
        try:
            return self.elements()[self.ids.index(ident)]
        except ValueError:
            raise ModelError(f"{ident!r} is not an id of domain {self.name} "
                             f"(ids: {', '.join(map(str, self.ids))})") from None

    def element(self, ident):
        """The element whose id equals the integer expression ``ident``, or none when no id
        does: how a computed number (an epoch, a count) indexes a map keyed by this domain.

        Its type is ``Maybe`` of this domain, so it can key a map (``s.led[m.epoch.element(
        s.epoch[x])]``): a read at none gives the default, a write at none changes nothing.
        """
        from .expr import Const, compare, ite, lift
        ident = lift(ident)
        if ident.op == "const":
            return self.of(ident.value) if ident.value in self.ids else Const(len(self), Maybe(self))
        result = Const(len(self), Maybe(self))
        for ident_k, e in reversed(list(zip(self.ids, self.elements()))):
            if not isinstance(ident_k, int):
                from .errors import TracingError
                raise TracingError(f"domain {self.name} has non-integer ids: element() maps "
                                   "integers to elements")
            result = ite(compare("eq", ident, ident_k), e, result)
        return result

    def hi(self):
        return len(self.ids) - 1

    def decode(self, code):
        return self.ids[code]

    def describe(self):
        return f"{self.name} ({', '.join(map(str, self.ids))})"

    def __repr__(self):
        return f"Domain({self.name})"


class Maybe(Type):
    """An element of a domain, or none (no leader, no controller). none is encoded as |D|."""

    def __init__(self, domain: Domain):
        if not isinstance(domain, Domain):
            raise ModelError(f"Maybe(...) takes a Domain, not {domain!r}")
        self.domain = domain

    def hi(self):
        return len(self.domain)

    def default(self):
        return len(self.domain)

    def decode(self, code):
        return None if code == len(self.domain) else self.domain.ids[code]

    def describe(self):
        return f"Maybe({self.domain.name})"

    def __repr__(self):
        return self.describe()

    def __eq__(self, other):
        return isinstance(other, Maybe) and other.domain is self.domain

    def __hash__(self):
        return hash(("Maybe", id(self.domain)))


class Set(Type):
    """A subset of a domain, stored as a bitmask over the domain's positions."""

    def __init__(self, domain: Domain):
        if not isinstance(domain, Domain):
            raise ModelError(f"Set(...) takes a Domain, not {domain!r}")
        self.domain = domain

    def hi(self):
        return (1 << len(self.domain)) - 1

    def decode(self, code):
        return frozenset(self.domain.ids[i] for i in range(len(self.domain)) if code >> i & 1)

    def describe(self):
        return f"Set({self.domain.name})"

    def __repr__(self):
        return self.describe()

    def __eq__(self, other):
        return isinstance(other, Set) and other.domain is self.domain

    def __hash__(self):
        return hash(("Set", id(self.domain)))


class Map(Type):
    """A total function from a domain to a type: one group of slots per element."""

    scalar = False

    def __init__(self, domain: Domain, value):
        if not isinstance(domain, Domain):
            raise ModelError(f"Map(...) is keyed by a Domain, not {domain!r}")
        self.domain = domain
        self.value = as_type(value)
        self.slots = len(domain) * self.value.slots

    def describe(self):
        return f"Map({self.domain.name}, {self.value.describe()})"

    def __repr__(self):
        return self.describe()


class Seq(Type):
    """A sequence of at most ``max_len`` scalar values: a length slot, then the entries."""

    scalar = False

    def __init__(self, value, max_len: int):
        self.value = as_type(value)
        if not self.value.scalar:
            raise ModelError(f"Seq entries must be scalar, not {self.value.describe()}")
        if not isinstance(max_len, int) or max_len < 1:
            raise ModelError(f"Seq max length must be a positive integer, not {max_len!r}")
        self.max_len = max_len
        self.length = Int(0, max_len)
        self.slots = 1 + max_len

    def describe(self):
        return f"Seq({self.value.describe()}, {self.max_len})"

    def __repr__(self):
        return self.describe()


def as_type(t) -> Type:
    """Accept a type instance (``Bool``, ``Int(0, 3)``, a ``Domain``...)."""
    if isinstance(t, Type):
        return t
    raise ModelError(f"{t!r} is not a type of the modeling language "
                     "(use Bool, Int(lo, hi), Enum(...), a Domain, Maybe, Set, Map or Seq)")


def flat_defaults(t: Type) -> list[int]:
    """The default value of a type, flattened to its slots."""
    if isinstance(t, Map):
        return flat_defaults(t.value) * len(t.domain)
    if isinstance(t, Seq):
        return [0] + [t.value.default()] * t.max_len
    return [t.default()]


def decode_value(t: Type, codes, i: int = 0):
    """Decode the value of type ``t`` starting at slot ``i`` of ``codes``."""
    if isinstance(t, Map):
        w = t.value.slots
        return {ident: decode_value(t.value, codes, i + k * w)
                for k, ident in enumerate(t.domain.ids)}
    if isinstance(t, Seq):
        return [t.value.decode(codes[i + 1 + k]) for k in range(codes[i])]
    return t.decode(codes[i])
