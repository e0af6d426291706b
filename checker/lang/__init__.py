"""The modeling language: typed finite state, guarded actions, properties.

>>> from kafkacheck.checker.lang import Model, Domain, Map, Bool, action, always, require
>>> class Switches(Model):
...     name = "switches"
...     def setup(m):
...         m.switch = Domain("switch", size=2)
...     def variables(m):
...         return {"on": Map(m.switch, Bool)}
...     def init(m, s):
...         for x in m.switch:
...             s.on[x] = False
...     @action("switch")
...     def flip(m, s, switch):
...         s.on[switch] = ~s.on[switch]
...     @always
...     def not_both(m, s):
...         return ~(s.on[m.switch.of(0)] & s.on[m.switch.of(1)])
>>> from kafkacheck.checker import check
>>> check(Switches().compile()).verdict
'violated'
"""

from .errors import ModelError, ParameterError, TracingError
from .expr import FALSE, TRUE, And, Expr, Not, Or, implies, ite, maximum, minimum, set_of
from .model import (Model, Param, action, always, constraint, eventually, leads_to,
                    sometimes, transition)
from .tracing import all_of, any_of, choose, count_of, first, require, when
from .types import Bool, Domain, Enum, Int, Map, Maybe, Seq, Set

__all__ = [
    "Model", "Param", "action", "always", "sometimes", "constraint", "transition",
    "eventually", "leads_to",
    "Bool", "Int", "Enum", "Domain", "Maybe", "Set", "Map", "Seq",
    "TRUE", "FALSE", "require", "when", "choose", "ite", "And", "Or", "Not", "implies", "minimum", "maximum",
    "all_of", "any_of", "set_of", "count_of", "first", "Expr",
    "ModelError", "TracingError", "ParameterError",
]
