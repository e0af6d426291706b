"""The reachable state graph as a networkx DiGraph, and its DOT, GraphML and JSON forms.

Meant for small configurations (a few thousand states): to look at, to feed other tools, or to
check properties networkx can answer (strongly connected components, cycles). Nodes are the
states' discovery indices in breadth-first order, so the same command gives the same graph.
"""

from __future__ import annotations

import json

import networkx as nx

from .render import show


class GraphTooLarge(Exception):
    """The reachable space has more states than the limit asked for."""


def state_graph(system, *, max_states: int = 10_000) -> nx.DiGraph:
    """Explore ``system`` breadth-first and return every state and labelled transition.

    Node attributes: ``state`` (the decoded state as text), ``initial`` (bool), ``depth``.
    Edge attribute: ``action`` (the action instance's label; parallel transitions between
    the same two states keep the first label in the model's action order).
    """
    graph = nx.DiGraph(name=system.name)
    index: dict = {}
    frontier = []
    for s in system.initial_states():
        if s not in index:
            index[s] = len(index)
            graph.add_node(index[s], initial=True, depth=0, state=_text(system, s))
            frontier.append(s)
    depth = 0
    while frontier:
        depth += 1
        nxt = []
        for s in frontier:
            for action, t in system.successors(s):
                if t not in index:
                    if len(index) >= max_states:
                        raise GraphTooLarge(f"{system.name} has more than {max_states:,} "
                                            "reachable states; raise --max-states or use "
                                            "smaller parameters")
                    index[t] = len(index)
                    graph.add_node(index[t], initial=False, depth=depth,
                                   state=_text(system, t))
                    nxt.append(t)
                if not graph.has_edge(index[s], index[t]):
                    graph.add_edge(index[s], index[t], action=system.actions[action])
        frontier = nxt
    return graph


def _text(system, state) -> str:
    return "; ".join(f"{k} = {show(v)}" for k, v in system.decode(state).items())


def to_dot(graph: nx.DiGraph) -> str:
    """Graphviz DOT: initial states drawn bold, edges labelled with their action."""
    def q(text):
        return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'
    lines = [f"digraph {q(graph.graph.get('name', 'states'))} {{", "  node [shape=box];"]
    for n, attrs in graph.nodes(data=True):
        style = ", style=bold" if attrs["initial"] else ""
        lines.append(f"  {n} [label={q(attrs['state'])}{style}];")
    for a, b, attrs in graph.edges(data=True):
        lines.append(f"  {a} -> {b} [label={q(attrs['action'])}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_graphml(graph: nx.DiGraph) -> str:
    return "\n".join(nx.generate_graphml(graph)) + "\n"


def to_json(graph: nx.DiGraph) -> str:
    return json.dumps(nx.node_link_data(graph, edges="edges"), indent=2) + "\n"
