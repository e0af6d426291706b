"""The state layout: which slots of the state tuple hold which variable."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ModelError
from .types import Map, Seq, Type, as_type, decode_value, flat_defaults


@dataclass(frozen=True)
class Variable:
    name: str
    type: Type
    offset: int
    doc: str = ""

    @property
    def slots(self) -> range:
        return range(self.offset, self.offset + self.type.slots)


class Layout:
    """Variables in declaration order, each at a fixed offset of the state tuple."""

    def __init__(self, declared: dict):
        if not declared:
            raise ModelError("a model needs at least one state variable")
        self.variables: list[Variable] = []
        self.slot_types: list[Type] = []
        self.slot_names: list[str] = []
        offset = 0
        for name, typ in declared.items():
            if not name.isidentifier() or name.startswith("_"):
                raise ModelError(f"variable name {name!r} must be an identifier not "
                                 "starting with '_'")
            if name == "pre":
                raise ModelError("variable name 'pre' is reserved: s.pre reads the state "
                                 "before the step; choose another name")
            typ = as_type(typ)
            self.variables.append(Variable(name, typ, offset))
            self._flatten(name, typ)
            offset += typ.slots
        self.by_name = {v.name: v for v in self.variables}
        self.defaults = tuple(c for v in self.variables for c in flat_defaults(v.type))

    def _flatten(self, name: str, typ: Type):
        if isinstance(typ, Map):
            for ident in typ.domain.ids:
                self._flatten(f"{name}[{ident}]", typ.value)
        elif isinstance(typ, Seq):
            self.slot_types.append(typ.length)
            self.slot_names.append(f"len({name})")
            for k in range(typ.max_len):
                self.slot_types.append(typ.value)
                self.slot_names.append(f"{name}[{k}]")
        else:
            self.slot_types.append(typ)
            self.slot_names.append(name)

    @property
    def width(self) -> int:
        return len(self.slot_types)

    def decode(self, state) -> dict:
        """The state as a dict of readable Python values, in declaration order."""
        return {v.name: decode_value(v.type, state, v.offset) for v in self.variables}

    def in_range(self, state) -> bool:
        return all(t.lo() <= c <= t.hi() for t, c in zip(self.slot_types, state))
