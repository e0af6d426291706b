"""The ZooKeeper-mode controller's leader-election algorithms, as expressions.

Kafka 3.9, ``core/src/main/scala/kafka/controller/PartitionStateMachine.scala``,
``object PartitionLeaderElectionAlgorithms``. Each function takes the partition's replica
assignment (a Python list of broker elements, in assignment order: its head is the preferred
replica) and set-valued expressions, and returns the chosen leader (a ``Maybe(broker)``: none
when the election fails) and, where the algorithm defines one, the new ISR. They are pure: the
model decides when to call them and writes the result to ZooKeeper.

Replica order matters: Kafka walks the *assignment*, never the ISR's own order, and takes the
first replica that qualifies. ``first`` is exactly that walk.
"""

from kafkacheck.checker.lang import first, ite, set_of


def offline_partition_leader_election(assignment, isr, live, unclean: bool):
    """``offlinePartitionLeaderElection(assignment, isr, liveReplicas, uncleanLeaderElectionEnabled)``.

    The first replica in assignment order that is live and in the ISR; failing that, when
    ``unclean.leader.election.enable`` is on, the first live replica (an unclean election).
    Returns ``(leader, new_isr)``: if the leader was in the ISR, the ISR keeps its live members
    (``isr ∩ live``); otherwise the ISR becomes ``[leader]`` (the unclean case).
    """
    clean = first(assignment, lambda r: live.contains(r) & isr.contains(r))
    leader = clean
    if unclean:
        dirty = first(assignment, lambda r: live.contains(r))
        leader = ite(clean.is_some(), clean, dirty)
    new_isr = ite(isr.contains(leader), isr & live, _singleton(isr, leader))
    return leader, new_isr


def controlled_shutdown_partition_leader_election(assignment, isr, live_or_shutting_down,
                                                  shutting_down):
    """``controlledShutdownPartitionLeaderElection(assignment, isr, liveOrShuttingDown,
    shuttingDown)``.

    The first replica in assignment order that is live (or shutting down), in the ISR, and not
    shutting down. Returns ``(leader, new_isr)`` with ``new_isr = isr − shuttingDown``.
    """
    leader = first(assignment, lambda r: live_or_shutting_down.contains(r) & isr.contains(r)
                   & ~shutting_down.contains(r))
    return leader, isr - shutting_down


def remove_replica_from_isr(isr, leader, replica):
    """``ReplicaStateMachine.doRemoveReplicasFromIsr`` for one replica (the OfflineReplica step).

    Returns ``(new_leader, new_isr)``: the replica leaves the ISR unless it is its only member
    (``if (isr.size == 1) isr else isr.filter(_ != replicaId)``), and if it was the leader the
    leader becomes none (-1, ``LeaderAndIsr.NoLeader``).
    """
    new_isr = ite(isr.size() == 1, isr, isr - replica)
    new_leader = ite(leader == replica, None, leader)
    return new_leader, new_isr


def _singleton(like, element):
    """``{element}`` as a set of the same type as ``like``; empty if ``element`` is none."""
    empty = set_of(like.type.domain, lambda r: False)
    return ite(element.is_some(), empty | element, empty)
