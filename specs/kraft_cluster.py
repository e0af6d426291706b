"""What must hold of Kafka in KRaft mode (the ``kraft-cluster`` model).

Each safety property is split so a report names the one that broke; each docstring names the
variant or configuration that refutes it (tests/test_kraft_cluster.py sees each one fail).
"""

from kafkacheck.checker.lang import (all_of, always, any_of, count_of, implies, leads_to,
                                     sometimes, transition)
from kafkacheck.model.kraft_cluster import KraftCluster
from kafkacheck.model import replica_logs as logs


def _out_of_epochs(m, s):
    """No up leader, and no voter may start an election within ``max_epoch``."""
    return ~any_of(m.voter, lambda c: (s.c_role[c] == "LEADER") & s.c_up[c]) & \
        all_of(m.voter, lambda c: s.c_epoch[c] >= m.max_epoch)


def _pairs(domain):
    elems = list(domain)
    return [(a, b) for i, a in enumerate(elems) for b in elems[i + 1:]]


class KraftClusterSpec(KraftCluster):
    """The kraft-cluster model with its properties."""

    @always
    def one_active_controller_per_epoch(m, s):
        """No two controllers are LEADER of the same epoch (Raft election safety, proved
        step by step in kraft-quorum). Expected to hold."""
        return all_of(_pairs(m.voter), lambda ab: ~(
            (s.c_role[ab[0]] == "LEADER") & (s.c_role[ab[1]] == "LEADER") &
            (s.c_epoch[ab[0]] == s.c_epoch[ab[1]])))

    @always
    def leader_epoch_held_by_majority(m, s):
        """Lemma (with ``one_active_controller_per_epoch`` an inductive invariant for
        ``kafkacheck prove``): a majority of voters has reached every leader's epoch, so no
        other majority can still elect into it."""
        return all_of(m.voter, lambda c: implies(
            s.c_role[c] == "LEADER",
            count_of(m.voter, lambda x: s.c_epoch[x] >= s.c_epoch[c]) >= m.majority))

    @always
    def one_committer_per_epoch(m, s):
        """No two controllers commit metadata in one epoch, and no commit comes from an
        older epoch than an earlier commit. Expected to hold, also before KAFKA-15489 (a
        cut-off leader cannot commit)."""
        return ~s.two_committers & ~s.stale_commit

    @transition
    def isr_or_elr_election(m, s):
        """Every step that gives a partition a new leader takes it from the ISR, the ELR or
        the last known leader (``lastKnownElr``) before the step. Expected to hold unless
        ``unclean.leader.election.enable``. (A step property: no ghost records the unclean
        election.)"""
        return all_of(m.partition, lambda p: implies(
            s.leader[p].is_some() & (s.leader[p] != s.pre.leader[p]),
            (s.pre.isr[p] | s.pre.elr[p] | s.pre.last_known[p]).contains(s.leader[p])))

    @always
    def no_fenced_leader(m, s):
        """The image's leader of a partition is registered and unfenced. Refuted
        ``--before KAFKA-19522`` (the last-known-leader path elects a fenced broker)."""
        return all_of(m.partition, lambda p: all_of(m.replicas[p], lambda b: implies(
            s.leader[p] == b, s.registered[b] & ~s.fenced[b])))

    @always
    def fenced_broker_does_not_lead(m, s):
        """No running broker that the controller has fenced still takes itself for a
        partition's leader at the epoch it applied (a zombie leader: producers with
        ``acks=1`` that reach it are answered). Refuted ``--before KAFKA-15489`` with a
        cut-off controller: the brokers that follow it are fenced by the new one and never
        learn. Holds with check-quorum while 1.5 × ``controller.quorum.fetch.timeout.ms`` <
        ``broker.session.timeout.ms``."""
        return all_of(m.broker, lambda b: implies(
            m.is_up(s, b) & s.fenced[b],
            all_of(m.partition, lambda p: s.b_leader[b][p] != b)))

    @always
    def isr_holds_only_eligible_brokers(m, s):
        """KIP-841: no fenced or shutting-down broker is in an ISR (without ELR the ISR's last
        member stays, as Kafka cannot empty it: that one is allowed). Refuted ``--before
        KIP-841``."""
        def ok(p, b):
            bad = s.fenced[b] | s.in_cs[b]
            allowed = (s.isr[p].size() == 1) if not m.elr_on else False
            return implies(s.isr[p].contains(b) & bad, allowed)
        return all_of(m.partition, lambda p: all_of(m.replicas[p], lambda b: ok(p, b)))

    @always
    def empty_isr_only_with_elr(m, s):
        """An ISR is empty only with ELR enabled; the leader is in the ISR; ISR and ELR are
        disjoint. Expected to hold."""
        return all_of(m.partition, lambda p: implies(s.isr[p].is_empty(), m.elr_on) &
                      (s.leader[p].is_none() | s.isr[p].contains(s.leader[p])) &
                      (s.isr[p] & s.elr[p]).is_empty())

    @always
    def leader_epochs_monotone(m, s):
        """No broker has applied a leader epoch newer than the image's (they only grow)."""
        return all_of(m.partition, lambda p: all_of(
            m.broker, lambda b: s.b_epoch[b][p] <= s.leader_epoch[p]))

    @always
    def acked_write_not_lost(m, s):
        """Every acknowledged write is in the log of the partition's serving leader.
        Refuted ``--before KIP-966`` (or with ELR off: the last replica standing loses it
        after one unclean shutdown) and ``--before KIP-903`` (a replaced disk rejoins the ISR
        on a stale fetch). Vacuous when ``max_writes=0``."""
        if not m.logs:
            return True
        return all_of(m.partition, lambda p: all_of(m.replicas[p], lambda b: implies(
            m.serves(s, p, b), logs.holds_acked(s.acked[p], s.log[b][p], m.max_writes))))

    # -- liveness, under the model's fairness (the Raft timers, the broker's heartbeats, the
    #    active controller's handling of them; not owed: crashes, isolations, the operator)
    @leads_to
    def controlled_shutdown_ends(m, s):
        """A broker in controlled shutdown eventually leaves PENDING_CONTROLLED_SHUTDOWN (its
        heartbeat gets SHUTDOWN_NOW, or it crashes), unless the controllers can no longer
        elect a leader within ``max_epoch`` (the model's bound). Expected to hold."""
        pending = lambda b: s.state[b] == "PENDING_CONTROLLED_SHUTDOWN"  # noqa: E731
        return (any_of(m.broker, pending),
                ~any_of(m.broker, pending) | _out_of_epochs(m, s))

    @leads_to
    def live_replica_gets_leader(m, s):
        """A partition without a leader while one of its replicas is RUNNING, unfenced and
        eligible eventually has a leader (or loses every such replica, or the controllers
        run out of epochs). Expected to hold (ELR or the ISR supplies one)."""
        def eligible(p):
            return any_of(m.replicas[p], lambda b: (s.state[b] == "RUNNING") &
                          ~s.fenced[b] & (s.isr[p] | s.elr[p]).contains(b))
        return (any_of(m.partition, lambda p: s.leader[p].is_none() & eligible(p)),
                all_of(m.partition, lambda p: s.leader[p].is_some() | ~eligible(p)) |
                _out_of_epochs(m, s))

    @sometimes
    def controller_failover(m, s):
        """A second controller became leader (trivially reached with one voter)."""
        if m.n_voters == 1:
            return True
        return s.failed_over

    @sometimes
    def broker_fenced_and_unfenced(m, s):
        """A broker was fenced and then unfenced again."""
        if m.max_restarts == 0 or m.max_crashes + m.max_shutdowns == 0:
            return True
        return s.refenced

    @sometimes
    def controlled_shutdown_completes(m, s):
        """A broker exited on SHUTDOWN_NOW and every partition is served."""
        if m.max_shutdowns == 0:
            return True
        return s.cs_completed & all_of(m.partition, lambda p: m.served(s, p))

    @sometimes
    def cut_off_leader_resigns(m, s):
        """A leader cut off from the voters resigns (check-quorum). Refuted over the whole
        space ``--before KAFKA-15489``: the cut-off leader stays leader of its old epoch and
        keeps answering the brokers that reach it."""
        if m.max_isolations == 0 or m.n_voters == 1:
            return True
        return s.resigned_cut_off
