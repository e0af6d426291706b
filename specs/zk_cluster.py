"""What must hold of Kafka in ZooKeeper mode (the ``zk-cluster`` model).

Safety properties are split so that a report names the one that broke; each comes with a
reachability check (``@sometimes``) that the model gets somewhere, so that a model in which
nothing happens cannot pass. "Expected to hold" means: with the fixes in place and the
property's configuration safeguards on; each docstring names the variant that refutes it.
"""

from kafkacheck.checker.lang import (Or, all_of, always, any_of, count_of, implies, leads_to,
                                     sometimes, transition)
from kafkacheck.model.zk_cluster import ZkCluster


def _pairs(domain):
    elems = list(domain)
    return [(a, b) for i, a in enumerate(elems) for b in elems[i + 1:]]


class ZkClusterSpec(ZkCluster):
    """The zk-cluster model with its properties."""

    # -- the controller --------------------------------------------------------------------
    @always
    def one_controller_per_epoch(m, s):
        """At most one broker acts as controller for any controller epoch (INV-ONECTRL).
        Expected to hold: ``/controller_epoch`` is bumped in the same ZooKeeper multi that
        creates ``/controller``."""
        return all_of(_pairs(m.broker), lambda ab: (s.ctrl_epoch[ab[0]] == 0) |
                      (s.ctrl_epoch[ab[0]] != s.ctrl_epoch[ab[1]]))

    # -- partition leadership --------------------------------------------------------------
    @always
    def one_leader_per_epoch(m, s):
        """No two brokers believe they lead the same partition at the same leader epoch.
        Expected to hold: leader epochs come from ZooKeeper, bumped on every election."""
        return all_of(m.partition, lambda p: all_of(
            _pairs(m.broker), lambda ab: _not_both_lead(m, s, p, *ab)))

    @transition
    def isr_only_election(m, s):
        """Every step that gives a partition a new leader chooses it from the partition's
        ISR before the step (a clean election). Expected to hold unless
        ``unclean.leader.election.enable=true``. (A step property: it needs no ghost
        variable recording that an unclean election happened.)"""
        return all_of(m.partition, lambda p: implies(
            s.leader[p].is_some() & (s.leader[p] != s.pre.leader[p]),
            s.pre.isr[p].contains(s.leader[p])))

    @transition
    def zk_epochs_never_decrease(m, s):
        """No step lowers an epoch that ZooKeeper holds: ``/controller_epoch``, a
        partition's leader epoch, or the controller epoch recorded in its state znode
        (INV-EPOCH, the half about writes). Expected to hold, even ``--before KAFKA-6082``:
        the controller re-reads the znode and does not write over a newer controller's
        epoch. Without that re-read a zombie controller, fenced by no CheckOp, writes its
        older epoch into the znode (a seeded variant in tests/test_zk_cluster.py)."""
        return (s.controller_epoch >= s.pre.controller_epoch) & all_of(
            m.partition, lambda p: (s.leader_epoch[p] >= s.pre.leader_epoch[p]) &
            (s.written_by[p] >= s.pre.written_by[p]))

    @always
    def leader_in_isr(m, s):
        """A partition's leader, if any, is a member of its ISR (INV-ELECT). Expected to
        hold, also with unclean election (which sets the ISR to [leader])."""
        return all_of(m.partition, lambda p: s.leader[p].is_none() |
                      s.isr[p].contains(s.leader[p]))

    @always
    def leader_and_isr_in_assignment(m, s):
        """Leader and ISR are replicas of the partition's assignment, and the ISR is never
        empty (INV-LASTISR). Expected to hold."""
        def ok(p):
            assigned = set(m.replicas[p])
            outside = [b for b in m.broker if b not in assigned]
            leader_ok = Or(s.leader[p].is_none(), *[s.leader[p] == r for r in m.replicas[p]])
            isr_ok = all_of(outside, lambda b: ~s.isr[p].contains(b)) if outside else True
            return leader_ok & isr_ok & ~s.isr[p].is_empty()
        return all_of(m.partition, ok)

    @always
    def epochs_never_decrease(m, s):
        """No epoch is ever overwritten by a smaller one: ``/controller_epoch``, the partition
        leader epochs, the controller epoch recorded in each partition znode, the epochs
        brokers accept (INV-EPOCH): no broker holds a leader epoch newer than ZooKeeper's.
        Expected to hold. (A write's epochs cannot go backwards in this model at all: the
        controller re-reads the partition znode and writes only if no newer controller wrote
        it, so that half of INV-EPOCH holds by construction and is not checked here.)"""
        return all_of(m.partition, lambda p: all_of(
            m.broker, lambda b: s.view_epoch[b][p] <= s.leader_epoch[p]))

    @always
    def restarted_broker_gets_leader_and_isr(m, s):
        """Once the active controller has no BrokerChange event queued, every running
        registered broker it counts as live holds the current leader epoch of each of its
        partitions, or has a LeaderAndIsr on its way: the controller noticed every restart.
        Expected to hold; refuted with ``--before KIP-380`` (a fast restart coalesced into
        one watch event goes unnoticed) and with ``--before KAFKA-6082`` (a zombie
        controller, its session lost, rewrites the partition znode after the new controller
        sent its LeaderAndIsr: ZooKeeper's leader epoch moves past what the brokers hold, and
        nobody tells them)."""
        def settled(c):
            return m.active(s, c) & ~s.change_queued[c]

        def broker_ok(c, b):
            parts = [p for p in m.partition if b in m.replica_set[p]]
            current = all_of(parts, lambda p: s.view_epoch[b][p] == s.leader_epoch[p]) \
                if parts else True
            watched = (s.state[b] == "RUNNING") & s.registered[b] & s.ctx_live[c].contains(b)
            return implies(watched, current | (s.inflight[b] > 0))
        return all_of(m.broker, lambda c: implies(settled(c), all_of(
            m.broker, lambda b: broker_ok(c, b))))

    @always
    def shutting_down_broker_not_in_isr(m, s):
        """While the active controller counts a broker as shutting down, the broker is in the
        ISR of no partition it follows, unless it is that ISR's only member (which the
        controller keeps): ``min.insync.replicas`` is never met "on paper" by a follower about
        to go away. (It may stay the leader, in its ISR, of a partition with no other live
        ISR member: ``remainingPartitions``.)
        Expected to hold; refuted with ``--before KAFKA-14140`` (the controller accepted an
        AlterPartition adding the shutting-down follower back, which still fetches)."""
        return all_of(m.broker, lambda c: implies(m.active(s, c), all_of(
            m.partition, lambda p: all_of(
                m.replicas[p], lambda b: implies(
                    s.ctx_shutting[c].contains(b) & s.isr[p].contains(b) & (s.leader[p] != b),
                    s.isr[p].size() == 1)))))

    # -- durability ----------------------------------------------------------------------------
    @always
    def acked_write_not_lost(m, s):
        """Every acknowledged write is in the log of the partition's serving leader. With
        ``acks=all`` and ``min.insync.replicas`` ≥ 2 a committed record survives while some
        ISR member that holds it survives — but the ISR may shrink to the leader alone, so
        it holds within ``max_crashes=1`` only with ``max_writes=1``: with two writes both
        followers fall behind, leave the ISR, and the leader's power loss loses the
        acknowledged record (13 steps, KIP-966's "last replica standing"). Also refuted by
        ``unclean.leader.election.enable=true`` (a replica outside the ISR leads) and by
        ``min.insync.replicas=1`` (the sole ISR member loses unflushed data in a crash and is
        re-elected). Vacuous when ``max_writes=0``."""
        if not m.logs:
            return True

        def kept(p, leader):
            acked, log = s.acked[p], s.log[leader][p]
            return all_of(range(m.max_writes), lambda k: implies(
                acked.length() > k, (log.length() > k) & (log[k] == acked[k])))
        return all_of(m.partition, lambda p: all_of(
            m.replicas[p], lambda b: implies(m.serves(s, p, b), kept(p, b))))

    @always
    def min_isr_while_one_broker_out(m, s):
        """While at most one broker is not RUNNING, every partition's ISR still has
        ``min.insync.replicas`` members, so acks=all writes stay possible (seed claim C6,
        rolling restarts). Checked only when ``operator`` is ``one_at_a_time`` or
        ``waits_for_isr`` (vacuous for ``free``: two stopped brokers, or a slow follower,
        empty the ISR for any cluster size). Refuted by a rolling restart that stops the next
        broker before the restarted one has rejoined the ISR — with 3 brokers and with 4."""
        if m.operator == "free":
            return True
        out = count_of(m.broker, lambda b: s.state[b] != "RUNNING")
        return implies(out <= 1, all_of(m.partition, lambda p:
                       s.isr[p].size() >= m.min_isr(p)))

    # -- clients ------------------------------------------------------------------------------
    @always
    def client_reaches_cluster(m, s):
        """Whenever some broker is running, the client knows a running broker to ask for
        metadata (C4, C5). Holds with the full broker list in ``bootstrap.servers``; with a
        single bootstrap broker it fails as soon as that broker is down before the client's
        first metadata answer. Vacuous when no client is modeled."""
        if not m.client:
            return True
        return implies(any_of(m.broker, lambda b: m.is_up(s, b)),
                       any_of(m.broker, lambda b: s.client_known.contains(b) & m.is_up(s, b)))

    # -- liveness (under the model's fairness: the controller, ZooKeeper's session timer,
    #    the network and the shutdown procedure keep going; faults and the operator owe
    #    nothing) ---------------------------------------------------------------------------
    @leads_to
    def live_isr_member_gets_leader(m, s):
        """Whenever a partition has a live ISR member (running and registered in
        ZooKeeper) but no serving leader, eventually every such partition is served, or has
        no live ISR member left. Expected to hold under fairness (the controller elects from
        the ISR, the LeaderAndIsr arrives); without fairness the controller may simply never
        act. Within the bounds: a behaviour in which the controller is gone and
        ``max_controller_epoch`` forbids electing another has left the explored model, and
        counts as settled (otherwise every such bound would read as a liveness bug)."""
        def live(b):
            return m.is_up(s, b) & s.registered[b]

        def has_live_isr(p):
            return any_of(m.replicas[p], lambda b: s.isr[p].contains(b) & live(b))
        return (any_of(m.partition, lambda p: has_live_isr(p) & ~m.served(s, p)),
                all_of(m.partition, lambda p: m.served(s, p) | ~has_live_isr(p)) |
                _out_of_controller_epochs(m, s))

    @leads_to
    def controlled_shutdown_ends(m, s):
        """A broker in controlled shutdown eventually leaves PENDING_CONTROLLED_SHUTDOWN:
        the controller moved its leadership away ("completes"), or its retries ran out and it
        shuts down uncleanly ("gives up"), or it crashed. Expected to hold; refuted
        ``--before KAFKA-9189`` (the broker looks the controller up in ZooKeeper, which it
        cannot reach, and hangs)."""
        pending = lambda b: s.state[b] == "PENDING_CONTROLLED_SHUTDOWN"  # noqa: E731
        return (any_of(m.broker, pending), ~any_of(m.broker, pending))

    @leads_to
    def caught_up_replica_rejoins_isr(m, s):
        """A follower that is running, registered, fetching from its partition's serving
        leader at the leader's epoch and holding the leader's whole log, but outside the ISR,
        does not stay so forever: the leader's ISR expansion (AlterPartition, accepted by an
        active controller) eventually applies, or the follower stops being such a replica.
        Expected to hold under fairness."""
        def stuck(p):
            out = []
            for L in m.replicas[p]:
                for r in m.replicas[p]:
                    if r is L:
                        continue
                    caught = (m.match_len(s, r, L, p) == s.log[L][p].length()) \
                        if m.logs else True
                    out.append(m.serves(s, p, L) & (s.state[r] == "RUNNING") &
                               s.registered[r] & (s.view_leader[r][p] == L) &
                               (s.view_epoch[r][p] == s.view_epoch[L][p]) & caught &
                               ~s.isr[p].contains(r))
            return Or(*out)
        some = any_of(m.partition, stuck)
        return (some, ~some | _out_of_controller_epochs(m, s))

    # -- sanity: the model gets somewhere ---------------------------------------------------
    @sometimes
    def failover_completes(m, s):
        """A partition whose first leader is down is served by a new leader, and every
        running broker has received the controller's requests (seed claim C16)."""
        return any_of(m.partition, lambda p: ~m.is_up(s, m.replicas[p][0]) & m.served(s, p)) \
            & all_of(m.broker, lambda b: ~m.is_up(s, b) | (s.inflight[b] == 0))

    @sometimes
    def controlled_shutdown_completes(m, s):
        """A broker finished a controlled shutdown (the controller answered "no remaining
        partitions", it flushed and exited), a partition it led is led elsewhere, and every
        partition is served (C17). Needs
        ``max_shutdowns`` ≥ 1 and ``controlled.shutdown.enable=true``; trivially reached
        otherwise."""
        if m.max_shutdowns == 0 or not m.controlled_shutdown_enable:
            return True
        moved = any_of(m.partition, lambda p: ~m.is_up(s, m.replicas[p][0]))
        return s.cs_completed & moved & all_of(m.partition, lambda p: m.served(s, p))

    @sometimes
    def write_acknowledged(m, s):
        """A producer write is acknowledged (trivially reached when ``max_writes=0`` or
        ``acks=0``)."""
        if not m.logs or m.acks == "0":
            return True
        return any_of(m.partition, lambda p: s.acked[p].length() > 0)


def _out_of_controller_epochs(m, s):
    """No controller, and the model's bound forbids electing one (a liveness property does
    not judge what lies beyond the bounds)."""
    return s.controller.is_none() & (s.controller_epoch >= m.max_controller_epoch)


def _not_both_lead(m, s, p, a, b):
    if a not in m.replica_set[p] or b not in m.replica_set[p]:
        return True
    return ~((s.view_leader[a][p] == a) & (s.view_leader[b][p] == b) &
             (s.view_epoch[a][p] == s.view_epoch[b][p]))
