"""What ``kafkacheck audit`` asks of a configuration: guarantees under fault budgets.

A **guarantee** is one always-property of the model, named as an operator would name it. A
**fault budget** is a set of bounds on what may go wrong in a run (one broker crash that
keeps its page cache, one power loss that loses unflushed data, one controlled shutdown, a
rolling restart). ``audit`` checks every guarantee under every budget, one small exhaustive
search each, with the configuration's own values (``--config`` files) for everything the
model has a parameter for, and the model's defaults for the rest.

The bounds are small on purpose, so that each search takes a fraction of a second: one
producer write (``max_writes=1``: one record must survive), and the faults each budget
names. A guarantee that holds here holds *within these bounds*; the table says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Guarantee:
    name: str
    property: str


@dataclass(frozen=True)
class Budget:
    name: str
    settings: dict = field(default_factory=dict)


GUARANTEES = {
    "zk-cluster": (
        Guarantee("no acknowledged write lost", "acked_write_not_lost"),
        Guarantee("leaders elected from the ISR only", "isr_only_election"),
        Guarantee("a single controller per epoch", "one_controller_per_epoch"),
        Guarantee("one leader per partition epoch", "one_leader_per_epoch"),
        Guarantee("acks=all writes possible with one broker out", "min_isr_while_one_broker_out"),
        Guarantee("clients reach the cluster", "client_reaches_cluster"),
    ),
    "kraft-cluster": (
        Guarantee("no acknowledged write lost", "acked_write_not_lost"),
        Guarantee("leaders elected from the ISR or ELR only", "isr_or_elr_election"),
        Guarantee("a single active controller per epoch", "one_active_controller_per_epoch"),
        Guarantee("no fenced broker leads", "no_fenced_leader"),
        Guarantee("no zombie leader answers producers", "fenced_broker_does_not_lead"),
    ),
}

BUDGETS = {
    "zk-cluster": (
        Budget("one crash (process kill)", {"max_writes": "1", "max_crashes": "1",
                                            "max_shutdowns": "0",
                                            "crash_loses_unflushed": "false"}),
        Budget("one power loss", {"max_writes": "1", "max_crashes": "1", "max_shutdowns": "0",
                                  "crash_loses_unflushed": "true"}),
        Budget("one controlled shutdown", {"max_writes": "1", "max_crashes": "0",
                                           "max_shutdowns": "1"}),
        # a rolling restart as Kafka's docs advise: the next broker stops once no partition
        # is under-replicated; no producer (the state space of three restarts with a write is
        # ten times larger), so the write guarantee is not exercised here
        Budget("rolling restart (waits for the ISR)", {"max_writes": "0", "max_crashes": "0",
                                                       "max_shutdowns": "3",
                                                       "slow_followers": "false",
                                                       "operator": "waits_for_isr"}),
    ),
    "kraft-cluster": (
        Budget("one power loss", {"max_writes": "1", "max_crashes": "1", "max_shutdowns": "0",
                                  "max_restarts": "1"}),
        Budget("one controlled shutdown", {"max_writes": "1", "max_crashes": "0",
                                           "max_shutdowns": "1", "max_restarts": "1"}),
        Budget("a controller crash", {"max_writes": "1", "max_crashes": "0",
                                      "max_shutdowns": "0", "max_controller_crashes": "1"}),
    ),
}


def plan(model: str):
    """The guarantees and budgets an audit of ``model`` checks (KeyError if none)."""
    return GUARANTEES[model], BUDGETS[model]
