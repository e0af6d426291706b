"""Properties that no state of the declared types can falsify.

Folding catches a property whose tree is the constant ``True``. A property can also be true
for a reason that folding does not see: ``n != 4`` over ``n: Int(0, 3)`` holds in every state
the variables can hold, reachable or not, so a search that reports it "holds" has checked
nothing. One Z3 query per property decides it: is there a state, every slot within its
declared range, where the property is false? None: the property is a tautology of the types.

An unknown answer (the per-query time limit) counts as "can fail": this check only ever
removes a "holds", it never invents one.
"""

from __future__ import annotations

import z3

from .z3gen import Encoding, EncodingError


def true_in_every_typed_state(built, names, *, timeout_ms: int = 1000) -> list[str]:
    """Those of ``names`` (properties of ``built``) that hold in every state whose slots are
    within their declared ranges."""
    kinds = {p.name: p.kind for p in built.properties}
    names = [n for n in names if n in kinds]
    if not names:
        return []
    try:
        enc = Encoding(built)
        sv = enc.state("any")
        after = enc.state("after")
        typed = enc.in_range(sv)
        out = []
        for name in names:
            solver = z3.Solver()
            solver.set("timeout", timeout_ms)
            if kinds[name] == "transition":  # true of every pair of typed states
                solver.add(typed, enc.in_range(after), z3.Not(enc.step_prop(name, sv, after)))
            else:  # a liveness property: its goal q true in every typed state
                solver.add(typed, z3.Not(enc.prop(name, sv)))
            if solver.check() == z3.unsat:
                out.append(name)
        return out
    except (EncodingError, z3.Z3Exception):
        return []  # no answer: nothing is claimed vacuous
