"""Best and worst cost over every run from a state to a goal: weighted paths on the state graph.

A question such as "how long is this partition without a leader after the crash?" is a
path question, not an invariant: over every run from the state after the fault to a state where
the fault is handled, add up what each step costs (one step, or its duration in milliseconds)
while the system is in a *counted* state (the partition is unavailable), and report the
cheapest run (a weighted shortest path) and the dearest (a weighted longest path).

The graph is explored breadth-first from the start and goal states are not expanded. The
longest path is finite only if no cycle of counted steps can be run before the goal: without
fairness, a run may loop there forever, and that is reported as unbounded rather than hidden.
A run that ends (no action enabled) before the goal never recovers, and is reported too.

>>> from kafkacheck.checker import ExplicitSystem
>>> sys = ExplicitSystem("line", init=[0], next=lambda n: [("a", n + 1), ("b", n + 2)] if n < 4 else [])
>>> c = path_costs(sys, 0, goal=lambda n: n >= 4, counted=lambda n: True,
...                weights={"steps": lambda label: 1})
>>> c.best["steps"], c.worst["steps"], c.distinct_states
(2, 4, 6)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import networkx as nx


class PathLimit(Exception):
    """The graph from the start has more states than the limit allows."""


@dataclass
class PathCosts:
    """Per weight name: the least and the greatest total over runs reaching the goal.

    ``worst[w]`` is None when a cycle of counted steps makes it unbounded; ``best[w]`` is
    None when no run reaches the goal. ``best_path`` is the labels of one run of least
    ``steps`` (or of the first weight). ``stuck`` counts reachable states where a run ends
    before the goal.
    """

    best: dict = field(default_factory=dict)
    worst: dict = field(default_factory=dict)
    best_path: list = field(default_factory=list)
    stuck: int = 0
    distinct_states: int = 0
    unbounded_cycle: list = field(default_factory=list)


def explore(system, start, goal: Callable, *, max_states: int = 1_000_000):
    """The graph from ``start``, goal states not expanded: ``(graph, states)`` with nodes
    numbered in discovery order, ``states[i]`` the state of node i, edges labelled."""
    graph = nx.MultiDiGraph()
    index = {start: 0}
    states = [start]
    graph.add_node(0)
    frontier = [start]
    while frontier:
        nxt = []
        for s in frontier:
            if goal(s):
                continue
            for action, t in system.successors(s):
                if t not in index:
                    if len(index) >= max_states:
                        raise PathLimit(f"more than {max_states:,} states before the goal")
                    index[t] = len(states)
                    states.append(t)
                    graph.add_node(index[t])
                    nxt.append(t)
                graph.add_edge(index[s], index[t], label=system.actions[action])
        frontier = nxt
    return graph, states


def path_costs(system, start, *, goal: Callable, counted: Callable, weights: dict,
               max_states: int = 1_000_000, graph=None) -> PathCosts:
    """Least and greatest cost of reaching ``goal`` from ``start``.

    ``counted(state)``: whether a step leaving this state costs anything; ``weights``: name
    → function of an action label giving that step's cost (e.g. ``steps``: 1, ``ms``: a
    duration). ``graph`` may pass ``explore``'s result to share it between questions.
    """
    g, states = graph or explore(system, start, goal, max_states=max_states)
    is_goal = [bool(goal(s)) for s in states]
    charged = [bool(counted(s)) and not is_goal[i] for i, s in enumerate(states)]
    out = PathCosts(distinct_states=len(states))
    out.stuck = sum(1 for n in g if not is_goal[n] and g.out_degree(n) == 0)
    for name, weight in weights.items():
        def cost(u, v, data, _w=weight):
            return min(_w(d["label"]) if charged[u] else 0 for d in data.values())
        lengths, paths = nx.single_source_dijkstra(g, 0, weight=cost)
        reached = [n for n in lengths if is_goal[n]]
        if reached:
            target = min(reached, key=lambda n: (lengths[n], n))
            out.best[name] = lengths[target]
            if not out.best_path:
                out.best_path = _labels(g, paths[target], charged, weight)
        else:
            out.best[name] = None
        out.worst[name], cycle = _longest(g, is_goal, charged, weight)
        if cycle and not out.unbounded_cycle:
            out.unbounded_cycle = cycle
    return out


def _labels(g, nodes, charged, weight):
    labels = []
    for u, v in zip(nodes, nodes[1:]):
        data = g.get_edge_data(u, v)
        labels.append(min(data.values(), key=lambda d: weight(d["label"]) if charged[u] else 0)
                      ["label"])
    return labels


def _longest(g, is_goal, charged, weight):
    """The greatest cost to a goal, or (None, cycle) when a costly cycle can precede it."""
    def w(u, d):
        return weight(d["label"]) if charged[u] else 0
    # Strongly connected components: a cycle with a costly step makes the worst unbounded.
    comp = {}
    sccs = list(nx.strongly_connected_components(g))
    for k, members in enumerate(sccs):
        for n in members:
            comp[n] = k
    for u, v, d in g.edges(data=True):
        if comp[u] == comp[v] and w(u, d) > 0:
            cycle = nx.find_cycle(g.subgraph([n for n in g if comp[n] == comp[u]]), u)
            return None, [g.get_edge_data(a, b)[k]["label"] for a, b, k in cycle]
    # Longest path over the condensation (zero-cost cycles collapse), goals as sinks.
    best = {}
    cond = nx.condensation(nx.DiGraph(g), scc=sccs)
    order = list(nx.topological_sort(cond))
    members = cond.graph["mapping"]
    by_comp = {}
    for n, c in members.items():
        by_comp.setdefault(c, []).append(n)
    for c in reversed(order):
        value = 0 if any(is_goal[n] for n in by_comp[c]) else None
        for u in by_comp[c]:
            for _, v, d in g.out_edges(u, data=True):
                cv = members[v]
                if cv == c or best.get(cv) is None:
                    continue
                total = w(u, d) + best[cv]
                value = total if value is None else max(value, total)
        best[c] = value
    return best[members[0]], []
