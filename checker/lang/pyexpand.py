"""The per-state back-end's fused expansion: successors, fingerprints and the visited set in
one generated loop over a run of frontier states.

``successors(s)`` builds every successor as a tuple in a list, and the search loop then takes
each apart again to count its action, fingerprint it and look it up. For the reference
engine that bookkeeping cost more than the successor function itself, so this module
generates, per model, one function that does all of it inline:

- a successor is fingerprinted straight from its slots (``hash(pack(v0, 0, v2, ...))``), and
  its tuple is built only when the fingerprint is new (most successors are duplicates);
- the actions' fire counts are locals, added to the shared counts once per call;
- one call covers many states, so the per-state method calls of the search loop are gone.

The visit order, successor positions and counts are exactly those of ``successors`` followed
by the plain search loop (the search falls back to that loop for any run this function
cannot finish: a write out of range, a deadlock, an interrupt). The fingerprint is the one
``checker.fingerprint.fingerprint`` computes, given the same ``pack``.
"""

from __future__ import annotations

from .pycodegen import OutOfRange, _exec, _unpack, guard_text, instance_code


class NoSuccessor(Exception):
    """A state without successors in a model that checks deadlocks: the plain loop reports
    it with its trace."""


def expand_source(built) -> str:
    """Source of ``expand(states, index, seen, parent, which, nxt, fired, new, pack) ->
    successors generated``: ``states`` are expanded in order, the first having visit index
    ``index``; each new successor's fingerprint goes into ``seen``, its parent index and
    successor position onto ``parent`` and ``which``, the state onto ``nxt``."""
    n = len(built.actions)
    lines = ["def expand(states, index, seen, parent, which, nxt, fired, new, pack):",
             "    seen_add, to_parent, to_which, to_nxt = "
             "seen.add, parent.append, which.append, nxt.append",
             *(f"    c{i} = 0" for i in range(n)),
             "    generated = 0",
             "    for s in states:",
             "    " + _unpack(built.layout.width),
             "        pos = 0"]
    codes = [instance_code(built, idx, inst) for idx, inst in enumerate(built.actions)]
    for first, last, common in _runs([c[0] for c in codes]):
        outer = "        "
        if common:
            lines.append(f"        if {guard_text(common)}:")
            outer = "            "
        for idx in range(first, last):
            conjuncts, pre, items = codes[idx]
            lines.append(f"{outer}# {idx}: {built.actions[idx].label}")
            body = outer
            if conjuncts[len(common):]:
                lines.append(f"{outer}if {guard_text(conjuncts[len(common):])}:")
                body = outer + "    "
            lines += [body + x for x in pre]
            lines += [body + x for x in _visit(idx, items)]
    if built.check_deadlock:
        lines.append("        if not pos: raise NoSuccessor")
    lines += ["        generated += pos",
              "        index += 1",
              *(f"    fired[{i}] += c{i}" for i in range(n)),
              "    return generated"]
    return "\n".join(lines)


def _runs(guards: list[list[str]]):
    """``(first, end, common)`` for consecutive instances whose guards begin with the same
    conjuncts (the same source text computes the same value): the run tests ``common``
    once, then each instance the rest of its guard. Instances of one action over a
    partition (``shrink_isr(p, r)`` for each r) typically share a leading condition on ``p``;
    the order of the instances, and so of the successors, is kept."""
    i = 0
    while i < len(guards):
        common, j = guards[i], i + 1
        while j < len(guards) and guards[j][:1] == common[:1] and common:
            common = _prefix(common, guards[j])
            j += 1
        yield i, j, common if j - i > 1 else []
        i = j


def _prefix(a: list[str], b: list[str]) -> list[str]:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _visit(idx: int, items: list[str]) -> list[str]:
    """Fingerprint one successor and store it if it is new. A slot computed by an
    expression is held in a local first: the fingerprint and the tuple both read it."""
    out, names = [], []
    for i, src in enumerate(items):
        if src.isidentifier() or src.lstrip("-").isdigit():
            names.append(src)
        else:
            out.append(f"w{i} = {src}")
            names.append(f"w{i}")
    slots = ", ".join(names)
    return out + [f"k = hash(pack({slots}))",
                  "if k not in seen:",
                  f"    seen_add(k); to_parent(index); to_which(pos); to_nxt(({slots},))",
                  f"    new[{idx}] += 1",
                  f"c{idx} += 1",
                  "pos += 1"]


def compile_expand(built):
    """The compiled ``expand`` of ``expand_source``."""
    src = expand_source(built)
    namespace_fn = _exec(built, src, "expand")
    namespace_fn.__globals__["NoSuccessor"] = NoSuccessor
    namespace_fn.__globals__["OutOfRange"] = OutOfRange
    return namespace_fn
